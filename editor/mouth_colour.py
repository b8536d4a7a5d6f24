"""The colour of what fills an opening mouth (mouth_opening.py): the fill's grey levels come
from the target render, its colour from the photo, the lips' where the fill is dark (a mouth's
inside, in proportion to its light: SHADED_FILL) or where the target shows lips, and the light's
(a share of the skin's round the mouth) where it is bright (teeth)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from .lip_outline import lips_mask, polygon_mask, rectangle_around, widened

if TYPE_CHECKING:
    from .mouth_opening import MouthOpening

# The fill takes the lips' colour in full below DARK_MOUTH grey levels and, above BRIGHT_TEETH (linear
# between), TEETH_SKIN of the skin's colour round the mouth, which carries the light's colour: neutral
# grey teeth looked blue-grey in warm light (dev160's happy); without the photo's outer lips,
# TEETH_TINT of the lips' colour (as all fills were until 2026-12-06, late night).
DARK_MOUTH = 70.0
BRIGHT_TEETH = 170.0
TEETH_SKIN = 0.4
TEETH_TINT = 0.25
# A fill darker than the photo's lips takes their colour offset scaled by its luminance over theirs,
# as the same surface in shadow does (R, G, B = reflectance x light, so the offset from grey shrinks
# with the light): added in full, a mouth's dark inside came out a saturated raw red (dev012's
# and dev160's angry and surprise, 2026-12-07); the full offset stays where T shows lips.
SHADED_FILL = True


def lips_colour(photo: np.ndarray, opening: MouthOpening, to_photo: np.ndarray,
                origin: tuple[int, int]) -> tuple[np.ndarray, float] | None:
    """The photo's lips' mean offset of R, G, B from their luminance ([3] float32) and their mean
    luminance, read between its outer and inner lips over the [h, w, 3] float32 `photo` box at
    `origin`; None without them."""
    if opening.outer is None:
        return None
    # Only the outer lips' rectangle, as teeth_colour: the weight is 0 beyond it, and over a 24 MP
    # photo's face box (9 M pixels) this took 250 ms per edit and per slider move.
    rectangle = rectangle_around(opening.outer, to_photo, origin, photo.shape[:2])
    if rectangle is None:
        return None
    x0, y0, x1, y1 = rectangle
    part = np.ascontiguousarray(photo[y0:y1, x0:x1])
    corner, shape = (origin[0] + x0, origin[1] + y0), part.shape[:2]
    weight = (lips_mask(opening.outer, to_photo, corner, shape, smooth=opening.smooth)
              * (1.0 - lips_mask(opening.own, to_photo, corner, shape, smooth=opening.smooth)))
    total = float(weight.sum())
    if total < 1.0:
        return None
    return mean_colour(part, weight)


def mean_colour(part: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    """The `weight`ed ([h, w], summing to more than 0) mean offset of R, G, B from their luminance
    ([3] float32) over `part` ([h, w, 3] float32), and the mean luminance."""
    luma = cv2.cvtColor(part, cv2.COLOR_RGB2GRAY)
    total = float(weight.sum())
    offset = ((part - luma[..., None]) * weight[..., None]).reshape(-1, 3).sum(axis=0) / total
    return offset.astype(np.float32), float((luma * weight).sum() / total)


def teeth_colour(photo: np.ndarray, opening: MouthOpening, to_photo: np.ndarray,
                 origin: tuple[int, int], share: float = TEETH_SKIN) -> np.ndarray | None:
    """The fill's teeth's offset of R, G, B from their luminance ([3] float32): `share` of the
    skin's (the median over a ring from the photo's outer lips out to twice their size), which
    carries the light's colour; None without outer lips."""
    if opening.outer is None:
        return None
    outer = np.asarray(opening.outer, np.float64)
    wide = widened(outer, 2.0)
    # Only the ring's rectangle: the face's box of a 24 MP photo is some 9 M pixels.
    rectangle = rectangle_around(wide, to_photo, origin, photo.shape[:2])
    if rectangle is None:
        return None
    x0, y0, x1, y1 = rectangle
    part = np.ascontiguousarray(photo[y0:y1, x0:x1])
    corner = (origin[0] + x0, origin[1] + y0)
    ring = (polygon_mask(wide, to_photo, corner, part.shape[:2])
            - polygon_mask(outer, to_photo, corner, part.shape[:2])) > 0.5
    if not ring.any():
        return None
    luma = cv2.cvtColor(part, cv2.COLOR_RGB2GRAY)
    return (share * np.median(part[ring] - luma[ring][:, None], axis=0)).astype(np.float32)


def fill_colour(luminance: np.ndarray, lips: np.ndarray, interior: np.ndarray | None = None,
                teeth: np.ndarray | None = None, lips_level: float | None = None) -> np.ndarray:
    """[h, w, 3] float32: grey levels `luminance` [h, w] tinted by `lips` (the lips' mean
    offset of R, G, B from their luminance, [3]): in full where dark and where T shows lips
    (1 - `interior`, [h, w]); where bright, by `teeth` (teeth_colour's offset) or, without it,
    by TEETH_TINT of `lips`. With `lips_level` (the lips' mean luminance), the lips' offset
    shrinks in proportion where the fill is darker than they are (SHADED_FILL)."""
    tint = np.clip((BRIGHT_TEETH - luminance) / (BRIGHT_TEETH - DARK_MOUTH), 0.0, 1.0)
    lips = np.asarray(lips, np.float32)
    if teeth is None:
        tint = TEETH_TINT + (1.0 - TEETH_TINT) * tint
    if lips_level is not None and lips_level > 1.0:  # the mouth's inside, in shadow (not T's lips)
        tint = tint * np.clip(luminance / lips_level, 0.0, 1.0)
    if interior is not None:
        tint = tint * interior + (1.0 - interior)
    colour = tint[..., None] * lips
    if teeth is not None:  # bright: the light's colour (teeth_colour)
        colour = colour + (1.0 - tint[..., None]) * np.asarray(teeth, np.float32)
    return (luminance[..., None] + colour).astype(np.float32)
