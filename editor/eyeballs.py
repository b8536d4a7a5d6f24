"""Eyes that keep their shape when the lids open: the lids slide over a still eyeball.

The lids move as the renders' did (motion.lid_flow: surprise and fear open the eyes by up to a
crop pixel each lid, an eye's opening being some 1.7). The flow is smooth, so everything between
the lids is stretched with them: the iris and pupil became tall ovals and the catchlight a white
vertical bar through them (dev035's and fr_obama's surprise, dev080's fear and surprise). An
eyeball does not stretch; the lids slide over it. So, as teeth_sideways.py does for the teeth
sideways, between the moved lids each column of the eye is moved in three parts: the middle
RIGID_SHARE of the photo's own opening (iris, pupil and catchlight) stays where it is, at its
own height, and the bands between it and each lid take the whole stretch (or squeeze, as the
lids close for happy), so the lid margins still land where the lids go.

What the bands show is still the photo's few rows next to each lid drawn out: each column's own
pixels, so the lashes and the lid margin came out as a comb of vertical streaks. As far as a band
is stretched it is blurred sideways (EYE_BLUR), to a smooth band of the eye's own colours. The
iris mostly reaches from lid to lid, and no warp can show more of it than the photo has: it still
fills the opened eye (a wider opening would need a drawn eyeball, sclera round a round iris).

The hold is a function of crop coordinates, drawn at the resolution it is used at (the photo's,
change_to_photo.apply_change): an eye is a few crop pixels high.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .faces import affine_scale
from .lip_outline import rectangle_around
from .motion import y_along

# Keep the eyeball still between the opening lids (False: stretched with them, as until 2026-12-07).
RIGID_EYES = True
# The share of the photo's own opening, about its middle, that stays as it is.
RIGID_SHARE = 0.6
# Crop pixels over which the hold fades out beyond the moved lids and the corners.
FEATHER = 0.35
# The most a band may be stretched or squeezed (source pixels per output pixel, either way).
MAX_SCALE = 4.0
# The stretched bands' sideways blur (crop pixels), and how soft their edges are (crop pixels).
EYE_BLUR = 0.4
BAND_SOFTNESS = 0.3
EYES = (36, 42)  # each eye's first corner; then its upper lid, other corner, lower lid (iBUG 300-W)


@dataclass(frozen=True)
class EyeHold:
    """One eye's lids, the photo's own and moved, as polylines corner to corner (crop pixels)."""

    upper: np.ndarray  # [4, 2] float64: corner, two upper-lid points, corner (the photo's own)
    lower: np.ndarray  # [4, 2] float64: corner, two lower-lid points, corner
    upper_moved: np.ndarray  # [4] float64: the upper lid's y where the motion puts it
    lower_moved: np.ndarray
    rigid_share: float = RIGID_SHARE

    def corners(self) -> np.ndarray:
        """[4, 2] crop points round everything the hold reaches (the lids, own and moved, and
        FEATHER beyond them)."""
        ys = np.r_[self.upper[:, 1], self.lower[:, 1], self.upper_moved, self.lower_moved]
        x0, x1 = self.upper[:, 0].min() - FEATHER, self.upper[:, 0].max() + FEATHER
        y0, y1 = ys.min() - FEATHER, ys.max() + FEATHER
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def eye_holds(source_points: np.ndarray, lids: np.ndarray, *, rigid_share: float = RIGID_SHARE) -> tuple[EyeHold, ...]:
    """Both eyes' holds for S's landmarks `source_points` [68, 2] and the lids' moves `lids`
    (motion.lid_moves of S's and T's landmarks, [8, 2], the same the lid flow moves them by);
    an eye whose lids do not move gets none."""
    source = np.asarray(source_points, np.float64)
    dy = np.asarray(lids, np.float64)[:, 1].reshape(2, 4)  # per eye: upper, upper, lower, lower
    holds = []
    for eye, move in zip(EYES, dy):
        if not np.any(np.abs(move) > 1e-3):
            continue
        upper = source[[eye, eye + 1, eye + 2, eye + 3]]
        lower = source[[eye, eye + 5, eye + 4, eye + 3]]
        upper_moved = upper[:, 1] + np.array([0.0, move[0], move[1], 0.0])
        lower_moved = lower[:, 1] + np.array([0.0, move[3], move[2], 0.0])
        holds.append(EyeHold(upper, lower, upper_moved, lower_moved, rigid_share))
    return tuple(holds)


def _columns(hold: EyeHold, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """At crop x (any shape): the photo's own upper and lower lid, where the motion puts them, and
    the still middle band's top and bottom (crop y each)."""
    top, bottom = y_along(hold.upper, x), y_along(hold.lower, x)
    top_moved = y_along(np.stack([hold.upper[:, 0], hold.upper_moved], axis=-1), x)
    bottom_moved = y_along(np.stack([hold.lower[:, 0], hold.lower_moved], axis=-1), x)
    middle, half = (top + bottom) / 2, np.maximum(bottom - top, 0.0) / 2
    return top, bottom, top_moved, bottom_moved, middle - hold.rigid_share * half, middle + hold.rigid_share * half


