"""The edit critic of the change fine-tuning: a discriminator of real faces against edited ones.

Why: with the teacher's loss alone (gan/train_change.py), G learns whatever
change the teacher reads as the target, and part of that is not an expression:
dark patches over the mouth and brows that a classifier takes for a frown or an
open mouth, and a photographer takes for a smudge. The GAN's own discriminator
never sees an edited real face, so nothing stops it. As in StarGAN (Choi et al.
2018), a second discriminator judges the edited faces themselves: real faces
with their labels against real faces plus G's blurred change with the target
label, and G is rewarded when the edits pass as real faces of the target.
It is the seed's projection discriminator (gan/conditional.py), trained with
the seed's BCE loss; its auxiliary class head is not used (it would be a second
teacher learnt from the same FER2013 labels as the benchmarks' classifier).
"""

from __future__ import annotations

import contextlib

import torch

from .conditional import ProjectionDiscriminator
from .conditional_step import _d_loss, _g_loss


def critic_step(critic: ProjectionDiscriminator, opt: torch.optim.Optimizer, real: torch.Tensor,
                labels: torch.Tensor, edited: torch.Tensor, targets: torch.Tensor, *,
                autocast: contextlib.AbstractContextManager) -> torch.Tensor:
    """One update of the critic: `real` [B, 1, S, S] with their `labels` are real,
    `edited` (detached here) with their `targets` are fake. Real and edited
    batches go through separately, as in the seed, so BatchNorm sees pure
    batches. Returns the critic's loss (detached)."""
    opt.zero_grad(set_to_none=True)
    with autocast:
        score_real, _ = critic(real, labels)
        score_edit, _ = critic(edited.detach(), targets)
        loss = _d_loss(score_real.float(), score_edit.float(), hinge=False)
    loss.backward()
    opt.step()
    return loss.detach()


def critic_g_loss(critic: ProjectionDiscriminator, edited: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """G's non-saturating loss for edits the critic takes for real faces of the target."""
    score, _ = critic(edited, targets)
    return _g_loss(score.float(), hinge=False)
