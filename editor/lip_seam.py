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

import numpy as np

from .faces import affine_scale
from .lip_outline import SAMPLES, _curve, _placed

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
    return _curve(middle, samples)


def seam_shade(lips: np.ndarray, to_photo: np.ndarray, origin: tuple[int, int], shape: tuple[int, int], *,
               depth: float = SEAM_DEPTH, sigma: float = SEAM_SIGMA, upper: float = UPPER_SHADE) -> np.ndarray:
    """[h, w] float32 in (0, 1] over a box of `shape` at `origin` (photo pixels): the factor that
    darkens a luminance along seam_line(`lips`) (crop points; `to_photo`: crop -> photo), 1 - depth
    on the line, falling off as a Gaussian of the distance to it (`sigma` crop pixels), and by
    `upper` above it (the upper lip; a logistic step across the line as wide as the seam)."""
    shade = np.ones(shape, np.float32)
    if depth <= 0 and upper <= 0:
        return shade
    line = _placed(seam_line(lips), to_photo, origin)
    width = max(sigma * affine_scale(to_photo), SEAM_MIN_SIGMA)  # photo pixels
    reach = 4.0 * width
    x0, y0 = (max(int(np.floor(v - reach)), 0) for v in line.min(axis=0))
    x1 = min(int(np.ceil(line[:, 0].max() + reach)) + 1, shape[1])
    y1 = min(int(np.ceil(line[:, 1].max() + reach)) + 1, shape[0])
    if x1 <= x0 or y1 <= y0:
        return shade
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    distance = _distance_to_polyline(xs, ys, line)
    shade[y0:y1, x0:x1] = 1.0 - depth * np.exp(-0.5 * np.square(distance / width))
    if upper > 0:  # above the line (extended level past its ends): the upper lip's; the cover's weight bounds it
        order = np.argsort(line[:, 0])
        below = np.arange(shape[0], dtype=np.float64)[:, None] - np.interp(np.arange(shape[1]), line[order, 0], line[order, 1])[None, :]
        shade *= (1.0 - upper / (1.0 + np.exp(np.clip(below / width, -50, 50)))).astype(np.float32)
    return shade


def _distance_to_polyline(xs: np.ndarray, ys: np.ndarray, line: np.ndarray) -> np.ndarray:
    """The distance of each point (xs, ys) to the polyline `line` [n, 2] (its segments, ends included)."""
    best = np.full(xs.shape, np.inf)
    for (ax, ay), (bx, by) in zip(line[:-1], line[1:]):
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length, 0.0, 1.0) if length > 1e-12 else 0.0
        best = np.minimum(best, np.hypot(xs - ax - t * dx, ys - ay - t * dy))
    return best
