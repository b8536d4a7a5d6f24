"""The networks match the seed's listing; the FER variants work on 48x48x1."""

import torch

from gan.models import Discriminator, Generator, ModelConfig, build_models

SEED_G = """Generator(
  (main): Sequential(
    (0): ConvTranspose2d(100, 512, kernel_size=(4, 4), stride=(1, 1), bias=False)
    (1): BatchNorm2d(512, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (2): ReLU(inplace=True)
    (3): ConvTranspose2d(512, 256, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
    (4): BatchNorm2d(256, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (5): ReLU(inplace=True)
    (6): ConvTranspose2d(256, 128, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
    (7): BatchNorm2d(128, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (8): ReLU(inplace=True)
    (9): ConvTranspose2d(128, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
    (10): BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (11): ReLU(inplace=True)
    (12): ConvTranspose2d(64, 3, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
    (13): Tanh()
  )
)"""

SEED_D = """Discriminator(
  (main): Sequential(
    (0): Conv2d(3, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
    (1): LeakyReLU(negative_slope=0.2, inplace=True)
    (2): Conv2d(64, 128, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
    (3): BatchNorm2d(128, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (4): LeakyReLU(negative_slope=0.2, inplace=True)
    (5): Conv2d(128, 256, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
    (6): BatchNorm2d(256, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (7): LeakyReLU(negative_slope=0.2, inplace=True)
    (8): Conv2d(256, 512, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), bias=False)
    (9): BatchNorm2d(512, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
    (10): LeakyReLU(negative_slope=0.2, inplace=True)
    (11): Conv2d(512, 1, kernel_size=(4, 4), stride=(1, 1), bias=False)
    (12): Sigmoid()
  )
)"""


def _listing(model) -> str:
    # Newer torch also prints BatchNorm's "bias=True"; the seed's listing predates it.
    return str(model).replace("affine=True, bias=True,", "affine=True,")


def test_celeba_models_print_the_seed_listing():
    config = ModelConfig(image_size=64, channels=3)
    assert _listing(Generator(config)) == SEED_G
    assert _listing(Discriminator(config)) == SEED_D


def test_celeba_shapes():
    G, D = build_models(ModelConfig(image_size=64, channels=3), seed=0)
    images = G(torch.randn(2, 100))
    assert images.shape == (2, 3, 64, 64)
    assert D(images).shape == (2,)


def test_fer_models_make_and_take_48x48_grayscale():
    G, D = build_models(ModelConfig(), seed=0)
    images = G(torch.randn(3, 100))
    assert images.shape == (3, 1, 48, 48)
    assert images.min() >= -1 and images.max() <= 1
    scores = D(images)
    assert scores.shape == (3,)
    assert ((scores > 0) & (scores < 1)).all()
    # Only the first G layer and last D layer differ from the seed; widths are kept.
    assert G.main[0].kernel_size == (3, 3) and G.main[12].out_channels == 1
    assert D.main[0].in_channels == 1 and D.main[11].kernel_size == (3, 3)


def test_logits_are_the_sigmoid_input():
    _, D = build_models(ModelConfig(), seed=1)
    x = torch.rand(4, 1, 48, 48) * 2 - 1
    D.eval()
    assert torch.allclose(torch.sigmoid(D.logits(x)), D(x), atol=1e-6)


def test_init_is_dcgan_and_reproducible():
    G1, _ = build_models(ModelConfig(), seed=3)
    G2, _ = build_models(ModelConfig(), seed=3)
    for a, b in zip(G1.parameters(), G2.parameters()):
        assert torch.equal(a, b)
    conv = G1.main[3].weight
    assert abs(conv.mean().item()) < 1e-3 and abs(conv.std().item() - 0.02) < 1e-3
    bn = G1.main[1].weight
    assert abs(bn.mean().item() - 1.0) < 5e-3
