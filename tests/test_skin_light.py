"""A brightening in the face's skin colour (editor/skin_light.py): the luminance moves as the
residual says, the colour keeps the skin's proportions, one tint per face from its skin only."""

from __future__ import annotations

import numpy as np
import pytest

from editor.skin_light import BT601, MAX_CHROMA, brighten_in, eye_region, skin_likeness, skin_tint
from editor.change_to_photo import apply_change
from editor.transfer import FaceChange, face_change

SKIN = np.array([180.0, 120.0, 90.0], np.float32)


def test_the_tint_is_the_skins_colour_over_its_luminance():
    region = np.broadcast_to(SKIN, (60, 60, 3)).astype(np.float32)
    tint = skin_tint(region, np.ones((60, 60), np.float32))
    assert abs(float(tint @ BT601) - 1.0) < 1e-5
    assert np.allclose(tint, SKIN / float(SKIN @ BT601), atol=1e-4)


def test_hair_teeth_and_what_lies_outside_the_oval_do_not_colour_the_tint():
    rng = np.random.default_rng(0)
    region = np.broadcast_to(SKIN, (100, 100, 3)).astype(np.float32) + rng.normal(0, 3, (100, 100, 3)).astype(np.float32)
    region[:20] = (20, 20, 60)  # dark blue-black hair: below the skin's percentiles
    region[90:, :5] = (250, 250, 250)  # a highlight or teeth: above them
    weight = np.ones((100, 100), np.float32)
    weight[:, 80:] = 0.0
    region[:, 80:] = (0, 255, 0)  # the background, outside the oval
    tint = skin_tint(region, weight)
    assert np.allclose(tint, SKIN / float(SKIN @ BT601), atol=0.03)


def test_no_skin_or_no_light_gives_grey_and_a_cast_is_clipped():
    assert np.array_equal(skin_tint(np.zeros((10, 10, 3), np.float32), np.ones((10, 10))), np.ones(3, np.float32))
    assert np.array_equal(skin_tint(np.full((10, 10, 3), 100, np.float32), np.zeros((10, 10))), np.ones(3, np.float32))
    assert np.allclose(skin_tint(np.full((10, 10, 3), 100, np.float32), np.ones((10, 10))), 1.0)  # a grey photo stays grey
    red = np.broadcast_to(np.float32([255, 10, 10]), (10, 10, 3))  # a red gel light
    tint = skin_tint(red, np.ones((10, 10)))
    assert abs(float(tint @ BT601) - 1.0) < 1e-5
    assert tint.max() / tint.min() <= (1 + MAX_CHROMA) / (1 - MAX_CHROMA) + 1e-4


def test_a_brightening_moves_the_luminance_by_the_residual_and_a_darkening_stays_grey():
    tint = SKIN / float(SKIN @ BT601)
    added = brighten_in(np.array([[20.0, -20.0]], np.float32), tint)
    assert abs(float(added[0, 0] @ BT601) - 20.0) < 1e-3 and added[0, 0, 0] > added[0, 0, 1] > added[0, 0, 2]
    assert np.allclose(added[0, 1], -20.0)


def test_warm_skin_brightened_keeps_its_warmth():
    photo = np.full((200, 200, 3), SKIN, np.uint8)
    change = FaceChange(np.zeros((48, 48, 2), np.float32), np.full((48, 48), 30.0, np.float32), skin_light=True)
    out = apply_change(photo, change, np.array([[3.0, 0, 28.0], [0, 3.0, 28.0]]))[100, 100].astype(float)
    grey = SKIN + 30.0  # the residual added alike: (210, 150, 120)
    assert abs(float(out @ BT601) - float(grey @ BT601)) < 1.0  # the same luminance ...
    # ... with the skin's proportions: R / B as the photo's (2.0), not 1.75
    assert abs(out[0] / out[2] - SKIN[0] / SKIN[2]) < 0.03 < abs(grey[0] / grey[2] - SKIN[0] / SKIN[2])


