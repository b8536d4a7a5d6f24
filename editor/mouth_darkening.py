"""Where an edit may darken the photo's mouth, and by how much (transfer.py's residual).

The change T - warp(S) is measured on 48x48 renders and added to the photo's luminance. Around
the mouth three things go wrong with a plain sum, and each has its rule here:

- a cavity: T opens a dark mouth over the photo's bright teeth (a smile edited to surprise); a
  darkening by the same grey levels leaves them grey ("rotten teeth"), so there it grows with the
  photo's luminance (cavity_weight, mouth_region; applied in change_to_photo.apply_change);
- but not over the photo's own teeth where the motion keeps them (under the upper lip): grown
  there, the middle teeth went black and the side ones stayed lit ("missing teeth");
  keep_own_teeth shades them instead;
- a stray opening: T's mouth opens further than the photo's lips can follow (the motion is
  capped), so its dark hole lands on a moustache or a chin; there the darkening stops at a shade
  (shade_stray_opening).
"""

from __future__ import annotations

import cv2
import numpy as np

from gan.conditional import MOUTH_BOX

from .motion import landing
from .lip_outline import CROP_FRAME, polygon_mask
from .mouth_opening import INNER_LIPS

# An opening mouth: where the target render is a dark hole (below CAVITY_DARK grey levels, fully
# CAVITY_RAMP below that) and the change darkens by more than CAVITY_DEPTH (fully by twice that), a darkening
# grows by the photo's luminance over CAVITY_KNEE x the moved render's (at most CAVITY_GAIN x): a
# smile's teeth under a surprise's open mouth, much brighter than the render there, go dark with
# the opening instead of staying grey ("rotten teeth"), as a ratio image would darken them.
# Elsewhere nothing changes (docs/transfer_screens.md: teeth under an angry mouth stay white).
CAVITY_DARK = 80.0
CAVITY_RAMP = 40.0
CAVITY_DEPTH = 40.0
CAVITY_KNEE = 0.6
CAVITY_GAIN = 4.0
# ... and only around the target render's mouth: its outer lips' hull (landmarks 48-59), widened by
# MOUTH_MARGIN crop pixels. A sad render that darkens an eye socket is dark there too, and the gain
# turned that into a black bruise over Grace Hopper's eye behind her glasses (matplotlib's sample).
# Without landmarks: the FER template's mouth box (gan.conditional.MOUTH_BOX, as region_mask uses it).
OUTER_LIPS = slice(48, 60)
MOUTH_MARGIN = 3.0
# A dark hole in T beyond where the photo's mouth is after the (capped) motion is the model's
# mouth opening further than the photo's lips could follow (a snarl raised to the nose, a
# surprise's jaw dropped to the chin): added there, it painted a black patch over a moustache or
# chin. Around T's mouth (its outer lips widened by STRAY_REACH crop pixels) but beyond the photo's
# inner lips where the motion puts them, widened by STRAY_MARGIN, darkening stops at STRAY_DEPTH
# grey levels (photo scale): a shade instead of a hole; between the photo's parted lips T's opening
# is the fill's (mouth_opening.py). Costs 1.6 points of both, within the screen's noise
# (docs/transfer_screens.md: 3 px let the moustaches go black again, 45 levels left them darker).
STRAY_MARGIN = 1.0
STRAY_DEPTH = 30.0
STRAY_REACH = 6.0


