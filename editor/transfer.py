"""Bring the generator's *change* into the photo, keeping the photo's own pixels.

The generator renders the same face twice: S = G(z, p_src) with the face's own
expression and T = G(z, y) with the chosen one. A 48x48 render cannot replace a
sharp photo, but the difference between two renders says what moves:

1. motion: where the renders' mouth and jaw moved, from their landmarks
   (motion.py: the landmark regressor's 68 points of S and of T, turned into a
   smooth flow; T's mouth held to what skin does: mouth_limits.py), mapped
   through the alignment into photo pixels; the photo's
   face is warped with it (cv2.remap), so lips, mouth corners and chin move
   with the photo's own texture and colour, and the teeth between them keep
   their width where the mouth narrows (teeth_sideways.py), and the eyelids slide over still
   eyeballs (eyeballs.py). Without landmarks, dense optical
   flow between the renders (OpenCV DIS), which finds almost no motion;
2. what motion cannot explain (an opening mouth, teeth, creases, shading):
   the residual T - warp(S), low-passed, scaled to the face's own contrast,
   added to the luminance only: a darkening to R, G and B by the same amount, a brightening in
   the proportions of the face's own skin colour (skin_light.py: added alike, it washed warm and
   dark skin out to grey);
   a brightening fades where the photo is much darker than the render (DARK_KNEE),
   so a moustache the render lacks does not turn grey, and around the mouth
   (mouth_darkening.py) a darkening grows where the model opens a dark mouth over
   the photo's brighter teeth (CAVITY_KNEE), so they go dark with the opening
   instead of staying grey, except on the teeth the photo already showed, which
   the motion hangs from the upper lip (motion.RIGID_TEETH) and which are only
   shaded (TEETH_DEPTH), and stops at a shade where the model's mouth opens
   beyond the photo's lips (STRAY_DEPTH); between parted lips, T's mouth inside
   (mouth_opening.py); above the upper lip no brightening of the photo's dark hair
   (moustache_shield.py);
3. both under the soft face oval; pixels where the oval is 0 are copied.

`face_change` (here) + `change_to_photo.apply_change` is that default ("flow"); `mode="difference"` adds T - S to
the luminance without any warp, for comparison (benchmarks/quality.py). All
functions are pure and work only inside the face's rectangle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .blend import _as_grey255, _crop_face_mask
from .crop_flow import expression_flow, warp_crop
from .eyeballs import RIGID_EYES, RIGID_SHARE as EYE_SHARE, EyeHold, eye_holds
from .lip_seam import SEAM_DEPTH
from .mouth_darkening import (CAVITY_KNEE, STRAY_DEPTH, STRAY_MARGIN, TEETH_BAND, TEETH_DEPTH, cavity_weight,
                              keep_own_teeth, mouth_region, shade_stray_opening, upper_teeth_band)
from .motion import CAP, RIGID_TEETH, SIGMA, brow_flow, landmark_flow, lid_flow, lid_moves, parted_flow
from .moustache_shield import MOUSTACHE_LOW, shield_moustache, skin_level
from .mouth_limits import MOUTH_NARROWING, PHILTRUM_STRETCH, held_mouth
from .mouth_opening import (CLOSE_COVER, COVER_LIPS, HIGHLIGHT, INNER_LIPS, TEETH_SKIN, MouthOpening, crop_fill_weight,
                            mouth_opening, own_mouth_moved)
from .skin_light import SKIN_LIGHT, eye_region
from .teeth_sideways import LIFT, PARTED, RIGID_SHARE, RIGID_SIDEWAYS, SQUEEZE_SHARE, SidewaysHold, held_flow, lip_lift, sideways_hold

MODES = ("flow", "difference")
# The residual's low-pass, in crop pixels: without it the 48x48 change shows as grain and blotches
# at photo resolution (hit rises, the same-person rate falls: README "Quality"). 0.8, not 1: older
# faces' targets are fine detail our classifier reads (at 1, the 60 oldest faces' crops plus the
# low-passed change read as the target in 76% against 92% with the whole change, the 60 youngest
# 90% against 94%), and on 200 photos 0.8 raised both 78.2% -> 80.5% and the second
# judge's both2 63.8% -> 69.4% for a same of 96.2% against 98.0% (0.7: 80.2%, 70.7%, 94.4%;
# docs/transfer_screens.md, "A sharper residual").
RESIDUAL_SIGMA = 0.8
# Where the photo is darker than KNEE x the render's luminance there (a moustache, a dark brow,
# a shadow the 48x48 render does not have), brightening fades in proportion (FaceChange.level).
# 0.6 keeps a moustache dark at a cost within the screen's noise (docs/transfer_screens.md: hit
# 74.3% against 76.2% without; 1.0, a plain ratio image, costs 8 points); LEVEL_FLOOR keeps a
# near-black render pixel from vetoing the change.
DARK_KNEE = 0.6
LEVEL_FLOOR = 16.0
# Carry the residual to where the capped motion puts the photo's features (face_change's
# follow_cap): off, as measured (docs/transfer_screens.md: the dark opening of a surprise lands on
# the photo's mouth instead of its chin, but both judges read 1-2 points fewer edits on 200 photos).
FOLLOW_CAP = False
FOLLOW_ITERATIONS = 3
# Fill a mouth the edit opens with T's mouth interior instead of the warp's stretched lip seam
# (mouth_opening.py; with landmarks only).
MOUTH_FILL = True
# Move the photo's brows and eyelids as the renders' moved (motion.brow_flow, motion.lid_flow),
# with landmarks only (apply_edit: not on faces with glasses, whose frames would bend).
MOVE_BROWS = True
MOVE_LIDS = True
# The renders of some expressions are lighter or darker all over than the face's own (the residual's
# mean over the face oval, faces_dev photos 0-199 in steps of 10: surprise +17.7 grey levels, disgust
# +11.8, fear +6.8, angry and sad -2.5): a relighting FER2013's classes carry, not an expression,
# which washed dark skin and beards out to a pale grey-brown (dev122's, dev030's surprise). This
# share of that mean is taken off. All of it cost disgust 9 points of hit (our judge reads the light)
# and both 1.4 points on 200 photos; half of it the same numbers as none (docs/transfer_screens.md).
SHIFT_REMOVED = 0.5
@dataclass(frozen=True)
class FaceChange:
    """What one face's edit does, in crop space (48x48): enough to re-apply it."""

    flow: np.ndarray  # [S, S, 2] float32, crop pixels: out(x) = photo(x + flow(x))
    residual: np.ndarray  # [S, S] float32 grey levels, added to the luminance after the warp
    # [S, S] float32: DARK_KNEE x the luminance the residual was measured on (the warped render
    # S), or None. A photo pixel darker than it gets only luminance / level of a brightening (as a
    # ratio image would, Liu et al. 2001): a moustache or brow the render lacks stays dark instead
    # of turning grey. Darkening is never scaled. None: the residual is added as it is.
    level: np.ndarray | None = None
    # [S, S] float32 in [0, 1]: where the target render opens a dark cavity (CAVITY_DARK), or None.
    # There a darkening grows by the photo's luminance over `cavity_level` (CAVITY_KNEE x the
    # moved render's luminance), at most CAVITY_GAIN x, so bright teeth go as dark as the opening.
    cavity: np.ndarray | None = None
    cavity_level: np.ndarray | None = None
    # Where the motion parts the photo's lips and what shows between them (mouth_opening.py), or None.
    opening: MouthOpening | None = None
    # A brightening added in the face's skin colour (skin_light.py), not in grey, except where
    # `eyes` ([S, S] float32 in [0, 1], or None: nowhere) says.
    skin_light: bool = False
    eyes: np.ndarray | None = None
    # Where the photo's teeth keep their width as the mouth narrows (teeth_sideways.py), or None.
    # `flow` is without it: the hold is drawn at the resolution the flow is used at.
    sideways: SidewaysHold | None = None
    # Where the photo's eyeballs hold still as the lids open or close (eyeballs.py); like `sideways`,
    # not in `flow`: drawn at the resolution the flow is used at.
    eyes_held: tuple[EyeHold, ...] = ()

    def __post_init__(self) -> None:
        if (self.cavity is None) != (self.cavity_level is None):
            raise ValueError("a FaceChange's cavity and cavity_level come together (face_change makes both)")


