"""From the renders' landmarks to a flow that moves the photo's mouth (editor/motion.py)."""

from __future__ import annotations

import cv2
import numpy as np

from editor.motion import CAP, FOLD_FLOOR, HOLDING, MOVING, landmark_flow, least_area, unfolded
from editor.mouth_darkening import STRAY_DEPTH
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
    # (outside the face oval anyway; the smooth fit leaks a little between the ring's points: 0.12 px
    # at a reach of 7)
    assert np.abs(flow[0]).max() < 0.15 and np.abs(flow[:, 0]).max() < 0.15
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
    change = face_change(s, s, s, points=(source, target), mouth_fill=False)  # parted: tests/test_mouth_opening.py
    assert np.allclose(change.flow, landmark_flow(source, target), atol=1e-5)
    without = face_change(s, s, s)  # no points: optical flow between identical renders finds nothing
    assert np.abs(without.flow).max() < 0.05


def _mouth_render(y: int) -> np.ndarray:
    """A 48x48 grey render with a dark opening (radius 3) centred on (24, y)."""
    render = np.full((48, 48), 170, np.uint8)
    cv2.circle(render, (24, y), 3, 20, -1)
    return render


def test_follow_cap_carries_a_change_the_cap_holds_back_to_where_the_photo_moved():
    # A surprise's jaw drops further than the photo may move (the cap, 3 here): the renders'
    # opening moves 6 px, the photo's 3. Measured where T has it, the change darkens below the photo's moved
    # mouth (a blotch on its lower lip and chin) and brightens the mouth itself; carried to where
    # the capped motion puts each point, it is the renders' change beyond the motion: none here
    # but what the smooth (not exact) flow leaves.
    source = _mean_face()
    target = source.copy()
    target[MOVING, 1] += 6.0
    s, t = _mouth_render(37), _mouth_render(43)
    followed = face_change(s, t, s, points=(source, target), follow_cap=True, cap=3.0, shift_removed=0.0, philtrum_stretch=None)
    # (The share of the residual's mean taken off and the upper lip's hold are off too: these test
    # where the change lands when the whole mouth drops.)
    # (The moustache shield off: this synthetic mouth's dark line would read as hair above the lip.)
    behind = face_change(s, t, s, points=(source, target), follow_cap=False, mouth_fill=False, stray_margin=None,
                         moustache_low=None, cap=3.0, shift_removed=0.0, philtrum_stretch=None)
    assert behind.residual[44, 24] < -100 and behind.residual[39, 24] > 100
    # The default keeps the blotch to a shade instead (mouth_darkening.STRAY_DEPTH).
    shaded = face_change(s, t, s, points=(source, target), follow_cap=False, mouth_fill=False, cap=3.0, shift_removed=0.0, philtrum_stretch=None)
    assert -STRAY_DEPTH - 1e-3 <= shaded.residual[44, 24] < -STRAY_DEPTH / 2
    assert followed.residual.min() > 0.5 * behind.residual.min()
    assert followed.residual.max() < 0.2 * behind.residual.max()
    assert np.allclose(followed.flow, behind.flow)  # the photo moves alike: only the residual's place differs
    # Within the cap both are the same change.
    target = source.copy()
    target[MOVING, 1] += 2.0
    t = _mouth_render(39)
    near, far = (face_change(s, t, s, points=(source, target), follow_cap=f, mouth_fill=False, stray_margin=None,
                             moustache_low=None, cap=3.0, shift_removed=0.0, philtrum_stretch=None) for f in (True, False))
    assert np.abs(near.residual - far.residual).max() < 1e-3
    assert np.abs(near.cavity - far.cavity).max() < 1e-3


def test_a_field_that_would_fold_is_shrunk_until_it_does_not():
    # A bump of 7 px over a reach of 2 px turns pixels inside out (a negative area); scaled down it
    # keeps every pixel at least FOLD_FLOOR of its area, and a gentle field is left as it is.
    ys, xs = np.mgrid[0:48, 0:48].astype(np.float32)
    bump = np.exp(-((xs - 24) ** 2 + (ys - 30) ** 2) / (2 * 2.0 ** 2))
    steep = np.stack([np.zeros_like(bump), 7.0 * bump], axis=-1)
    assert least_area(steep) < 0
    fixed = unfolded(steep)
    assert FOLD_FLOOR <= least_area(fixed) < FOLD_FLOOR + 0.05
    assert np.allclose(fixed / np.abs(fixed).max(), steep / np.abs(steep).max(), atol=1e-6)  # the same shape
    gentle = 0.3 * steep
    assert least_area(gentle) > FOLD_FLOOR and unfolded(gentle) is gentle


def test_each_lips_field_keeps_its_area_at_the_cap():
    source = _mean_face()
    target = source.copy()
    target[MOVING, 1] += np.where(source[MOVING, 1] > 37, 12.0, -12.0)  # a wide opening, capped at CAP
    flow = landmark_flow(source, target)
    assert np.hypot(flow[..., 0], flow[..., 1]).max() <= CAP + 1e-5 and least_area(flow) >= FOLD_FLOOR - 1e-6
