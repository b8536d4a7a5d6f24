"""The class-conditional DCGAN and its encoder: shapes, soft labels, sampling,
checkpoints, a few real training steps that write everything and resume."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan.__main__ import main as gan_main
from gan.checkpoint import load_generator, read_metadata, save_generator
from gan.conditional import ConditionalGenerator, build_conditional_models, region_mask
from gan.encoder import build_encoder, load_encoder, save_encoder
from gan.models import ModelConfig
from gan.train import TrainConfig, train
from gan.train_encoder import EncoderTrainConfig, train_encoder
from editor import folded_generator
from editor.folded_generator import FoldedGenerator
from editor.invert import invert

from .conftest import CHECKPOINTS, fer_sample, torch_threads

SMALL = ModelConfig(ngf=8, ndf=8, n_classes=7)


@pytest.fixture(scope="module")
def small_fer(tmp_path_factory) -> Path:
    """300 real Training rows of FER2013 (every class present) as a small csv."""
    return fer_sample(tmp_path_factory.mktemp("fer"), 300)


def _eval_G(seed: int = 0) -> ConditionalGenerator:
    G, _ = build_conditional_models(SMALL, seed=seed)
    with torch.no_grad():  # non-trivial BatchNorm statistics, as after training
        G.train()
        G(torch.randn(64, 100), torch.randint(0, 7, (64,)))
    return G.eval()


def test_generator_takes_classes_and_soft_labels():
    G = _eval_G()
    z = torch.randn(4, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        by_index = G(z, torch.tensor([3, 3, 3, 3]))
        one_hot = torch.zeros(4, 7)
        one_hot[:, 3] = 1
        assert by_index.shape == (4, 1, 48, 48)
        assert torch.equal(by_index, G(z, one_hot))
        mixed = G(z, 0.5 * one_hot + 0.5 * torch.eye(7)[[5, 5, 5, 5]])
        assert not torch.equal(mixed, by_index) and mixed.abs().max() <= 1
        # A scaled label (strength 1.5) is accepted: y is a weight vector, not a distribution.
        assert torch.isfinite(G(z, 1.5 * one_hot)).all()
    with pytest.raises(ValueError, match=r"\[N, 7\]"):
        G(z, torch.zeros(4, 6))


def test_discriminator_scores_and_classifies():
    _, D = build_conditional_models(SMALL, seed=0)
    score, logits = D(torch.rand(5, 1, 48, 48) * 2 - 1, torch.tensor([0, 1, 2, 3, 4]))
    assert score.shape == (5,) and logits.shape == (5, 7)


def test_same_seed_gives_the_same_models():
    a, _ = build_conditional_models(SMALL, seed=7)
    b, _ = build_conditional_models(SMALL, seed=7)
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(x, y), name


def test_region_mask_frees_eyes_and_mouth_only():
    mask = region_mask()[0, 0]
    assert mask[18, 15] == 0 and mask[37, 24] == 0  # left eye, mouth (FER template)
    assert mask[2, 24] == 1 and mask[24, 2] == 1  # forehead, cheek edge


def test_frozen_generator_with_a_label_matches_G():
    G = _eval_G()
    z = torch.randn(3, 100, generator=torch.Generator().manual_seed(1))
    label = torch.tensor([0.1, 0.0, 0.2, 0.6, 0.0, 0.1, 0.0])
    frozen = FoldedGenerator(G, dtype=torch.float32, device=torch.device("cpu"), label=label)
    with torch.no_grad():
        assert torch.allclose(frozen(z), G(z, label.expand(3, 7)), atol=1e-5)
    with pytest.raises(ValueError, match="needs `label`"):
        FoldedGenerator(G, dtype=torch.float32, device=torch.device("cpu"))


def test_transposed_convolutions_as_products_give_the_same_sums():
    """The product + col2im path (folded_generator._as_product) is the same arithmetic as
    conv_transpose2d: in float32 (the editor's fits, on the CPU) it matches G, for a batch it
    runs on and one it leaves to the convolutions (PRODUCT_BATCH)."""
    G = _eval_G()
    label = torch.eye(7)[5]
    frozen = FoldedGenerator(G, dtype=torch.float32, device=torch.device("cpu"), label=label)
    assert [("product" in args) for kind, args in frozen.layers if kind == "conv"] == [True, True, False, False, False]
    for batch in (1, folded_generator.PRODUCT_BATCH + 1):
        z = torch.randn(batch, 100, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            image, expected = frozen(z), G(z, label.expand(batch, 7))
        assert (image - expected).abs().max() < 1e-4 * expected.abs().max()  # an untrained G's images are faint


@pytest.mark.parametrize("dtype, most, mean, cosine", [(torch.bfloat16, 0.06, 0.005, 0.99),
                                                        (torch.float32, 1e-5, 1e-6, 0.99999)])
def test_products_give_the_convolutions_image_and_gradient(monkeypatch, dtype, most, mean, cosine):
    """On the CPU the first layers run as products (MATMUL_RATIO): the image and the gradient an
    inversion step follows are the convolutions' within the dtype's precision (bfloat16's
    rounding: about 0.02 at most, 0.002 on average; float32's: the same sums in another order)."""
    G, _ = load_generator(CHECKPOINTS / "conditional.safetensors")  # real weights: images in [-1, 1]
    label = torch.eye(7)[2]
    z = torch.randn(2, 100, generator=torch.Generator().manual_seed(4))
    pull = torch.randn(2, 1, 48, 48, generator=torch.Generator().manual_seed(5))

    def step() -> tuple[int, torch.Tensor, torch.Tensor]:
        frozen = FoldedGenerator(G, dtype=dtype, device=torch.device("cpu"), label=label)
        latent = z.clone().requires_grad_(True)
        image = frozen(latent)
        (image * pull).sum().backward()
        return sum("product" in args for _, args in frozen.layers), image.detach(), latent.grad

    products, image, gradient = step()
    monkeypatch.setattr(folded_generator, "MATMUL_RATIO", float("inf"))
    none, image_conv, gradient_conv = step()
    assert (products, none) == (3, 0)
    with torch.no_grad():
        expected = G(z, label.expand(2, 7))
    for got in (image, image_conv):
        assert (got - expected).abs().max() < most and (got - expected).abs().mean() < mean
    assert torch.nn.functional.cosine_similarity(gradient.flatten(), gradient_conv.flatten(), dim=0) > cosine


def test_a_real_faces_fit_does_not_depend_on_the_thread_count():
    """The editor's fit (float32, FIT_DTYPE) lands on the same z with 1 and 2 threads. In
    bfloat16 the sums' other order grew along the 100 steps into another z (dev012's sad edit
    moved by up to 91 grey levels between 1 and 2 threads)."""
    skimage_data = pytest.importorskip("skimage.data")
    G, _ = load_generator(CHECKPOINTS / "conditional.safetensors")
    face = torch.from_numpy(skimage_data.lfw_subset()[0]).float()[None, None]  # [1, 1, 25, 25] in [0, 1]
    target = torch.nn.functional.interpolate(face, size=48, mode="bilinear", align_corners=False) * 2 - 1
    label = torch.full((7,), 1 / 7)
    fits = []
    for count in (1, 2):
        with torch_threads(count):
            fits.append(invert(G, target, label=label, steps=100, restarts=1).z)
    # Not bit-identical: float32 sums in another order still differ in their last bits, by how much
    # hangs on the CPU's kernels (1e-5 on an Intel Xeon, 0.0044 on an AMD EPYC); bfloat16's
    # differences grew to 0.29, an edit's worth. 0.02 tells the two apart on either CPU.
    assert (fits[0] - fits[1]).abs().max() < 0.02


def test_invert_at_a_label_from_a_start_latent_recovers_a_sample():
    G = _eval_G()
    z_true = torch.randn(1, 100, generator=torch.Generator().manual_seed(2))
    label = torch.eye(7)[4]
    with torch.no_grad():
        target = G(z_true, label[None])
    near = z_true + 0.3 * torch.randn(1, 100, generator=torch.Generator().manual_seed(3))
    fit = invert(G, target, label=label, start=near, steps=60, restarts=2, dtype=torch.float32)
    far = invert(G, target, label=label, steps=0, restarts=1, dtype=torch.float32)
    assert fit.loss < far.loss / 5


def test_checkpoints_round_trip(tmp_path):
    G = _eval_G()
    save_generator(tmp_path / "conditional.safetensors", G, {"classes": ["a"] * 7})
    loaded, meta = load_generator(tmp_path / "conditional.safetensors")
    assert isinstance(loaded, ConditionalGenerator) and meta["model"]["n_classes"] == 7
    z = torch.randn(2, 100)
    with torch.no_grad():
        assert torch.equal(loaded(z, torch.tensor([1, 2])), G(z, torch.tensor([1, 2])))
    E = build_encoder(SMALL, seed=0).eval()
    save_encoder(tmp_path / "encoder.safetensors", E, {"epochs": 1})
    E2, meta = load_encoder(tmp_path / "encoder.safetensors")
    x = torch.rand(2, 1, 48, 48) * 2 - 1
    with torch.no_grad():
        assert all(torch.equal(a, b) for a, b in zip(E(x), E2(x)))
    assert meta["kind"] == "encoder" and meta["epochs"] == 1


def _config(data: Path, out: Path, **overrides) -> TrainConfig:
    base = TrainConfig(data=str(data), out=str(out), model="conditional", batch_size=16, limit=96, epochs=2,
                       ngf=8, ndf=8, checkpoint_minutes=0, command="test")
    return replace(base, **overrides)


def test_conditional_training_writes_everything_and_resumes(small_fer, tmp_path):
    calls = iter(range(1000))
    stopped = train(_config(small_fer, tmp_path), abort_fn=lambda: next(calls) >= 9)
    assert not stopped.finished and stopped.epochs_done == 1
    result = train(_config(small_fer, tmp_path))
    assert result.finished and result.run_dir.name == "conditional"
    run = result.run_dir
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in rows if "iter" in r]
    assert [r["iter"] for r in steps] == list(range(12))  # 96 / 16 = 6 steps x 2 epochs, none twice
    assert {"loss_d", "loss_g", "ac_real", "loss_same"} <= set(steps[0])
    grid = Image.open(run / "samples" / "epoch_002.png")
    assert grid.size == (7 * 50 + 2, 8 * 50 + 2)  # 8 fixed z's (rows) x 7 expressions (columns)
    meta = read_metadata(run / "generator.safetensors")
    assert meta["model"]["n_classes"] == 7 and meta["epochs"] == 2 and len(meta["dataset_sha256"]) == 64
    assert (run / "discriminator.safetensors").exists() and (run / "loss.png").exists()
    with pytest.raises(ValueError, match="drop --expression"):
        _config(small_fer, tmp_path, expression="happy")


def test_sample_cli_same_seed_same_faces_across_expressions(tmp_path):
    G = _eval_G()
    path = tmp_path / "conditional.safetensors"
    save_generator(path, G, {})
    grids = {}
    for expression in ("happy", "sad"):
        out = tmp_path / f"{expression}.png"
        assert gan_main(["sample", "--checkpoint", str(path), "--expression", expression, "-n", "16",
                         "--seed", "5", "-o", str(out)]) == 0
        grids[expression] = np.asarray(Image.open(out))
    again = tmp_path / "again.png"
    gan_main(["sample", "--checkpoint", str(path), "--expression", "happy", "-n", "16", "--seed", "5", "-o", str(again)])
    assert np.array_equal(np.asarray(Image.open(again)), grids["happy"])
    assert not np.array_equal(grids["happy"], grids["sad"])
    assert gan_main(["sample", "--checkpoint", str(path), "-o", str(tmp_path / "x.png")]) == 2  # needs --expression


def test_sample_cli_truncation_pulls_faces_towards_the_mean(tmp_path):
    path = tmp_path / "conditional.safetensors"
    save_generator(path, _eval_G(), {})

    def grid(*extra: str) -> np.ndarray:
        out = tmp_path / f"grid{len(list(tmp_path.glob('grid*')))}.png"
        assert gan_main(["sample", "--checkpoint", str(path), "--expression", "sad", "-n", "4", "--nrow", "4",
                         "--seed", "3", "-o", str(out), *extra]) == 0
        return np.asarray(Image.open(out)).astype(np.int16)

    plain, one, half, zero = grid(), grid("--truncation", "1"), grid("--truncation", "0.5"), grid("--truncation", "0")
    assert np.array_equal(plain, one)  # 1 is the default: the model's own z's
    assert not np.array_equal(plain, half)
    tiles = lambda g: [g[2:50, 2 + 50 * k:50 + 50 * k] for k in range(4)]  # noqa: E731 (save_grid pads by 2)
    assert all(np.array_equal(tiles(zero)[0], tile) for tile in tiles(zero)[1:])  # 0: every z is the mean face
    spread = lambda g: np.mean([np.abs(tiles(g)[0] - t).mean() for t in tiles(g)[1:]])  # noqa: E731
    assert spread(half) < spread(plain)  # closer to the mean face: the samples differ less
    assert gan_main(["sample", "--checkpoint", str(path), "--expression", "sad", "--truncation", "1.5",
                     "-o", str(tmp_path / "x.png")]) == 2


@pytest.mark.skipif(not (CHECKPOINTS / "classifier.safetensors").exists(), reason="no shipped classifier")
def test_encoder_training_writes_and_resumes(small_fer, tmp_path):
    G = _eval_G()
    generator = tmp_path / "g" / "generator.safetensors"
    save_generator(generator, G, {})
    config = EncoderTrainConfig(data=str(small_fer), generator=str(generator),
                                classifier=str(CHECKPOINTS / "classifier.safetensors"), out=str(tmp_path / "enc"),
                                epochs=1, batch_size=16, limit=64, command="test")
    first = train_encoder(config)
    assert first.finished and set(first.losses) == {"loss", "latent", "class", "pixel", "feature"}
    E, meta = load_encoder(tmp_path / "enc" / "encoder.safetensors")
    assert meta["epochs"] == 1 and E(torch.zeros(1, 1, 48, 48))[0].shape == (1, 100)
    # A kill between epoch 2's metrics row and its state: the row is there, the state is epoch 1's.
    metrics = tmp_path / "enc" / "metrics.jsonl"
    metrics.write_text(metrics.read_text() + json.dumps({"epoch": 2, "seconds": 1.0}) + "\n")
    more = train_encoder(replace(config, epochs=2, lr=5e-5))  # resumed with another --lr
    assert more.epochs_done == 2
    assert [json.loads(row)["epoch"] for row in metrics.read_text().splitlines()] == [1, 2]  # not 1, 2, 2
    state = read_metadata(tmp_path / "enc" / "state.safetensors")
    assert state["opt"]["param_groups"][0]["lr"] == 5e-5  # the saved 2e-4 came back before
    history = read_metadata(tmp_path / "enc" / "encoder.safetensors")["history"]
    assert [(h["from_epoch"], h["to_epoch"]) for h in history] == [(0, 1), (1, 2)]  # two sittings (run_history)
