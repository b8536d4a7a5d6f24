"""GANSpace latent directions for a DCGAN generator (Härkönen et al. 2020).

PCA finds the directions in which the generator's first feature map varies most
over random z; for a z-space generator (BigGAN in the paper, our DCGAN here)
each principal component is carried back to z by regressing the sampled z on
the PCA coordinates. Moving z along such a direction changes the face more than
a random direction of the same length does, which is what makes a handful of
sliders worth having.

Directions depend only on the generator's weights and the parameters, so they
are cached in memory and on disk (safetensors, keyed on a hash of both). The
cache folder is `$EXPRESSION_EDITOR_CACHE/directions`, default
`~/.cache/expression-editor/directions`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from gan.models import Generator

CACHE_ENV = "EXPRESSION_EDITOR_CACHE"
_FORMAT = 1  # bump when the computation changes, so stale cache files are ignored
_BATCH = 2048
_memory: dict[str, "LatentDirections"] = {}
_lock = threading.Lock()  # guards _key_locks
_key_locks: dict[str, threading.Lock] = {}


@dataclass
class LatentDirections:
    components: torch.Tensor  # [K, nz] unit vectors in z-space, strongest first
    stdev: torch.Tensor  # [K] spread of N(0, I) samples along each direction, in z-units
    explained_variance_ratio: list[float]  # share of the feature variance each component explains

    def __len__(self) -> int:
        return self.components.shape[0]


def default_cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV)
    base = Path(root) if root else Path.home() / ".cache" / "expression-editor"
    return base / "directions"


def compute_directions(G: Generator, *, n_samples: int = 20000, n_components: int = 12, seed: int = 0,
                       device: str | torch.device = "cpu") -> LatentDirections:
    """The first `n_components` GANSpace directions of `G` (already on `device`); no cache.

    z ~ N(0, I) comes from a torch.Generator seeded with `seed`, so the result is
    reproducible; a few seconds on a CPU for the defaults."""
    from sklearn.decomposition import PCA  # heavy import, only when we really compute

    nz = G.config.nz
    if not 0 < n_components <= min(n_samples, nz):
        raise ValueError(f"n_components must be in 1..{min(n_samples, nz)}, got {n_components}")
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n_samples, nz, generator=gen)  # [N, nz] ~ N(0, I), on the CPU for reproducibility
    was_training = G.training
    G.eval()  # BatchNorm must use its running statistics, as at inference
    try:
        feats = torch.cat([_features(G, batch.to(device)).cpu() for batch in z.split(_BATCH)])
    finally:
        G.train(was_training)

    pca = PCA(n_components=n_components, svd_solver="randomized", random_state=seed)
    coords = pca.fit_transform(feats.numpy()).astype(np.float64)  # [N, K], centred
    coords /= coords.std(axis=0, keepdims=True)
    # GANSpace's regression for z-space generators: the z that best explains
    # each (standardised) PCA coordinate, z - mean ~= coords @ basis.
    z64 = z.numpy().astype(np.float64)
    basis, *_ = np.linalg.lstsq(coords, z64 - z64.mean(axis=0), rcond=None)  # [K, nz]
    basis /= np.linalg.norm(basis, axis=1, keepdims=True)
    components = torch.from_numpy(basis).float()
    stdev = (z @ components.T).std(dim=0)  # [K], ~1 for Gaussian z
    return LatentDirections(components=components, stdev=stdev,
                            explained_variance_ratio=[float(r) for r in pca.explained_variance_ratio_])


def cached_directions(G: Generator, *, checkpoint: str | Path | None = None, n_samples: int = 20000,
                      n_components: int = 12, seed: int = 0, device: str | torch.device = "cpu",
                      cache_dir: str | Path | None = None) -> LatentDirections:
    """`compute_directions`, looked up first in memory, then on disk.

    The key hashes the parameters and the generator: the bytes of `checkpoint`
    (the file G was loaded from) when given, else G's weights."""
    key = cache_key(G, checkpoint=checkpoint, n_samples=n_samples, n_components=n_components, seed=seed)
    with _lock:  # one lock per key: concurrent requests for one generator compute it once, while
        key_lock = _key_locks.setdefault(key, threading.Lock())  # another generator's wait for nothing
    with key_lock:
        if key in _memory:
            return _memory[key]
        path = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / f"{key}.safetensors"
        directions = _read(path)
        if directions is None:
            directions = compute_directions(G, n_samples=n_samples, n_components=n_components, seed=seed,
                                            device=device)
            _write(path, directions, n_samples=n_samples, seed=seed)
        _memory[key] = directions
        return directions


def move(z: torch.Tensor, directions: LatentDirections, amounts: Sequence[float]) -> torch.Tensor:
    """z + sum_k amounts[k] * stdev[k] * components[k]; z is [N, nz] (or [nz]).

    `amounts` are in standard deviations and may be shorter than the number of
    directions (the rest count as 0)."""
    if len(amounts) > len(directions):
        raise ValueError(f"{len(amounts)} amounts for {len(directions)} directions")
    if len(amounts) == 0:
        return z.clone()
    k = len(amounts)
    weights = torch.as_tensor(list(amounts), dtype=torch.float32) * directions.stdev[:k]  # [k]
    offset = weights @ directions.components[:k]  # [nz]
    return z + offset.to(device=z.device, dtype=z.dtype)


def cache_key(G: Generator, *, checkpoint: str | Path | None = None, n_samples: int, n_components: int,
              seed: int) -> str:
    """A hash of the parameters and of `checkpoint`'s bytes (or, without one, G's weights)."""
    digest = hashlib.sha256()
    params = {"format": _FORMAT, "model": G.config.to_dict(), "n_samples": n_samples,
              "n_components": n_components, "seed": seed}
    digest.update(json.dumps(params, sort_keys=True).encode())
    if checkpoint is not None and Path(checkpoint).is_file():
        with open(checkpoint, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    else:
        for name, tensor in sorted(G.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


@torch.no_grad()
def _features(G: Generator, z: torch.Tensor) -> torch.Tensor:
    """G's first ConvTranspose+BN+ReLU: z [N, nz] -> [N, 8*ngf*k*k] (512x3x3 for FER2013).
    A conditional G gets the mean expression (1/K each) beside z, so the
    directions are those of the face, shared by every expression."""
    n_classes = getattr(G.config, "n_classes", 0)
    if n_classes:
        z = torch.cat([z, torch.full((z.shape[0], n_classes), 1.0 / n_classes, device=z.device)], dim=1)
    return G.main[:3](z[:, :, None, None]).flatten(1)


def _read(path: Path) -> LatentDirections | None:
    """The cached directions, or None when the file is absent or unreadable (then we recompute)."""
    if not path.is_file():
        return None
    try:
        tensors = load_file(str(path))
        return LatentDirections(components=tensors["components"], stdev=tensors["stdev"],
                                explained_variance_ratio=tensors["explained_variance_ratio"].tolist())
    except (SafetensorError, OSError, KeyError, ValueError):
        return None


def _write(path: Path, directions: LatentDirections, *, n_samples: int, seed: int) -> None:
    """Atomic write; a cache that cannot be written (read-only home) only costs a recompute."""
    tensors = {"components": directions.components.contiguous(), "stdev": directions.stdev.contiguous(),
               "explained_variance_ratio": torch.tensor(directions.explained_variance_ratio, dtype=torch.float64)}
    metadata = {"format": str(_FORMAT), "method": "GANSpace PCA of G.main[:3], z regressed on coordinates",
                "n_samples": str(n_samples), "seed": str(seed)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            save_file(tensors, tmp, metadata=metadata)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        pass
