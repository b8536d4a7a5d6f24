"""Running a model on many 48x48 faces at once, batch by batch, as training scaled them."""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from .data import to_model_range


@torch.no_grad()
def in_batches(model: nn.Module, images: torch.Tensor, answer: Callable[[torch.Tensor], torch.Tensor], *,
               batch_size: int = 512) -> list[torch.Tensor]:
    """`answer(batch)` for each batch of images [N, C, H, W] (uint8 0..255, scaled batch by
    batch, or float in [-1, 1]), in eval mode on the model's device, returned on the CPU;
    the model's train/eval mode is left as it was."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, images.shape[0], batch_size):
        batch = images[start: start + batch_size].to(device)
        batch = to_model_range(batch) if batch.dtype == torch.uint8 else batch.float()
        out.append(answer(batch).float().cpu())
    model.train(was_training)
    return out
