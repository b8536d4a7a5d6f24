"""Shared test helpers: where the real data lives, and CPU-only defaults."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see editor/__init__.py

import pytest  # noqa: E402
import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO.parent / "shared" / "data"
PHOTOS = DATA_DIR / "photos"
CHECKPOINTS = REPO / "checkpoints"
FER_CSV = DATA_DIR / "fer2013.csv.gz"
CELEBA_ZIP = DATA_DIR / "img_align_celeba_10k.zip"

os.environ.setdefault("TQDM_DISABLE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


def requires(path: Path) -> pytest.MarkDecorator:
    """Skip with the reason when a shared data file is not beside the repo."""
    return pytest.mark.skipif(not path.exists(), reason=f"{path} not present")


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
