"""Paste-back on a real photo: scikit-image's astronaut (public domain), with a
hand-made crop->photo affine that frames her face like FER2013 (eyes on row
20 of the 48x48 crop, mouth on row 36)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.blend import crop_face_mask, luma, paste_back

SCALE = 2.625  # photo pixels per crop pixel: her eyes are 42 px apart, the template's 16
TO_PHOTO = np.array([[SCALE, 0.0, 158.0], [0.0, SCALE, 49.5]])  # crop pixel centres -> photo


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    return skimage_data.astronaut()  # [512, 512, 3] uint8


def aligned_crop(photo: np.ndarray, to_photo: np.ndarray = TO_PHOTO) -> np.ndarray:
    """The face as the generator sees it: [48, 48] uint8 luma."""
    grey = cv2.warpAffine(luma(photo), cv2.invertAffineTransform(to_photo), (48, 48), flags=cv2.INTER_AREA)
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def upside_down(crop: np.ndarray) -> np.ndarray:
    """A 'generated' face with the same brightness and contrast as the crop but
    different structure everywhere, as [48, 48] float in [-1, 1]."""
    return crop[::-1].astype(np.float32) / 127.5 - 1.0


def face_core(photo_shape, to_photo=TO_PHOTO, level: float = 0.999) -> np.ndarray:
    """Photo pixels well inside the face oval (bool [H, W])."""
    oval = cv2.warpAffine(crop_face_mask(48), to_photo, photo_shape[1::-1], flags=cv2.INTER_LINEAR)
    return cv2.erode((oval >= level).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)


def reach(photo_shape, to_photo=TO_PHOTO) -> np.ndarray:
    """Photo pixels the face oval could touch after feathering (bool [H, W]):
    the warped oval grown by 10% of the face size, more than the blur's reach."""
    oval = cv2.warpAffine(crop_face_mask(48), to_photo, photo_shape[1::-1], flags=cv2.INTER_LINEAR) > 0
    grow = int(np.ceil(0.1 * 48 * SCALE))
    return cv2.dilate(oval.astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)).astype(bool)


def test_crop_face_mask_is_a_soft_oval():
    mask = crop_face_mask(48)
    assert mask.shape == (48, 48) and mask.dtype == np.float32
    assert mask.min() == 0.0 and mask.max() == 1.0
    assert mask[0, 0] == mask[0, -1] == mask[-1, 0] == mask[-1, -1] == 0.0  # corners are background
    for y, x in [(20, 16), (20, 32), (29, 24), (36, 18), (36, 30)]:  # eyes, nose, mouth corners
        assert mask[y, x] == 1.0
    assert 0.05 < ((mask > 0) & (mask < 1)).mean() < 0.3  # a feathered rim, not a hard edge
    assert np.allclose(mask, mask[:, ::-1], atol=0.05)  # left-right symmetric
    assert crop_face_mask(96).shape == (96, 96)
    crop_face_mask(48)[:] = 0  # a copy: callers cannot spoil the cached mask
    assert crop_face_mask(48).max() == 1.0


@pytest.mark.parametrize("mode", ["alpha", "poisson"])
def test_only_the_face_changes(photo, mode):
    crop = aligned_crop(photo)
    out = paste_back(photo, upside_down(crop), TO_PHOTO, original_crop=crop, mode=mode)
    assert out.shape == photo.shape and out.dtype == np.uint8
    changed = (out != photo).any(axis=2)
    assert changed[face_core(photo.shape)].mean() > 0.9
    outside = ~reach(photo.shape)
    assert np.array_equal(out[outside], photo[outside])  # bit-identical, not merely close
    assert outside.mean() > 0.8


