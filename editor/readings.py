"""Reading faces: the classifier's expression for aligned crops, and p_src, the
face's own expression the conditional fit is made at.

Pure functions of the models they are given; the Editor holds the models.
"""

from __future__ import annotations

import numpy as np
import torch

from gan.classifier import ExpressionClassifier, predict_proba
from gan.data import EXPRESSIONS
from gan.encoder import Encoder

from .edits import EditResult, ExpressionGuess, FaceEdit, expression_weights, to_model_range
from .faces import FER_SIZE, align_face

CROP_SIZE = FER_SIZE  # the classifier's and the generators' input, framed like FER2013


def classify(classifier: ExpressionClassifier | None, crops: list[np.ndarray]) -> list[ExpressionGuess] | None:
    """The classifier's reading of aligned [48, 48] uint8 crops (None without a classifier)."""
    if classifier is None:
        return None
    if not crops:
        return []
    probs = predict_proba(classifier, torch.from_numpy(np.stack(crops))[:, None]).tolist()
    guesses = []
    for row in probs:
        best = int(np.argmax(row))
        guesses.append(ExpressionGuess(EXPRESSIONS[best], float(row[best]), dict(zip(EXPRESSIONS, row))))
    return guesses


def source_label(classifier: ExpressionClassifier | None, encoder: Encoder | None, crop: np.ndarray,
                 device: torch.device | str = "cpu") -> np.ndarray:
    """p_src [K]: the face's own expression, as the classifier reads it (else the
    encoder's expression head, else neutral)."""
    if classifier is not None:
        return predict_proba(classifier, torch.from_numpy(crop)[None, None])[0].numpy().astype(np.float32)
    if encoder is not None:
        with torch.no_grad():
            return encoder(to_model_range(crop, device))[1].softmax(1)[0].cpu().numpy().astype(np.float32)
    return expression_weights("neutral", 1.0)


def aligned_crops(image: np.ndarray, edits: list[FaceEdit]) -> list[np.ndarray]:
    """The edited faces as they show in `image`, aligned as they were for the edit
    (so "after" is read in the same frame as "before")."""
    return [align_face(image, edit.face, size=CROP_SIZE)[0] for edit in edits]


def read_before_after(classifier: ExpressionClassifier | None, edits: list[FaceEdit], edited: np.ndarray) -> None:
    """Fill in each face's expression before and after, the "after" read from the
    edited photo with the same alignment (what a viewer sees)."""
    guesses = classify(classifier, [edit.aligned for edit in edits] + aligned_crops(edited, edits))
    if guesses is None:
        return
    for edit, before, after in zip(edits, guesses[: len(edits)], guesses[len(edits):]):
        edit.before, edit.after = before, after


def read_edited(classifier: ExpressionClassifier | None, result: EditResult,
                image: np.ndarray) -> list[ExpressionGuess] | None:
    """Each edited face's reading as it shows in `image` (the edit itself, or a
    render with the sliders moved)."""
    return classify(classifier, aligned_crops(image, result.faces))
