"""Screen variants of the transfer on faces_dev, judged as benchmarks/quality.py judges.

    python benchmarks/transfer_screen.py --photos 120:200 \
        --variants default,default@2,saliency-ours@2.25,saliency-judge@2.25,registered

Each photo's faces are fitted once (as the app does) and every variant renders all
seven targets from that fit, so variants differ only in how the change reaches the
photo. A variant is a name with an optional @strength (default: the editor's):
- default: the shipped transfer (editor/apply_edit.conditional_change);
- registered[-sigma]: the residual moved from S's landmarks onto the photo crop's
  own (docs/transfer_screens.md), low-passed with sigma (default 1) afterwards;
- relative-KNEE: brightening fades where the photo is darker than KNEE x the render
  (editor/transfer.DARK_KNEE, 1: a plain ratio image); relative-none: added alike
  everywhere (the default until 2026-12-06; the cavity below stays);
- cavity-KNEE: a darkening grows where the target render opens a dark hole and the photo
  is brighter than KNEE x the render (editor/mouth_darkening.CAVITY_KNEE); cavity-none: darkening
  added alike everywhere (the default until 2026-12-06, night); cavity-anywhere: the cavity
  wherever the render is dark, not only around its mouth (the default until 2026-12-06,
  morning: editor/mouth_darkening.mouth_region);
- follow: the residual carried from where T has it to where the capped motion puts the
  photo's features (transfer.FOLLOW_CAP; docs/transfer_screens.md, not kept);
- unparted: one smooth motion for both lips and no fill between them (the default until
  2026-12-06, afternoon: editor/transfer.MOUTH_FILL, editor/mouth_opening.py);
- uncovered: parted lips whose fill is T's inside everywhere in the moved mouth, squeezed to
  its width, the photo's own teeth kept even where T shows lips (mouth_opening.COVER_LIPS off);
- stray-MARGIN[/DEPTH]: T's darkening around its mouth but beyond the photo's moved inner lips
  (widened by MARGIN crop pixels) stops at DEPTH grey levels (editor/mouth_darkening.STRAY_MARGIN,
  STRAY_DEPTH); stray-none: added as it is (the default until 2026-12-06, evening);
- moustache-LOW: in a band between the nose and the moved upper lip, the brightening fades out
  where the photo is darker than LOW + 0.25 x the crop's median grey level (fully below LOW x it):
  a moustache the target render drops stays dark (editor/moustache_shield.MOUSTACHE_LOW, 0.3;
  moustache-none: off, the default until 2026-12-06, night);
- gaps-THIN/WIDE: the fill between parted lips fades in as their widest gap grows from THIN to
  WIDE crop pixels (editor/mouth_opening.THIN_GAP, OPEN_GAP: 2/3.5; 1/2 until 2026-12-06, night),
  so a slit stays the warp's;
- clean-RADIUS: the fill's weight loses what is thinner than 2 x RADIUS crop pixels
  (editor/mouth_opening.CLEAN, 1; clean-0: as it was until 2026-12-06, late evening, thin rings
  of fill round openings the render already showed);
- polylips: the lips the fill is drawn along joined by straight lines (editor/mouth_opening.SMOOTH_LIPS
  off, as until 2026-12-07: the opening's edges showed their polygon at photo resolution);
- flatfill: the lips' colour offset added to a dark fill in full, whatever its luminance
  (editor/mouth_colour.SHADED_FILL off, as until 2026-12-07: a dark mouth's inside went raw red);
- rawinside: T's mouth inside drawn as its 48x48 pixels upscaled, not as bands of teeth over a
  cavity (editor/mouth_opening.STRUCTURED_INSIDE off, as until 2026-12-08);
- crispfill: the fill's edge drawn a pixel wide whatever the photo's focus (editor/mouth_opening.MATCH_FOCUS
  off, as until 2026-12-07: on soft photos the opening looked pasted on);
- stillbrows: the brows held still, shaded only by the residual (editor/transfer.MOVE_BROWS off, as
  until 2026-12-07);
- stilllids: the eyelids held still (editor/transfer.MOVE_LIDS off, as until 2026-12-07);
- framedlids: the eyelids move on faces with glasses too (editor/apply_edit.conditional_change holds
  them still there, as the brows);
- teethband-H: the cavity's growth stops in a band H crop pixels below the photo's moved upper
  inner lip, so a smile's upper teeth under a surprise's O stay (editor/mouth_darkening.TEETH_BAND,
  0: off, the default; docs/transfer_screens.md, not kept);
- cap-PIXELS: no landmark moves further than PIXELS crop pixels (editor/motion.CAP, 7; 3 until
  2026-12-06, late night);
- unrigid: the photo's teeth stretched between its moving lips instead of hanging from the upper
  one (editor/motion.RIGID_TEETH off);
- teethdepth-DEPTH: the darkening of the photo's own teeth stops at DEPTH grey levels and the
  cavity does not grow there (editor/mouth_darkening.TEETH_DEPTH, 60; teethdepth-none: off);
- teethskin-SHARE: the fill's teeth take SHARE of the skin's colour round the mouth
  (editor/mouth_opening.TEETH_SKIN, 0.4; teethskin-0: TEETH_TINT of the lips', as before);
- hinged: all four as they were until 2026-12-06, late night (cap 3, stretched teeth, darkened
  as elsewhere, tinted by the lips);
- openonly: no closing cover, a smile's teeth squeezed into a line between lips the motion closes
- flatlips: the closing cover without its seam (lip_seam.py), flat closed lips; seam-DEPTH: the seam that deep
  (editor/mouth_opening.CLOSE_COVER off, as until 2026-12-07);
- sigma-SIGMA: the residual low-passed with SIGMA crop pixels (editor/transfer.RESIDUAL_SIGMA, 0.8; 1 until 2026-12-07, late);
- shift-FRACTION: FRACTION of the residual's mean over the face oval taken off (the renders'
  lightening or darkening all over; editor/transfer.SHIFT_REMOVED, 0.5; shift-0: kept, as until
  2026-12-07); shiftmedian-FRACTION: of its median, from none (not kept);
- philtrum-SHARE|none: the upper lip's vertical move held to SHARE of its gap to the nose
  (editor/mouth_limits.PHILTRUM_STRETCH, 0.25; none: as the renders moved, as until 2026-12-07);
  narrowing-SHARE|none: the mouth at most SHARE narrower than S's (mouth_limits.MOUTH_NARROWING,
  off; not kept);
- reach-PIXELS: how far each mouth and jaw point's move reaches (editor/motion.SIGMA, 7; reach-5:
  as until 2026-12-07);
- squeezedteeth: the photo's teeth squeezed sideways with a narrowing mouth (editor/teeth_sideways.py
  off, as until 2026-12-07); unliftedteeth: held sideways, but moved up and down as the motion has
  it (teeth_sideways.LIFT off); partedheld-PIXELS: held only where the photo's own inner lips are
  PIXELS apart (teeth_sideways.PARTED, None: always; screened, not in the full benchmark yet); sideways-RIGID/SQUEEZE: the shares of the moved mouth's half-width
  kept at the teeth's width and squeezed (teeth_sideways.RIGID_SHARE, SQUEEZE_SHARE: 0.5/0.5);
- teeth-SCALE: the brightening inside the target render's mouth region scaled by SCALE
  (0: none; docs/transfer_screens.md: the model's teeth over closed lips, not kept);
- saliency-ours / saliency-judge / saliency-encoder: the residual weighted by where
  a classifier's gradient says it pushes towards the target, the mask drawn by our
  classifier, by the second judge, or by the encoder's expression head (a model
  that is neither judge) (docs/transfer_screens.md: it lifts only the classifier
  that draws it).
registered and saliency change only the default's residual and keep the rest of its
change (the dark-feature knee included; their screens in docs/transfer_screens.md ran
before the knee). Prints hit / same / both / hit2 / both2 / sharpness per variant and writes the rows
as JSON (--out), with the date, the machine and the command. The numbers of
docs/transfer_screens.md's last screens came from the same variants; with a few
hundred edits per screen, 3-4 points are noise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import command_line, existing_dir, photo_range  # noqa: E402
from benchmarks.expression_judge import SIDE, ExpressionJudge  # noqa: E402
from benchmarks.machine import cpu_name  # noqa: E402
from benchmarks.quality import DATA, FaceJudge, load_judges  # noqa: E402
from editor.apply_edit import conditional_change  # noqa: E402
from editor.edits import DEFAULT_STRENGTH, EditSettings, FaceEdit, expression_weights  # noqa: E402
from editor.faces import NoFaceError  # noqa: E402
from editor import mouth_opening as opening_module  # noqa: E402
from editor.motion import CAP, SIGMA, smooth_flow  # noqa: E402
from editor.mouth_colour import TEETH_SKIN  # noqa: E402
from editor.mouth_limits import PHILTRUM_STRETCH  # noqa: E402
from editor.moustache_shield import MOUSTACHE_LOW  # noqa: E402
from editor.photo import read_photo  # noqa: E402
from editor.pipeline import Editor  # noqa: E402
from editor.edits import target_label  # noqa: E402
from benchmarks.far_target import LOWPASS, RENDER_AT, far_target, render_share  # noqa: E402
from editor.renders import render_conditional, render_points  # noqa: E402
from editor.eyeballs import RIGID_SHARE as EYE_SHARE  # noqa: E402
from editor.lip_seam import SEAM_DEPTH  # noqa: E402
from editor.blend import _as_grey255, _crop_face_mask  # noqa: E402
from editor.mouth_darkening import (CAVITY_KNEE, STRAY_DEPTH, STRAY_MARGIN, TEETH_DEPTH, cavity_weight,  # noqa: E402
                                   mouth_region)
from editor.change_to_photo import apply_change  # noqa: E402
from editor.transfer import RESIDUAL_SIGMA, SHIFT_REMOVED, FaceChange, face_change, warp_crop  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402
from gan.landmarks import predict_landmarks  # noqa: E402

# (editor, second judge, face edit, the edit's settings, target index) -> the face's change
Variant = Callable[[Editor, ExpressionJudge, FaceEdit, EditSettings, int], FaceChange]


def registration_flow(photo_points: np.ndarray, render_points: np.ndarray, size: int = 48, *,
                      cap: float = 3.0) -> np.ndarray:
    """Backward flow [size, size, 2] that samples, at each of the photo crop's landmarks,
    the render's matching landmark (each move capped; the crop's border held): the motion's
    smooth fit (editor/motion.smooth_flow), not capped again."""
    at = np.asarray(photo_points, np.float64)
    moves = np.asarray(render_points, np.float64) - at
    moves *= np.minimum(1.0, cap / np.maximum(np.linalg.norm(moves, axis=1, keepdims=True), 1e-9))
    return smooth_flow(at, moves, np.zeros((0, 2)), size, sigma=5.0)  # the reach it was screened with


def saliency_weight(gradient: np.ndarray, change: np.ndarray, *, floor: float = 0.3, blur: float = 2.0) -> np.ndarray:
    """[S, S] in [floor, 1]: 1 where the change pushes the classifier towards the target
    most (gradient * change, positive part, blurred, over its 95th percentile), floor where
    it does not push at all. On real faces the push is dense; if under 5% of the crop pushed,
    the 95th percentile would be 0 and the weight the floor everywhere."""
    push = cv2.GaussianBlur(np.maximum(gradient * change, 0).astype(np.float32), (0, 0), blur)
    top = float(np.percentile(push, 95))
    mask = np.clip(push / top, 0, 1) if top > 0 else np.zeros_like(push)
    return floor + (1 - floor) * mask


def _target_gradient(log_probs: Callable[[torch.Tensor], torch.Tensor], crop: np.ndarray, change: np.ndarray,
                     target: int) -> np.ndarray:
    """d log p(target | crop + change) / d change, both [S, S] in grey levels."""
    base = torch.from_numpy(crop.astype(np.float32) / 127.5 - 1)[None, None]
    delta = torch.from_numpy(change.astype(np.float32) / 127.5)[None, None].requires_grad_(True)
    (gradient,) = torch.autograd.grad(log_probs(base + delta)[0, target], delta)
    return gradient[0, 0].numpy()


def default(editor, judge, edit, settings, target) -> FaceChange:
    return conditional_change(edit, settings)


def registered(sigma: float = 1.0) -> Variant:
    def change(editor, judge, edit, settings, target) -> FaceChange:
        base = face_change(edit.source, edit.generated, edit.aligned, points=(edit.source_points, edit.target_points),
                           residual_sigma=0.0)
        photo_points = predict_landmarks(editor.landmarks, edit.aligned[None])[0]
        residual = warp_crop(base.residual, registration_flow(photo_points, edit.source_points))
        return replace(base, residual=cv2.GaussianBlur(residual, (0, 0), sigma) if sigma > 0 else residual)
    return change


def knees(**given: float | bool | None) -> Variant:
    """The default with its knees as `given` (knee=, cavity_knee=, mouth_fill=, cover_lips=,
    stray_margin=, stray_depth=: conditional_change's)."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        return conditional_change(edit, settings, **given)
    return change


def median_shift(fraction: float) -> Variant:
    """The default with `fraction` of its residual's median over the face oval taken off instead of
    transfer.SHIFT_REMOVED of its mean (screened, not kept)."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        base = conditional_change(edit, settings, shift_removed=0.0)
        oval = _crop_face_mask(base.residual.shape[0])
        shift = float(np.median(base.residual[oval > 0.5]))
        return replace(base, residual=(base.residual - fraction * shift).astype(np.float32))
    return change


def cavity_anywhere(editor, judge, edit, settings, target) -> FaceChange:
    base = default(editor, judge, edit, settings, target)
    if base.cavity is None:
        return base
    rendered = cv2.GaussianBlur(_as_grey255(edit.generated), (0, 0), RESIDUAL_SIGMA)
    return replace(base, cavity=cavity_weight(rendered, base.residual))


def capped_frame(editor, judge, edit, settings, target) -> FaceChange:
    """The default with the residual carried to where the capped motion puts the photo's
    features (transfer.FOLLOW_CAP; not kept)."""
    return face_change(edit.source, edit.generated, edit.aligned, points=(edit.source_points, edit.target_points),
                       follow_cap=True)


def gaps(thin: float, wide: float) -> Variant:
    """The default with the fill fading in between THIN and WIDE crop pixels of parted lips
    (mouth_opening.THIN_GAP, OPEN_GAP are read when the change is made: set for that call)."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        saved = opening_module.THIN_GAP, opening_module.OPEN_GAP
        opening_module.THIN_GAP, opening_module.OPEN_GAP = thin, wide
        try:
            return default(editor, judge, edit, settings, target)
        finally:
            opening_module.THIN_GAP, opening_module.OPEN_GAP = saved
    return change


def reopened(**fields) -> Variant:
    """The default with its opening's `fields` replaced (those the opening carries to apply_change:
    clean, mouth_opening.CLEAN; smooth, mouth_opening.SMOOTH_LIPS; match_focus, mouth_opening.MATCH_FOCUS)."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        base = default(editor, judge, edit, settings, target)
        return base if base.opening is None else replace(base, opening=replace(base.opening, **fields))
    return change


def near_render(editor, edit, render_at: float | None) -> tuple[np.ndarray, np.ndarray, float] | None:
    """T rendered at the edit's weights scaled down to a total of `render_at`, its landmarks and the
    share of the weights rendered (far_target.render_share); None where the weights are within it."""
    weights = np.asarray(edit.weights, np.float32)
    share = render_share(float(weights.sum()), render_at)
    if share == 1.0:
        return None
    near = render_conditional(editor.conditional, edit.z, target_label(edit.source_label, weights * share),
                              editor.device)
    return near, render_points(editor.landmarks, near), share


def rendered_at(render_at: float | None, lowpass: float = LOWPASS) -> Variant:
    """T rendered at a weight total of at most `render_at` and its change carried on from there
    (far_target.py, with its difference low-passed by `lowpass`); None: the label carries the
    whole strength, as before far_target."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        rendered = near_render(editor, edit, render_at)
        if rendered is not None and edit.source_points is not None:
            near, near_points, share = rendered
            generated, points = far_target(edit.source, edit.source_points, near, near_points, 1.0 / share,
                                           lowpass=lowpass)
        else:  # the label as it is: the edit's own render
            generated, points = edit.generated, edit.target_points
        return conditional_change(replace(edit, generated=generated, target_points=points), settings)
    return change


def far_pixels(render_at: float) -> Variant:
    """T's landmarks as the label puts them (the default's motion), its pixels from a render at
    `render_at` moved there and its difference from S scaled on (far_target's, with the geometry kept)."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        rendered = near_render(editor, edit, render_at)
        if rendered is None or edit.source_points is None or edit.target_points is None:
            return default(editor, judge, edit, settings, target)
        near, near_points, share = rendered
        generated = far_target(edit.source, edit.source_points, near, near_points, 1.0 / share,
                               far_points=edit.target_points)[0]
        return conditional_change(replace(edit, generated=generated), settings)
    return change


def despeckled(radius: int) -> Variant:
    """The default with its residual's small blobs taken off: a grey closing (dark spots) and
    opening (bright ones) with a (2 radius + 1) square, crop pixels (fear's dark dot on dev080's chin)."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        base = default(editor, judge, edit, settings, target)
        kernel = np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)
        residual = cv2.morphologyEx(cv2.morphologyEx(base.residual, cv2.MORPH_CLOSE, kernel), cv2.MORPH_OPEN, kernel)
        return replace(base, residual=residual.astype(np.float32))
    return change