def held_source_y(hold: EyeHold, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For output crop points (x, y) (any shape): the crop y whose photo pixel each shows with the
    eyeball held (its middle still, the stretch next to the lids), and the hold's weight there (1
    between the moved lids and the corners, fading over FEATHER outside; 0 where the hold cannot
    apply: lids closing past the middle band)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    top, bottom, top_moved, bottom_moved, rigid_top, rigid_bottom = _columns(hold, x)
    up_band, down_band = rigid_top - top_moved, bottom_moved - rigid_bottom
    with np.errstate(divide="ignore", invalid="ignore"):
        up_scale = (rigid_top - top) / np.where(up_band > 1e-3, up_band, 1.0)  # source pixels per output pixel
        down_scale = (bottom - rigid_bottom) / np.where(down_band > 1e-3, down_band, 1.0)
    # Squeezed or stretched past MAX_SCALE (lids closing onto the still middle), a band would sample
    # far beyond its lid: the hold lets go there.
    valid = ((up_band > 1e-3) & (down_band > 1e-3) & (up_scale >= 1 / MAX_SCALE) & (up_scale <= MAX_SCALE)
             & (down_scale >= 1 / MAX_SCALE) & (down_scale <= MAX_SCALE))
    # Beyond the moved lids (where the hold fades out) the lid moves as one piece, as the lids' field has it.
    above = top + (y - top_moved) * np.where(y < top_moved, 1.0, up_scale)
    below = bottom - (bottom_moved - y) * np.where(y > bottom_moved, 1.0, down_scale)
    source = np.where(y < rigid_top, above, np.where(y > rigid_bottom, below, y))
    left, right = float(hold.upper[:, 0].min()), float(hold.upper[:, 0].max())
    outside = np.maximum.reduce([top_moved - y, y - bottom_moved, left - x, x - right, np.zeros_like(x)])
    weight = np.clip(1.0 - outside / FEATHER, 0.0, 1.0) * valid
    return source, weight


def stretched_bands(hold: EyeHold, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """[same shape] float32 in [0, 1]: how far each output crop point (x, y) lies in a band the
    hold stretches (between a moved lid and the still middle), by how much it is stretched: 0 at one
    pixel per pixel, 1 from twice on."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    top, bottom, top_moved, bottom_moved, rigid_top, rigid_bottom = _columns(hold, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.clip((rigid_top - top_moved) / np.maximum(rigid_top - top, 1e-3) - 1.0, 0.0, 1.0)
        down = np.clip((bottom_moved - rigid_bottom) / np.maximum(bottom - rigid_bottom, 1e-3) - 1.0, 0.0, 1.0)
    left, right = float(hold.upper[:, 0].min()), float(hold.upper[:, 0].max())
    inside = (x >= left) & (x <= right)
    upper = (y >= top_moved - FEATHER) & (y < rigid_top)
    lower = (y > rigid_bottom) & (y <= bottom_moved + FEATHER)
    return (np.where(upper, up, 0.0) + np.where(lower, down, 0.0)) * inside


def held_eye_flow(flow_y: np.ndarray, crop_x: np.ndarray, crop_y: np.ndarray,
                  holds: tuple[EyeHold, ...]) -> np.ndarray:
    """The backward flow's vertical part (crop pixels, at crop points (crop_x, crop_y), all one
    shape) with each eye's hold applied where its weight reaches."""
    for hold in holds:
        source, weight = held_source_y(hold, crop_x, crop_y)
        flow_y = (flow_y + weight * ((source - crop_y) - flow_y)).astype(np.float32)
    return flow_y


def _eye_rectangles(holds: tuple[EyeHold, ...], to_photo: np.ndarray, box: tuple[int, int, int, int]):
    """Each hold with the (x0, y0, x1, y1) rectangle of the photo `box` it reaches (relative to it)."""
    shape = (box[3] - box[1], box[2] - box[0])
    for hold in holds:
        rectangle = rectangle_around(hold.corners(), to_photo, box[:2], shape)
        if rectangle is not None:
            yield hold, rectangle


def held_photo_eyes(flow_y: np.ndarray, crop_x: np.ndarray, crop_y: np.ndarray, holds: tuple[EyeHold, ...],
                    to_photo: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """held_eye_flow over the photo `box` ([h, w] each; crop_x, crop_y: each box pixel's crop
    point), worked out only round each eye: a slider move runs it on 24 MP photos too."""
    flow_y = flow_y.copy()
    for hold, (x0, y0, x1, y1) in _eye_rectangles(holds, to_photo, box):
        flow_y[y0:y1, x0:x1] = held_eye_flow(flow_y[y0:y1, x0:x1], crop_x[y0:y1, x0:x1], crop_y[y0:y1, x0:x1], (hold,))
    return flow_y


def smoothed_bands(warped: np.ndarray, crop_x: np.ndarray, crop_y: np.ndarray, holds: tuple[EyeHold, ...],
                   to_photo: np.ndarray, box: tuple[int, int, int, int], *, blur: float = EYE_BLUR) -> np.ndarray:
    """The warped photo `warped` ([h, w, 3] over `box`) with the bands the holds stretch blurred
    sideways by `blur` crop pixels, as far as they are stretched (stretched_bands): a column-wise
    stretch draws each column's few pixels out into a vertical streak, and the lashes' and the lid
    margin's columns into a comb."""
    if blur <= 0:
        return warped
    scale = affine_scale(to_photo)  # crop -> photo pixels
    out = warped.copy()
    for hold, (x0, y0, x1, y1) in _eye_rectangles(holds, to_photo, box):
        bands = stretched_bands(hold, crop_x[y0:y1, x0:x1], crop_y[y0:y1, x0:x1]).astype(np.float32)
        bands = cv2.GaussianBlur(bands, (0, 0), max(BAND_SOFTNESS * scale, 0.5))  # no step at the bands' edges
        patch = out[y0:y1, x0:x1].astype(np.float32)
        smooth = cv2.GaussianBlur(patch, (0, 0), sigmaX=blur * scale, sigmaY=0.01)
        mixed = patch + bands[..., None] * (smooth - patch)
        out[y0:y1, x0:x1] = np.clip(np.rint(mixed), 0, 255).astype(out.dtype) if out.dtype == np.uint8 else mixed
    return out
