"""The dark line where closed lips meet, drawn into the closing cover (mouth_opening.CLOSE_COVER).

A smile with teeth edited to sad or neutral closes the lips over the photo's teeth; the cover
paints the squeezed teeth over in the lips' colour at T's levels, no brighter than the photo's
own lips. T's seam is a crop pixel of soft grey, which that clip and the blow-up to photo
resolution flatten: the closed mouth came out a flat tan plate with no line through it (dev100's
neutral, docs/transfer_screens.md "Closed lips over a smile's teeth"). Closed lips in a photo
always meet in a thin dark line, the shadow between them; here it is drawn at photo resolution
along the middle of the moved inner lips (where the warp squeezed the teeth to), as a Gaussian
profile across the curve, darkest on it.
"""

from __future__ import annotations

import cv2
import numpy as np

from .faces import affine_scale
from .lip_outline import SAMPLES, chain_curve, placed_in_box
from .motion import y_along

# The seam's darkest: this share of the cover's luminance taken off on the line (0: no seam drawn).
SEAM_DEPTH = 0.5
# Its profile's Gaussian sigma across the line: crop pixels (a closed seam is a fraction of a lip's
# 2-3 crop pixels), at least SEAM_MIN_SIGMA photo pixels so that a small face's line is not aliased.
SEAM_SIGMA = 0.25
SEAM_MIN_SIGMA = 0.7
# The upper lip faces down, away from the light, and is darker than the lower one in most photos:
# this share of the cover's luminance taken off above the seam (blending across it over its width).
UPPER_SHADE = 0.15


def seam_line(lips: np.ndarray, samples: int = SAMPLES) -> np.ndarray:
    """The curve midway between the upper inner lip and the lower one, corner to corner ([n, 2]
    float64, crop points); `lips`: the inner lips [8, 2] (landmarks 60-67: a corner, the upper lip,
    the other corner, the lower lip back)."""
    lips = np.asarray(lips, np.float64)
    middle = (lips[[0, 1, 2, 3, 4]] + lips[[0, 7, 6, 5, 4]]) / 2
    return chain_curve(middle, samples)


def seam_shade(lips: np.ndarray, to_photo: np.ndarray, origin: tuple[int, int], shape: tuple[int, int], *,
               depth: float = SEAM_DEPTH, sigma: float = SEAM_SIGMA, upper: float = UPPER_SHADE,
               where: np.ndarray | None = None) -> np.ndarray:
    """[h, w] float32 in (0, 1] over a box of `shape` at `origin` (photo pixels): the factor that
    darkens a luminance along seam_line(`lips`) (crop points; `to_photo`: crop -> photo), 1 - depth
    on the line, falling off as a Gaussian of the distance to it (`sigma` crop pixels), and by
    `upper` above it (the upper lip; a logistic step across the line as wide as the seam).
    `where` ([h, w], or None: everywhere): only inside the rectangle round its non-zero pixels
    (the cover's weight), so a large photo's face box costs no more than its mouth; 1 elsewhere."""
    shade = np.ones(shape, np.float32)
    # The window: round `where`'s non-zero pixels (as thin_parts.without_thin finds the weight's).
    x0, y0, w, h = cv2.boundingRect((where > 0).astype(np.uint8)) if where is not None else (0, 0, shape[1], shape[0])
    if (depth <= 0 and upper <= 0) or w == 0 or h == 0:
        return shade
    x1, y1 = x0 + w, y0 + h
    line = placed_in_box(seam_line(lips), to_photo, origin) - np.array([x0, y0], np.float64)
    width = max(sigma * affine_scale(to_photo), SEAM_MIN_SIGMA)  # photo pixels
    part = np.ones((y1 - y0, x1 - x0), np.float64)
    reach = 4.0 * width  # the seam's rectangle: the line's, this much wider each way
    sx0, sy0 = (max(int(np.floor(v - reach)), 0) for v in line.min(axis=0))
    sx1 = min(int(np.ceil(line[:, 0].max() + reach)) + 1, x1 - x0)
    sy1 = min(int(np.ceil(line[:, 1].max() + reach)) + 1, y1 - y0)
    if depth > 0 and sx1 > sx0 and sy1 > sy0:
        distance = _distance_to_polyline(line - np.array([sx0, sy0], np.float64), (sy1 - sy0, sx1 - sx0), reach)
        part[sy0:sy1, sx0:sx1] -= depth * np.exp(-0.5 * np.square(distance / width))
    if upper > 0:  # above the line (extended level past its ends): the upper lip's; the cover bounds it
        level = y_along(line, np.arange(x1 - x0, dtype=np.float64))
        below = np.arange(y1 - y0, dtype=np.float64)[:, None] - level[None, :]
        part *= 1.0 - upper / (1.0 + np.exp(np.clip(below / width, -50.0, 50.0)))
    shade[y0:y1, x0:x1] = part
    return shade


def _distance_to_polyline(line: np.ndarray, shape: tuple[int, int], reach: float) -> np.ndarray:
    """[h, w]: each pixel's distance to the polyline `line` [n, 2] (its segments, ends included),
    measured only within `reach` of each segment's rectangle (inf beyond: the Gaussian is cut at
    4 sigma there, which took 25 ms for a 16 MP photo's mouth when every segment met every pixel)."""
    best = np.full(shape, np.inf)
    for (ax, ay), (bx, by) in zip(line[:-1], line[1:]):
        x0, x1 = max(int(np.floor(min(ax, bx) - reach)), 0), min(int(np.ceil(max(ax, bx) + reach)) + 1, shape[1])
        y0, y1 = max(int(np.floor(min(ay, by) - reach)), 0), min(int(np.ceil(max(ay, by) + reach)) + 1, shape[0])
        if x1 <= x0 or y1 <= y0:
            continue
        ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length, 0.0, 1.0) if length > 1e-12 else 0.0
        best[y0:y1, x0:x1] = np.minimum(best[y0:y1, x0:x1], np.hypot(xs - ax - t * dx, ys - ay - t * dy))
    return best
