"""A small FER2013 expression classifier: the yardstick for the generators and
the editor (does an edit show the chosen expression?) and what the app shows
for each detected face.

A VGG-style CNN (3x3 convs, BatchNorm, ReLU, max-pool; global average pool and
one linear layer). It takes the same input as the generators produce: 48x48
grayscale in [-1, 1], so generated faces and aligned crops are classified
alike. Predictions average the face and its mirror image (flip test-time
augmentation), which costs one more forward pass and is about a point more
accurate.
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
from .data import EXPRESSIONS


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything needed to rebuild the classifier from its checkpoint."""

    image_size: int = 48
    channels: int = 1
    widths: tuple[int, ...] = (32, 64, 128, 256)  # one block per width, each ends in a 2x max-pool
    depths: tuple[int, ...] = (2, 2, 3, 3)  # 3x3 convs per block
    dropout: float = 0.3
    num_classes: int = len(EXPRESSIONS)

    def __post_init__(self) -> None:
        if len(self.widths) != len(self.depths):
            raise ValueError(f"widths {self.widths} and depths {self.depths} must have the same length")
        if self.image_size % (2 ** len(self.widths)):
            raise ValueError(f"image_size {self.image_size} must be divisible by 2**{len(self.widths)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ClassifierConfig":
        values = dict(values)
        for key in ("widths", "depths"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


class ExpressionClassifier(nn.Module):
    """[N, C, 48, 48] in [-1, 1] -> logits [N, 7] in FER2013's label order."""

    def __init__(self, config: ClassifierConfig = ClassifierConfig()) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        channels = config.channels
        for width, depth in zip(config.widths, config.depths):
            for _ in range(depth):
                layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                           nn.ReLU(inplace=True)]
                channels = width
            layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(config.dropout),
                                  nn.Linear(channels, config.num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def build_classifier(config: ClassifierConfig = ClassifierConfig(), *, seed: int = 0) -> ExpressionClassifier:
    """A freshly initialised classifier; the same seed gives the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return ExpressionClassifier(config)


@torch.no_grad()
def predict_proba(model: ExpressionClassifier, images: torch.Tensor, *, batch_size: int = 512,
                  tta: bool = True) -> torch.Tensor:
    """Class probabilities [N, 7] for images [N, C, 48, 48]: uint8 in 0..255, or
    any float dtype in [-1, 1]; on any device (answered on the model's device,
    returned on the CPU). uint8 is scaled batch by batch, as training scaled it."""
    def answer(batch: torch.Tensor) -> torch.Tensor:
        probs = model(batch).softmax(1)
        return (probs + model(batch.flip(3)).softmax(1)) / 2 if tta else probs

    out = in_batches(model, images, answer, batch_size=batch_size)
    if not out:
        return torch.zeros(0, model.config.num_classes)
    return torch.cat(out)


def confusion_matrix(labels: np.ndarray | torch.Tensor, predictions: np.ndarray | torch.Tensor,
                     num_classes: int = len(EXPRESSIONS)) -> np.ndarray:
    """Counts [true, predicted]."""
    labels = np.asarray(labels, dtype=np.int64)
    predictions = np.asarray(predictions, dtype=np.int64)
    return np.bincount(labels * num_classes + predictions, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def save_classifier(path: str | Path, model: ExpressionClassifier, metadata: dict[str, Any]) -> None:
    save_tensors(path, model.state_dict(),
                 {"kind": "classifier", "model": model.config.to_dict(), "labels": list(EXPRESSIONS), **metadata})


def load_classifier(path: str | Path, device: str | torch.device = "cpu") -> tuple[ExpressionClassifier, dict[str, Any]]:
    """Rebuild the classifier from its file alone, in eval mode, on `device`."""
    return load_module(path, "classifier", "an expression classifier",
                       lambda config: ExpressionClassifier(ClassifierConfig.from_dict(config)),
                       retrain="python -m gan train-classifier", device=device)