@pytest.mark.parametrize("mode", ["alpha", "poisson"])
def test_face_takes_the_generated_luminance_and_keeps_its_colour(photo, mode):
    crop = aligned_crop(photo)
    generated = upside_down(crop)
    out = paste_back(photo, generated, TO_PHOTO, original_crop=crop, mode=mode)
    core = face_core(photo.shape)
    wanted = cv2.warpAffine((generated + 1) * 127.5, TO_PHOTO, photo.shape[1::-1], flags=cv2.INTER_CUBIC)
    similarity = [np.corrcoef(luma(image)[core], wanted[core])[0, 1] for image in (photo, out)]
    # Alpha copies the (brightness-matched) face; Poisson copies its gradients and lets
    # the photo set the level at the rim, so its levels drift: measured 0.9999 and 0.76.
    assert similarity[0] < 0.2 and similarity[1] > (0.95 if mode == "alpha" else 0.6), similarity
    if mode == "alpha":
        assert np.abs(luma(out) - wanted)[core].mean() < 0.2 * np.abs(luma(photo) - wanted)[core].mean()
    ycc_in = cv2.cvtColor(photo, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    ycc_out = cv2.cvtColor(out, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    assert np.abs(ycc_out[..., 0] - ycc_in[..., 0])[core].mean() > 20  # Y moved a lot ...
    chroma = np.abs(ycc_out[..., 1:] - ycc_in[..., 1:])[core]
    # ... Cr, Cb stayed, up to rounding and where R, G or B clipped at 0 or 255 (this
    # upside-down face moves Y far; Poisson's drift clips more: measured p99 2 and 11).
    assert chroma.mean() < 1.5 and np.percentile(chroma, 99) < (4 if mode == "alpha" else 16)


def test_brightness_and_contrast_follow_the_original_face(photo):
    crop = aligned_crop(photo)
    dim_flat = (crop.astype(np.float32) - 128) * 0.5 + 40  # darker, half the contrast
    out = paste_back(photo, dim_flat / 127.5 - 1, TO_PHOTO, original_crop=crop)
    core = face_core(photo.shape)
    y_in, y_out = luma(photo)[core], luma(out)[core]
    assert abs(y_out.mean() - y_in.mean()) < 3.0
    assert abs(y_out.std() / y_in.std() - 1.0) < 0.1
    without_crop = paste_back(photo, dim_flat / 127.5 - 1, TO_PHOTO)  # matched in the photo instead
    assert abs(luma(without_crop)[core].mean() - y_in.mean()) < 5.0


@pytest.mark.parametrize("mode", ["alpha", "poisson"])
def test_strength_zero_is_identity_and_strength_scales(photo, mode):
    crop = aligned_crop(photo)
    generated = upside_down(crop)
    same = paste_back(photo, generated, TO_PHOTO, original_crop=crop, strength=0.0, mode=mode)
    assert np.array_equal(same, photo) and same is not photo
    core = face_core(photo.shape)
    change = [np.abs(luma(paste_back(photo, generated, TO_PHOTO, original_crop=crop, strength=s, mode=mode))
                     - luma(photo))[core].mean() for s in (0.25, 0.5, 1.0)]
    assert change[0] < change[1] < change[2]
    assert change[1] == pytest.approx(change[2] / 2, rel=0.15)


def test_uint8_and_float_generated_faces_agree(photo):
    crop = aligned_crop(photo)
    generated = upside_down(crop)
    as_uint8 = np.clip(np.rint((generated + 1) * 127.5), 0, 255).astype(np.uint8)
    a = paste_back(photo, generated, TO_PHOTO, original_crop=crop)
    b = paste_back(photo, as_uint8, TO_PHOTO, original_crop=crop)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


@pytest.mark.parametrize("mode", ["alpha", "poisson"])
def test_face_at_the_photo_edge_and_degenerate_faces(photo, mode):
    crop = aligned_crop(photo)
    edge = TO_PHOTO.copy()
    edge[:, 2] = (-40.0, 400.0)  # the face hangs off the left and bottom edges
    out = paste_back(photo, upside_down(crop), edge, original_crop=crop, mode=mode)
    assert out.shape == photo.shape and out.dtype == np.uint8
    assert (out != photo).any() and np.array_equal(out[:300], photo[:300])
    flat = paste_back(photo, np.zeros((48, 48), np.float32), TO_PHOTO, original_crop=crop, mode=mode)
    assert flat.shape == photo.shape  # a featureless face: no division by zero
    gone = TO_PHOTO.copy()
    gone[:, 2] = (5000.0, 5000.0)  # entirely outside
    assert np.array_equal(paste_back(photo, upside_down(crop), gone, mode=mode), photo)


def test_tiny_and_rotated_faces(photo):
    angle = np.deg2rad(20)
    small = 0.8 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    to_photo = np.hstack([small, [[300.0], [300.0]]])  # a 38-pixel face, tilted
    crop = aligned_crop(photo, to_photo)
    out = paste_back(photo, upside_down(crop), to_photo, original_crop=crop)
    changed = (out != photo).any(axis=2)
    assert changed.sum() > 300
    corners = np.array([[-0.5, -0.5], [47.5, -0.5], [-0.5, 47.5], [47.5, 47.5]]) @ small.T + 300.0
    ys, xs = np.nonzero(changed)  # all inside the crop's footprint
    assert corners[:, 0].min() <= xs.min() and xs.max() <= corners[:, 0].max()
    assert corners[:, 1].min() <= ys.min() and ys.max() <= corners[:, 1].max()


def test_rejects_bad_arguments(photo):
    crop = aligned_crop(photo)
    with pytest.raises(ValueError, match="mode"):
        paste_back(photo, crop, TO_PHOTO, mode="median")
    with pytest.raises(ValueError, match="uint8"):
        paste_back(photo.astype(np.float32), crop, TO_PHOTO)
    with pytest.raises(ValueError, match=r"\[2, 3\]"):
        paste_back(photo, crop, np.eye(3))
