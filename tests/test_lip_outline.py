"""Lips drawn as curves through their landmarks (editor/lip_outline.py, mouth_opening.SMOOTH_LIPS)."""

from __future__ import annotations

import numpy as np

from editor.lip_outline import CROP_FRAME, SAMPLES, lip_outline, lips_mask, polygon_mask
from editor.mouth_opening import polygon_area


def _inner_lips(gap: float = 4.0) -> np.ndarray:
    """An open mouth's 8 inner-lip points (iBUG 60-67): corners at (14, 30) and (34, 30), the
    lips `gap` apart in the middle, on two arcs."""
    xs = np.array([14.0, 19.0, 24.0, 29.0, 34.0])
    bulge = np.sin(np.linspace(0, np.pi, 5)) * gap / 2
    upper = np.column_stack([xs, 30 - bulge])
    lower = np.column_stack([xs[3:0:-1], 30 + bulge[3:0:-1]])
    return np.vstack([upper, lower])


def test_the_outline_passes_through_every_point_and_keeps_the_corners():
    points = _inner_lips()
    outline = lip_outline(points)
    assert outline.shape == (len(points) * SAMPLES, 2)
    for point in points:  # every landmark is on the curve
        assert np.min(np.linalg.norm(outline - point, axis=1)) < 1e-9
    # The corners stay where they are, and stay the outline's extremes (no overshoot past them).
    assert np.isclose(outline[:, 0].min(), 14.0) and np.isclose(outline[:, 0].max(), 34.0)


def test_a_curve_through_arc_points_is_nearer_the_arc_than_its_polygon():
    # Points on a circle: the polygon cuts inside every chord, the curve stays near the circle.
    angles = np.r_[np.linspace(np.pi, 0, 5), np.linspace(-np.pi / 4, -3 * np.pi / 4, 3)]
    points = np.column_stack([24 + 10 * np.cos(angles), 24 - 10 * np.sin(angles)])
    outline = lip_outline(points)
    radius = np.linalg.norm(outline - 24.0, axis=1)
    off_arc = np.abs(radius[: 4 * SAMPLES] - 10)  # corner to corner over the top: points on the arc
    sag = 10 - np.linalg.norm((points[1] + points[2]) / 2 - 24.0)  # a chord's, 0.76
    # Between inner points the curve follows the arc; next to the corners, whose tangent runs
    # along the first chord (a corner stays a corner), it still sags less than the chord.
    assert off_arc[SAMPLES: 3 * SAMPLES].max() < 0.15
    assert off_arc.max() < 0.7 * sag
    assert polygon_area(outline) > polygon_area(points)


def test_touching_lips_give_a_closed_mouth_without_spikes():
    points = _inner_lips(gap=0.0)
    points[[5, 6, 7]] = points[[3, 2, 1]]  # the lower lip on the upper one: coincident points
    outline = lip_outline(points)
    assert np.isfinite(outline).all()
    assert polygon_area(outline) < 1e-6
    assert outline[:, 1].min() >= 30 - 1e-9 and outline[:, 1].max() <= 30 + 1e-9


def test_other_point_counts_are_left_as_they_are():
    triangle = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.0]])
    assert np.array_equal(lip_outline(triangle), triangle)


def test_lips_are_drawn_as_curves_when_smooth():
    lips = _inner_lips(gap=6.0)
    to_photo = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0]])  # a crop pixel is 10 photo pixels
    smooth = lips_mask(lips, to_photo, (0, 0), (480, 480))
    straight = lips_mask(lips, to_photo, (0, 0), (480, 480), smooth=False)
    assert np.array_equal(straight, polygon_mask(lips, to_photo, (0, 0), (480, 480)))
    # The curve bulges past the polygon's chords (some 1-2 % more area) and holds all of it.
    assert smooth.sum() > 1.01 * straight.sum()
    assert np.all(smooth >= straight - 0.5)
    assert lips_mask(lips, CROP_FRAME, (0, 0), (48, 48)).shape == (48, 48)
