"""Lips as curves, not polygons: the outline the mouth's fill is drawn along.

The landmark regressor gives a lip contour as a few points (the inner lips' 8, the outer
lips' 12: iBUG 300-W). Joined by straight lines and drawn at photo resolution, where the fill
shows a render's mouth between them, the opening showed its polygon: straight edges and
angles along what is a curve in any photo (dev160's angry mouth). Drawing tools join lip
landmarks with a spline; here each lip (corner to corner) is a centripetal Catmull-Rom
curve through its points (no loops or cusps however unevenly the points are spaced: Yuksel
et al. 2011), and the two mouth corners stay corners, where the lips meet at an angle.

Also how lips (and other crop-space polygons) are drawn at photo resolution: polygon_mask,
lips_mask, and the rectangle round them that a drawing needs.
"""

from __future__ import annotations

import cv2
import numpy as np

from .faces import apply_affine

# Curve points per landmark gap: a face box of 1000 photo pixels makes a crop pixel some 20 photo
# pixels, and an inner lip's gaps are 2-4 crop pixels, so 8 keeps each chord within a few pixels.
SAMPLES = 8
# Centripetal parameterisation (0.5): uniform (0) overshoots at unevenly spaced points, chordal (1)
# bulges; Yuksel et al. show 0.5 is the one that never loops.
ALPHA = 0.5

CROP_FRAME = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # polygon_mask's to_photo for a crop-sized mask


def lip_outline(points: np.ndarray, samples: int = SAMPLES) -> np.ndarray:
    """A closed lip contour `points` ([2k, 2]: from one mouth corner along one lip to the other
    corner, index k, and back along the other lip) as a dense closed polygon ([2k x samples, 2],
    float64) through every point: each lip a smooth curve, the corners kept."""
    points = np.asarray(points, np.float64)
    count = len(points)
    if count < 4 or count % 2:
        return points
    half = count // 2
    first = chain_curve(points[: half + 1], samples)
    second = chain_curve(np.vstack([points[half:], points[:1]]), samples)
    return np.vstack([first[:-1], second[:-1]])


def chain_curve(chain: np.ndarray, samples: int = SAMPLES) -> np.ndarray:
    """An open chain of points [n, 2] as a centripetal Catmull-Rom curve from its first point to
    its last ([(n - 1) x samples + 1, 2]); the ends' tangents along their first and last chords
    (mirrored phantom points), so a corner stays a corner."""
    padded = np.vstack([2 * chain[0] - chain[1], chain, 2 * chain[-1] - chain[-2]])
    pieces = [_segment(*padded[i:i + 4], samples) for i in range(len(chain) - 1)]
    return np.vstack(pieces + [chain[-1:]])


def _segment(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, samples: int) -> np.ndarray:
    """`samples` points of the centripetal Catmull-Rom segment from p1 (included) to p2 (not),
    Barry and Goldman's pyramid."""
    # A knot step of at least 1e-3: touching lips give coincident points (a closed mouth's corners).
    t1 = max(float(np.linalg.norm(p1 - p0)) ** ALPHA, 1e-3)
    t2 = t1 + max(float(np.linalg.norm(p2 - p1)) ** ALPHA, 1e-3)
    t3 = t2 + max(float(np.linalg.norm(p3 - p2)) ** ALPHA, 1e-3)
    t = np.linspace(t1, t2, samples, endpoint=False)[:, None]

    def lerp(a: np.ndarray, b: np.ndarray, ta: float, tb: float) -> np.ndarray:
        return ((tb - t) * a + (t - ta) * b) / (tb - ta)

    a1, a2, a3 = lerp(p0, p1, 0.0, t1), lerp(p1, p2, t1, t2), lerp(p2, p3, t2, t3)
    b1, b2 = lerp(a1, a2, 0.0, t2), lerp(a2, a3, t1, t3)
    return lerp(b1, b2, t1, t2)


def lips_mask(lips: np.ndarray, to_photo: np.ndarray, origin: tuple[int, int], shape: tuple[int, int], *,
              smooth: bool = True) -> np.ndarray:
    """polygon_mask of a lip contour `lips` ([2k, 2] crop points, lip_outline's order), drawn as
    lip_outline's curve where `smooth`, else as the polygon of its points."""
    return polygon_mask(lip_outline(lips) if smooth else lips, to_photo, origin, shape)


def polygon_mask(polygon: np.ndarray, to_photo: np.ndarray, origin: tuple[int, int],
                 shape: tuple[int, int]) -> np.ndarray:
    """The crop-space `polygon` filled at photo resolution over a [h, w] box at `origin`: 1
    inside, 0 outside, its edge anti-aliased over about a pixel."""
    placed = placed_in_box(polygon, to_photo, origin)
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.rint(placed * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    return (mask.astype(np.float32) / 255.0)


def rectangle_around(points: np.ndarray, to_photo: np.ndarray, origin: tuple[int, int],
                     shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """The (x0, y0, x1, y1) rectangle of a [h, w] box at `origin` round the crop `points` [N, 2]
    (a pixel more each way), clipped to the box; None where they miss it."""
    placed = placed_in_box(points, to_photo, origin)
    x0, y0 = (max(int(np.floor(v)) - 1, 0) for v in placed.min(axis=0))
    x1 = min(int(np.ceil(placed[:, 0].max())) + 2, shape[1])
    y1 = min(int(np.ceil(placed[:, 1].max())) + 2, shape[0])
    return None if x1 <= x0 or y1 <= y0 else (x0, y0, x1, y1)


def widened(points: np.ndarray, factor: float) -> np.ndarray:
    """`points` [N, 2] moved `factor` times as far from their mean (float64)."""
    points = np.asarray(points, np.float64)
    return points.mean(axis=0) + factor * (points - points.mean(axis=0))


def placed_in_box(points: np.ndarray, to_photo: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """Crop `points` [N, 2] in photo pixels, relative to `origin` (float64)."""
    return apply_affine(to_photo, points) - np.asarray(origin, np.float64)
