"""Giving freed memory back to the operating system after a big photo.

An edit of a 40-megapixel photo allocates and frees several 120 MB arrays in a
request thread. glibc keeps freed heap memory in that thread's arena for reuse,
so a server's resident size steps up by hundreds of MB now and then and never
comes down (measured: +356 MB at one session in 50 with benchmarks/server_load.py).
`trim()` asks glibc to return it (`malloc_trim`); with other C libraries
(macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def trim() -> None:
    """Return the free memory of every malloc arena to the operating system (glibc only)."""
    malloc_trim = _malloc_trim()
    if malloc_trim is not None:
        malloc_trim(0)
