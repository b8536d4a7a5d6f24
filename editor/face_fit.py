"""crop -> z: the fit of one aligned face, the edit's slowest stage.

The seed model inverts the crop into the target expression's own generator,
started from its latent bank. The conditional model inverts it at the face's
own expression p_src, so S = G(z, p_src) is the face as it is, started from the
encoder's guess E(x) (the bank when there is no encoder): a closer fit in fewer
steps, with z where G behaves (README, "Quality").
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from gan.encoder import Encoder

from .edits import EditSettings, to_model_range
from .invert import InversionResult, invert


def fit_face(generator: torch.nn.Module, crop: np.ndarray, settings: EditSettings, *, bank: torch.Tensor,
             mask: torch.Tensor, device: torch.device, progress: Callable | None = None,
             label: np.ndarray | None = None, encoder: Encoder | None = None) -> InversionResult:
    """Invert an aligned [48, 48] uint8 crop with the settings' steps, restarts and
    seed. `label` (p_src [K]) fits a conditional generator at that expression,
    starting from `encoder`'s guess when there is one; None fits an unconditional one."""
    target = to_model_range(crop, device)
    search = dict(steps=settings.steps, restarts=settings.restarts, seed=settings.seed, device=device,
                  mask=mask, progress_fn=progress, init_bank=bank)
    if label is None:
        return invert(generator, target, **search)
    start = None
    if encoder is not None:
        with torch.no_grad():
            start = encoder(target)[0]
    return invert(generator, target, start=start, label=torch.from_numpy(label), **search)
