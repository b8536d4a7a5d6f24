"""The seed's DCGAN networks (Radford et al. 2016), sized by a small config.

The 64x64x3 pair is the paper's listing layer for layer. For FER2013 the seed
keeps the widths and only changes the first generator layer and the last
discriminator layer, so that 100 -> 3x3 -> 6 -> 12 -> 24 -> 48 (and the mirror).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

# The first transposed conv of G (and last conv of D) maps 1x1 <-> k x k; each
# later stride-2 layer doubles the side. Four doublings: 4 -> 64 and 3 -> 48.
_FIRST_KERNEL = {64: 4, 48: 3}


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild a generator/discriminator pair."""

    image_size: int = 48  # 48 (FER2013) or 64 (CelebA, the paper's size)
    channels: int = 1  # 1 grayscale, 3 RGB
    nz: int = 100  # length of the latent vector z
    ngf: int = 64  # generator width of the last hidden layer
    ndf: int = 64  # discriminator width of the first layer
    n_classes: int = 0  # 0: the seed's unconditional pair; K: conditioned on K expressions

    def __post_init__(self) -> None:
        if self.image_size not in _FIRST_KERNEL:
            raise ValueError(f"image_size must be one of {sorted(_FIRST_KERNEL)}, got {self.image_size}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")

    @property
    def first_kernel(self) -> int:
        return _FIRST_KERNEL[self.image_size]

    def to_dict(self) -> dict:
        # n_classes only when set, so the seed's checkpoints keep their metadata.
        return {k: v for k, v in asdict(self).items() if k != "n_classes" or v}


def init_dcgan_weights(module: nn.Module, generator: torch.Generator | None = None) -> None:
    """DCGAN init: conv weights N(0, 0.02); BatchNorm scale N(1, 0.02), shift 0.
    Draws with `generator` when given (nn.init takes none in older torch)."""
    with torch.no_grad():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            module.weight.copy_(0.02 * torch.randn(module.weight.shape, generator=generator))
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.copy_(1.0 + 0.02 * torch.randn(module.weight.shape, generator=generator))
            module.bias.zero_()


def generator_layers(config: ModelConfig, in_channels: int) -> nn.Sequential:
    """The seed's generator stack: `in_channels` x 1 x 1 -> [C, S, S] in [-1, 1]. The
    seed's G takes z (nz channels); the conditional one takes z and the expression."""
    ngf, k = config.ngf, config.first_kernel
    return nn.Sequential(
        nn.ConvTranspose2d(in_channels, ngf * 8, k, 1, 0, bias=False),
        nn.BatchNorm2d(ngf * 8),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
        nn.BatchNorm2d(ngf),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf, config.channels, 4, 2, 1, bias=False),
        nn.Tanh(),
    )


class Generator(nn.Module):
    """z [N, nz] (or [N, nz, 1, 1]) -> image [N, C, S, S] in [-1, 1]."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.main = generator_layers(config, config.nz)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)


class Discriminator(nn.Module):
    """image [N, C, S, S] in [-1, 1] -> probability real [N]."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        ndf, k = config.ndf, config.first_kernel
        self.main = nn.Sequential(
            nn.Conv2d(config.channels, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, k, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid scores [N]."""
        return self(x, logits=True)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations after each LeakyReLU, for feature-matching losses."""
        out = []
        for layer in self.main[:-2]:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                out.append(x)
        return out

    def forward(self, x: torch.Tensor, *, logits: bool = False) -> torch.Tensor:
        """Probability real [N], or with `logits=True` the pre-sigmoid scores.
        Training uses the logits with BCE-with-logits: the same loss as BCE on
        the sigmoid, but stable under mixed precision. (A keyword on forward,
        not a separate method, so DistributedDataParallel sees every call.)"""
        if logits:
            return self.main[:-1](x).flatten()
        return self.main(x).flatten()


def build_models(config: ModelConfig, *, seed: int | None = None) -> tuple[Generator, Discriminator]:
    """A freshly initialised (G, D) pair; `seed` makes the init reproducible."""
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    G, D = Generator(config), Discriminator(config)
    for model in (G, D):
        for module in model.modules():
            init_dcgan_weights(module, gen)
    return G, D


def build_generator(config: ModelConfig) -> nn.Module:
    """The generator a config describes: the seed's, or the conditional one."""
    if config.n_classes:
        from .conditional import ConditionalGenerator

        return ConditionalGenerator(config)
    return Generator(config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
