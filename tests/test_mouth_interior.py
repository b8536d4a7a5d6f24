"""An opened mouth's inside drawn as teeth along the lips over a dark cavity (editor/mouth_interior.py)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from editor.mouth_interior import CAVITY_CEILING, lip_curves, structured_interior, teeth_reaches

# Inner lips (landmarks 60-67) of a mouth open 8 crop pixels: corners at y 30, lips at 26 and 34.
LIPS = np.array([[14, 30], [19, 26], [24, 26], [29, 26], [34, 30], [29, 34], [24, 34], [19, 34]], np.float64)


def _render(upper_teeth: float = 3.0, lower_teeth: float = 0.0) -> np.ndarray:
    """A 48x48 field: skin 150, a dark cavity (30) between the lips, a band of teeth (220) hanging
    `upper_teeth` crop pixels from the upper lip and one rising `lower_teeth` from the lower."""
    field = np.full((48, 48), 150.0, np.float32)
    y, x = np.mgrid[0:48, 0:48].astype(np.float64) + 0.0
    top, bottom = lip_curves(LIPS, x[0])
    between = (y >= top[None, :]) & (y <= bottom[None, :]) & (x >= 14) & (x <= 34)
    field[between] = 30.0
    field[between & (y < top[None, :] + upper_teeth)] = 220.0
    field[between & (y > bottom[None, :] - lower_teeth)] = 220.0
    return field


def _photo_grid(scale: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Crop positions of a photo box drawn at `scale` photo pixels per crop pixel (pixel centres)."""
    coords = (np.arange(48 * scale, dtype=np.float32) + 0.5) / scale - 0.5
    return np.meshgrid(coords, coords)


def test_the_reaches_follow_the_renders_bands_of_teeth():
    reaches = teeth_reaches(_render(upper_teeth=3.0, lower_teeth=2.0), LIPS)
    middle = len(reaches["x"]) // 2
    gap = 8.0  # the lips' gap at the middle
    assert abs(reaches["upper"][middle] * gap - 3.0) < 1.0
    assert abs(reaches["lower"][middle] * gap - 2.0) < 1.0
    assert reaches["teeth"] > 200 and reaches["dark"] < 50


def test_a_mouth_without_contrast_is_left_as_the_render_drew_it():
    flat = np.full((48, 48), 40.0, np.float32)
    assert teeth_reaches(flat, LIPS) is None
    at_x, at_y = _photo_grid()
    drawn = np.random.default_rng(0).uniform(0, 255, at_x.shape).astype(np.float32)
    assert np.array_equal(structured_interior(flat, LIPS, at_x, at_y, drawn), drawn)


def test_teeth_hang_from_the_upper_lip_over_a_dark_cavity_and_nothing_changes_outside_the_lips():
    field = _render(upper_teeth=3.0)
    at_x, at_y = _photo_grid()
    drawn = np.full(at_x.shape, 99.0, np.float32)
    out = structured_interior(field, LIPS, at_x, at_y, drawn)
    column = out[:, 24 * 8 + 4]
    assert column[int(27 * 8)] > 180  # a crop pixel below the upper lip: teeth
    assert column[int(32 * 8)] < 60  # towards the lower lip: the cavity
    assert np.all(out[: 25 * 8, :] == 99.0)  # above the upper lip: as drawn
    assert np.all(out[:, : 13 * 8] == 99.0)  # beside the mouth: as drawn


def test_a_speck_of_light_in_the_cavity_is_not_drawn_as_a_tooth():
    field = _render(upper_teeth=3.0)
    field[31:33, 23:25] = 220.0  # a render's white blob in the middle of a dark mouth
    at_x, at_y = _photo_grid()
    out = structured_interior(field, LIPS, at_x, at_y, np.zeros(at_x.shape, np.float32))
    reaches = teeth_reaches(field, LIPS)
    ceiling = reaches["dark"] + CAVITY_CEILING * (220.0 - reaches["dark"]) + 1.0
    assert out[int(31.5 * 8), int(23.5 * 8)] <= ceiling


def test_teeth_run_in_a_band_not_a_flicker_from_column_to_column():
    field = _render(upper_teeth=3.0)
    field[26:29, 20:22] = 30.0  # a render's gap between teeth, two crop pixels wide
    reaches = teeth_reaches(field, LIPS)
    middle = slice(len(reaches["x"]) // 4, 3 * len(reaches["x"]) // 4)
    upper = reaches["upper"][middle] * 8.0
    assert upper.min() > 1.0  # the gap narrows the band; it does not cut it


def test_the_edit_draws_the_opened_mouth_in_bands_unless_told_to_draw_the_render_as_it_is():
    from editor.change_to_photo import apply_change
    from editor.mouth_opening import MouthOpening
    from editor.transfer import FaceChange

    scale = 8.0
    to_photo = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    photo = np.full((48 * 8, 48 * 8, 3), 150, np.uint8)
    field = _render(upper_teeth=3.0)
    field[31:33, 23:25] = 220.0  # a white blob in the cavity
    own = LIPS.copy()
    own[1:4, 1], own[5:8, 1] = 29.95, 30.05  # the photo's lips were closed
    opening = MouthOpening(LIPS.astype(np.float32), own.astype(np.float32), field, match_focus=False)
    still = np.zeros((48, 48, 2), np.float32)

    def edited(structured: bool) -> np.ndarray:
        change = FaceChange(still, np.zeros((48, 48), np.float32), opening=replace(opening, structured=structured))
        return apply_change(photo, change, to_photo).astype(float).mean(axis=-1)

    banded, raw = edited(True), edited(False)
    blob = (int(32 * scale), int(24 * scale))
    assert raw[blob] > 150 and banded[blob] < 90
    assert banded[int(27 * scale), int(24 * scale)] > 170  # the upper teeth stay
