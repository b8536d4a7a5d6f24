"""Histograms of oriented gradients (Dalal & Triggs 2005), the glasses test's features.

OpenCV 5 moved its HOGDescriptor out of the main package and scikit-image is only a test
dependency, so this is the classic descriptor in numpy: centred [-1, 0, 1] gradients,
unsigned orientations in BINS bins (each pixel's magnitude split linearly between its two
nearest bins), CELL x CELL pixel cells, and 2x2-cell blocks with a one-cell stride, each
L2-Hys normalised (L2, clipped at 0.2, L2 again), as Dalal & Triggs and scikit-image do.
"""

from __future__ import annotations

import cv2
import numpy as np

CELL = 8  # pixels per cell side
BINS = 9  # unsigned orientation bins over 0-180 degrees
CLIP = 0.2  # L2-Hys: a block's normalised values are clipped here, then normalised again


def hog_length(height: int, width: int) -> int:
    """How many features `hog` gives for an image of this size."""
    cells_y, cells_x = height // CELL, width // CELL
    return max(cells_y - 1, 0) * max(cells_x - 1, 0) * 4 * BINS


def hog(image: np.ndarray) -> np.ndarray:
    """HOG features (float32 [hog_length]) of a grey image ([H, W], any real dtype); rows and
    columns past the last whole cell are left out."""
    grey = np.asarray(image, np.float32)
    cells_y, cells_x = grey.shape[0] // CELL, grey.shape[1] // CELL
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=1)  # ksize=1: the centred [-1, 0, 1] difference
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=1)
    magnitude = np.hypot(gx, gy)
    angle = np.mod(np.degrees(np.arctan2(gy, gx)), 180.0)
    position = angle / (180.0 / BINS) - 0.5  # bin centres at (k + 0.5) * 20 degrees
    low = np.floor(position).astype(np.int64)
    share = position - low  # of the magnitude that goes to the upper bin
    cell = (np.arange(grey.shape[0]) // CELL)[:, None] * cells_x + (np.arange(grey.shape[1]) // CELL)[None, :]
    inside = (np.arange(grey.shape[0]) < cells_y * CELL)[:, None] & (np.arange(grey.shape[1]) < cells_x * CELL)[None]
    histogram = np.zeros(cells_y * cells_x * BINS, np.float64)
    for bins, weight in ((low % BINS, 1.0 - share), ((low + 1) % BINS, share)):
        index = (cell * BINS + bins)[inside]
        histogram += np.bincount(index, (magnitude * weight)[inside], minlength=histogram.size)
    histogram = histogram.reshape(cells_y, cells_x, BINS)
    blocks = np.concatenate([histogram[:-1, :-1], histogram[:-1, 1:], histogram[1:, :-1], histogram[1:, 1:]],
                            axis=2).reshape(-1, 4 * BINS)  # each block: its four cells' histograms
    blocks = blocks / np.sqrt((blocks ** 2).sum(axis=1, keepdims=True) + 1e-6)
    blocks = np.minimum(blocks, CLIP)
    blocks = blocks / np.sqrt((blocks ** 2).sum(axis=1, keepdims=True) + 1e-6)
    return blocks.ravel().astype(np.float32)
