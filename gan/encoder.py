"""An encoder E for the conditional generator: 48x48 face -> (z, expression logits).

In-domain GAN inversion (Zhu et al. 2020): E is trained against a frozen G so
that G(E(x), p) reconstructs x, where p is the face's expression. The editor
starts its gradient-based inversion from E's guess: fewer steps, and z stays
where G was trained. The network mirrors the seed's discriminator widths
(64-128-256-512, stride-2 4x4 convs) with BatchNorm, then two linear heads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint import load_module, save_tensors
from .models import ModelConfig


class Encoder(nn.Module):
    """image [N, C, S, S] in [-1, 1] -> (z [N, nz], expression logits [N, K])."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.n_classes < 2:
            raise ValueError("the encoder belongs to a conditional generator (n_classes >= 2)")
        self.config = config
        ndf, k = config.ndf, config.first_kernel
        layers: list[nn.Module] = []
        widths = (config.channels, ndf, ndf * 2, ndf * 4, ndf * 8)
        for i, (w_in, w_out) in enumerate(zip(widths, widths[1:])):
            layers.append(nn.Conv2d(w_in, w_out, 4, 2, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(w_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.to_z = nn.Linear(ndf * 8 * k * k, config.nz)
        self.to_logits = nn.Linear(ndf * 8 * k * k, config.n_classes)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.features(x)
        return self.to_z(h), self.to_logits(h)


def build_encoder(config: ModelConfig, *, seed: int = 0) -> Encoder:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Encoder(config)


def save_encoder(path: str | Path, E: Encoder, metadata: dict[str, Any]) -> None:
    save_tensors(path, E.state_dict(), {"kind": "encoder", "model": E.config.to_dict(), **metadata})


def load_encoder(path: str | Path, device: str | torch.device = "cpu") -> tuple[Encoder, dict[str, Any]]:
    """Rebuild the encoder from its file alone, in eval mode, on `device`."""
    return load_module(path, "encoder", "an encoder", lambda model: Encoder(ModelConfig(**model)),
                       retrain="python -m gan train-encoder", device=device)


def encoder_mismatch(encoder: ModelConfig, generator: ModelConfig) -> str | None:
    """Why an encoder cannot give z's for this generator (its z, classes or images are not the
    generator's, as with a generator retrained at another --nz), or None when it fits."""
    for name in ("nz", "n_classes", "image_size", "channels"):
        if getattr(encoder, name) != getattr(generator, name):
            return f"its {name} is {getattr(encoder, name)}, the generator's {getattr(generator, name)}"
    return None