def cavity_weight(target: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """[S, S] float32 in [0, 1]: 1 where the target render is darker than CAVITY_DARK - CAVITY_RAMP
    and the residual darkens by 2 x CAVITY_DEPTH or more, falling linearly to 0 at CAVITY_DARK and
    CAVITY_DEPTH."""
    dark = np.clip((CAVITY_DARK - target) / CAVITY_RAMP, 0.0, 1.0)
    deep = np.clip((-residual - CAVITY_DEPTH) / CAVITY_DEPTH, 0.0, 1.0)
    return (dark * deep).astype(np.float32)


# Upper teeth hang from the upper jaw: in an opening mouth they stay just below the upper lip. The
# cavity's growth stops in a band TEETH_BAND crop pixels below the photo's moved upper inner lip,
# so a smile's upper teeth under a surprise's O stay (greyed by the plain darkening) instead of
# going black in the middle ("missing teeth", fr_obama.jpg); 0: no band.
TEETH_BAND = 0.0

# The photo's own teeth stay teeth: where the motion puts what the photo showed between its inner
# lips (with motion.RIGID_TEETH they hang from the upper lip, and the opening below them is the
# fill's), the cavity does not grow and darkening stops at TEETH_DEPTH grey levels, so a smile's
# teeth under a surprise's O stay whole and shaded instead of going black in the middle ("missing
# teeth", fr_obama.jpg). None: darkened as elsewhere (docs/transfer_screens.md).
TEETH_DEPTH = 60.0


def upper_teeth_band(upper_lip: np.ndarray, size: int = 48, *, height: float = TEETH_BAND) -> np.ndarray:
    """[size, size] float32 in [0, 1]: 1 between `upper_lip` ([5, 2] crop points, the moved upper
    inner lip from corner to corner) and the same line `height` pixels lower, edges anti-aliased."""
    if height <= 0:
        return np.zeros((size, size), np.float32)
    line = np.asarray(upper_lip, np.float64)
    return polygon_mask(np.concatenate([line, line[::-1] + [0.0, height]]), CROP_FRAME, (0, 0), (size, size))


def keep_own_teeth(residual: np.ndarray, cavity: np.ndarray | None, teeth: np.ndarray, *,
                   depth: float = TEETH_DEPTH) -> tuple[np.ndarray, np.ndarray | None]:
    """`residual` and `cavity` ([S, S]) where `teeth` ([S, S] in [0, 1]: the photo's own mouth,
    moved) is: the darkening stopped at `depth` grey levels, the cavity's growth off."""
    residual = residual + teeth * (np.maximum(residual, -depth) - residual)
    if cavity is not None:
        cavity = (cavity * (1.0 - teeth)).astype(np.float32)
    return residual.astype(np.float32), cavity


def mouth_region(points: np.ndarray | None, size: int = 48, *, margin: float = MOUTH_MARGIN) -> np.ndarray:
    """[size, size] float32 in [0, 1]: 1 inside the outer lips of `points` ([68, 2] crop
    landmarks; any other number of points: their hull) widened by `margin` pixels, falling to 0
    over one more pixel; None: the FER template's mouth box."""
    inside = np.zeros((size, size), np.uint8)
    if points is None:
        y0, y1, x0, x1 = (round(v * size / 48) for v in MOUTH_BOX)
        inside[y0:y1, x0:x1] = 1
    else:
        lips = np.asarray(points, np.float64)
        lips = lips[OUTER_LIPS] if len(lips) == 68 else lips
        hull = cv2.convexHull(np.rint(lips * 16).astype(np.int32))
        cv2.fillConvexPoly(inside, hull, 1, lineType=cv2.LINE_8, shift=4)  # 1/16-pixel precision
    distance = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)  # 0 inside, pixels outside
    return np.clip(margin + 1.0 - distance, 0.0, 1.0).astype(np.float32)


def shade_stray_opening(residual: np.ndarray, source_points: np.ndarray, target_points: np.ndarray,
                        flow: np.ndarray, *, margin: float = STRAY_MARGIN, depth: float = STRAY_DEPTH) -> np.ndarray:
    """`residual` [S, S] (photo grey levels) with its darkening stopped at `depth` around T's mouth
    (`target_points`' outer lips widened by STRAY_REACH) beyond the photo's inner lips
    (`source_points`' 60-67) where the backward `flow` puts them, widened by `margin`; both regions
    soft-edged (mouth_region), so the stop fades in over a crop pixel."""
    size = residual.shape[0]
    moved_lips = landing(np.asarray(source_points, np.float64)[INNER_LIPS], flow)
    stray = mouth_region(target_points, size, margin=STRAY_REACH) * (1.0 - mouth_region(moved_lips, size, margin=margin))
    return (residual + stray * (np.maximum(residual, -depth) - residual)).astype(np.float32)
