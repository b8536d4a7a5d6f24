"""Eyes that keep their shape when the lids open (editor/eyeballs.py)."""

from __future__ import annotations

import numpy as np

from editor.eyeballs import RIGID_SHARE, eye_holds, held_eye_flow, held_source_y
from editor.change_to_photo import apply_change
from editor.motion import lid_flow, lid_moves
from editor.transfer import FaceChange, face_change
from tests.test_mouth_opening import _closed_mouth_face

SCALE = 12.0  # photo pixels per crop pixel (an eye some 24 photo pixels high)


def _face_with_eyes() -> np.ndarray:
    """_closed_mouth_face with almond eyes: corners at y 19, lids 1 px above and below."""
    points = _closed_mouth_face()
    for corner, x0 in ((36, 11.0), (42, 29.0)):
        points[corner:corner + 6] = [[x0, 19.0], [x0 + 2.5, 18.0], [x0 + 5.5, 18.0], [x0 + 8.0, 19.0],
                                     [x0 + 5.5, 20.0], [x0 + 2.5, 20.0]]
    return points


def _surprised(points: np.ndarray) -> np.ndarray:
    """The render's lids opened: the upper ones 1 px up, the lower ones 0.5 px down."""
    target = points.copy()
    target[[37, 38, 43, 44], 1] -= 1.0
    target[[40, 41, 46, 47], 1] += 0.5
    return target


def test_still_lids_are_not_held():
    points = _face_with_eyes()
    assert eye_holds(points, lid_moves(points, points)) == ()
    assert len(eye_holds(points, lid_moves(points, _surprised(points)))) == 2


def test_the_middle_stays_and_the_lids_land_where_they_go():
    points = _face_with_eyes()
    hold = eye_holds(points, lid_moves(points, _surprised(points)))[0]
    x = np.full(201, 15.0)  # the left eye's middle column: own lids at 18 and 20, moved to 17 and 20.5
    y = np.linspace(17.0, 20.5, 201)
    source, weight = held_source_y(hold, x, y)
    assert np.all(weight == 1.0) and np.all(np.diff(source) > 0)  # nothing folds
    assert np.isclose(source[0], 18.0) and np.isclose(source[-1], 20.0)  # the lid margins land on the photo's
    middle = np.abs(y - 19.0) <= RIGID_SHARE * 1.0
    assert np.allclose(source[middle], y[middle])  # the eyeball, one pixel per pixel, where it was
    far = held_source_y(hold, np.array([15.0, 5.0]), np.array([12.0, 19.0]))[1]
    assert np.all(far == 0.0)  # above the brow line, and beside the eye: untouched


def test_held_eye_flow_changes_only_the_eyes():
    points = _face_with_eyes()
    holds = eye_holds(points, lid_moves(points, _surprised(points)))
    y, x = np.mgrid[0:48:0.25, 0:48:0.25]
    flow_y = np.random.default_rng(0).normal(0.0, 0.5, x.shape).astype(np.float32)
    held = held_eye_flow(flow_y, x, y, holds)
    outside = (np.abs(y - 19.0) > 2.5) | (x < 10.5) | ((x > 19.5) & (x < 28.5)) | (x > 37.5)
    assert np.array_equal(held[outside], flow_y[outside])
    assert not np.allclose(held[~outside], flow_y[~outside])
    assert held_eye_flow(flow_y, x, y, ()) is flow_y


def _eye_photo() -> tuple[np.ndarray, np.ndarray]:
    """A 576x576 grey face (the crop at SCALE) with, at each eye's middle, an iris (radius 1.2 crop
    pixels: from lid to lid, as most are), a pupil (radius 0.45) and a one-photo-pixel catchlight,
    and its to_photo."""
    photo = np.full((576, 576, 3), 170, np.uint8)
    yy, xx = np.mgrid[0:576, 0:576]
    for centre_x in (15.0, 33.0):
        cx, cy = centre_x * SCALE, 19.0 * SCALE
        photo[np.hypot(xx - cx, yy - cy) <= 1.2 * SCALE] = 90
        photo[np.hypot(xx - cx, yy - cy) <= 0.45 * SCALE] = 20
        photo[int(cy), int(cx)] = 250
    return photo, np.array([[SCALE, 0.0, 0.0], [0.0, SCALE, 0.0]])


def _pupil_height(photo: np.ndarray) -> tuple[int, int]:
    """Photo rows of the left eye's middle column that are pupil-dark, and catchlight-bright."""
    column = photo[:, int(15.0 * SCALE), 0].astype(int)
    return int((column < 50).sum()), int((column > 200).sum())


def test_a_pupil_keeps_its_shape_as_the_lids_open():
    """The iris reaches from lid to lid and fills the opened eye either way (a warp has nothing
    else to show there); the pupil and the catchlight in its middle keep their height."""
    points = _face_with_eyes()
    target = _surprised(points)
    photo, to_photo = _eye_photo()
    flow = lid_flow(points, target)
    residual = np.zeros((48, 48), np.float32)
    stretched = apply_change(photo, FaceChange(flow, residual), to_photo)
    held = apply_change(photo, FaceChange(flow, residual, eyes_held=eye_holds(points, lid_moves(points, target))), to_photo)
    own = _pupil_height(photo)
    assert _pupil_height(stretched)[0] > own[0] + 2  # the smooth flow stretches the pupil
    assert abs(_pupil_height(held)[0] - own[0]) <= 1
    assert _pupil_height(held)[1] <= own[1] < _pupil_height(stretched)[1]  # the catchlight stays a dot


def test_face_change_holds_the_eyes_where_the_lids_move():
    points = _face_with_eyes()
    render = np.full((48, 48), 128, np.uint8)
    change = face_change(render, render, render, points=(points, _surprised(points)))
    assert len(change.eyes_held) == 2
    assert face_change(render, render, render, points=(points, _surprised(points)), rigid_eyes=False).eyes_held == ()
    assert face_change(render, render, render, points=(points, _surprised(points)), move_lids=False).eyes_held == ()


def test_closing_lids_never_sample_far_from_where_they_are():
    """A squint (happy, disgust, sad) squeezes the bands; lids closing onto the still middle let the
    hold go rather than sample the cheek (a thin white line under dev035's disgust eyes once)."""
    points = _face_with_eyes()
    for squeeze in (0.3, 0.6, 0.9):
        target = points.copy()
        target[[37, 38, 43, 44], 1] += squeeze
        target[[40, 41, 46, 47], 1] -= squeeze
        holds = eye_holds(points, lid_moves(points, target))
        y, x = np.mgrid[15.0:23.0:0.05, 10.0:20.0:0.05]
        source, weight = held_source_y(holds[0], x, y)
        reach = np.abs(source - y)[weight > 0]
        assert reach.size == 0 or reach.max() <= squeeze + 0.05
