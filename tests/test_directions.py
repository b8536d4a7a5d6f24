"""GANSpace directions: unit, nearly orthogonal, more effective than random, reproducible, cached."""

from __future__ import annotations

import pytest
import torch

from editor import directions as directions_module
from editor.directions import LatentDirections, cached_directions, compute_directions, move
from gan.checkpoint import load_generator, save_generator
from gan.models import ModelConfig, build_models

from .conftest import CHECKPOINTS

N_SAMPLES = 3000  # enough for stable leading components, quick on a CPU


@pytest.fixture(scope="module")
def generator():
    """The shipped `happy` generator when present (what the app uses), else a seeded fresh one."""
    path = CHECKPOINTS / "happy.safetensors"
    if path.is_file():
        return load_generator(path, "cpu")[0]
    G, _ = build_models(ModelConfig(), seed=0)
    return G.eval()


@pytest.fixture(scope="module")
def directions(generator) -> LatentDirections:
    return compute_directions(generator, n_samples=N_SAMPLES, n_components=6, seed=0)


def test_components_are_unit_and_nearly_orthogonal(directions):
    C = directions.components
    assert C.shape == (6, 100)
    assert torch.allclose(C.norm(dim=1), torch.ones(6), atol=1e-5)
    off_diagonal = C @ C.T - torch.eye(6)
    assert off_diagonal.abs().max() < 0.2
    # N(0, I) samples spread by about 1 along any unit direction.
    assert directions.stdev.shape == (6,)
    assert torch.all((directions.stdev > 0.8) & (directions.stdev < 1.2))
    ratios = directions.explained_variance_ratio
    assert len(ratios) == 6 and ratios == sorted(ratios, reverse=True) and 0 < sum(ratios) < 1


@torch.no_grad()
def test_first_component_changes_faces_more_than_random_directions(generator, directions):
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(64, 100, generator=gen)
    base = generator(z)

    def change(direction: torch.Tensor) -> float:
        return (generator(z + 2.0 * direction) - base).pow(2).mean().item()

    randoms = [change(r / r.norm()) for r in torch.randn(20, 100, generator=gen)]
    assert change(directions.components[0]) > sum(randoms) / len(randoms)


def test_same_seed_same_directions_other_seed_differs(generator, directions):
    again = compute_directions(generator, n_samples=N_SAMPLES, n_components=6, seed=0)
    assert torch.equal(again.components, directions.components)
    assert again.explained_variance_ratio == directions.explained_variance_ratio
    other = compute_directions(generator, n_samples=N_SAMPLES, n_components=6, seed=1)
    assert not torch.equal(other.components, directions.components)


def test_move_adds_scaled_components(directions):
    z = torch.zeros(1, 100)
    moved = move(z, directions, [1.5, 0.0, -2.0])
    C, s = directions.components, directions.stdev
    expected = 1.5 * s[0] * C[0] - 2.0 * s[2] * C[2]
    assert torch.allclose(moved, expected[None], atol=1e-6)
    assert torch.equal(move(z, directions, []), z)
    with pytest.raises(ValueError):
        move(z, directions, [0.0] * 7)


def test_cache_round_trip_on_disk_and_in_memory(generator, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPRESSION_EDITOR_CACHE", str(tmp_path))
    monkeypatch.setattr(directions_module, "_memory", {})
    first = cached_directions(generator, n_samples=500, n_components=4)
    files = list((tmp_path / "directions").glob("*.safetensors"))
    assert len(files) == 1  # safetensors, never a pickle

    # A new process (empty memory cache) reads the file instead of computing.
    monkeypatch.setattr(directions_module, "_memory", {})

    def no_compute(*args, **kwargs):
        raise AssertionError("recomputed despite the disk cache")

    monkeypatch.setattr(directions_module, "compute_directions", no_compute)
    from_disk = cached_directions(generator, n_samples=500, n_components=4)
    assert torch.equal(from_disk.components, first.components)
    assert torch.equal(from_disk.stdev, first.stdev)
    assert from_disk.explained_variance_ratio == pytest.approx(first.explained_variance_ratio)
    assert cached_directions(generator, n_samples=500, n_components=4) is from_disk  # memory


def test_cache_key_follows_weights_and_parameters(generator, tmp_path):
    other, _ = build_models(ModelConfig(), seed=123)
    key = directions_module.cache_key
    assert key(generator, n_samples=500, n_components=4, seed=0) == key(generator, n_samples=500, n_components=4,
                                                                         seed=0)
    assert key(generator, n_samples=500, n_components=4, seed=0) != key(other, n_samples=500, n_components=4, seed=0)
    assert key(generator, n_samples=500, n_components=4, seed=0) != key(generator, n_samples=500, n_components=5,
                                                                         seed=0)
    # With the checkpoint it was loaded from, the file's bytes are hashed.
    save_generator(tmp_path / "a.safetensors", generator, {"expression": "happy"})
    save_generator(tmp_path / "b.safetensors", other, {"expression": "happy"})
    assert key(generator, checkpoint=tmp_path / "a.safetensors", n_samples=500, n_components=4, seed=0) != key(
        generator, checkpoint=tmp_path / "b.safetensors", n_samples=500, n_components=4, seed=0)


def test_corrupt_cache_file_is_recomputed(generator, tmp_path, monkeypatch):
    monkeypatch.setattr(directions_module, "_memory", {})
    first = cached_directions(generator, n_samples=500, n_components=3, cache_dir=tmp_path)
    (path,) = tmp_path.glob("*.safetensors")
    path.write_bytes(b"not a safetensors file")
    monkeypatch.setattr(directions_module, "_memory", {})
    again = cached_directions(generator, n_samples=500, n_components=3, cache_dir=tmp_path)
    assert torch.equal(again.components, first.components)


def test_one_generators_first_build_does_not_block_anothers(generator, tmp_path, monkeypatch):
    """The directions of one generator are served while another's are still being computed."""
    import threading

    monkeypatch.setattr(directions_module, "_memory", {})
    real = directions_module.compute_directions
    entered, release = threading.Event(), threading.Event()

    def slow_for_seed_1(G, *, seed, **kwargs):
        if seed == 1:
            entered.set()
            release.wait(60)
        return real(G, seed=seed, **kwargs)

    monkeypatch.setattr(directions_module, "compute_directions", slow_for_seed_1)
    slow = threading.Thread(target=cached_directions, args=(generator,),
                            kwargs=dict(n_samples=200, n_components=2, seed=1, cache_dir=tmp_path))
    slow.start()
    assert entered.wait(60)
    done = []
    other = threading.Thread(target=lambda: done.append(cached_directions(
        generator, n_samples=200, n_components=2, seed=2, cache_dir=tmp_path)))
    other.start()
    other.join(60)  # it waited for the slow one's whole build behind one lock before
    finished = bool(done)
    release.set()
    slow.join(60)
    assert finished
