"""Teeth that keep their width when the mouth narrows: the lips slide over them.

A smile with teeth edited to sad, surprise, angry or neutral narrows the mouth (the renders' by
up to half its width, dev122: 21.4 -> 11.2 crop pixels). The warp (motion.py) moves every pixel
between the mouth's corners with them, so the photo's row of teeth is squeezed sideways into
the narrower mouth: its gaps crowd together into a comb of thin vertical stripes (dev035's sad,
surprise and neutral). Teeth are fixed to the jaw; in a real face the lips' corners close over
the side teeth and the middle ones stay as they were. motion.RIGID_TEETH already hangs them from
the upper lip vertically; this is the same sideways:

inside the photo's inner lips where the warp puts them (the moved opening), the flow's
horizontal part (the crop's x, the face's own horizontal) keeps the middle of the row of teeth
at its own width (moved with the mouth's middle) and squeezes only its sides, in the shade of
the mouth's corners, onto what is left; and its vertical part moves the row as one piece, with
the upper inner lip's middle (LIFT), not after the mouth's corners. Only where the mouth narrows:
a widening mouth has no more teeth to show, and stretching its own is what the fill
(mouth_opening.py) makes up for.

The hold is drawn at the resolution it is used at (the crop's for the residual, the photo's for
the warp, change_to_photo.apply_change), so the step it makes sits on the lips' own edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .faces import affine_scale
from .lip_outline import CROP_FRAME, lips_mask, rectangle_around
from .mouth_opening import lip_gap, lips_focus

# Teeth keep their width when the mouth narrows (False: they are squeezed with it, as until 2026-12-07).
RIGID_SIDEWAYS = True
# Crop pixels of narrowing below which the warp is left as it is (a shift of a fraction of a pixel
# is no comb).
MIN_NARROWING = 0.25
# Held all the way to the corners, the middle teeth reached them as bright wedges where a mouth's
# corners are dark (dev035's sad and surprise); squeezed most at the corners (a ramp from the middle
# half out), the last tooth each side came to a point, a fang (fr_obama's surprise). So the photo's
# own mouth is moved in three parts, each at its own width: the middle RIGID_SHARE of the moved
# mouth's half-width, and beyond RIGID_SHARE + SQUEEZE_SHARE the photo's own corners (their
# shade), and between them the side teeth, squeezed (a smoothstep: no kink where it starts).
RIGID_SHARE = 0.5
SQUEEZE_SHARE = 0.5
# The photo's teeth reach past the inner lips' landmarks (a soft render's lips sit a little inside the
# photo's; mouth_opening.CLOSE_MARGIN): held only inside them, a tooth crossing the upper edge was
# sheared there, its top squeezed and its bottom not, and the gums above the teeth broke into steps
# (fr_obama's surprise). The hold reaches MARGIN crop pixels above and below the moved inner lips and
# fades over FEATHER crop pixels (a Gaussian), so the lips it reaches are only sheared softly.
MARGIN = 0.75
FEATHER = 0.5
# The teeth move up or down as one piece, with the upper inner lip's middle (True), not as the
# motion has it (False, as until 2026-12-07, late afternoon): the upper lip's field carries the
# mouth's corners and the jaw too, and a surprise's corners drop, so the side teeth were drawn down
# after them into thin white streaks hanging into the dark opening (fr_obama's angry and surprise).
LIFT = True
# Crop pixels the photo's own inner lips must be apart for the hold (None: always). On closed lips
# there are no teeth to keep, and the hold only changes the opening's shape (fr_two_people's second
# face: a larger O for surprise). Screened at 1.0 (variant `partedheld-PIXELS`): the same numbers
# within the noise (both 79.2% against 79.0%, both2 64.1% against 64.4%), so off (docs/transfer_screens.md).
PARTED: float | None = None
LEFT, RIGHT = 0, 4  # the inner lips' corners (landmarks 60 and 64) in the [8, 2] order 60-67


@dataclass(frozen=True)
class SidewaysHold:
    """Where the teeth hold still sideways, and how, in crop space."""

    polygon: np.ndarray  # [8, 2] float32: the photo's inner lips where the warp puts them (landmarks 60-67)
    own: tuple[float, float]  # crop x of the photo's inner mouth corners (60, 64)
    moved: tuple[float, float]  # ... and where the warp puts them
    rigid_share: float = RIGID_SHARE
    squeeze_share: float = SQUEEZE_SHARE
    # Crop pixels: the backward flow's vertical part inside the polygon (the upper inner lip's middle
    # move: the teeth go up or down with it as one piece), or None: the motion's, as it is.
    lift: float | None = None

    def source_x(self, x: np.ndarray) -> np.ndarray:
        """The crop x whose teeth the output's crop `x` (any shape) shows: the moved mouth's middle
        and its corners at one pixel per pixel, the side teeth between squeezed onto what is left."""
        own_mid, own_half = (self.own[0] + self.own[1]) / 2, (self.own[1] - self.own[0]) / 2
        mid, half = (self.moved[0] + self.moved[1]) / 2, (self.moved[1] - self.moved[0]) / 2
        u = np.clip((np.asarray(x, np.float64) - mid) / half, -1.0, 1.0)
        share = half / own_half  # < 1: the narrowing
        ramp = np.clip((np.abs(u) - self.rigid_share) / max(self.squeeze_share, 1e-6), 0.0, 1.0)
        # s u + (1 - s) phi(u): phi odd and monotonic, 0 in the middle, 1 from the squeeze's end on.
        return own_mid + own_half * (share * u + (1.0 - share) * np.sign(u) * ramp * ramp * (3.0 - 2.0 * ramp))

    def grown(self) -> np.ndarray:
        """[8, 2] float64: the moved inner lips, their upper lip MARGIN higher, their lower lower."""
        grown = np.array(self.polygon, np.float64)
        grown[1:4, 1] -= MARGIN  # the upper inner lip, corners excluded
        grown[5:8, 1] += MARGIN  # the lower one
        return grown

    def crop_weight(self, size: int) -> np.ndarray:
        """[size, size] float32 in [0, 1]: where the hold applies, in the crop's own frame."""
        return cv2.GaussianBlur(lips_mask(self.grown(), CROP_FRAME, (0, 0), (size, size)), (0, 0), FEATHER)

    def photo_weight(self, to_photo: np.ndarray, box: tuple[int, int, int, int],
                     region: np.ndarray) -> tuple[tuple[int, int, int, int], np.ndarray] | None:
        """Where the hold applies over the photo `box` (x0, y0, x1, y1; `region`: its pixels [h, w, 3]):
        a rectangle of it (x0, y0, x1, y1, relative to the box) and the weight there ([h', w'] float32
        in [0, 1]; 0 outside it), or None where it misses the box. The grown inner lips faded over
        FEATHER crop pixels, or as soft as the photo's own edges round the mouth where they are
        softer (the fill's edge is too: mouth_opening.MATCH_FOCUS). Only round the mouth: a 24 MP
        photo's face box is some 9 M pixels, and this runs at each slider move."""
        height, width = box[3] - box[1], box[2] - box[0]
        grown = self.grown()
        sigma = max(FEATHER * affine_scale(to_photo),  # crop -> photo pixels
                    lips_focus(np.asarray(region, np.float32), self.polygon, to_photo, box[:2]))
        rectangle = rectangle_around(grown, to_photo, box[:2], (height, width))
        if rectangle is None:
            return None
        pad = int(np.ceil(3 * sigma)) + 1
        x0, y0 = max(rectangle[0] - pad, 0), max(rectangle[1] - pad, 0)
        x1, y1 = min(rectangle[2] + pad, width), min(rectangle[3] + pad, height)
        weight = lips_mask(grown, to_photo, (box[0] + x0, box[1] + y0), (y1 - y0, x1 - x0))
        return (x0, y0, x1, y1), cv2.GaussianBlur(weight, (0, 0), sigma) if sigma > 0.25 else weight


