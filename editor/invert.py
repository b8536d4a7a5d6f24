"""Latent inversion: the z whose G(z) looks like a given face crop.

`invert` is one pure function in the manner of stylegan2-ada-pytorch's
`projector.project`: keyword-only hyperparameters, Adam with a learning-rate
ramp (short warm-up, cosine ramp-down), latent noise that decays to zero, and
several restarts optimised together as one batch. The loss compares pixels
only inside the face mask, adds the same comparison on 2x and 4x area-
downsampled images (coarse shape first) and on image gradients (edges), and
keeps z near the Gaussian shell ||z|| ~ sqrt(nz) where G was trained.

Speed is the point (one photo edit <= 2 s on a 2-core CPU), so:
- the restarts start from a `LatentBank`: z's with their G outputs at 16x16,
  computed once per generator; the target's nearest neighbours (masked, at
  the same size) are already close, and a few dozen Adam steps finish the job.
  At equal steps this is worth +1 to +3 dB on the generators' own images
  (benchmarks/invert_speed.py);
- G's eval-mode BatchNorm is folded into the transposed convolutions it
  follows, into detached float32 weight copies (not bfloat16: its rounding
  makes the fit depend on the thread count, folded_generator.py), so each step
  runs 5 convolutions and autograd tracks only z; on the CPU the first three
  run as matrix products (README "Benchmarks").
  This also means G itself is never touched: no requires_grad flips, no mode
  switches, no hooks, so concurrent inversions on one G are safe
  (folded_generator.py).
Measured on the 2-core AMD EPYC (bf16), one thread, while other jobs loaded
it: the defaults (30 steps x 4 restarts, bank start) take about 0.45 s per
face; the first call in a process pays about 1 s more once (oneDNN sets up
its kernels), so warm up at start-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .folded_generator import FIT_DTYPE, FoldedGenerator, latent_size
from .latent_adam import LatentAdam

DEFAULT_STEPS = 30
DEFAULT_RESTARTS = 4
BANK_SIZE = 16  # side of the bank's thumbnails: 48 / 3, cheap and still a face

ProgressFn = Callable[[int, int, float], None]  # (step, steps, loss)


@dataclass
class InversionResult:
    z: torch.Tensor  # [1, nz] float32, the best restart
    image: torch.Tensor  # [1, C, S, S] float32 in [-1, 1]: G(z) (eval mode)
    loss: float  # the objective at z, without latent noise
    loss_history: list[float]  # per step, the best restart's objective (with that step's noise)


@dataclass(frozen=True)
class LatentBank:
    """Latents and what G makes of them, small: a lookup table for starting points."""

    z: torch.Tensor  # [n, nz] float32
    thumbs: torch.Tensor  # [n, C * s * s] float32: G(z) area-downsampled to s x s, in [-1, 1]
    size: int  # s

    def nearest(self, target: torch.Tensor, mask: torch.Tensor | None, k: int) -> torch.Tensor:
        """The k latents whose thumbnails are closest to `target` [1, C, S, S]
        inside `mask` [1, 1, S, S] (None: everywhere), best first: [k, nz]."""
        small_target, small_mask = _downsample(target, mask, self.size)
        weights = small_mask.expand_as(small_target).reshape(1, -1).to(self.thumbs)  # [1, D]
        wanted = small_target.reshape(1, -1).to(self.thumbs)
        # sum_d w (thumb - t)^2 = sum_d w thumb^2 - 2 sum_d w thumb t + const
        distance = self.thumbs.square() @ weights.T - 2.0 * self.thumbs @ (weights * wanted).T  # [n, 1]
        order = distance[:, 0].topk(min(k, len(self.z)), largest=False).indices
        return self.z[order]


def _downsample(image: torch.Tensor, mask: torch.Tensor | None, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """An image [N, C, S, S] and its mask [1, 1, S, S] area-downsampled to
    size x size; each block of the image is the mask-weighted mean of its pixels."""
    if mask is None:
        mask = torch.ones_like(image[:1, :1])
    if image.shape[-1] == size:
        return image, mask
    small_mask = F.adaptive_avg_pool2d(mask, size)
    return F.adaptive_avg_pool2d(image * mask, size) / small_mask.clamp_min(1e-6), small_mask


@torch.no_grad()
def build_latent_bank(G: nn.Module, *, n: int = 1024, size: int = BANK_SIZE, seed: int = 0,
                      batch_size: int = 256, device: torch.device | str = "cpu",
                      dtype: torch.dtype | None = None, label: torch.Tensor | None = None) -> LatentBank:
    """n latents z ~ N(0, I) and G(z) area-downsampled to size x size, for
    `invert(..., init_bank=bank)`. Build it once per generator, at start-up:
    n forwards in batches without gradients, 0.06 GMAC each (1024: about 1 s
    on one loaded EPYC core). 1024 gets nearly all of the benefit: 2048 and
    4096 start 0.1-0.4 dB closer and end within 0.1 dB after 30 steps."""
    device = torch.device(device)
    frozen = FoldedGenerator(G, dtype=dtype or FIT_DTYPE, device=device, label=label)
    nz = latent_size(G)
    z = torch.randn(n, nz, generator=torch.Generator().manual_seed(seed)).to(device)
    thumbs = [F.adaptive_avg_pool2d(frozen(chunk), size).flatten(1) for chunk in z.split(batch_size)]
    return LatentBank(z=z, thumbs=torch.cat(thumbs), size=size)


class _Objective:
    """Per-restart loss: masked pixel MSE at full, 1/2 and 1/4 size, masked L1
    on image gradients, and the distance of ||z|| from the Gaussian shell.
    Pixels where the mask is 0 have no influence on any term."""

    def __init__(self, target: torch.Tensor, mask: torch.Tensor, *, multiscale_weight: float,
                 edge_weight: float, prior_weight: float) -> None:
        channels = target.shape[1]
        self.mask = mask
        self.levels = []  # (weight, factor, target [1, C, s, s], mask [1, 1, s, s], mask sum * C)
        for factor, weight in ((1, 1.0), (2, multiscale_weight), (4, multiscale_weight)):
            if weight > 0 and target.shape[-1] % factor == 0:
                small_mask = F.avg_pool2d(mask, factor) if factor > 1 else mask
                small_target = self._pool(target, factor, small_mask)
                self.levels.append((weight, factor, small_target, small_mask,
                                    (small_mask.sum() * channels).clamp_min(1e-8)))
        self.edge_weight = edge_weight
        self.prior_weight = prior_weight
        self.target_dx, self.target_dy = _gradients(target)
        self.mask_dx = mask[..., :, 1:] * mask[..., :, :-1]
        self.mask_dy = mask[..., 1:, :] * mask[..., :-1, :]
        self.edge_norm = ((self.mask_dx.sum() + self.mask_dy.sum()) * channels).clamp_min(1e-8)

    def _pool(self, image: torch.Tensor, factor: int, small_mask: torch.Tensor) -> torch.Tensor:
        """Mask-weighted block averages: the mean of the face pixels in each block."""
        if factor == 1:
            return image
        return F.avg_pool2d(image * self.mask, factor) / small_mask.clamp_min(1e-6)

    def __call__(self, image: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """image [R, C, S, S] in [-1, 1], z [R, nz] -> loss [R]."""
        loss = torch.zeros(len(image), device=image.device)
        for weight, factor, target, mask, norm in self.levels:
            small = self._pool(image, factor, mask)
            loss = loss + weight * ((small - target).square() * mask).sum(dim=(1, 2, 3)) / norm
        if self.edge_weight > 0:
            dx, dy = _gradients(image)
            edges = (((dx - self.target_dx).abs() * self.mask_dx).sum(dim=(1, 2, 3))
                     + ((dy - self.target_dy).abs() * self.mask_dy).sum(dim=(1, 2, 3)))
            loss = loss + self.edge_weight * edges / self.edge_norm
        if self.prior_weight > 0:
            radius = z.norm(dim=1) / math.sqrt(z.shape[1])
            loss = loss + self.prior_weight * (radius - 1.0).square()
        return loss


def _gradients(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return image[..., :, 1:] - image[..., :, :-1], image[..., 1:, :] - image[..., :-1, :]


def learning_rate(t: float, *, initial_learning_rate: float, lr_rampup_length: float,
                  lr_rampdown_length: float) -> float:
    """projector.py's schedule at progress t in [0, 1): linear warm-up, then
    cosine ramp-down over the last `lr_rampdown_length` of the steps."""
    ramp = min(1.0, (1.0 - t) / lr_rampdown_length)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp = ramp * min(1.0, t / lr_rampup_length) if lr_rampup_length > 0 else ramp
    return initial_learning_rate * ramp


@torch.inference_mode(False)
@torch.enable_grad()
def invert(
    G: nn.Module,
    target: torch.Tensor,  # [1, C, S, S] in [-1, 1], S and C as G's output
    *,
    mask: torch.Tensor | None = None,  # [1, 1, S, S] in [0, 1]; None: every pixel counts
    steps: int = DEFAULT_STEPS,
    restarts: int = DEFAULT_RESTARTS,
    initial_learning_rate: float = 0.2,
    lr_rampup_length: float = 0.1,
    lr_rampdown_length: float = 0.3,
    initial_noise_factor: float = 0.05,
    noise_ramp_length: float = 0.5,
    multiscale_weight: float = 0.25,
    edge_weight: float = 0.5,
    prior_weight: float = 0.05,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype | None = None,
    init_bank: LatentBank | None = None,
    start: torch.Tensor | None = None,  # [k, nz] starting latents (e.g. an encoder's guess), tried first
    label: torch.Tensor | None = None,  # [K] expression vector, for a conditional G
    progress_fn: ProgressFn | None = None,
) -> InversionResult:
    """Find z such that G(z) matches `target` inside `mask`.

    `restarts` starting points are optimised together as one batch: `start`
    (an encoder's guess) first, then the bank's nearest neighbours of the
    target when `init_bank` is given, then z ~ N(0, I) from `seed`. Each step adds latent noise (std `initial_noise_factor`,
    decaying to 0 by `noise_ramp_length` of the steps) so the restarts explore
    before they settle. The same arguments and seed give the same result, with any
    thread count. `dtype` is the precision of the optimisation loop (None: FIT_DTYPE,
    float32; bfloat16 is faster where native but its fits depend on the thread count);
    the returned image and loss are float32. `progress_fn(step, steps,
    loss)` is called after every step with the best restart's loss.
    Works inside a caller's no_grad/inference_mode block too.
    """
    device = torch.device(device)
    if steps < 0 or restarts < 1:
        raise ValueError(f"steps must be >= 0 and restarts >= 1, got steps={steps}, restarts={restarts}")
    dtype = dtype or FIT_DTYPE
    frozen = FoldedGenerator(G, dtype=dtype, device=device, label=label)
    exact = frozen if dtype == torch.float32 else FoldedGenerator(G, dtype=torch.float32, device=device,
                                                                   label=label)
    nz = latent_size(G)

    # Copies: a caller's inference-mode tensors cannot take part in autograd.
    target = target.detach().to(device=device, dtype=torch.float32).clone()
    mask = torch.ones_like(target[:, :1]) if mask is None else mask.detach().to(device=device,
                                                                                dtype=torch.float32).clone()
    if target.dim() != 4 or target.shape[0] != 1 or mask.shape != (1, 1, *target.shape[-2:]):
        raise ValueError(f"target must be [1, C, S, S] and mask [1, 1, S, S]; got {tuple(target.shape)} "
                         f"and {tuple(mask.shape)}")
    objective = _Objective(target, mask, multiscale_weight=multiscale_weight, edge_weight=edge_weight,
                           prior_weight=prior_weight)

    rng = torch.Generator().manual_seed(seed)
    given = torch.empty(0, nz) if start is None else start.detach().reshape(-1, nz).float().cpu()[:restarts]
    starts = [given.to(device)]
    wanted = restarts - len(given)
    if init_bank is not None and wanted > 0:
        if init_bank.z.shape[1] != nz:
            raise ValueError(f"the bank's latents have {init_bank.z.shape[1]} dims but G takes {nz}; "
                             "build the bank from this generator")
        starts.append(init_bank.nearest(target, mask, wanted).to(device))
        wanted -= len(starts[-1])
    if wanted > 0:  # no bank, or one smaller than the restarts: random z
        starts.append(torch.randn(wanted, nz, generator=rng).to(device))
    start = torch.cat(starts)
    noise = torch.randn(max(steps, 1), restarts, nz, generator=rng).to(device)  # drawn up front: one RNG call

    z = start.clone().requires_grad_(True)  # [R, nz]
    optimizer = LatentAdam(z, betas=(0.9, 0.999), lr=initial_learning_rate)  # torch.optim.Adam's update
    history: list[float] = []
    for step in range(steps):
        t = step / steps
        noise_scale = initial_noise_factor * max(0.0, 1.0 - t / noise_ramp_length) ** 2
        lr = learning_rate(t, initial_learning_rate=initial_learning_rate, lr_rampup_length=lr_rampup_length,
                           lr_rampdown_length=lr_rampdown_length)
        optimizer.lr = lr
        z_noisy = z + noise[step] * noise_scale if noise_scale > 0 else z
        loss = objective(frozen(z_noisy), z)  # [R]
        optimizer.zero_grad()
        loss.sum().backward()  # a sum, so each restart's gradient is its own
        optimizer.step()
        history.append(float(loss.detach().min()))
        if progress_fn is not None:
            progress_fn(step + 1, steps, history[-1])

    with torch.no_grad():  # pick the best restart on clean float32 images
        final = z.detach()
        images = exact(final)
        losses = objective(images, final)
        best = int(losses.argmin())
    return InversionResult(z=final[best:best + 1].clone(), image=images[best:best + 1].clone(),
                           loss=float(losses[best]), loss_history=history)