def face_change(source: np.ndarray, target: np.ndarray, original_crop: np.ndarray, *,
                mode: str = "flow", points: tuple[np.ndarray, np.ndarray] | None = None,
                residual_sigma: float = RESIDUAL_SIGMA, residual_weight: float = 1.0,
                knee: float | None = DARK_KNEE, cavity_knee: float | None = CAVITY_KNEE,
                follow_cap: bool = FOLLOW_CAP, mouth_fill: bool = MOUTH_FILL,
                cover_lips: bool = COVER_LIPS, stray_margin: float | None = STRAY_MARGIN,
                stray_depth: float = STRAY_DEPTH, moustache_low: float | None = MOUSTACHE_LOW,
                teeth_band: float = TEETH_BAND, rigid_teeth: bool = RIGID_TEETH,
                teeth_depth: float | None = TEETH_DEPTH, cap: float = CAP, teeth_skin: float = TEETH_SKIN,
                move_brows: bool = MOVE_BROWS, move_lids: bool = MOVE_LIDS,
                skin_light: bool = SKIN_LIGHT, close_cover: bool = CLOSE_COVER,
                shift_removed: float = SHIFT_REMOVED, philtrum_stretch: float | None = PHILTRUM_STRETCH,
                mouth_narrowing: float | None = MOUTH_NARROWING, reach: float = SIGMA,
                rigid_sideways: bool = RIGID_SIDEWAYS,
                sideways_shares: tuple[float, float] = (RIGID_SHARE, SQUEEZE_SHARE),
                sideways_lift: bool = LIFT, sideways_parted: float | None = PARTED,
                rigid_eyes: bool = RIGID_EYES, eye_share: float = EYE_SHARE, lip_seam: float = SEAM_DEPTH) -> FaceChange:
    """The change from render `source` (S) to render `target` (T) of one face,
    scaled to `original_crop` (the photo's aligned grey face) contrast.
    `points`: the landmarks [68, 2] of S and of T, which give the motion;
    None: optical flow between the renders. `knee`: see DARK_KNEE (None: brightening is
    added everywhere alike); `cavity_knee`: see CAVITY_KNEE (None: darkening is added alike);
    `follow_cap`: see FOLLOW_CAP, `mouth_fill`: see MOUTH_FILL (both with `points` only; follow_cap
    moves the lips as one piece, as it was measured); `cover_lips`: mouth_opening.COVER_LIPS;
    `stray_margin`, `stray_depth`: see STRAY_MARGIN (with `points` only, not with follow_cap);
    `moustache_low`: moustache_shield.MOUSTACHE_LOW (None: off; with `points` only, not with follow_cap);
    `teeth_band`: mouth_darkening.TEETH_BAND (0: off; with an opening only); `rigid_teeth`:
    motion.RIGID_TEETH, `cap`: motion.CAP (with `points` only; rigid_teeth with mouth_fill only);
    `teeth_depth`: mouth_darkening.TEETH_DEPTH (None: off; with an opening only); `teeth_skin`:
    mouth_opening.TEETH_SKIN; `move_brows`, `move_lids`: MOVE_BROWS, MOVE_LIDS (with `points` only);
    `skin_light`: skin_light.SKIN_LIGHT; `close_cover`: mouth_opening.CLOSE_COVER; `shift_removed`:
    SHIFT_REMOVED (0: the residual's mean kept); `philtrum_stretch`, `mouth_narrowing`:
    mouth_limits.PHILTRUM_STRETCH, MOUTH_NARROWING (None: off; with `points` only); `reach`:
    motion.SIGMA (with `points` only); `rigid_sideways`, `sideways_shares`, `sideways_lift`,
    `sideways_parted`: teeth_sideways.RIGID_SIDEWAYS, (RIGID_SHARE, SQUEEZE_SHARE), LIFT, PARTED (with
    `mouth_fill` only); `rigid_eyes`, `eye_share`: eyeballs.RIGID_EYES, RIGID_SHARE (with `move_lids` only);
    `lip_seam`: lip_seam.SEAM_DEPTH (0: none; with `close_cover` only)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if points is not None:  # T's mouth as far as skin follows, for every stage below
        points = (points[0], held_mouth(*points, philtrum=philtrum_stretch, narrowing=mouth_narrowing))
    s, t = _as_grey255(source), _as_grey255(target)
    oval = _crop_face_mask(s.shape[0])
    # The renders' contrast is the generator's; the photo's face may be flatter or
    # crisper: scale the residual by their ratio (clipped, as in blend.match_luminance).
    photo = _as_grey255(original_crop)
    contrast = float(np.clip(_weighted_std(photo, oval) / _weighted_std(s, oval), 0.5, 2.0))
    if mode == "difference":
        return FaceChange(np.zeros((*s.shape, 2), np.float32), ((t - s) * contrast).astype(np.float32))
    opening = sideways = None
    if points is not None and mouth_fill and not follow_cap:  # follow_cap was measured with one smooth motion
        flow, lips = parted_flow(*points, s.shape[0], rigid=rigid_teeth, cap=cap, sigma=reach)
        opening = mouth_opening(lips, *points, t, mean=_weighted_mean(photo, oval), render_mean=_weighted_mean(s, oval),
                                contrast=contrast, highlight=float(np.percentile(photo[oval > 0.5], HIGHLIGHT)),
                                cover=cover_lips, teeth_skin=teeth_skin, close=close_cover, seam=lip_seam)
        if rigid_sideways:
            sideways = sideways_hold(np.asarray(points[0])[INNER_LIPS], lips, rigid_share=sideways_shares[0],
                                     squeeze_share=sideways_shares[1],
                                     lift=lip_lift(flow, lips) if sideways_lift else None, parted=sideways_parted)
    else:
        flow = landmark_flow(*points, s.shape[0], cap=cap, sigma=reach) if points is not None else expression_flow(s, t)
    if points is not None and move_brows:
        # Its own field, unfolded on its own (the parted lips' seam is a step by design) and about
        # 0 from the nose down (the eyes, nose and mouth hold it), so the lips' landing stays.
        flow = flow + brow_flow(*points, s.shape[0])
    eyes_held: tuple[EyeHold, ...] = ()
    if points is not None and move_lids:  # the same, round the eyes
        lids = lid_moves(*points)  # one measure of the lids for their flow and the eyeballs' hold
        flow = flow + lid_flow(*points, s.shape[0], moves=lids)
        eyes_held = eye_holds(points[0], lids, rigid_share=eye_share) if rigid_eyes else ()
    unheld, flow = flow, held_flow(flow, sideways)  # every stage below sees the teeth held
    offset = None
    if points is not None and follow_cap:
        # The photo moves by the capped flow, the renders by their whole motion: measured where T
        # is, an opening the cap held back lands below the photo's moved lips (a surprise's jaw
        # drops 7-9 crop pixels, the photo's 3: a dark blotch on the lower lip and chin, the
        # photo's teeth left lit). Measure the change in T's frame, against S moved all the way,
        # then carry it to where the capped motion puts each point: output pixel x shows the
        # photo's point x + C(x), which T shows at about x + C(x) - F(x).
        whole = landmark_flow(*points, s.shape[0], cap=math.inf, sigma=reach)
        offset = flow - whole
        for _ in range(FOLLOW_ITERATIONS):  # y = x + C(x) - F(y), solved by fixed-point steps
            offset = flow - np.stack([warp_crop(whole[..., i], offset) for i in (0, 1)], axis=-1)
        moved = warp_crop(s, whole)
    else:
        moved = warp_crop(s, flow)
    residual = t - moved
    if opening is not None:  # the fill shows T there; a low-passed residual would bleed onto the lips
        residual = residual * (1.0 - crop_fill_weight(opening, flow))
    if residual_sigma > 0:  # the levels, from the renders, at the residual's own resolution
        residual, moved, t = (cv2.GaussianBlur(image, (0, 0), residual_sigma) for image in (residual, moved, t))
    residual = (residual * contrast * residual_weight).astype(np.float32)
    if points is not None and offset is None:  # the mouth's rules, measured with the motion as it is
        if stray_margin is not None:
            residual = shade_stray_opening(residual, *points, flow, margin=stray_margin, depth=stray_depth)
        if moustache_low is not None:
            moved_photo = warp_crop(photo, flow)
            if residual_sigma > 0:  # as dark as the residual's low-pass sees it
                moved_photo = cv2.GaussianBlur(moved_photo, (0, 0), residual_sigma)
            residual = shield_moustache(residual, moved_photo, skin_level(photo), points[0], flow, low=moustache_low)
    floor = np.maximum(moved, LEVEL_FLOOR)
    level = None if knee is None else (floor * knee).astype(np.float32)
    cavity = cavity_level = None
    if cavity_knee is not None:
        cavity = cavity_weight(t, residual) * mouth_region(None if points is None else points[1], s.shape[0])
        if opening is not None and teeth_band > 0:  # the photo's upper teeth stay below its moved upper lip
            cavity = cavity * (1.0 - upper_teeth_band(opening.polygon[:5], s.shape[0], height=teeth_band))
        cavity_level = (floor * cavity_knee).astype(np.float32)
    if opening is not None and teeth_depth is not None:  # the photo's own teeth, where the motion put them
        residual, cavity = keep_own_teeth(residual, cavity, own_mouth_moved(opening, flow), depth=teeth_depth)
    if shift_removed > 0:  # measured after the mouth's rules, as screened
        residual = (residual - shift_removed * _weighted_mean(residual, oval)).astype(np.float32)
    eyes = None
    if skin_light:  # where light stays grey: the eyes (their whites), from landmarks or the template's
        eyes = eye_region(*(points if points is not None else (None, None)), s.shape[0])
    if offset is not None:
        residual, level, cavity, cavity_level, eyes = (None if field is None else warp_crop(field, offset)
                                                       for field in (residual, level, cavity, cavity_level, eyes))
    return FaceChange(unheld.astype(np.float32), residual, level, cavity, cavity_level, opening, skin_light, eyes,
                      sideways, eyes_held)


def _weighted_mean(image: np.ndarray, weights: np.ndarray) -> float:
    return float((image * weights).sum() / weights.sum())


def _weighted_std(image: np.ndarray, weights: np.ndarray) -> float:
    mean = _weighted_mean(image, weights)
    return math.sqrt(max(float((np.square(image - mean) * weights).sum() / float(weights.sum())), 1.0))
