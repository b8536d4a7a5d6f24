"""Which detected faces to edit when nobody has said: the ones a person means.

A photo of a few people often also holds small faces in the background, or
faces the detector is unsure of (half hidden, turned away, blurred). Edited,
they come out as dark blotches, so the page ticks only the faces that are
large beside the photo's largest face and confidently detected, and says why
it left out the others; one click ticks them. The batch command line edits
every face unless told otherwise (`--faces`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .faces import Face

MIN_RELATIVE_WIDTH = 0.4  # of the largest face's width; smaller faces are bystanders
MIN_PROBABILITY = 0.99  # MTCNN's confidence; clear faces in our photos score >= 0.9997


@dataclass(frozen=True)
class FaceChoice:
    chosen: list[int]  # face indices (left to right) to edit
    left_out: dict[int, str]  # face index -> why it is not chosen, e.g. "small: 21 px wide, 13% of the largest"


def main_faces(faces: Sequence[Face], *, min_relative_width: float = MIN_RELATIVE_WIDTH,
               min_probability: float = MIN_PROBABILITY) -> FaceChoice:
    """The faces a person most likely means to edit, and why each other face was left out.

    Never chooses none: when every face falls short, the largest one is chosen."""
    if not faces:
        return FaceChoice([], {})
    largest = max(face.width for face in faces)
    left_out = {}
    for index, face in enumerate(faces):
        share = face.width / largest
        if share < min_relative_width:
            left_out[index] = f"small: {face.width:.0f} px wide, {share:.0%} of the largest face"
        elif face.probability < min_probability:
            left_out[index] = f"unsure it is a face: {face.probability:.1%} confident"
    if len(left_out) == len(faces):
        keep = max(range(len(faces)), key=lambda i: faces[i].width)
        left_out.pop(keep)
    return FaceChoice([i for i in range(len(faces)) if i not in left_out], left_out)
