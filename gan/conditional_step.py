"""One training step of the class-conditional DCGAN, and how its batches are drawn.

Loss (measured choice, see checkpoints/MODEL_CARD.md): the seed's
non-saturating BCE on the projection discriminator's logit (hinge when D uses
spectral norm), with the seed's Adam 2e-4/0.5/0.999 and one D step per G step;
an auxiliary expression classifier on D's features (D learns it on real faces,
G is rewarded when its faces read as the asked-for class); and a same-face
loss that keeps G(z, a) and G(z, b) alike outside the eyes, brows and mouth.
Real and fake batches go through D separately, as in the seed, so BatchNorm
sees pure batches.
"""

from __future__ import annotations

import contextlib
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .conditional import same_face_loss

STAT_NAMES = ("loss_d", "loss_g", "d_x", "d_g_z", "ac_real", "loss_same")


def _d_loss(real: torch.Tensor, fake: torch.Tensor, hinge: bool) -> torch.Tensor:
    if hinge:
        return F.relu(1 - real).mean() + F.relu(1 + fake).mean()
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def _g_loss(fake: torch.Tensor, hinge: bool) -> torch.Tensor:
    if hinge:
        return -fake.mean()
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))  # non-saturating, as the seed


def conditional_train_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
                           real: torch.Tensor, labels: torch.Tensor, noise: torch.Tensor, *,
                           mask: torch.Tensor, lambda_ac: float, lambda_same: float,
                           generator: torch.Generator,
                           autocast: contextlib.AbstractContextManager,
                           extra_g_loss: Callable[[], torch.Tensor] | None = None,
                           update_g: bool = True) -> torch.Tensor:
    """One D update, then one G update. real: [B, C, H, W] in [-1, 1]; labels:
    [B] int; noise: [B, nz]. The fakes use the real batch's labels, so D sees
    the same class mix on both sides. `extra_g_loss` adds a term to G's loss
    (the change fine-tuning's, gan/train_change.py); `update_g=False` trains D
    alone (a fresh D warming up against a trained G). Returns a device tensor
    of STAT_NAMES."""
    n_classes = G.config.n_classes if hasattr(G, "config") else G.module.config.n_classes
    hinge = (D.norm if hasattr(D, "norm") else D.module.norm) == "spectral"

    batch, half = real.shape[0], real.shape[0] // 2
    # The same z with another expression, for the first half of the batch: one
    # G forward makes both the fakes D judges and the pairs the same-face loss compares.
    # Drawn where the generator lives (train-change passes a CPU one on CUDA too), then moved.
    offset = torch.randint(1, n_classes, (half,), device=generator.device, generator=generator).to(labels.device)
    other = (labels[:half] + offset) % n_classes
    with autocast, torch.set_grad_enabled(update_g):
        fakes = G(torch.cat([noise, noise[:half]]), torch.cat([labels, other]))
    fake = fakes[:batch]

    opt_d.zero_grad(set_to_none=True)
    with autocast:
        score_real, class_real = D(real, labels)
        score_fake, _ = D(fake.detach(), labels)
        loss_d = (_d_loss(score_real.float(), score_fake.float(), hinge)
                  + lambda_ac * F.cross_entropy(class_real.float(), labels))
    loss_d.backward()
    opt_d.step()

    opt_g.zero_grad(set_to_none=True)
    with autocast, torch.set_grad_enabled(update_g):
        score_gen, class_gen = D(fake, labels)
        loss_same = same_face_loss(fakes[:half].float(), fakes[batch:].float(), mask)
        loss_g = (_g_loss(score_gen.float(), hinge) + lambda_ac * F.cross_entropy(class_gen.float(), labels)
                  + lambda_same * loss_same)
        if extra_g_loss is not None and update_g:
            loss_g = loss_g + extra_g_loss()
    if update_g:
        loss_g.backward()
        opt_g.step()
    with torch.no_grad():
        accuracy = (class_real.argmax(1) == labels).float().mean()
        return torch.stack([loss_d.detach(), loss_g.detach(), score_real.float().mean(),
                            score_fake.float().mean(), accuracy, loss_same.detach()])
