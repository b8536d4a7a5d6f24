"""Say what each exploration slider does, measured rather than guessed.

For a GANSpace direction d of the conditional generator, 64 random faces are
rendered (at the mean expression) at z - 2 sd and z + 2 sd along d. The label
names the expressions whose classifier reading rises and falls most, and the
face region whose pixels move most (eyes and brows, mouth, or the rest:
pose, light, hair), e.g. "+ happy / - sad; mostly the mouth".
"""

from __future__ import annotations

import numpy as np
import torch

from gan.classifier import predict_proba
from gan.conditional import region_mask
from gan.data import EXPRESSIONS

from .directions import LatentDirections

_REGIONS = ("eyes and brows", "mouth", "pose and light")


def _region_masks(size: int = 48) -> list[np.ndarray]:
    outside = region_mask(size)[0, 0].numpy()
    eyes = np.zeros((size, size), np.float32)
    eyes[: size // 2 + 1] = 1.0
    eyes *= 1.0 - outside
    mouth = (1.0 - outside) - eyes
    return [eyes, mouth, outside]


@torch.no_grad()
def describe_directions(G: torch.nn.Module, directions: LatentDirections, classifier, *, count: int,
                        samples: int = 64, seed: int = 0, device: str | torch.device = "cpu") -> list[str]:
    """A short description of each of the first `count` directions."""
    n_classes = G.config.n_classes
    z = torch.randn(samples, G.config.nz, generator=torch.Generator().manual_seed(seed)).to(device)
    label = torch.full((samples, n_classes), 1.0 / n_classes, device=device)
    masks = _region_masks(G.config.image_size)
    labels = []
    for k in range(min(count, len(directions))):
        step = (2.0 * directions.stdev[k] * directions.components[k]).to(device)
        low, high = G(z - step, label), G(z + step, label)  # [N, 1, 48, 48] in [-1, 1]
        change = predict_proba(classifier, high) - predict_proba(classifier, low)  # [N, K]
        mean = change.mean(0).numpy()
        up, down = int(mean.argmax()), int(mean.argmin())
        moved = (high - low).abs().mean(0)[0].cpu().numpy()
        region = int(np.argmax([float((moved * m).sum() / max(m.sum(), 1e-6)) for m in masks]))
        labels.append(f"+ {EXPRESSIONS[up]} / - {EXPRESSIONS[down]}; mostly {_REGIONS[region]}")
    return labels