def sideways_hold(own: np.ndarray, moved: np.ndarray, *, least: float = MIN_NARROWING,
                  rigid_share: float = RIGID_SHARE, squeeze_share: float = SQUEEZE_SHARE,
                  lift: float | None = None, parted: float | None = PARTED) -> SidewaysHold | None:
    """The hold for a mouth whose inner lips `own` ([8, 2], landmarks 60-67 where the photo has
    them) the warp puts at `moved` ([8, 2], motion.parted_flow's), or None where the mouth narrows
    by less than `least` crop pixels (or widens), or, given `parted` (PARTED), where the photo's own
    lips are not that many crop pixels apart at their widest (no teeth to keep)."""
    own, moved = np.asarray(own, np.float64), np.asarray(moved, np.float64)
    if parted is not None and lip_gap(own) < parted:
        return None
    own_width = own[RIGHT, 0] - own[LEFT, 0]
    moved_width = moved[RIGHT, 0] - moved[LEFT, 0]
    if own_width <= 0 or moved_width <= 0 or own_width - moved_width < least:
        return None
    return SidewaysHold(moved.astype(np.float32), (float(own[LEFT, 0]), float(own[RIGHT, 0])),
                        (float(moved[LEFT, 0]), float(moved[RIGHT, 0])), rigid_share, squeeze_share, lift)


