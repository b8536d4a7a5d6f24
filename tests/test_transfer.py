"""Moving the photo's own pixels by the renders' change (editor/transfer.py)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.blend import crop_face_mask
from editor.mouth_darkening import (CAVITY_GAIN, CAVITY_KNEE, STRAY_DEPTH, TEETH_BAND, cavity_weight, mouth_region,
                                   upper_teeth_band)
from editor.change_to_photo import apply_change
from editor.transfer import DARK_KNEE, RESIDUAL_SIGMA, SHIFT_REMOVED, FaceChange, expression_flow, face_change, warp_crop


def _texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A smooth random RGB texture [H, W, 3] uint8 (features a few pixels wide)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // 4 + 1, width // 4 + 1, 3)).astype(np.uint8)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)


def _to_photo(scale: float, x: float, y: float) -> np.ndarray:
    return np.array([[scale, 0.0, x], [0.0, scale, y]])


def test_flow_recovers_a_known_shift():
    face = cv2.GaussianBlur(_texture(48, 48)[..., 0].astype(np.float32), (0, 0), 1.0)
    shifted = np.roll(face, 2, axis=1)  # target(x) = source(x - 2)
    flow = expression_flow(face.astype(np.uint8), shifted.astype(np.uint8))
    centre = flow[12:36, 12:36]
    assert abs(float(np.median(centre[..., 0])) + 2.0) < 0.5 and abs(float(np.median(centre[..., 1]))) < 0.5
    assert np.abs(warp_crop(face, flow)[12:36, 12:36] - shifted[12:36, 12:36]).mean() < 6


def test_a_crop_displacement_moves_the_right_photo_pixels():
    photo = _texture(400, 400)
    scale = 3.0
    to_photo = _to_photo(scale, 100.0, 80.0)  # crop (x, y) -> photo (3x + 100, 3y + 80)
    flow = np.zeros((48, 48, 2), np.float32)
    flow[..., 0] = 2.0  # out(x) = photo(x + 2 crop px) = photo(x + 6 photo px)
    out = apply_change(photo, FaceChange(flow, np.zeros((48, 48), np.float32)), to_photo)
    # Where the face oval is 1 (crop centre 24, 26 -> photo 172, 158) the photo moved by 6 px.
    ys, xs = slice(150, 170), slice(160, 185)
    assert np.abs(out[ys, xs].astype(int) - photo[ys, slice(166, 191)].astype(int)).max() <= 1
    assert np.abs(out[ys, xs].astype(int) - photo[ys, xs].astype(int)).mean() > 10


@pytest.mark.parametrize("skin_light", [False, True])
def test_nothing_changes_outside_the_face_mask(skin_light):
    photo = _texture(300, 360, seed=1)
    to_photo = _to_photo(2.5, 90.0, 60.0)
    rng = np.random.default_rng(0)
    eyes = np.zeros((48, 48), np.float32)
    eyes[15:20, 10:38] = 1.0
    change = FaceChange(rng.normal(0, 2, (48, 48, 2)).astype(np.float32),
                        rng.normal(0, 20, (48, 48)).astype(np.float32), skin_light=skin_light,
                        eyes=eyes if skin_light else None)
    out = apply_change(photo, change, to_photo)
    to_crop = cv2.invertAffineTransform(to_photo)
    ys, xs = np.mgrid[0:300, 0:360]
    cx = to_crop[0, 0] * xs + to_crop[0, 2]
    cy = to_crop[1, 1] * ys + to_crop[1, 2]
    mask = cv2.remap(crop_face_mask(48), cx.astype(np.float32), cy.astype(np.float32), cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    outside = mask <= 0
    assert outside.sum() > 0.5 * outside.size
    assert np.array_equal(out[outside], photo[outside])
    assert not np.array_equal(out[~outside], photo[~outside])


def test_the_residual_changes_luminance_only():
    photo = np.full((200, 200, 3), (180, 120, 90), np.uint8)
    residual = np.full((48, 48), 12.0, np.float32)
    out = apply_change(photo, FaceChange(np.zeros((48, 48, 2), np.float32), residual), _to_photo(3.0, 28.0, 28.0))
    centre = out[100, 100].astype(int)
    assert list(centre - np.array([180, 120, 90])) == [12, 12, 12]  # Y moves, Cr and Cb do not


def test_identical_renders_change_nothing():
    face = _texture(48, 48)[..., 0]
    change = face_change(face, face, face)
    assert np.abs(change.flow).max() < 1e-3 and np.abs(change.residual).max() < 1e-3
    with pytest.raises(ValueError, match="mode"):
        face_change(face, face, face, mode="nope")


def test_brightening_fades_on_pixels_darker_than_the_render_expects():
    # Left half skin-level, right half a dark moustache the render does not have.
    photo = np.full((200, 200, 3), 150, np.uint8)
    photo[:, 100:] = 30
    flow = np.zeros((48, 48, 2), np.float32)
    level = np.full((48, 48), 150 * 0.6, np.float32)  # the render's level 150, the knee 0.6
    to_photo = _to_photo(3.0, 28.0, 28.0)
    up = apply_change(photo, FaceChange(flow, np.full((48, 48), 40.0, np.float32), level), to_photo).astype(int)
    assert up[100, 90, 0] - 150 == 40  # skin: all of it
    assert up[100, 110, 0] - 30 == round(40 * 30 / 90)  # the moustache: a third of it, it stays dark
    down = apply_change(photo, FaceChange(flow, np.full((48, 48), -20.0, np.float32), level), to_photo).astype(int)
    assert down[100, 90, 0] == 130 and down[100, 110, 0] == 10  # darkening is not scaled


def test_the_level_is_the_knee_times_the_moved_render():
    source = cv2.GaussianBlur(_texture(48, 48, seed=3)[..., 0], (0, 0), 2.0)
    target = np.clip(source.astype(int) + 30, 0, 255).astype(np.uint8)
    assert face_change(source, target, source, knee=None).level is None
    moved = np.maximum(cv2.GaussianBlur(source.astype(np.float32), (0, 0), RESIDUAL_SIGMA), 16.0)
    for knee, change in ((0.5, face_change(source, target, source, knee=0.5)),
                         (DARK_KNEE, face_change(source, target, source))):
        assert np.abs(change.level - moved * knee)[4:-4, 4:-4].max() < 1.0


def test_darkening_grows_where_the_render_opens_a_dark_cavity_over_bright_teeth():
    # Left half teeth (bright), right half lips at the render's own level, 150.
    photo = np.full((200, 200, 3), 150, np.uint8)
    photo[:, :100] = 240
    flow = np.zeros((48, 48, 2), np.float32)
    residual = np.full((48, 48), -60.0, np.float32)
    level = np.full((48, 48), 150 * CAVITY_KNEE, np.float32)
    to_photo = _to_photo(3.0, 28.0, 28.0)

    def expected(luma: float, weight: float) -> float:  # the darkening grows by luma / level, capped
        return luma - 60 * (1 + (min(luma / (150 * CAVITY_KNEE), CAVITY_GAIN) - 1) * weight)

    for weight in (0.0, 0.5, 1.0):
        cavity = np.full((48, 48), weight, np.float32)
        out = apply_change(photo, FaceChange(flow, residual, None, cavity, level), to_photo).astype(int)
        assert abs(out[100, 90, 0] - expected(240, weight)) <= 1 and abs(out[100, 110, 0] - expected(150, weight)) <= 1
    assert expected(240, 1.0) < 100 < expected(240, 0.0)  # in the cavity the teeth go dark, not grey
    up = apply_change(photo, FaceChange(flow, -residual, None, np.ones((48, 48), np.float32), level), to_photo)
    assert int(up[100, 90, 0]) == 255 and int(up[100, 110, 0]) == 210  # brightening is not scaled
    with pytest.raises(ValueError, match="come together"):
        FaceChange(flow, residual, None, np.ones((48, 48), np.float32))


def test_the_cavity_is_where_the_target_is_dark_and_the_change_darkens_deeply():
    target = np.array([[20.0, 20.0, 60.0, 120.0]])
    residual = np.array([[-100.0, -50.0, -100.0, -100.0]])
    assert np.allclose(cavity_weight(target, residual), [[1.0, 0.25, 0.5, 0.0]])
    assert cavity_weight(target, -residual).max() == 0.0  # brightening opens nothing
    # An open dark mouth drawn into the render over a bright one: the change carries a cavity there.
    source = np.full((48, 48), 170, np.uint8)
    target = source.copy()
    cv2.circle(target, (24, 34), 5, 10, -1)
    change = face_change(source, target, source)
    assert change.cavity[34, 24] > 0.9 and change.cavity[10, 10] == 0.0
    assert np.abs(change.cavity_level - 170 * CAVITY_KNEE)[4:-4, 4:-4].max() < 1.0
    assert face_change(source, target, source, cavity_knee=None).cavity is None


def _lips(centre_x: float, centre_y: float, width: float, height: float) -> np.ndarray:
    """68 landmarks [68, 2], all at the crop's centre but the lips: the outer lips (48-59) an
    ellipse, the inner ones (60-67) an ellipse half as high and two thirds as wide."""
    points = np.full((68, 2), 24.0)
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    points[48:60] = np.c_[centre_x + width / 2 * np.cos(angles), centre_y + height / 2 * np.sin(angles)]
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    points[60:68] = np.c_[centre_x + width / 3 * np.cos(angles), centre_y + height / 4 * np.sin(angles)]
    return points


def test_the_cavity_opens_only_around_the_target_renders_mouth():
    # A sad render can darken an eye socket as deeply as a surprise opens a mouth: with the target's
    # landmarks, only the mouth gets the cavity's gain (the eye got a black bruise without this).
    source = np.full((48, 48), 170, np.uint8)
    target = source.copy()
    cv2.circle(target, (24, 37), 4, 10, -1)  # an opening mouth
    cv2.circle(target, (15, 18), 4, 10, -1)  # a darkened eye socket
    points = _lips(24, 37, 14, 6)
    change = face_change(source, target, source, points=(points, points))
    assert change.cavity[37, 24] > 0.9 and change.cavity[18, 15] == 0.0
    # Without landmarks (optical flow): the FER template's mouth box.
    flowed = face_change(source, target, source)
    assert flowed.cavity[37, 24] > 0.9 and flowed.cavity[18, 15] == 0.0


def test_the_mouth_region_is_the_outer_lips_widened():
    region = mouth_region(_lips(24, 37, 14, 6))
    assert region[37, 24] == 1.0 and region[37, 17] == 1.0  # inside, and on a mouth corner
    assert region[37, 14] == 1.0 and region[37, 13] == 0.0  # MOUTH_MARGIN (3) beyond the corner, not 4
    assert region[18, 15] == 0.0 and region[27, 24] == 0.0  # an eye; the nose
    assert region.dtype == np.float32 and 0.0 <= region.min() and region.max() == 1.0
    template = mouth_region(None)
    assert template[37, 24] == 1.0 and template[18, 15] == 0.0


def test_a_dark_opening_beyond_the_photos_lips_is_a_shade_not_a_hole():
    # The model's mouth opens far beyond where the photo's lips are (a snarl raised to the nose):
    # past the moved inner lips (and STRAY_MARGIN), the darkening stops at STRAY_DEPTH; around T's
    # mouth only, so a darkened eye socket is left as it was (a black patch over a moustache before).
    source = np.full((48, 48), 170, np.uint8)
    target = source.copy()
    cv2.circle(target, (24, 37), 8, 10, -1)  # an opening reaching from the nose to the chin
    cv2.circle(target, (15, 18), 3, 10, -1)  # a darkened eye socket
    points = _lips(24, 37, 14, 6)
    change = face_change(source, target, source, points=(points, points), shift_removed=0.0)
    raw = face_change(source, target, source, points=(points, points), stray_margin=None, shift_removed=0.0)
    assert raw.residual[37, 24] < -100 and change.residual[37, 24] < -100  # between the lips: the hole
    assert raw.residual[31, 24] < -100  # above the upper lip, without the clamp: a hole too
    assert change.residual[31, 24] >= -STRAY_DEPTH - 1e-3 and change.residual[31, 24] < -STRAY_DEPTH / 2
    assert change.residual[18, 15] == raw.residual[18, 15] < -100  # far from the mouth: untouched
    assert np.array_equal(change.residual >= 0, raw.residual >= 0)  # brightening is not touched


def test_the_upper_teeth_band_lies_just_below_the_moved_upper_lip():
    """mouth_darkening.upper_teeth_band (transfer_screen's teethband-H; off by default): the cavity
    stops growing there, so a smile's upper teeth under a surprise's O are not blackened."""
    lip = np.array([[16.0, 30.0], [20.0, 29.0], [24.0, 28.5], [28.0, 29.0], [32.0, 30.0]])
    band = upper_teeth_band(lip, 48, height=2.5)
    assert band[30, 24] == 1.0 and band[29, 24] > 0.4  # 1.5 and 0.5 px below the lip's middle
    assert band[27, 24] == 0.0 and band[33, 24] == 0.0  # above the lip, below the band
    assert band[30, 5] == 0.0 and band[30, 40] == 0.0  # beyond the corners
    assert not upper_teeth_band(lip, 48, height=0.0).any() and TEETH_BAND == 0.0


def test_a_lightening_all_over_the_face_is_halved_and_local_changes_kept():
    # SHIFT_REMOVED: a surprise render lighter all over than the face's (+20 grey levels here) washed
    # dark skin out; that share of the residual's mean over the face oval is taken off, its local
    # part (a darker mouth) stays as it was.
    rng = np.random.default_rng(0)
    source = np.clip(120 + rng.normal(0, 20, (48, 48)), 0, 255).astype(np.uint8)
    target = source.astype(np.float32) + 20.0
    target[34:40, 18:30] -= 60.0  # the mouth: darker
    target = np.clip(target, 0, 255).astype(np.uint8)
    oval = crop_face_mask(48)
    means = {}
    for share in (0.0, SHIFT_REMOVED, 1.0):
        residual = face_change(source, target, source, mode="flow", shift_removed=share).residual
        means[share] = float((residual * oval).sum() / oval.sum())
        local = residual[37, 24] - residual[20, 24]  # the mouth against the forehead
        assert local < -30  # kept whatever the share
    assert means[0.0] > 10 and abs(means[1.0]) < 1e-3
    assert means[SHIFT_REMOVED] == pytest.approx((1 - SHIFT_REMOVED) * means[0.0], abs=1e-3)
    assert 0 < SHIFT_REMOVED < 1
