"""The moustache shield: no brightening of dark hair between the nose and the upper lip."""

from __future__ import annotations

import numpy as np

from editor.moustache_shield import MOUSTACHE_LOW, MOUSTACHE_RAMP, shield_moustache, skin_level, upper_lip_band
from editor.transfer import face_change

from .test_mouth_opening import _closed_mouth_face, _lips_render, _opened


def test_the_band_lies_between_the_nose_and_the_upper_lip_and_past_the_corners():
    points = _closed_mouth_face()  # nose bottom at y 29, upper lip top at 33-36, corners at x 16 and 32
    band = upper_lip_band(points, np.zeros((48, 48, 2), np.float32))
    assert band[31, 24] == 1.0  # the philtrum
    assert band[31, 14] > 0.0  # past the left corner (moustaches reach beyond the mouth)
    assert band[24, 24] == 0.0 and band[42, 24] == 0.0  # the nose's bridge, the chin


def test_dark_hair_in_the_band_is_not_brightened_and_skin_is():
    points = _closed_mouth_face()
    flow = np.zeros((48, 48, 2), np.float32)
    photo = np.full((48, 48), 160.0, np.float32)
    photo[30:33, 14:35] = 30.0  # a black moustache: far below MOUSTACHE_LOW x the skin
    residual = np.full((48, 48), 40.0, np.float32)  # T brightens everything by 40
    residual[40, 24] = -30.0  # and darkens one chin pixel
    shielded = shield_moustache(residual, photo, skin_level(photo), points, flow)
    assert shielded[31, 24] == 0.0  # the moustache keeps its colour
    assert shielded[20, 24] == 40.0 and shielded[31, 40] == 40.0  # skin elsewhere brightens as before
    assert shielded[40, 24] == -30.0  # darkening is never changed
    # Skin in the band, as bright as the face's middle, brightens as before.
    assert np.array_equal(shield_moustache(residual, np.full((48, 48), 160.0, np.float32), 160.0, points, flow),
                          residual)
    # Between LOW and LOW + RAMP of the skin, in part.
    grey = np.full((48, 48), 160.0 * (MOUSTACHE_LOW + MOUSTACHE_RAMP / 2), np.float32)
    assert 15.0 < shield_moustache(residual, grey, 160.0, points, flow)[31, 24] < 25.0


def test_face_change_shields_by_default_and_not_when_told():
    source = _closed_mouth_face()
    target = _opened(source, 1.0)
    s_render = _lips_render(source)  # uint8 grey levels
    s_render[29:34, 14:35] = 90  # S keeps a faint moustache
    t_render = s_render.copy()
    t_render[29:34, 14:35] = 150  # T drops it: the band brightens by 60
    photo = np.full((48, 48), 150, np.uint8)
    photo[28:35, 14:35] = 25  # the photo's black moustache
    shielded = face_change(s_render, t_render, photo, points=(source, target))
    plain = face_change(s_render, t_render, photo, points=(source, target), moustache_low=None)
    assert plain.residual[31, 24] > 20.0
    assert shielded.residual[31, 24] < 0.2 * plain.residual[31, 24]
