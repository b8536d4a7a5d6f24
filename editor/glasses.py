"""Whether a face wears glasses: what decides if its brows may move (motion.brow_flow).

Moving a brow moves whatever lies just below it, and a spectacle frame's upper rim does (the
frames bent into arches on dev012's and dev141's fear and surprise), so brows move only on faces
without glasses. A frame's bridge crosses the nose between the eyes: in that strip, from a
third of the way down from the inner brows to just below the eyes, a frame makes a sharp
horizontal edge where bare skin shades smoothly (the classic landmark-and-edge test on the nose
bridge). It is measured on the face aligned as the generator's crop but at BRIDGE_SCALE times
its size, where a thin rim is still a line: the strongest row of vertical gradient, averaged
across the strip. On the 200 faces_dev photos labelled by eye (50 with glasses), a threshold of
GLASSES_EDGE misses 6 frames (blurry photos, thin or rimless frames; in dev108, dev123 and dev167
the moved brows do not visibly bend them) and flags 38 of the 150 bare faces, which only keep their
brows still, as before; lower rims below the eyes (tried as a second test) told nothing apart.
"""

from __future__ import annotations

import cv2
import numpy as np

from .faces import Face, align_face

BRIDGE_SCALE = 4  # the measuring crop's side, in generator crops (48 -> 192 pixels)
GLASSES_EDGE = 4.0  # grey levels per pixel of that crop: a row's mean |d/dy| at least this is a frame
TOP = 0.35  # the strip starts this share of the way down from the inner brows to the eyes ...
BELOW_EYES = 0.5  # ... and ends this many generator-crop pixels below the eyes' inner corners


def bridge_edge(rgb: np.ndarray, face: Face, points: np.ndarray, crop_size: int = 48) -> float:
    """The strongest horizontal edge (grey levels per pixel, rows averaged across the strip) on
    the nose bridge between the eyes of `face` in the photo `rgb` ([H, W, 3] uint8); `points`:
    its 68 landmarks in the generator's crop ([68, 2], S's, which sit where the photo's are)."""
    size = crop_size * BRIDGE_SCALE
    # Crop pixel centres -> the larger crop's: x -> (x + 0.5) k - 0.5.
    at = (np.asarray(points, np.float64) + 0.5) * BRIDGE_SCALE - 0.5
    x0, x1 = at[39, 0] + BRIDGE_SCALE, at[42, 0] - BRIDGE_SCALE  # inside the inner eye corners
    brows, eyes = at[[21, 22], 1].mean(), at[[39, 42], 1].mean()
    y0, y1 = brows + TOP * (eyes - brows), eyes + BELOW_EYES * BRIDGE_SCALE
    left, right = max(int(np.floor(x0)), 0), min(int(np.ceil(x1)) + 1, size)
    top, bottom = max(int(np.floor(y0)), 0), min(int(np.ceil(y1)) + 1, size)
    if right - left < 3 or bottom - top < 3:
        return 0.0
    strip, _ = align_face(rgb, face, size=size, window=(left, top, right, bottom))  # the strip alone
    strip = cv2.GaussianBlur(strip.astype(np.float32), (0, 0), 1.0)
    vertical = np.abs(cv2.Sobel(strip, cv2.CV_32F, 0, 1, ksize=3)) / 8.0  # Sobel's weights sum to 8
    return float(vertical[1:-1].mean(axis=1).max())


def wears_glasses(rgb: np.ndarray, face: Face, points: np.ndarray | None) -> bool:
    """Whether `face` (with its crop landmarks `points`; None: unknown, so yes) wears glasses."""
    return points is None or bridge_edge(rgb, face, points) >= GLASSES_EDGE
