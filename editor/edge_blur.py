"""How soft a photo's edges are: the blur a pasted part must share to look like it belongs.

The mouth's fill (mouth_opening.py) is drawn at photo resolution with an edge about a pixel
wide, which suits a sharp photo; on a soft one (a small face upscaled, a webcam still, a face a
little out of focus) that crisp edge is the one thing in the face that sharp, and the opening
looks pasted on (dev120's and dev173's surprise). Compositors match the inserted part's focus to
the plate's; here the plate's blur is measured on its own edges by Hu and de Haan's re-blur
estimator ("Low cost robust blur estimator", ICIP 2006): a step edge blurred by a Gaussian of
sigma b, re-blurred by sigma a and by sigma c, has gradient peaks in the ratio
r = sqrt((b^2 + c^2) / (b^2 + a^2)), so b^2 = (c^2 - r^2 a^2) / (r^2 - 1), taken at the strongest
local gradient maxima and summarised by their median.
"""

from __future__ import annotations

import cv2
import numpy as np

# Re-blur scales, photo pixels: a sharp edge gives the ratio C / A, one blurred far past C a ratio
# near 1 (the estimate grows uncertain past about 2 x C).
REBLUR_A = 1.0
REBLUR_C = 2.0
# The edges measured: local maxima of the gradient among its strongest TOP share, at least
# MIN_CONTRAST grey levels per pixel (flat skin's noise says nothing about focus) ...
TOP = 0.1
MIN_CONTRAST = 2.0
# ... and at least MIN_EDGES of them, or no estimate.
MIN_EDGES = 12


def edge_blur(grey: np.ndarray) -> float | None:
    """The Gaussian sigma (pixels) by which the edges of `grey` ([h, w], grey levels 0-255) look
    blurred: about 0.3-1 for a sharp photo, 2 and more for a soft one; None with too few edges."""
    grey = np.asarray(grey, np.float32)
    if min(grey.shape[:2]) < 8:
        return None
    fine, coarse = (_gradient(grey, sigma) for sigma in (REBLUR_A, REBLUR_C))
    strong = max(float(np.quantile(fine, 1.0 - TOP)), MIN_CONTRAST)
    peaks = (fine >= cv2.dilate(fine, np.ones((3, 3), np.uint8))) & (fine >= strong)
    if int(peaks.sum()) < MIN_EDGES:
        return None
    ratio = np.clip(fine[peaks] / np.maximum(coarse[peaks], 1e-6), 1.0 + 1e-4, REBLUR_C / REBLUR_A)
    squared = (REBLUR_C ** 2 - ratio ** 2 * REBLUR_A ** 2) / (ratio ** 2 - 1.0)
    return float(np.sqrt(np.median(np.maximum(squared, 0.0))))


def _gradient(grey: np.ndarray, sigma: float) -> np.ndarray:
    """The gradient's magnitude (grey levels per pixel) of `grey` blurred by `sigma`."""
    blurred = cv2.GaussianBlur(grey, (0, 0), sigma)
    dx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0, ksize=3) / 8.0  # Sobel's weights sum to 8 per pixel step
    dy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    return cv2.magnitude(dx, dy)