def test_the_flow_transfer_lights_in_the_skins_colour_and_the_difference_mode_in_grey():
    face = np.full((48, 48), 120, np.uint8)
    assert face_change(face, face, face).skin_light
    assert not face_change(face, face, face, skin_light=False).skin_light
    assert not face_change(face, face, face, mode="difference").skin_light


def test_round_the_eyes_a_brightening_stays_grey():
    tint = SKIN / float(SKIN @ BT601)
    residual = np.full((1, 3), 20.0, np.float32)
    added = brighten_in(residual, tint, grey=np.array([[0.0, 0.5, 1.0]], np.float32))
    assert np.allclose(added[0, 2], 20.0)  # an eye white: grey light
    assert np.allclose(added[0, 1], 20.0 + 0.5 * 20.0 * (tint - 1.0))
    assert np.allclose(added[0, 0], 20.0 * tint)


def test_the_eye_region_covers_each_eyes_landmarks_and_little_else():
    points = np.zeros((68, 2))
    points[:] = (24.0, 40.0)  # everything else at the chin
    for eye, centre in ((slice(36, 42), 15.0), (slice(42, 48), 33.0)):
        angles = np.linspace(0, 2 * np.pi, 6, endpoint=False)
        points[eye] = np.stack([centre + 3 * np.cos(angles), 18.0 + 1.5 * np.sin(angles)], axis=-1)
    region = eye_region(points, points)
    assert region[18, 15] == 1.0 and region[18, 33] == 1.0
    assert region[18, 24] == 0.0 and region[30, 24] == 0.0  # between the eyes, the cheek


def test_the_flow_transfer_keeps_the_eyes_grey_with_landmarks():
    face = np.full((48, 48), 120, np.uint8)
    points = np.tile(np.float32([24.0, 24.0]), (68, 1)) + np.random.default_rng(0).normal(0, 3, (68, 2)).astype(np.float32)
    change = face_change(face, face, face, points=(points, points))
    assert change.skin_light and change.eyes is not None and change.eyes.max() == 1.0
    assert face_change(face, face, face, points=(points, points), skin_light=False).eyes is None


def test_without_landmarks_the_eyes_are_the_templates_and_stay_grey():
    # The optical-flow transfer (no landmark model) and the capped frame had no eye region, so
    # fear's and surprise's whites could come out amber there (the "cat's eyes" the region fixed).
    face = np.full((48, 48), 120, np.uint8)
    change = face_change(face, face, face)
    assert change.skin_light and change.eyes is not None
    assert change.eyes[20, 15] == 1.0 and change.eyes[20, 32] == 1.0  # FER2013's mean eyes, y = 20
    assert change.eyes[36, 24] == 0.0 and change.eyes[6, 24] == 0.0  # mouth and forehead: the skin's light
    assert np.array_equal(eye_region(None, None), change.eyes)
    points = np.tile(np.float32([24.0, 24.0]), (68, 1)) + np.random.default_rng(0).normal(0, 3, (68, 2)).astype(np.float32)
    assert face_change(face, face, face, points=(points, points), follow_cap=True).eyes is not None


def test_grey_hair_and_eye_whites_get_grey_light_and_skin_the_skins():
    tint = SKIN / float(SKIN @ BT601)
    pixels = np.array([[SKIN, [120.0, 120.0, 120.0], [60.0, 80.0, 160.0], SKIN * 1.2]], np.float32)
    likeness = skin_likeness(pixels, tint)
    # Grey to float32 precision: BT.601's weights sum to 1 only to it (2.6e-8 on an AMD EPYC).
    assert likeness[0, 0] == pytest.approx(1.0) and likeness[0, 1] == pytest.approx(0.0, abs=1e-6)
    assert likeness[0, 2] == 0.0
    assert likeness[0, 3] == pytest.approx(1.0)  # the same skin, brighter
    added = brighten_in(np.full((1, 4), 20.0, np.float32), tint, pixels=pixels)
    assert np.allclose(added[0, 1], 20.0) and np.allclose(added[0, 0], 20.0 * tint)
    assert np.allclose(skin_likeness(pixels, np.ones(3, np.float32)), 0.0)  # a grey photo: grey light
