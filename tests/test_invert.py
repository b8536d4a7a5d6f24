"""Latent inversion on a small generator trained here on real faces.

A randomly initialised DCGAN makes nearly the same blur for every z, which says
little about inversion. So the fixture trains a narrow generator (ngf=16) for a
few seconds, GLO-style (Bojanowski et al. 2018): G learns to reproduce 100 real
LFW faces bundled with scikit-image from 100 fixed latents. Its outputs are
face-like and vary with z the way a trained G's do, and it runs 16x faster
than the full-width one.
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading

import pytest
import torch
import torch.nn.functional as F

from editor.blend import crop_face_mask
from editor.invert import InversionResult, LatentBank, build_latent_bank, invert, learning_rate
from editor.latent_adam import LatentAdam
from gan.models import ModelConfig, build_models

from .conftest import REPO, torch_threads


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: these small convolutions gain nothing from two, and
    with OpenMP's default busy-waiting a second thread on a loaded 2-core
    machine makes them 5-20x slower (measured)."""
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def G(one_thread) -> torch.nn.Module:
    skimage_data = pytest.importorskip("skimage.data")
    faces = torch.from_numpy(skimage_data.lfw_subset()[:100]).float()[:, None]  # [100, 1, 25, 25] in [0, 1]
    faces = F.interpolate(faces, size=48, mode="bilinear", align_corners=False) * 2 - 1
    G, _ = build_models(ModelConfig(ngf=16), seed=0)
    z = torch.randn(100, G.config.nz, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    for _ in range(60):
        loss = (G(z) - faces).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    G.zero_grad(set_to_none=True)
    return G.eval()


@pytest.fixture(scope="module")
def bank(G) -> LatentBank:
    return build_latent_bank(G, n=1024, seed=1)


@pytest.fixture(scope="module")
def mask() -> torch.Tensor:
    return torch.from_numpy(crop_face_mask(48))[None, None]  # [1, 1, 48, 48] in [0, 1]


def sample(G, seed: int) -> torch.Tensor:
    """One of G's own images, from a latent no bank holds: [1, 1, 48, 48] in [-1, 1]."""
    with torch.no_grad():
        return G(torch.randn(1, G.config.nz, generator=torch.Generator().manual_seed(1000 + seed)))


def masked_psnr(image: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> float:
    """PSNR in dB inside the mask, on a [0, 1] scale (images are in [-1, 1], so peak^2 = 4)."""
    mse = float(((image - target).square() * mask).sum() / mask.sum())
    return 10 * math.log10(4.0 / mse)


def test_recovers_own_sample_with_defaults(G, bank, mask):
    target = sample(G, 0)
    start = invert(G, target, mask=mask, steps=0, init_bank=bank)
    result = invert(G, target, mask=mask, init_bank=bank)
    assert isinstance(result, InversionResult)
    assert result.z.shape == (1, G.config.nz) and result.image.shape == (1, 1, 48, 48)
    assert float(result.image.min()) >= -1 and float(result.image.max()) <= 1
    # 30 dB is an RMS error of 3% of the range (about 8 grey levels of 255): the
    # same face at 48x48. The starting point (bank neighbour) is near 23 dB.
    assert masked_psnr(result.image, target, mask) > 30.0
    assert masked_psnr(result.image, target, mask) > masked_psnr(start.image, target, mask) + 5.0
    assert result.loss < start.loss and result.loss < result.loss_history[0]


def test_image_is_G_of_z(G, bank, mask):
    result = invert(G, sample(G, 1), mask=mask, steps=3, init_bank=bank)
    with torch.no_grad():
        assert torch.allclose(result.image, G(result.z), atol=1e-5)


def test_bank_start_beats_random_start_at_equal_steps(G, bank, mask):
    targets = [sample(G, 10 + i) for i in range(4)]
    for steps in (0, 10):
        with_bank = [masked_psnr(invert(G, t, mask=mask, steps=steps, init_bank=bank).image, t, mask) for t in targets]
        random = [masked_psnr(invert(G, t, mask=mask, steps=steps).image, t, mask) for t in targets]
        # Measured: +3 to +4 dB on average at 0 and 10 steps.
        assert sum(with_bank) / len(targets) > sum(random) / len(targets) + 1.5, (steps, with_bank, random)


def test_same_seed_same_result(G, bank, mask):
    target = sample(G, 2)
    for init_bank in (bank, None):
        a = invert(G, target, mask=mask, steps=8, seed=3, init_bank=init_bank)
        b = invert(G, target, mask=mask, steps=8, seed=3, init_bank=init_bank)
        assert torch.equal(a.z, b.z) and torch.equal(a.image, b.image)
        assert a.loss == b.loss and a.loss_history == b.loss_history


def test_different_seeds_start_differently(G, mask):
    target = sample(G, 3)
    a = invert(G, target, mask=mask, steps=4, seed=0)
    b = invert(G, target, mask=mask, steps=4, seed=1)
    assert not torch.equal(a.z, b.z)


def test_progress_fn_sees_every_step(G, mask):
    calls = []
    result = invert(G, sample(G, 4), mask=mask, steps=5, restarts=2,
                    progress_fn=lambda step, steps, loss: calls.append((step, steps, loss)))
    assert [(step, steps) for step, steps, _ in calls] == [(i, 5) for i in range(1, 6)]
    assert [loss for _, _, loss in calls] == result.loss_history
    assert all(math.isfinite(loss) for loss in result.loss_history)


def test_generator_is_left_untouched(G, bank, mask):
    before = {name: value.clone() for name, value in G.state_dict().items()}
    flags = [p.requires_grad for p in G.parameters()]
    invert(G, sample(G, 5), mask=mask, steps=3, init_bank=bank)
    assert all(torch.equal(before[name], value) for name, value in G.state_dict().items())
    assert [p.requires_grad for p in G.parameters()] == flags == [True] * len(flags)
    assert all(p.grad is None for p in G.parameters())
    assert not G.training


def test_concurrent_calls_on_one_generator_match_serial_ones(G, bank, mask):
    targets = [sample(G, 6), sample(G, 7)]
    serial = [invert(G, t, mask=mask, steps=5, init_bank=bank).z for t in targets]
    results: list = [None, None]

    def run(i: int) -> None:
        results[i] = invert(G, targets[i], mask=mask, steps=5, init_bank=bank).z

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(torch.equal(a, b) for a, b in zip(serial, results))


def test_pixels_outside_the_mask_do_not_matter(G, mask):
    target = sample(G, 8)
    noisy = torch.where(mask > 0, target, torch.rand(target.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    a = invert(G, target, mask=mask, steps=5)
    b = invert(G, noisy, mask=mask, steps=5)
    assert torch.equal(a.z, b.z)


def test_bfloat16_loop_fits_as_well_as_the_float32_default(G, bank, mask):
    target = sample(G, 9)
    fast = invert(G, target, mask=mask, init_bank=bank, dtype=torch.bfloat16)
    exact = invert(G, target, mask=mask, init_bank=bank)
    assert abs(masked_psnr(fast.image, target, mask) - masked_psnr(exact.image, target, mask)) < 3.0


def test_rejects_wrong_shapes(G, mask):
    with pytest.raises(ValueError, match=r"\[1, C, S, S\]"):
        invert(G, torch.zeros(48, 48), mask=mask, steps=1)


def test_works_inside_a_callers_inference_mode(G, mask):
    target = sample(G, 11)
    expected = invert(G, target, mask=mask, steps=3)
    with torch.inference_mode():
        bank = build_latent_bank(G, n=64)
        inside = invert(G, target, mask=mask, steps=3)
        invert(G, target, mask=mask, steps=3, init_bank=bank)
    assert torch.equal(inside.z, expected.z)


def test_latent_adam_is_torchs_adam_bit_for_bit():
    """editor.latent_adam replaces torch.optim.Adam in the inversion (torch.optim imports
    torch._dynamo): the same updates, to the last bit, under a changing learning rate."""
    start = torch.randn(3, 100, generator=torch.Generator().manual_seed(7))
    target = torch.randn(3, 100, generator=torch.Generator().manual_seed(8))
    ours_z, theirs_z = start.clone().requires_grad_(True), start.clone().requires_grad_(True)
    ours = LatentAdam(ours_z, lr=0.2)
    theirs = torch.optim.Adam([theirs_z], lr=0.2, betas=(0.9, 0.999))
    for step in range(60):
        lr = learning_rate(step / 60, initial_learning_rate=0.2, lr_rampup_length=0.1, lr_rampdown_length=0.3)
        ours.lr = lr
        theirs.param_groups[0]["lr"] = lr
        for z, optimizer in ((ours_z, ours), (theirs_z, theirs)):
            optimizer.zero_grad()
            ((z - target).abs() * z.square()).sum().backward()
            optimizer.step()
    assert torch.equal(ours_z, theirs_z)
    assert not torch.equal(ours_z, start)


def test_an_editor_that_has_fitted_a_face_has_not_imported_torch_dynamo():
    """torch._dynamo (with torch._inductor and triton) held about 160 MB of a server at rest,
    loaded only because torch.optim imports it (editor/latent_adam.py)."""
    code = ("import sys, torch; from gan.models import ModelConfig, build_models; "
            "from editor.invert import invert; G, _ = build_models(ModelConfig(ngf=8), seed=0); "
            "invert(G.eval(), torch.zeros(1, 1, 48, 48), steps=3, restarts=2); "
            "print(sorted(m for m in ('torch._dynamo', 'torch._inductor', 'torchvision') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