def held_parts(flow_x: np.ndarray, flow_y: np.ndarray, weight: np.ndarray, x: np.ndarray,
               hold: SidewaysHold) -> tuple[np.ndarray, np.ndarray]:
    """The backward flow's parts (crop pixels, at crop positions whose x is `x`, all one shape) taken
    to the hold wherever `weight` (same shape, in [0, 1]) is 1, blended where between: the horizontal
    part to the hold's source, the vertical one to its lift (left as it is without one)."""
    held_x = (flow_x + weight * ((hold.source_x(x) - x) - flow_x)).astype(np.float32)
    if hold.lift is None:
        return held_x, flow_y
    return held_x, (flow_y + weight * (hold.lift - flow_y)).astype(np.float32)


def held_photo_flow(flow_x: np.ndarray, flow_y: np.ndarray, crop_x: np.ndarray, hold: SidewaysHold,
                    to_photo: np.ndarray, box: tuple[int, int, int, int],
                    region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The backward flow over the photo `box` (crop pixels, [h, w] each part; `crop_x`: each box
    pixel's crop x; `region`: the box's pixels [h, w, 3]) with the hold applied round the mouth."""
    placed = hold.photo_weight(to_photo, box, region)
    if placed is None:
        return flow_x, flow_y
    (x0, y0, x1, y1), weight = placed
    held_x, held_y = flow_x.copy(), flow_y.copy()
    held_x[y0:y1, x0:x1], held_y[y0:y1, x0:x1] = held_parts(flow_x[y0:y1, x0:x1], flow_y[y0:y1, x0:x1], weight,
                                                            crop_x[y0:y1, x0:x1], hold)
    return held_x, held_y


def held_flow(flow: np.ndarray, hold: SidewaysHold | None) -> np.ndarray:
    """The crop's backward flow [S, S, 2] with the hold applied (unchanged where `hold` is None)."""
    if hold is None:
        return flow
    size = flow.shape[0]
    x = np.broadcast_to(np.arange(size, dtype=np.float64)[None, :], (size, size))
    return np.stack(held_parts(flow[..., 0], flow[..., 1], hold.crop_weight(size), x, hold), axis=-1).astype(np.float32)


def lip_lift(flow: np.ndarray, moved: np.ndarray) -> float:
    """The backward flow's vertical part [S, S, 2] at the moved upper inner lip's middle (61-63 of
    `moved`, [8, 2] in the order 60-67), bilinear: how the upper lip's middle moved."""
    at = np.asarray(moved, np.float32)[1:4]
    values = cv2.remap(np.ascontiguousarray(flow[..., 1], np.float32), at[:, None, 0].copy(), at[:, None, 1].copy(),
                       cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return float(values.mean())