def mouth_from(edit, near: np.ndarray, near_points: np.ndarray) -> np.ndarray:
    """The edit's T with its mouth region (mouth_darkening.mouth_region) drawn from another render
    `near` (its landmarks `near_points`) moved to T's landmarks."""
    points = np.asarray(edit.target_points, np.float64)
    moved = warp_crop(near.astype(np.float32), smooth_flow(points, near_points - points, np.empty((0, 2)), near.shape[0]))
    region = mouth_region(edit.target_points, near.shape[0])
    generated = edit.generated.astype(np.float32) * (1.0 - region) + moved * region
    return np.clip(generated, 0, 255).round().astype(np.uint8)


def clean_mouth(render_at: float) -> Variant:
    """The default with T's mouth region (mouth_darkening.mouth_region) drawn from a render at a
    weight total of `render_at` moved to T's landmarks: the over-driven render's motion and
    shades, a clean render's teeth and opening for the fill."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        rendered = near_render(editor, edit, render_at)
        if rendered is None or edit.target_points is None:
            return default(editor, judge, edit, settings, target)
        near, near_points, _ = rendered
        return conditional_change(replace(edit, generated=mouth_from(edit, near, near_points)), settings)
    return change


def truncated_mouth(factor: float) -> Variant:
    """The default with T's mouth region drawn from G(factor z, y), the same label at a more typical
    z, moved to T's landmarks (as clean_mouth)."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        if edit.target_points is None:
            return default(editor, judge, edit, settings, target)
        label = target_label(edit.source_label, np.asarray(edit.weights, np.float32))
        near = render_conditional(editor.conditional, edit.z * factor, label, editor.device)
        near_points = render_points(editor.landmarks, near)
        return conditional_change(replace(edit, generated=mouth_from(edit, near, near_points)), settings)
    return change


