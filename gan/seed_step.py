"""One training step of the seed's DCGAN (Radford et al. 2016, as the seed paper
adapts it to 48x48 grey faces): D then G, the paper's alternating scheme with
the non-saturating BCE loss for G. Kept exactly as it was, so the seed's recipe
stays reproducible; the class-conditional step is conditional_step.py.
"""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

SEED_STAT_NAMES = ("loss_d", "loss_g", "d_x", "d_g_z")


def train_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
               real: torch.Tensor, noise: torch.Tensor, autocast: contextlib.AbstractContextManager) -> torch.Tensor:
    """One DCGAN update of D then G (the paper's alternating scheme, non-saturating
    G loss). real: [B, C, H, W] in [-1, 1]; noise: [B, nz]. Returns a device
    tensor [4]: loss_d, loss_g, D(x), D(G(z)), so the caller decides when to sync."""
    ones = torch.ones(real.shape[0], device=real.device)
    zeros = torch.zeros_like(ones)

    opt_d.zero_grad(set_to_none=True)
    # Real and fake go through D separately, as in the paper, so BatchNorm sees
    # pure batches; one backward each (as pytorch/examples does), which also
    # keeps DistributedDataParallel's one-forward-one-backward rhythm.
    with autocast:
        logit_real = D(real, logits=True)
        loss_real = F.binary_cross_entropy_with_logits(logit_real.float(), ones)
    loss_real.backward()
    with autocast:
        fake = G(noise)
        logit_fake = D(fake.detach(), logits=True)
        loss_fake = F.binary_cross_entropy_with_logits(logit_fake.float(), zeros)
    loss_fake.backward()
    opt_d.step()
    loss_d = loss_real + loss_fake

    opt_g.zero_grad(set_to_none=True)
    with autocast:
        logit_gen = D(fake, logits=True)
        loss_g = F.binary_cross_entropy_with_logits(logit_gen.float(), ones)
    loss_g.backward()
    opt_g.step()
    with torch.no_grad():
        return torch.stack([loss_d.detach(), loss_g.detach(),
                            torch.sigmoid(logit_real.float()).mean(), torch.sigmoid(logit_fake.float()).mean()])
