"""A 68-point facial landmark regressor for 48x48 grey faces.

The editor needs to know where the mouth, jaw and brows of the generator's two
renders are (S, the face as it is, and T, the same face with another
expression) so it can move the photo's own pixels the way the model's face
moved. The renders are 48x48 and soft: dense optical flow finds no motion in
them, and dlib's shape predictor (which does see it) is a benchmark-only
dependency. So this small CNN learns dlib's 68 points (iBUG 300-W order) on
FER2013 faces, the renders' own domain (`python -m gan train-landmarks`,
`gan/train_landmarks.py`), and the editor runs it instead of dlib.

Input: [N, 1, 48, 48] in [-1, 1] (as the generators produce); output: [N, 68, 2]
(x, y) in crop pixels, pixel centres at 0..47.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .batched import in_batches
from .checkpoint import load_module, save_tensors

N_POINTS = 68


@dataclass(frozen=True)
class LandmarkConfig:
    """Everything needed to rebuild the regressor from its checkpoint."""

    image_size: int = 48
    widths: tuple[int, ...] = (32, 64, 128, 256)  # one block per width (two 3x3 convs), each ends in a 2x pool
    points: int = N_POINTS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "LandmarkConfig":
        values = dict(values)
        if "widths" in values:
            values["widths"] = tuple(values["widths"])
        return cls(**values)


class LandmarkRegressor(nn.Module):
    """[N, 1, 48, 48] in [-1, 1] -> [N, points, 2] crop pixels.

    The head is linear on the last feature map (3x3 at 48 px), not pooled: where
    a feature is matters more than what it is. Coordinates are predicted as
    offsets from the mean shape of the training faces, in pixels."""

    def __init__(self, config: LandmarkConfig = LandmarkConfig()) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        channels = 1
        for width in config.widths:
            for _ in range(2):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                           nn.ReLU(inplace=True)]
                channels = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        side = config.image_size // 2 ** len(config.widths)
        self.head = nn.Linear(channels * side * side, config.points * 2)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.register_buffer("mean_shape", torch.zeros(config.points, 2))  # crop pixels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        offsets = self.head(self.features(x).flatten(1)).view(-1, self.config.points, 2)
        return self.mean_shape + offsets


@torch.no_grad()
def predict_landmarks(model: LandmarkRegressor, images: torch.Tensor | np.ndarray, *,
                      batch_size: int = 512) -> np.ndarray:
    """[N, 68, 2] float32 crop pixels for faces [N, 48, 48] or [N, 1, 48, 48]: uint8
    0..255, or float in [-1, 1]."""
    images = torch.as_tensor(images)
    if images.ndim == 3:
        images = images[:, None]
    out = in_batches(model, images, model, batch_size=batch_size)
    if not out:
        return np.zeros((0, model.config.points, 2), np.float32)
    return torch.cat(out).numpy().astype(np.float32)


def save_landmarks(path: str | Path, model: LandmarkRegressor, metadata: dict[str, Any]) -> None:
    save_tensors(path, model.state_dict(), {"kind": "landmarks", "model": model.config.to_dict(), **metadata})


def load_landmarks(path: str | Path, device: str | torch.device = "cpu") -> tuple[LandmarkRegressor, dict[str, Any]]:
    """Rebuild the regressor from its file alone, in eval mode, on `device`."""
    return load_module(path, "landmarks", "a landmark regressor",
                       lambda config: LandmarkRegressor(LandmarkConfig.from_dict(config)),
                       retrain="python -m gan train-landmarks", device=device)
