"""Teeth that keep their width when the mouth narrows (editor/teeth_sideways.py)."""

from __future__ import annotations

import numpy as np

from editor.teeth_sideways import RIGID_SHARE, SQUEEZE_SHARE, held_flow, lip_lift, sideways_hold
from editor.change_to_photo import apply_change
from editor.transfer import face_change
from tests.test_mouth_opening import _lips_render, _smile_face


def _inner(left: float, right: float, top: float = 36.0, bottom: float = 39.0) -> np.ndarray:
    """Inner lips 60-67 from corner `left` to corner `right`, lips `top` and `bottom`."""
    xs = np.linspace(left, right, 5)
    return np.array([[xs[0], (top + bottom) / 2], *[[x, top] for x in xs[1:4]], [xs[4], (top + bottom) / 2],
                     *[[x, bottom] for x in xs[3:0:-1]]], np.float64)


def test_a_mouth_that_widens_or_hardly_narrows_is_not_held():
    own = _inner(16.0, 32.0)
    assert sideways_hold(own, _inner(14.0, 34.0)) is None
    assert sideways_hold(own, _inner(16.1, 31.95)) is None
    assert sideways_hold(own, _inner(19.0, 29.0)) is not None
    # Gated on parted lips (teeth_sideways.PARTED), closed ones (0.5 px apart) are left to the motion.
    closed = _inner(16.0, 32.0, top=37.0, bottom=37.5)
    assert sideways_hold(closed, _inner(19.0, 29.0), parted=1.0) is None
    assert sideways_hold(own, _inner(19.0, 29.0), parted=1.0) is not None


def test_the_middle_teeth_keep_their_width_and_the_corners_land_on_the_photos_corners():
    own, moved = _inner(16.0, 32.0), _inner(20.0, 30.0)  # 16 px wide -> 10, the middle 24 -> 25
    hold = sideways_hold(own, moved)
    x = np.linspace(20.0, 30.0, 201)
    source = hold.source_x(x)
    assert np.all(np.diff(source) > 0)  # monotonic: nothing folds
    assert np.isclose(source[0], 16.0) and np.isclose(source[-1], 32.0)
    middle = np.abs(x - 25.0) <= RIGID_SHARE * 5.0
    assert np.allclose(source[middle] - x[middle], 24.0 - 25.0)  # one pixel per pixel, moved with the middle
    corner = np.abs(x - 25.0) >= (RIGID_SHARE + SQUEEZE_SHARE) * 5.0 - 1e-9
    assert np.allclose(np.gradient(source, x)[corner][1:-1], 1.0, atol=0.05)
    # The side teeth between take the squeeze: more than the plain 16/10 somewhere.
    assert np.gradient(source, x).max() > 16.0 / 10.0


def test_held_flow_changes_the_horizontal_part_only_inside_the_moved_mouth():
    own, moved = _inner(16.0, 32.0), _inner(20.0, 30.0)
    hold = sideways_hold(own, moved)
    flow = np.random.default_rng(0).normal(0.0, 1.0, (48, 48, 2)).astype(np.float32)
    held = held_flow(flow, hold)
    assert np.array_equal(held[..., 1], flow[..., 1])
    outside = np.ones((48, 48), bool)
    outside[31:45, 16:35] = False  # the moved mouth, grown by MARGIN and faded by FEATHER
    assert np.allclose(held[outside], flow[outside])
    assert np.isclose(held[37, 25, 0], hold.source_x(np.array(25.0)) - 25.0, atol=0.05)
    assert held_flow(flow, None) is flow
    # Lifted, the teeth move up or down as one piece too.
    lifted = held_flow(flow, sideways_hold(own, moved, lift=-1.5))
    assert np.allclose(lifted[outside], flow[outside])
    assert np.isclose(lifted[37, 25, 1], -1.5, atol=0.05) and np.array_equal(lifted[..., 0], held[..., 0])


def test_lip_lift_reads_the_flow_at_the_upper_lips_middle():
    flow = np.zeros((48, 48, 2), np.float32)
    flow[..., 1] = -np.arange(48, dtype=np.float32)[:, None] / 10  # a move down that grows down the crop
    assert np.isclose(lip_lift(flow, _inner(20.0, 30.0, top=36.0)), -3.6, atol=1e-4)


def _striped_photo(scale: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A photo of _smile_face's crop at `scale` photo pixels per crop pixel: skin, and between the
    inner lips a row of teeth 2 crop pixels wide (white with dark gaps); and its to_photo."""
    size = 48 * scale
    photo = np.full((size, size, 3), 170, np.uint8)
    x = (np.arange(size) + 0.5) / scale
    teeth = np.where((x % 2.0) < 1.6, 235, 90).astype(np.uint8)
    rows = slice(int(36.3 * scale), int(38.7 * scale))
    photo[rows, int(18.5 * scale):int(29.5 * scale)] = teeth[None, int(18.5 * scale):int(29.5 * scale), None]
    to_photo = np.array([[scale, 0.0, (scale - 1) / 2], [0.0, scale, (scale - 1) / 2]])
    return photo, to_photo


def _gap_spacing(row: np.ndarray, scale: int) -> float:
    """The median distance, in crop pixels, between the dark gaps' starts along a row of teeth."""
    dark = row < 160
    starts = np.flatnonzero(dark[1:] & ~dark[:-1])
    return float(np.median(np.diff(starts))) / scale


def test_a_narrowing_smile_keeps_its_teeth_as_wide_as_the_photo_has_them():
    # A smile (teeth between lips 3 px apart) whose mouth narrows from 12 to 7 crop pixels between
    # the inner corners: squeezed, the gaps between the middle teeth crowd together (a comb); held,
    # they stay 2 crop pixels apart.
    source = _smile_face(3.0)
    target = source.copy()
    centre = 24.0
    target[48:68, 0] = centre + (source[48:68, 0] - centre) * 0.6
    photo, to_photo = _striped_photo()
    spacing = {}
    for rigid in (True, False):
        change = face_change(_lips_render(source), _lips_render(target), photo[::8, ::8, 0],
                             points=(source, target), rigid_sideways=rigid, mouth_fill=True)
        assert (change.sideways is not None) == rigid
        out = apply_change(photo, change, to_photo)
        row = out[int(37.5 * 8), int(21.5 * 8):int(26.5 * 8)].mean(axis=-1)
        spacing[rigid] = _gap_spacing(row, 8)
    assert abs(spacing[True] - 2.0) < 0.3
    assert spacing[False] < 1.7


def test_teeth_move_up_and_down_as_one_piece_not_after_dropping_mouth_corners():
    # A smile whose mouth narrows while its corners and jaw drop 3 px (a surprise): the upper lip's
    # field carries the corners and the jaw, so, moved as the motion has them, the rows of teeth
    # between the lips are drawn down and stretched unevenly; lifted, they move as one piece.
    source = _smile_face(3.0)
    target = source.copy()
    target[48:68, 0] = 24.0 + (source[48:68, 0] - 24.0) * 0.7
    target[[48, 54, 60, 64], 1] += 3.0
    target[4:13, 1] += 3.0
    spread = {}
    for lift in (True, False):
        change = face_change(_lips_render(source), _lips_render(target), _lips_render(source),
                             points=(source, target), sideways_lift=lift)
        vertical = held_flow(change.flow, change.sideways)[37:41, 20:29, 1]  # inside the moved inner lips
        spread[lift] = float(vertical.max() - vertical.min())
    assert spread[True] < 0.35
    assert spread[False] > 1.0
