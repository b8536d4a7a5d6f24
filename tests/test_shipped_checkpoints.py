"""The generators shipped in checkpoints/ load, describe themselves, and have not collapsed."""

from __future__ import annotations

import json

import pytest
import torch

from gan.checkpoint import load_generator, read_metadata
from gan.data import EXPRESSIONS

from .conftest import CHECKPOINTS

RECIPE_EPOCHS = 50  # per expression generator (issue 3's recipe)
CELEBA_EPOCHS = 25  # the seed's 64x64x3 sanity model


def _pairwise_grey_levels(samples: torch.Tensor) -> torch.Tensor:
    """Mean |a - b| over pixels for every pair of distinct samples in [-1, 1], in
    0-255 grey levels (the diagonal, a sample against itself, left out)."""
    flat = samples.flatten(1)
    pairwise = torch.cdist(flat, flat, p=1) / flat.shape[1] * 127.5
    return pairwise[~torch.eye(len(samples), dtype=torch.bool)]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_shipped_generator_metadata_and_samples(expression):
    path = CHECKPOINTS / f"{expression}.safetensors"
    meta = read_metadata(path)
    assert meta["kind"] == "generator" and meta["expression"] == expression
    assert meta["model"]["image_size"] == 48 and meta["model"]["channels"] == 1 and meta["model"]["nz"] == 100
    # The seed's recipe: 50 epochs on the Training split (MODEL_CARD.md says how they were made).
    assert meta["epochs"] == RECIPE_EPOCHS and "split=Training" in meta["dataset"]
    assert "fer2013" in meta["dataset"].lower() and len(meta["dataset_sha256"]) == 64
    G, _ = load_generator(path)
    z = torch.randn(16, 100, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        samples = G(z)  # [16, 1, 48, 48] in [-1, 1]
    assert samples.shape == (16, 1, 48, 48)
    assert torch.isfinite(samples).all() and samples.min() >= -1 and samples.max() <= 1
    # Not collapsed: every pair of samples differs by a visible amount on average.
    off_diagonal = _pairwise_grey_levels(samples)
    assert off_diagonal.min() > 3.0, f"two samples are nearly identical ({off_diagonal.min():.2f} grey levels)"
    assert off_diagonal.mean() > 10.0, f"samples barely differ ({off_diagonal.mean():.2f} grey levels)"
    # Not noise either: neighbouring pixels of a face are correlated.
    images = samples[:, 0]
    horizontal = torch.corrcoef(torch.stack([images[:, :, :-1].flatten(), images[:, :, 1:].flatten()]))[0, 1]
    assert horizontal > 0.8, f"samples look like noise (neighbour correlation {horizontal:.2f})"


def test_training_summary_matches_the_checkpoints():
    summary = {row["model"]: row for row in json.loads((CHECKPOINTS / "training_summary.json").read_text())}
    for expression in EXPRESSIONS:
        assert summary[expression]["epochs"] == read_metadata(CHECKPOINTS / f"{expression}.safetensors")["epochs"]


@pytest.mark.skipif(not (CHECKPOINTS / "celeba.safetensors").exists(), reason="CelebA sanity model not shipped")
def test_shipped_celeba_sanity_model():
    """The seed's 64x64 RGB sanity model: the paper's architecture, colour faces, not collapsed."""
    meta = read_metadata(CHECKPOINTS / "celeba.safetensors")
    assert meta["model"]["image_size"] == 64 and meta["model"]["channels"] == 3 and meta["epochs"] == CELEBA_EPOCHS
    assert "celeba" in meta["dataset"].lower()
    G, _ = load_generator(CHECKPOINTS / "celeba.safetensors")
    with torch.no_grad():
        samples = G(torch.randn(16, 100, generator=torch.Generator().manual_seed(0)))
    assert samples.shape == (16, 3, 64, 64) and torch.isfinite(samples).all()
    assert _pairwise_grey_levels(samples).min() > 3.0
    # Colour: the channels are not copies of each other (a grey model would make them equal).
    assert (samples[:, 0] - samples[:, 2]).abs().mean() * 127.5 > 3.0
