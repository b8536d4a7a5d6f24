"""Measuring an expression classifier: accuracy and confusion on a labelled
split, accuracy under noise and blur, and the confusion matrix as a figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .classifier import ExpressionClassifier, confusion_matrix, predict_proba
from .data import EXPRESSIONS, FaceDataset
from .data import to_model_range


def evaluate(model: ExpressionClassifier, data: FaceDataset, *, tta: bool = True) -> dict:
    """Accuracy and confusion matrix of `model` on a labelled dataset."""
    probs = predict_proba(model, data.images, tta=tta)
    predictions = probs.argmax(1).numpy()
    labels = data.labels.numpy()
    matrix = confusion_matrix(labels, predictions)
    return {"accuracy": float((predictions == labels).mean()), "confusion": matrix.tolist(), "images": len(labels)}


def robustness(model: ExpressionClassifier, data: FaceDataset, *, seed: int = 0) -> dict[str, float]:
    """Accuracy on a labelled dataset as it is, with Gaussian pixel noise of 15
    grey levels, and shrunk 2x and enlarged again (blur): does the classifier read
    the expression or the image quality?"""
    images = to_model_range(data.images)
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed)) * 15 / 127.5
    blurred = F.interpolate(F.interpolate(images, scale_factor=0.5, mode="area"), size=images.shape[-2:],
                            mode="bilinear", align_corners=False)
    out = {}
    for name, version in (("clean", images), ("noise_15", (images + noise).clamp(-1, 1)), ("blur_2x", blurred)):
        predictions = predict_proba(model, version).argmax(1)
        out[name] = float((predictions == data.labels).float().mean())
    return out


def write_confusion_plot(matrix: np.ndarray, path: Path, title: str) -> None:
    """Row-normalised confusion matrix as a PNG (rows: true, columns: predicted)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shares = matrix / np.maximum(1, matrix.sum(1, keepdims=True))
    fig, ax = plt.subplots(figsize=(5.2, 4.6), dpi=100)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(EXPRESSIONS)), EXPRESSIONS, rotation=45, ha="right")
    ax.set_yticks(range(len(EXPRESSIONS)), EXPRESSIONS)
    for i in range(len(EXPRESSIONS)):
        for j in range(len(EXPRESSIONS)):
            ax.text(j, i, f"{shares[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if shares[i, j] > 0.5 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
