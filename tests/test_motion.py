"""From the renders' landmarks to a flow that moves the photo's mouth (editor/motion.py)."""

from __future__ import annotations

import numpy as np

from editor.motion import CAP, HOLDING, MOVING, landmark_flow
from editor.transfer import face_change, warp_crop


def _mean_face() -> np.ndarray:
    """A plausible 68-point layout in a 48x48 crop: points spread over the face, the mouth
    (48-67) on an ellipse around (24, 37), the eyes at y 18, the jaw around the chin."""
    rng = np.random.default_rng(0)
    points = np.column_stack([rng.uniform(8, 40, 68), rng.uniform(6, 28, 68)])  # brows, eyes, nose: above
    angles = np.linspace(0, 2 * np.pi, 20, endpoint=False)
    points[48:68] = np.column_stack([24 + 8 * np.cos(angles), 37 + 3 * np.sin(angles)])
    points[36:48] = np.column_stack([np.r_[np.linspace(11, 19, 6), np.linspace(29, 37, 6)], np.full(12, 18.0)])
    points[4:13] = np.column_stack([np.linspace(9, 39, 9), 44 - 4 * np.abs(np.linspace(-1, 1, 9))])
    return points


def test_no_motion_no_flow():
    face = _mean_face()
    assert np.abs(landmark_flow(face, face)).max() < 1e-6


def test_a_lowered_mouth_pulls_the_pixels_below_it_down():
    source = _mean_face()
    target = source.copy()
    target[MOVING, 1] += 2.0  # the mouth and chin drop by 2 crop pixels
    flow = landmark_flow(source, target)
    # Backward flow: at the mouth's new place each pixel is read 2 px higher up.
    centre = flow[38:41, 20:29]
    assert np.allclose(centre[..., 1], -2.0, atol=0.6) and np.abs(centre[..., 0]).max() < 0.5
    # The eyes (anchors) and the crop's border stay.
    eyes = flow[17:20, 10:38]
    assert np.abs(eyes).max() < 0.3
    assert np.abs(flow[0]).max() < 0.1 and np.abs(flow[:, 0]).max() < 0.1  # (outside the face oval anyway)
    # A dark lip line drawn at the mouth of a face moves down with it.
    face = np.full((48, 48), 200.0, np.float32)
    face[37, 16:33] = 40.0
    moved = warp_crop(face, flow)
    assert moved[39, 20:29].mean() < 120 < moved[37, 20:29].mean()


def test_each_point_moves_at_most_the_cap():
    source = _mean_face()
    target = source.copy()
    target[MOVING] += 10.0
    flow = landmark_flow(source, target)
    assert np.hypot(flow[..., 0], flow[..., 1]).max() <= CAP + 1e-5
    assert set(MOVING).isdisjoint(HOLDING) and len(MOVING) + len(HOLDING) == 68


def test_face_change_takes_its_motion_from_the_points():
    rng = np.random.default_rng(1)
    s = rng.integers(60, 200, (48, 48)).astype(np.uint8)
    source = _mean_face()
    target = source.copy()
    target[48:68, 0] += np.where(source[48:68, 0] > 24, 1.5, -1.5)  # a wider mouth
    change = face_change(s, s, s, points=(source, target))
    assert np.allclose(change.flow, landmark_flow(source, target), atol=1e-5)
    without = face_change(s, s, s)  # no points: optical flow between identical renders finds nothing
    assert np.abs(without.flow).max() < 0.05
