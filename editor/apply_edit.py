"""How one face's edit reaches the photo, by model and blend mode: the last
stage of photo -> faces -> crop -> z -> renders -> change -> photo.

- conditional model: only the change from S = G(z, p_src) to T = G(z, y)
  (transfer.py: "flow", the default, or "difference"); "replace" pastes T
  itself, the seed's way, kept for comparison;
- seed model: the target generator's face pasted back (blend.py: "alpha" or
  "poisson"), faded by the strength.
A pure function of its arguments; strength 0 returns the image untouched.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .blend import paste_back
from .edits import EditSettings, FaceEdit, holds_brows
from .change_to_photo import apply_change
from .transfer import FaceChange, face_change


def apply_face_edit(image: np.ndarray, edit: FaceEdit, settings: EditSettings) -> np.ndarray:
    """`image` [H, W, 3] uint8 with one face's edit brought in."""
    if settings.model == "seed":
        if settings.strength == 0.0:
            return image
        return paste_back(image, edit.generated, edit.alignment.to_photo, original_crop=edit.aligned,
                          strength=settings.strength, mode=settings.blend_mode)
    if np.array_equal(edit.source, edit.generated):
        return image  # no change (strength 0): the photo's bytes, untouched
    if settings.blend_mode == "replace":
        return paste_back(image, edit.generated, edit.alignment.to_photo, original_crop=edit.aligned)
    return apply_change(image, conditional_change(edit, settings), edit.alignment.to_photo)


def conditional_change(edit: FaceEdit, settings: EditSettings, **knobs: Any) -> FaceChange:
    """The conditional model's change of one face, S -> T, in crop space: its motion from
    the renders' landmarks where the edit has them (else optical flow) and its residual.
    `knobs`: transfer.face_change's keyword arguments (the knees, caps and rules that
    benchmarks/transfer_screen.py varies); left out, the shipped defaults."""
    points = None
    if edit.source_points is not None and edit.target_points is not None:
        points = (edit.source_points, edit.target_points)
    if holds_brows(settings.brows, edit.glasses):  # a frame's rims would bend with them (glasses.py)
        knobs.setdefault("move_brows", False)
        knobs.setdefault("move_lids", False)
    return face_change(edit.source, edit.generated, edit.aligned, mode=settings.blend_mode, points=points,
                       **knobs)
