"""The line where closed lips meet (editor/lip_seam.py), and the closing cover that draws it."""

from __future__ import annotations

import cv2
import numpy as np

from editor.change_to_photo import apply_change
from editor.lip_seam import SEAM_DEPTH, UPPER_SHADE, seam_line, seam_shade
from editor.transfer import face_change
from tests.test_mouth_opening import _closed_mouth_face, _lips_render, _smile_face

SCALE = 8.0
TO_PHOTO = np.array([[SCALE, 0.0, 0.0], [0.0, SCALE, 0.0]])


def _closed_lips() -> np.ndarray:
    """Inner lips 60-67 [8, 2] of a closed mouth at crop y 20, x 14-34 (a flat seam)."""
    xs = [14.0, 19.0, 24.0, 29.0, 34.0, 29.0, 24.0, 19.0]
    ys = [20.0, 19.8, 19.8, 19.8, 20.0, 20.2, 20.2, 20.2]
    return np.stack([xs, ys], axis=-1)


def test_the_seam_runs_midway_between_the_lips_from_corner_to_corner():
    line = seam_line(_closed_lips())
    assert np.allclose(line[0], [14.0, 20.0]) and np.allclose(line[-1], [34.0, 20.0])
    assert np.allclose(line[:, 1], 20.0, atol=0.05)  # the middle of 19.8 and 20.2
    assert np.all(np.diff(line[:, 0]) > 0)


def test_the_seam_is_darkest_on_the_line_and_leaves_the_lips_away_from_it():
    shade = seam_shade(_closed_lips(), TO_PHOTO, (0, 0), (48 * 8, 48 * 8), upper=0.0)
    column = shade[:, 24 * 8]
    assert abs(float(column.min()) - (1.0 - SEAM_DEPTH)) < 0.02
    assert abs(int(np.argmin(column)) - 160) <= 1  # crop y 20 is photo row 160
    assert column[160 - 12] > 0.99 and column[160 + 12] > 0.99  # 1.5 crop pixels off: the lips as they were
    assert np.allclose(column[160 - 3], column[160 + 3], atol=1e-3)  # the same profile either side
    assert np.all(shade[:, : 10 * 8] == 1.0)  # nothing beyond the mouth's corners
    assert np.all(seam_shade(_closed_lips(), TO_PHOTO, (0, 0), (384, 384), depth=0.0, upper=0.0) == 1.0)


def test_the_upper_lip_is_a_shade_darker_than_the_lower():
    shade = seam_shade(_closed_lips(), TO_PHOTO, (0, 0), (48 * 8, 48 * 8), depth=0.0, upper=0.15)
    column = shade[:, 24 * 8]
    assert abs(float(column[160 - 12]) - 0.85) < 0.01 and float(column[160 + 12]) > 0.99
    assert 0 < UPPER_SHADE < SEAM_DEPTH  # a shade, not a second seam


def test_a_smile_edited_to_closed_lips_shows_where_they_meet():
    # dev100's neutral: covered in the lips' colour at T's levels, the closed mouth was a flat plate
    # with no line through it. With the seam the covered mouth has a dark line down its middle.
    source, target = _smile_face(4.0), _closed_mouth_face()
    target[[61, 62, 63], 1] += 0.3
    target[[65, 66, 67], 1] -= 0.3
    s, t, shown = _lips_render(source, teeth=90.0), _lips_render(target, teeth=60.0), _lips_render(source, teeth=235.0)
    photo = cv2.resize(np.repeat(shown[..., None], 3, axis=2), (48 * 8, 48 * 8), interpolation=cv2.INTER_NEAREST)
    photo[..., 1:] = (photo[..., 1:] * 0.8).astype(np.uint8)
    photo[shown.repeat(8, 0).repeat(8, 1) > 200] = 235
    darkest = {}
    for depth in (0.0, SEAM_DEPTH):
        change = face_change(s, t, shown, points=(source, target), lip_seam=depth)
        assert change.opening is not None and change.opening.closing > 0 and change.opening.seam == depth
        out = cv2.cvtColor(apply_change(photo, change, TO_PHOTO), cv2.COLOR_RGB2GRAY).astype(float)
        seam_y = seam_line(change.opening.polygon)[:, 1].mean() * SCALE
        band = out[int(seam_y) - 24:int(seam_y) + 25, 20 * 8:28 * 8]  # the mouth's middle, 3 crop pixels high
        darkest[depth] = (float(band.min(axis=0).mean()), float(np.median(band)))
    flat, seamed = darkest[0.0], darkest[SEAM_DEPTH]
    assert seamed[0] < 0.75 * flat[0]  # a line darker than anything the flat cover had
    assert abs(seamed[1] - flat[1]) < 0.15 * flat[1]  # the lips round it as they were


def test_the_shade_is_drawn_only_round_the_cover_and_the_same_there():
    # A 16 MP photo's face box is millions of pixels; the cover is a sliver round the mouth.
    everywhere = seam_shade(_closed_lips(), TO_PHOTO, (0, 0), (384, 384))
    where = np.zeros((384, 384), np.float32)
    where[150:170, 130:250] = 0.5
    around = seam_shade(_closed_lips(), TO_PHOTO, (0, 0), (384, 384), where=where)
    assert np.allclose(around[150:170, 130:250], everywhere[150:170, 130:250], atol=1e-6)
    outside = np.ones((384, 384), bool)
    outside[150:170, 130:250] = False
    assert np.all(around[outside] == 1.0)
    assert np.all(seam_shade(_closed_lips(), TO_PHOTO, (0, 0), (384, 384), where=np.zeros((384, 384))) == 1.0)