def teeth(scale: float) -> Variant:
    """The default with its brightening inside the target render's mouth (mouth_darkening.mouth_region)
    scaled by `scale`: the model's 48 px teeth painted over the photo's closed lips."""
    def change(editor, judge, edit, settings, target) -> FaceChange:
        base = default(editor, judge, edit, settings, target)
        region = mouth_region(edit.target_points, base.residual.shape[0])
        keep = 1.0 - (1.0 - scale) * region
        return replace(base, residual=np.where(base.residual > 0, base.residual * keep, base.residual).astype(np.float32))
    return change


def salient(by: str) -> Variant:
    def change(editor, judge, edit, settings, target) -> FaceChange:
        base = default(editor, judge, edit, settings, target)
        if by == "ours":
            log_probs = lambda x: torch.log_softmax(editor.classifier(x), 1)  # noqa: E731
        elif by == "encoder":  # the encoder's expression head: a model that judges nothing
            log_probs = lambda x: torch.log_softmax(editor.encoder(x)[1], 1)  # noqa: E731
        else:  # the second judge reads 64x64
            log_probs = lambda x: torch.log_softmax(judge.logits(  # noqa: E731
                F.interpolate(x, size=(SIDE, SIDE), mode="bilinear", align_corners=False)), 1)
        gradient = _target_gradient(log_probs, edit.aligned, base.residual, target)
        return replace(base, residual=(base.residual * saliency_weight(gradient, base.residual)).astype(np.float32))
    return change


