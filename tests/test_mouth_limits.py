"""T's mouth held to what skin does before the warp follows it (editor/mouth_limits.py)."""

from __future__ import annotations

import numpy as np

from editor.motion import parted_flow
from editor.mouth_limits import MOUTH, NOSE_BASE, UPPER_LIP, held_mouth


def _face() -> np.ndarray:
    """68 points in a 48x48 crop: the nose's base at y 30, the mouth (48-67) an ellipse 16 px wide
    around (24, 37.5), so the upper lip's middle (51) sits 5 px below the nose; the rest above."""
    rng = np.random.default_rng(1)
    points = np.column_stack([rng.uniform(10, 38, 68), rng.uniform(6, 26, 68)])
    points[NOSE_BASE] = np.column_stack([np.linspace(20, 28, 5), np.full(5, 30.0)])
    outer = np.linspace(np.pi, 3 * np.pi, 12, endpoint=False)  # 48 (left corner) round to 59
    points[48:60] = np.column_stack([24 + 8 * np.cos(outer), 37.5 + 2.5 * np.sin(outer)])
    inner = np.linspace(np.pi, 3 * np.pi, 8, endpoint=False)
    points[60:68] = np.column_stack([24 + 6 * np.cos(inner), 37.5 + 0.5 * np.sin(inner)])
    return points


def test_small_moves_pass_unchanged():
    source = _face()
    target = source.copy()
    target[MOUTH, 1] += 0.5  # a tenth of the nose-to-lip gap
    target[48, 0] += 1.0  # narrower by 1 of 16 px
    assert np.allclose(held_mouth(source, target), target, atol=1e-5)


def test_a_dropping_upper_lip_stops_at_its_share_of_the_gap_and_keeps_its_shape():
    source = _face()
    target = source.copy()
    target[MOUTH, 1] += 3.0  # the lower lip and the upper one, 60% of the 5 px gap
    held = held_mouth(source, target, philtrum=0.25, narrowing=None)
    gap = source[51, 1] - source[NOSE_BASE, 1].mean()
    assert np.allclose(held[UPPER_LIP, 1] - source[UPPER_LIP, 1], 0.25 * gap, atol=1e-5)
    lower = np.setdiff1d(MOUTH, UPPER_LIP)  # the corners and the lower lip go all the way
    assert np.allclose(held[lower], target[lower], atol=1e-5)
    # Raised (a smile or disgust from a neutral face) it follows the renders: the band shrinks.
    target[MOUTH, 1] -= 6.0
    assert np.allclose(held_mouth(source, target, philtrum=0.25, narrowing=None), target, atol=1e-5)


def test_a_narrowing_mouth_keeps_its_share_of_the_width_about_its_centre():
    source = _face()
    target = source.copy()
    centre = 25.0
    target[MOUTH, 0] = centre + (source[MOUTH, 0] - 24.0) * 0.5  # half as wide, 1 px to the right
    held = held_mouth(source, target, philtrum=None, narrowing=0.25)
    assert np.isclose(held[54, 0] - held[48, 0], 0.75 * 16.0, atol=1e-4)
    assert np.allclose(held[MOUTH, 0] - centre, 1.5 * (target[MOUTH, 0] - centre), atol=1e-4)
    assert np.allclose(held[:, 1], target[:, 1])
    # A widening one (a smile) is not held.
    target[MOUTH, 0] = 24.0 + (source[MOUTH, 0] - 24.0) * 1.4
    assert np.allclose(held_mouth(source, target, philtrum=None, narrowing=0.25), target, atol=1e-5)


def test_none_leaves_the_renders_move():
    source = _face()
    target = source.copy()
    target[MOUTH] = 24.0 + (source[MOUTH] - 24.0) * 0.5 + [0.0, 3.0]
    assert np.allclose(held_mouth(source, target, philtrum=None, narrowing=None), target)


def test_held_the_skin_under_the_nose_stretches_less():
    """What it is for: a smile relaxing (narrower, upper lip down) stretches the band between the
    nose and the upper lip, where a moustache grows, far less once held."""
    source = _face()
    target = source.copy()
    target[MOUTH] = [24.0, 37.5 + 2.5] + (source[MOUTH] - [24.0, 37.5]) * [0.55, 1.0]  # 45% narrower, 2.5 px down

    def band_stretch(t: np.ndarray) -> float:  # how far the band's height grows, on average
        flow, _ = parted_flow(source, t)
        rows = flow[30:35, 18:31, 1]  # between the nose (30) and the upper lip (~35)
        return float(-(np.gradient(rows, axis=0)).mean())  # backward flow: -d(flow_y)/dy

    # The lip's drop is halved (2.5 -> 1.25 px); the smooth field spreads it, so the band's stretch
    # falls by at least a third.
    assert band_stretch(held_mouth(source, target)) < 0.65 * band_stretch(target)
