"""Random changes of a training batch of faces: geometry (mirror, rotation, zoom,
shift) and image quality (blur, contrast, noise), each in one pass over a
[N, C, H, W] batch in [-1, 1] drawn from the caller's torch.Generator, so a
resumed run draws the same numbers."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def augment(batch: torch.Tensor, generator: torch.Generator, *, rotate_degrees: float, scale: float,
            shift: float) -> torch.Tensor:
    """Random mirror, rotation, zoom and shift of a [N, C, H, W] batch in one
    resampling (affine_grid), with border padding so no black corners appear."""
    n = batch.shape[0]
    rand = torch.rand(n, 5, generator=generator).to(batch.device)
    angle = (rand[:, 0] * 2 - 1) * math.radians(rotate_degrees)
    zoom = 1 + (rand[:, 1] * 2 - 1) * scale
    flip = torch.where(rand[:, 2] < 0.5, -1.0, 1.0)
    tx, ty = (rand[:, 3] * 2 - 1) * 2 * shift, (rand[:, 4] * 2 - 1) * 2 * shift  # grid coords span 2
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return F.grid_sample(batch, grid, mode="bilinear", padding_mode="border", align_corners=False)


def degrade(batch: torch.Tensor, generator: torch.Generator, *, noise: float, blur: float,
            contrast: float) -> torch.Tensor:
    """Random loss of image quality on a [N, C, H, W] batch in [-1, 1]: blur (shrink
    and enlarge), contrast change about the image mean, and Gaussian pixel noise
    (`noise` in grey levels), then clipped back to [-1, 1]."""
    n, _, h, w = batch.shape
    rand = torch.rand(n, 5, generator=generator).to(batch.device)
    out = batch
    if blur > 0:
        factor = 1.5 + 1.5 * rand[:, 0]  # 1.5-3x
        blurred = torch.stack([
            F.interpolate(F.interpolate(image[None], size=(max(2, round(h / f)), max(2, round(w / f))),
                                        mode="area"), size=(h, w), mode="bilinear", align_corners=False)[0]
            for image, f in zip(batch, factor.tolist())])
        out = torch.where((rand[:, 1] < blur)[:, None, None, None], blurred, out)
    if contrast > 0:
        gain = 1 + (rand[:, 2] * 2 - 1) * contrast
        gain = torch.where(rand[:, 3] < 0.5, gain, torch.ones_like(gain))[:, None, None, None]
        mean = out.mean((1, 2, 3), keepdim=True)
        out = mean + (out - mean) * gain
    if noise > 0:
        sigma = torch.where(rand[:, 4] < 0.5, rand[:, 4] * 2, torch.zeros_like(rand[:, 4])) * noise / 127.5
        out = out + torch.randn(out.shape, generator=generator).to(out.device) * sigma[:, None, None, None]
    return out.clamp(-1, 1)
