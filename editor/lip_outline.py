"""Lips as curves, not polygons: the outline the mouth's fill is drawn along.

The landmark regressor gives a lip contour as a few points (the inner lips' 8, the outer
lips' 12: iBUG 300-W). Joined by straight lines and drawn at photo resolution, where the fill
shows a render's mouth between them, the opening showed its polygon: straight edges and
angles along what is a curve in any photo (dev160's angry mouth). Drawing tools join lip
landmarks with a spline; here each lip (corner to corner) is a centripetal Catmull-Rom
curve through its points (no loops or cusps however unevenly the points are spaced: Yuksel
et al. 2011), and the two mouth corners stay corners, where the lips meet at an angle.
"""

from __future__ import annotations

import numpy as np

# Curve points per landmark gap: a face box of 1000 photo pixels makes a crop pixel some 20 photo
# pixels, and an inner lip's gaps are 2-4 crop pixels, so 8 keeps each chord within a few pixels.
SAMPLES = 8
# Centripetal parameterisation (0.5): uniform (0) overshoots at unevenly spaced points, chordal (1)
# bulges; Yuksel et al. show 0.5 is the one that never loops.
ALPHA = 0.5


def lip_outline(points: np.ndarray, samples: int = SAMPLES) -> np.ndarray:
    """A closed lip contour `points` ([2k, 2]: from one mouth corner along one lip to the other
    corner, index k, and back along the other lip) as a dense closed polygon ([2k x samples, 2],
    float64) through every point: each lip a smooth curve, the corners kept."""
    points = np.asarray(points, np.float64)
    count = len(points)
    if count < 4 or count % 2:
        return points
    half = count // 2
    first = _curve(points[: half + 1], samples)
    second = _curve(np.vstack([points[half:], points[:1]]), samples)
    return np.vstack([first[:-1], second[:-1]])


def _curve(chain: np.ndarray, samples: int) -> np.ndarray:
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
