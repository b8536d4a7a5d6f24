"""Image measures for judging edits and inversions, on grey crops in 0..255.

Every measure takes an optional face mask (weights in [0, 1], same size as the
images) so only the face counts, not the background the generator never
models. Inputs are batches [N, H, W] (or single [H, W] images) of any real
dtype; outputs are one number per image.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

ImageBatch = np.ndarray | torch.Tensor  # [H, W] or [N, H, W] grey images (no channel axis)

_SSIM_SIGMA = 1.5  # Wang et al. 2004: an 11x11 Gaussian window, sigma 1.5
_SSIM_WINDOW = 11
_K1, _K2 = 0.01, 0.03


def _batch(images) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(images), dtype=torch.float64)
    return tensor[None] if tensor.dim() == 2 else tensor


def _weights(mask, shape: tuple[int, ...]) -> torch.Tensor:
    if mask is None:
        return torch.ones(shape[-2:], dtype=torch.float64)
    weights = torch.as_tensor(np.asarray(mask), dtype=torch.float64)
    if weights.shape != shape[-2:]:
        raise ValueError(f"mask {tuple(weights.shape)} does not match images {tuple(shape[-2:])}")
    return weights


def mean_abs_change(before: ImageBatch, after: ImageBatch, mask: ImageBatch | None = None) -> np.ndarray:
    """Mean |after - before| in grey levels, weighted by the mask: [N]."""
    a, b = _batch(before), _batch(after)
    w = _weights(mask, a.shape)
    return (((b - a).abs() * w).sum((-2, -1)) / w.sum()).numpy()


def psnr(reference: ImageBatch, test: ImageBatch, mask: ImageBatch | None = None,
         data_range: float = 255.0) -> np.ndarray:
    """Peak signal-to-noise ratio in dB over the (masked) pixels: [N]."""
    a, b = _batch(reference), _batch(test)
    w = _weights(mask, a.shape)
    mse = ((b - a).square() * w).sum((-2, -1)) / w.sum()
    return (10 * torch.log10(data_range ** 2 / mse.clamp_min(1e-12))).numpy()


def _gaussian_window() -> torch.Tensor:
    x = torch.arange(_SSIM_WINDOW, dtype=torch.float64) - (_SSIM_WINDOW - 1) / 2
    g = torch.exp(-(x ** 2) / (2 * _SSIM_SIGMA ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]


def ssim(reference: ImageBatch, test: ImageBatch, mask: ImageBatch | None = None,
         data_range: float = 255.0) -> np.ndarray:
    """Structural similarity (Wang et al. 2004; Gaussian window, the same
    numbers as skimage's `structural_similarity(gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False)`), averaged over the window
    centres that lie 5 px inside the border, weighted by the mask there: [N]."""
    a, b = _batch(reference)[:, None], _batch(test)[:, None]
    w = _weights(mask, a.shape)
    window = _gaussian_window()
    mu_a, mu_b = F.conv2d(a, window), F.conv2d(b, window)
    var_a = F.conv2d(a * a, window) - mu_a ** 2
    var_b = F.conv2d(b * b, window) - mu_b ** 2
    cov = F.conv2d(a * b, window) - mu_a * mu_b
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    ssim_map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    pad = (_SSIM_WINDOW - 1) // 2
    inner = w[pad: w.shape[0] - pad, pad: w.shape[1] - pad]
    return ((ssim_map[:, 0] * inner).sum((-2, -1)) / inner.sum().clamp_min(1e-12)).numpy()


def pairwise_distance(images: ImageBatch, *, max_images: int = 1000, seed: int = 0) -> float:
    """Mean absolute grey-level difference between two different images of a
    set, over all pairs (a random subset of `max_images` when larger): how
    varied the set is. Near 0 means a collapsed generator."""
    flat = _batch(images).flatten(1).float()
    if len(flat) > max_images:
        flat = flat[torch.randperm(len(flat), generator=torch.Generator().manual_seed(seed))[:max_images]]
    n = len(flat)
    if n < 2:
        return 0.0
    distances = torch.cdist(flat, flat, p=1) / flat.shape[1]
    return float(distances.sum() / (n * (n - 1)))

