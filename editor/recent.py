"""A small memory of the last detections and fits, keyed by what they were computed from.

Finding the faces of a photo and fitting a crop are deterministic: the same photo gives
the same faces, and the same crop with the same model, steps, restarts and seed gives the
same z (invert.py). A person trying expression after expression on one photo, or pressing
Edit right after the page found the faces, would otherwise wait for the same MTCNN pass
and the same inversion again (about 0.1 s and 0.4 s of a 0.55 s edit: README
"Benchmarks"). The keys are digests of the pixels themselves, never file names, so an
edited and re-uploaded photo is a new photo. The entries are small (boxes; a z of 100
numbers and a 48x48 render), so a few dozen cost nothing.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

import numpy as np

T = TypeVar("T")


def content_key(pixels: np.ndarray, *settings: Hashable) -> tuple:
    """A key for a result computed from `pixels` with `settings`: a BLAKE2 digest of
    the bytes (a strong hash: one visitor's photo must never answer for another's),
    with the array's shape and type."""
    pixels = np.ascontiguousarray(pixels)
    digest = hashlib.blake2b(memoryview(pixels).cast("B"), digest_size=20).hexdigest()
    return (digest, pixels.shape, str(pixels.dtype), *settings)


class Recent:
    """The last `size` results by key, least recently used first out. Thread-safe;
    two threads asking for the same new key may both compute it (the results agree)."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, got {size}")
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result for `key`, computed (and kept) the first time; an exception is not kept."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