def variant(spec: str) -> tuple[str, Variant, float]:
    name, _, strength = spec.partition("@")
    base, _, arg = name.partition("-")
    makers = {"default": lambda: default, "registered": lambda: registered(float(arg) if arg else 1.0),
              "saliency": lambda: salient(arg or "ours"), "teeth": lambda: teeth(float(arg or 0.0)),
              "follow": lambda: capped_frame, "unparted": lambda: knees(mouth_fill=False),
              "uncovered": lambda: knees(cover_lips=False), "clean": lambda: reopened(clean=float(arg or 0.0)),
              "openonly": lambda: knees(close_cover=False),
              "flatlips": lambda: knees(lip_seam=0.0),
              "sigma": lambda: knees(residual_sigma=float(arg or RESIDUAL_SIGMA)),
              "seam": lambda: knees(lip_seam=float(arg or SEAM_DEPTH)),
              "polylips": lambda: reopened(smooth=False),
              "truncmouth": lambda: truncated_mouth(float(arg or 0.7)),
              "crispfill": lambda: reopened(match_focus=False),
              "flatfill": lambda: reopened(shaded=False),
              "rawinside": lambda: reopened(structured=False),
              "greylight": lambda: knees(skin_light=False),
              "shift": lambda: knees(shift_removed=float(arg or SHIFT_REMOVED)),
              "shiftmedian": lambda: median_shift(float(arg or 1.0)),
              "philtrum": lambda: knees(philtrum_stretch=None if arg == "none" else float(arg or PHILTRUM_STRETCH)),
              "narrowing": lambda: knees(mouth_narrowing=None if arg == "none" else float(arg or 0.25)),
              "stillbrows": lambda: knees(move_brows=False),
              "stilllids": lambda: knees(move_lids=False),
              "stretchedeyes": lambda: knees(rigid_eyes=False),
              "rigideyes": lambda: knees(eye_share=float(arg or EYE_SHARE)),
              "framedlids": lambda: knees(move_lids=True),
              "teethband": lambda: knees(teeth_band=float(arg or 0.0)),
              "cleanmouth": lambda: clean_mouth(float(arg or 1.0)),
              "despeckle": lambda: despeckled(int(arg or 1)),
              "farpixels": lambda: far_pixels(float(arg or 1.0)),
              "renderat": lambda: rendered_at(None if arg == "none" else float(arg.partition("/")[0] or RENDER_AT),
                                              float(arg.partition("/")[2] or LOWPASS)),
              "cap": lambda: knees(cap=float(arg or CAP)),
              "reach": lambda: knees(reach=float(arg or SIGMA)),
              "unrigid": lambda: knees(rigid_teeth=False),
              "squeezedteeth": lambda: knees(rigid_sideways=False),
              "sideways": lambda: knees(sideways_shares=tuple(float(v) for v in arg.split("/"))),
              "unliftedteeth": lambda: knees(sideways_lift=False),
              "partedheld": lambda: knees(sideways_parted=float(arg or 1.0)),
              "teethdepth": lambda: knees(teeth_depth=None if arg == "none" else float(arg or TEETH_DEPTH)),
              "teethskin": lambda: knees(teeth_skin=float(arg or TEETH_SKIN)),
              "hinged": lambda: knees(rigid_teeth=False, teeth_depth=None, cap=3.0, teeth_skin=0.0),
              "gaps": lambda: gaps(*(float(v) for v in arg.split("/"))),
              "moustache": lambda: knees(moustache_low=None if arg == "none" else float(arg or MOUSTACHE_LOW)),
              "stray": lambda: (knees(stray_margin=None) if arg == "none" else
                                knees(stray_margin=float(arg.partition("/")[0] or STRAY_MARGIN),
                                      stray_depth=float(arg.partition("/")[2] or STRAY_DEPTH))),
              "relative": lambda: knees(knee=None if arg == "none" else float(arg or 1.0)),
              "cavity": lambda: (cavity_anywhere if arg == "anywhere" else
                                 knees(cavity_knee=None if arg == "none" else float(arg or CAVITY_KNEE)))}
    if base not in makers or (base == "saliency" and arg not in ("", "ours", "judge", "encoder")):
        raise SystemExit(f"unknown variant {spec!r}: default, registered[-SIGMA], "
                         "relative-KNEE|none, cavity-KNEE|none|anywhere, stray-MARGIN[/DEPTH]|none, moustache-LOW|none, gaps-THIN/WIDE, renderat-AT[/LOWPASS]|none, farpixels-AT, despeckle-RADIUS, cleanmouth-AT, truncmouth-FACTOR, follow, unparted, uncovered, openonly, flatlips, sigma-SIGMA, seam-DEPTH, clean-RADIUS, polylips, crispfill, flatfill, rawinside, greylight, shift-FRACTION, shiftmedian-FRACTION, philtrum-SHARE|none, narrowing-SHARE|none, stillbrows, stilllids, stretchedeyes, rigideyes-SHARE, framedlids, teethband-H, cap-PIXELS, reach-PIXELS, unrigid, squeezedteeth, unliftedteeth, partedheld-PIXELS, sideways-RIGID/SQUEEZE, teethdepth-DEPTH|none, teethskin-SHARE, hinged, teeth-SCALE, saliency-ours, saliency-judge, saliency-encoder")
    return spec, makers[base](), float(strength) if strength else DEFAULT_STRENGTH["conditional"]


