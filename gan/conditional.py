"""One generator for all seven expressions, with a shared latent space.

`ConditionalGenerator` is the seed's DCGAN generator (same layer widths) whose
input is z concatenated with an expression vector y: a probability vector over
the seven FER2013 classes, so an expression can be one-hot, mixed or scaled.
Because the first layer is linear, y enters as a learned embedding added to
z's; the rest of the network is shared, so G(z, a) and G(z, b) are the same
face with different expressions (and `same_face_loss` in training holds them
to it outside the eyes, brows and mouth).

`ProjectionDiscriminator` keeps the seed's discriminator widths, drops
BatchNorm for spectral norm (Miyato et al. 2018) and scores (image, label)
pairs with a projection term (Miyato & Koyama 2018) plus an auxiliary
expression classifier head (AC-GAN, Odena et al. 2017), which keeps the rare
classes (disgust: 436 images) apart.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .models import ModelConfig


def as_label_vector(y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Class indices [N] (int) or weights [N, K] -> float [N, K]. Weights need
    not sum to one: the editor scales them to exaggerate an expression."""
    if y.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
        return F.one_hot(y.long(), n_classes).float()
    if y.dim() != 2 or y.shape[1] != n_classes:
        raise ValueError(f"expression vector must be [N, {n_classes}], got {list(y.shape)}")
    return y.float()


class ConditionalGenerator(nn.Module):
    """(z [N, nz], y [N] class or [N, K] weights) -> image [N, C, S, S] in [-1, 1]."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.n_classes < 2:
            raise ValueError("a conditional generator needs n_classes >= 2")
        self.config = config
        ngf, k = config.ngf, config.first_kernel
        self.main = nn.Sequential(
            nn.ConvTranspose2d(config.nz + config.n_classes, ngf * 8, k, 1, 0, bias=False),
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

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if z.dim() == 4:
            z = z.flatten(1)
        y = as_label_vector(y, self.config.n_classes).to(z.dtype)
        return self.main(torch.cat([z, y], dim=1)[:, :, None, None])


class ProjectionDiscriminator(nn.Module):
    """(image [N, C, S, S] in [-1, 1], class [N]) -> (score [N], class logits [N, K])."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        ndf = config.ndf
        sn = spectral_norm
        self.blocks = nn.Sequential(
            sn(nn.Conv2d(config.channels, ndf, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(ndf, ndf * 2, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
            sn(nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
        )
        self.score = sn(nn.Linear(ndf * 8, 1))
        self.embed = sn(nn.Embedding(config.n_classes, ndf * 8))
        self.classify = nn.Linear(ndf * 8, config.n_classes)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations after each block, for feature losses (encoder training)."""
        out = []
        for layer in self.blocks:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                out.append(x)
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.blocks(x).sum(dim=(2, 3))  # [N, 8 ndf]: sum pooling, as in SNGAN
        projection = (self.embed(y) * h).sum(dim=1)
        return self.score(h).flatten() + projection, self.classify(h)


def build_conditional_models(config: ModelConfig, *, seed: int | None = None
                             ) -> tuple[ConditionalGenerator, ProjectionDiscriminator]:
    """A freshly initialised (G, D) pair. G gets the DCGAN init (N(0, 0.02));
    D keeps PyTorch's default init, which spectral norm expects (SNGAN). `seed`
    makes both reproducible without touching the caller's global RNG."""
    from .models import init_dcgan_weights

    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        G, D = ConditionalGenerator(config), ProjectionDiscriminator(config)
        for module in G.modules():
            init_dcgan_weights(module)
    return G, D


def region_mask(size: int = 48) -> torch.Tensor:
    """[1, 1, size, size] float: 0 over the eyes+brows and the mouth of the
    FER2013 face template, 1 elsewhere, with soft edges. Outside these regions
    an expression change should leave the face alone (identity, pose, light).

    The boxes come from the editor's FER template landmarks (eyes at y~18.5,
    x~15 and ~33; mouth corners at y~37.5, x~16.6 and ~31.5), widened for the
    brows above the eyes and the jaw drop of a surprised or open mouth."""
    mask = torch.ones(size, size)
    scale = size / 48
    for (y0, y1, x0, x1) in ((8, 25, 7, 41), (29, 47, 9, 39)):
        mask[int(y0 * scale):int(y1 * scale), int(x0 * scale):int(x1 * scale)] = 0.0
    # Soften the box edges (3x3 blur twice) so the loss has no hard seams.
    kernel = torch.full((1, 1, 3, 3), 1 / 9)
    mask = mask[None, None]
    for _ in range(2):
        mask = F.conv2d(F.pad(mask, (1, 1, 1, 1), mode="replicate"), kernel)
    return mask


def same_face_loss(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of two renders of the same z, outside the expression regions."""
    return ((a - b).abs() * mask).sum() / (mask.sum() * a.shape[0] * a.shape[1])
