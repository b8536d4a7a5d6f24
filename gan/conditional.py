"""One generator for all seven expressions, with a shared latent space.

`ConditionalGenerator` is the seed's DCGAN generator (same layer widths) whose
input is z concatenated with an expression vector y: a probability vector over
the seven FER2013 classes, so an expression can be one-hot, mixed or scaled.
Because the first layer is linear, y enters as a learned embedding added to
z's; the rest of the network is shared, so G(z, a) and G(z, b) are the same
face with different expressions (and `same_face_loss` in training holds them
to it outside the eyes, brows and mouth).

`ProjectionDiscriminator` keeps the seed's discriminator and scores (image,
label) pairs with a projection term (Miyato & Koyama 2018) plus an auxiliary
expression classifier head (AC-GAN, Odena et al. 2017), which keeps the rare
classes (disgust: 436 images) apart. Its BatchNorm can be swapped for spectral
norm (Miyato et al. 2018; trained with the hinge loss), which we measured to
learn too slowly for a CPU budget of a few thousand steps (model card).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .models import ModelConfig, generator_layers

NORMS = ("batch", "spectral")


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
        self.main = generator_layers(config, config.nz + config.n_classes)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if z.dim() == 4:
            z = z.flatten(1)
        y = as_label_vector(y, self.config.n_classes).to(z.dtype)
        return self.main(torch.cat([z, y], dim=1)[:, :, None, None])


class ProjectionDiscriminator(nn.Module):
    """(image [N, C, S, S] in [-1, 1], class [N]) -> (score logit [N], class logits [N, K]).

    The seed's discriminator convolutions; its last layer (a k x k conv to one
    logit, i.e. a linear map of the flattened 8 ndf x k x k features h) becomes
    the unconditional score, to which the projection <embed(y), h> adds the
    label's share, and a linear head on h classifies the expression.
    `norm="batch"` keeps the seed's BatchNorm (trained with its BCE loss);
    `norm="spectral"` is SNGAN's spectral norm instead (trained with hinge)."""

    def __init__(self, config: ModelConfig, norm: str = "batch") -> None:
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"--d-norm must be one of {', '.join(NORMS)}, got {norm!r}")
        self.config = config
        self.norm = norm
        ndf, k = config.ndf, config.first_kernel
        wrap = spectral_norm if norm == "spectral" else (lambda layer: layer)
        layers: list[nn.Module] = []
        widths = (config.channels, ndf, ndf * 2, ndf * 4, ndf * 8)
        for i, (w_in, w_out) in enumerate(zip(widths, widths[1:])):
            layers.append(wrap(nn.Conv2d(w_in, w_out, 4, 2, 1, bias=norm == "spectral")))
            if norm == "batch" and i > 0:  # the seed: no BatchNorm on the first layer
                layers.append(nn.BatchNorm2d(w_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
        self.blocks = nn.Sequential(*layers, nn.Flatten())
        features = ndf * 8 * k * k
        self.score = wrap(nn.Linear(features, 1, bias=norm == "spectral"))
        self.embed = wrap(nn.Embedding(config.n_classes, features))
        self.classify = nn.Linear(features, config.n_classes)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Activations after each block, for feature losses (encoder training)."""
        out = []
        for layer in self.blocks:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                out.append(x)
        return out

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.blocks(x)  # [N, 8 ndf k k]
        projection = (self.embed(y) * h).sum(dim=1)
        return self.score(h).flatten() + projection, self.classify(h)


def build_conditional_models(config: ModelConfig, *, seed: int | None = None, norm: str = "batch"
                             ) -> tuple[ConditionalGenerator, ProjectionDiscriminator]:
    """A freshly initialised (G, D) pair. G gets the DCGAN init (N(0, 0.02)), and
    so does the seed's BatchNorm D; a spectral-norm D keeps PyTorch's default
    init, as SNGAN. `seed` makes both reproducible without touching the
    caller's global RNG."""
    from .models import init_dcgan_weights

    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        G, D = ConditionalGenerator(config), ProjectionDiscriminator(config, norm)
        for module in [*G.modules(), *(D.modules() if norm == "batch" else ())]:
            init_dcgan_weights(module)
        if norm == "batch":
            # The projection starts at zero: D begins as the seed's unconditional
            # one. (PyTorch's N(0, 1) embedding over 4,608 features gave logits
            # of +-30 and a saturated D within one epoch.)
            nn.init.zeros_(D.embed.weight)
    return G, D


# The FER template's expression regions in a 48x48 crop, as (row0, row1, column0, column1): the eyes
# and brows, and the mouth with room for the jaw drop of a surprised or open mouth (region_mask).
EYES_BOX = (8, 25, 7, 41)
MOUTH_BOX = (29, 47, 9, 39)


def region_mask(size: int = 48) -> torch.Tensor:
    """[1, 1, size, size] float: 0 over the eyes+brows and the mouth of the
    FER2013 face template, 1 elsewhere, with soft edges. Outside these regions
    an expression change should leave the face alone (identity, pose, light).

    The boxes come from the editor's FER template landmarks (eyes at y~18.5,
    x~15 and ~33; mouth corners at y~37.5, x~16.6 and ~31.5), widened for the
    brows above the eyes and the jaw drop of a surprised or open mouth."""
    mask = torch.ones(size, size)
    scale = size / 48
    for (y0, y1, x0, x1) in (EYES_BOX, MOUTH_BOX):
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