def edited_photo(editor: Editor, judge: ExpressionJudge | None, result, make_change: Variant, strength: float,
                 target: int) -> np.ndarray:
    """The photo of `result` (fitted once) with every face moved to EXPRESSIONS[target] at
    `strength` by one variant's change. `judge`: the second judge, for the variants that need it."""
    image = result.original
    weights = {f.index: expression_weights(EXPRESSIONS[target], strength) for f in result.faces}
    for moved in editor.retarget(result, weights=weights):
        change = make_change(editor, judge, moved, result.settings, target)
        image = apply_change(image, change, moved.alignment.to_photo)
    return image


def report(photos: str, rows: dict[str, list]) -> dict:
    """The JSON --out holds: the rows with when, where and how they were measured."""
    return {"date": time.strftime("%Y-%m-%d"), "machine": f"{cpu_name()}, {torch.get_num_threads()} threads",
            "command": command_line("transfer_screen.py"), "photos": photos, "rows": rows}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=photo_range, default="0:40",
                        help="a slice of the sorted faces_dev photos, FIRST:END (default: %(default)s)")
    parser.add_argument("--variants", default="default,registered,saliency-ours,saliency-judge")
    parser.add_argument("--data", type=existing_dir, default=str(DATA))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "transfer_screen.json")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    first, end = args.photos
    variants = [variant(v) for v in args.variants.split(",")]
    identity, second = load_judges()  # before the editor: a missing dlib is said at once
    editor = Editor.load(ROOT / "checkpoints")
    judge = FaceJudge(editor, identity, second)
    rows: dict[str, list] = {name: [] for name, _, _ in variants}
    started = time.perf_counter()
    for n, path in enumerate(sorted((args.data / "faces_dev").glob("*.jpg"))[first:end]):
        photo = read_photo(path)
        try:
            faces = editor.detector.detect(photo.rgb, name=photo.name)
        except NoFaceError:
            continue
        refs = judge.original(photo, faces)
        result = editor.edit(photo, EXPRESSIONS[0], seed=args.seed, model="conditional")
        for name, make_change, strength in variants:
            for target, expression in enumerate(EXPRESSIONS):
                image = edited_photo(editor, judge.second, result, make_change, strength, target)
                for measured in judge.measure(image, refs):
                    rows[name].append({"photo": path.name, "target": expression, "hit": measured["reads"] == expression,
                                       "hit2": measured["reads2"] == expression, "same": bool(measured["same"]),
                                       "sharpness": measured["sharpness"]})
        if (n + 1) % 10 == 0:
            print(f"  {n + 1} photos, {time.perf_counter() - started:.0f} s", flush=True)
    for name, items in rows.items():
        share = lambda key: np.mean([key(r) for r in items]) if items else float("nan")  # noqa: E731
        print(f"{name:24s} n={len(items)} hit {share(lambda r: r['hit']):.1%} same {share(lambda r: r['same']):.1%} "
              f"both {share(lambda r: r['hit'] and r['same']):.1%} hit2 {share(lambda r: r['hit2']):.1%} "
              f"both2 {share(lambda r: r['hit2'] and r['same']):.1%} "
              f"sharpness {np.median([r['sharpness'] for r in items]) if items else float('nan'):.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report(f"{first}:{end}", rows)) + "\n")


if __name__ == "__main__":
    main()
