"""Whether a face wears glasses: what decides if its brows and eyelids may move (motion.py).

Moving a brow moves whatever lies just below it, and a spectacle frame's upper rim does (the
frames bent into arches on dev012's and dev141's fear and surprise), so brows and lids move only
on faces without glasses. The test is a linear classifier (logistic regression) over HOG
features (hog.py) of the eye band: the face aligned by its five MTCNN points into a 96-pixel
FER-framed crop, brows to cheekbones and temple to temple (BAND), where a frame shows as rims,
a bridge and temple arms. Trained by scripts/train_glasses.py on CelebA faces labelled by eye
(benchmarks/glasses_labels.json) and measured on faces_dev, which it never saw
(benchmarks/glasses_accuracy.py; the numbers are in the checkpoint's metadata and the model card).
It needs no landmarks of the fit, so it is decided once per detected face.

It replaced a nose-bridge edge test (the strongest horizontal edge between the eyes), which on
faces_dev missed 6 of 50 frames and flagged 38 of 150 bare faces: frown lines, bangs, wrinkles
and bindis make horizontal edges there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan.checkpoint import CheckpointError, load_module, save_tensors

from .faces import Face, align_face
from .hog import hog, hog_length

CROP = 96  # the aligned crop the band is cut from (FER framing, twice the generator's 48)
BAND = (4, 12, 92, 60)  # x0, y0, x1, y1 in that crop: brows to below the eyes, temple to temple
KIND = "glasses"
RETRAIN = "python scripts/train_glasses.py"


def eye_band(rgb: np.ndarray, face: Face) -> np.ndarray:
    """The eye band of `face` in the photo `rgb` ([H, W, 3] uint8), grey uint8 [48, 88]."""
    band, _ = align_face(rgb, face, size=CROP, window=BAND)  # the band alone, not the whole crop
    return band


def band_features(band: np.ndarray) -> np.ndarray:
    """The classifier's input for an eye band: its HOG features, float32 [1800]."""
    return hog(band)


@dataclass(frozen=True)
class GlassesDetector:
    """A linear classifier over `band_features`: glasses where w . x + b >= threshold."""

    weights: np.ndarray  # float32 [1800]
    bias: float
    threshold: float = 0.0  # on the decision value; 0 is the classifier's own (balanced) boundary

    def __post_init__(self) -> None:
        x0, y0, x1, y1 = BAND
        if self.weights.shape != (hog_length(y1 - y0, x1 - x0),):
            raise ValueError(f"glasses weights of shape {self.weights.shape}; the eye band's HOG has "
                             f"{hog_length(y1 - y0, x1 - x0)} features")

    def score(self, rgb: np.ndarray, face: Face) -> float:
        """The decision value (log-odds of glasses) for `face` in the photo `rgb`."""
        return float(band_features(eye_band(rgb, face)) @ self.weights + self.bias)

    def wears_glasses(self, rgb: np.ndarray, face: Face) -> bool:
        """Whether `face` in the photo `rgb` wears glasses (then its brows and lids hold still)."""
        return self.score(rgb, face) >= self.threshold


def save_glasses(path: str | Path, detector: GlassesDetector, metadata: dict[str, Any]) -> None:
    """Write `detector` as safetensors with JSON metadata (how it was made, how it measured);
    its weights are those of a torch.nn.Linear(features, 1), so gan.checkpoint loads it."""
    tensors = {"weight": torch.from_numpy(np.asarray(detector.weights, np.float32))[None],
               "bias": torch.tensor([detector.bias], dtype=torch.float32)}
    save_tensors(path, tensors, {**metadata, "kind": KIND, "model": {"features": int(detector.weights.size)},
                                 "crop": CROP, "band": list(BAND), "threshold": detector.threshold})


def load_glasses(path: str | Path) -> tuple[GlassesDetector, dict[str, Any]]:
    """A glasses detector saved by `save_glasses`; CheckpointError (saying how to restore it)
    for a missing, damaged or foreign file."""
    linear, metadata = load_module(path, KIND, "a glasses detector",
                                   lambda model: torch.nn.Linear(int(model["features"]), 1), retrain=RETRAIN)
    if metadata.get("crop") != CROP or metadata.get("band") != list(BAND):
        raise CheckpointError(f"{path}: made for a {metadata.get('crop')}-pixel crop's band {metadata.get('band')}, "
                              f"not this editor's {CROP} and {list(BAND)}; retrain it with `{RETRAIN}`")
    try:
        detector = GlassesDetector(linear.weight.detach()[0].numpy().copy(), float(linear.bias.detach()[0]),
                                   float(metadata.get("threshold", 0.0)))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a usable glasses detector ({exc}); retrain it with `{RETRAIN}`") from exc
    return detector, metadata
