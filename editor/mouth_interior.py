"""What an opened mouth shows, drawn as a mouth is built: teeth along the lips, a dark cavity between.

The fill between parted lips (mouth_opening.py) took T's 48x48 mouth as it was, upscaled: at photo
resolution that is a mottle of blurred light and dark patches, teeth "broken" into triangles and
white blobs floating in a dark mouth (an angry or surprised mouth, dev000 and dev160 in the README's
figure). In any photo of an open mouth the upper teeth hang from the upper lip, the lower teeth
rise from the lower lip, and the mouth's inside is dark between them; so the render is read for
how far each band reaches, not drawn pixel by pixel:

- along the mouth, for each column between T's inner lips, how far down from the upper lip and
  how far up from the lower lip T stays brighter than halfway between its teeth and its cavity;
- those two reaches smoothed along the mouth (teeth run in a band, they do not flicker from one
  crop pixel to the next), then drawn at photo resolution as two bands with edges as soft as
  EDGE crop pixels, in T's own teeth grey (their median) fading towards the mouth corners as
  teeth recede into the cheeks' shadow (CORNER_SHADE);
- between them T's cavity, low-passed and held below a little of the teeth's brightness
  (CAVITY_CEILING), so no render speckle is drawn as a stray tooth; a tongue's faint
  lightness stays.

A mouth whose render shows no contrast (all cavity, or teeth from lip to lip) is left as T drew it:
nothing there mottles.
"""

from __future__ import annotations

import cv2
import numpy as np

from .lip_outline import chain_curve

# Below this spread (photo grey levels) between T's brightest and darkest mouth inside, there are not
# two things to tell apart: T's fill is kept as it is.
MIN_CONTRAST = 25.0
# Column samples per crop pixel along the mouth, and down each column between the lips.
COLUMNS_PER_PIXEL = 4
DEPTH_SAMPLES = 16
# The reaches' smoothing along the mouth, as a share of its width (a Gaussian sigma).
SMOOTH_SHARE = 0.15
# The bands' edges (crop pixels, from fully teeth to fully cavity).
EDGE = 0.4
# T's teeth grey: this percentile of what is brighter than the threshold (its median drew grey
# teeth: a render's teeth are blurred into their surroundings at their edges).
TEETH_PERCENTILE = 80.0
# Teeth in the lip's shadow: this much darker where they meet the lip, none LIP_SHADOW_REACH crop
# pixels from it.
LIP_SHADOW = 0.15
LIP_SHADOW_REACH = 0.6
# Teeth at the mouth's corners this much darker than at its middle (quadratic across the mouth).
CORNER_SHADE = 0.35
# The cavity no brighter than its darkest plus this share of the teeth-to-cavity spread.
CAVITY_CEILING = 0.15
CAVITY_SIGMA = 0.7  # crop pixels: T's cavity low-passed before it is drawn


def lip_curves(lips: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The upper and lower inner lip's y at each x of `at` (crop pixels), from `lips` (landmarks
    60-67, [8, 2]: left corner, upper lip, right corner, lower lip back): smooth curves through
    the points (lip_outline.chain_curve)."""
    lips = np.asarray(lips, np.float64)
    upper = chain_curve(lips[[0, 1, 2, 3, 4]])
    lower = chain_curve(lips[[0, 7, 6, 5, 4]])

    def along(curve: np.ndarray) -> np.ndarray:
        order = np.argsort(curve[:, 0], kind="stable")
        return np.interp(at, curve[order, 0], curve[order, 1])
    return along(upper), along(lower)


def teeth_reaches(field: np.ndarray, lips: np.ndarray) -> dict | None:
    """How far T's teeth reach from each lip, read off `field` (T's grey levels where the output
    shows them, [S, S], photo scale) between `lips` ([8, 2], the output frame): a dict of the
    columns' x (crop pixels), the upper and lower reaches there (shares of the lips' gap), the
    teeth's and the cavity's grey levels and the cavity's ceiling; None where the mouth is too
    small or shows no contrast (MIN_CONTRAST)."""
    lips = np.asarray(lips, np.float64)
    left, right = float(lips[:, 0].min()), float(lips[:, 0].max())
    if right - left < 2.0:
        return None
    xs = np.linspace(left, right, max(int((right - left) * COLUMNS_PER_PIXEL), 8))
    top, bottom = lip_curves(lips, xs)
    depth = (np.arange(DEPTH_SAMPLES) + 0.5) / DEPTH_SAMPLES
    gap = np.maximum(bottom - top, 0.0)
    map_y = (top[:, None] + depth[None, :] * gap[:, None]).astype(np.float32)
    map_x = np.repeat(xs[:, None], DEPTH_SAMPLES, axis=1).astype(np.float32)
    samples = cv2.remap(np.asarray(field, np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    open_columns = gap > 0.5
    if not open_columns.any():
        return None
    seen = samples[open_columns]
    bright, dark = np.percentile(seen, 90), np.percentile(seen, 10)
    if bright - dark < MIN_CONTRAST:
        return None
    threshold = (bright + dark) / 2
    above = samples > threshold
    # The leading run of teeth from each lip: a column's teeth start at its lip or not at all.
    upper = np.cumprod(above, axis=1).sum(axis=1) / DEPTH_SAMPLES
    lower = np.cumprod(above[:, ::-1], axis=1).sum(axis=1) / DEPTH_SAMPLES
    upper, lower = np.where(open_columns, upper, 0.0), np.where(open_columns, lower, 0.0)
    lower = np.minimum(lower, 1.0 - upper)  # teeth from lip to lip: the upper band's
    sigma = SMOOTH_SHARE * len(xs)
    upper = cv2.GaussianBlur(upper[None, :].astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)[0]
    lower = cv2.GaussianBlur(lower[None, :].astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)[0]
    teeth = float(np.percentile(seen[seen > threshold], TEETH_PERCENTILE))
    return {"x": xs, "upper": upper, "lower": lower, "teeth": teeth, "dark": float(dark),
            "ceiling": float(dark + CAVITY_CEILING * (bright - dark))}


def structured_interior(field: np.ndarray, lips: np.ndarray, at_x: np.ndarray, at_y: np.ndarray,
                        drawn: np.ndarray, soften: float = 0.0) -> np.ndarray:
    """The fill's grey levels at the crop positions (`at_x`, `at_y`: [h, w], the output frame) of
    each pixel drawn: between `lips` ([8, 2]) two bands of teeth over a dark cavity, read off T's
    `field` ([S, S]) by teeth_reaches, blurred by `soften` (a Gaussian sigma, photo pixels: the
    photo's own focus); elsewhere, or where teeth_reaches finds nothing to draw, `drawn` ([h, w],
    T's fill as sampled there)."""
    reaches = teeth_reaches(field, lips)
    if reaches is None:
        return drawn
    # Only the lips' rectangle (and the blur's reach) is drawn: the box is the whole face.
    lips = np.asarray(lips, np.float64)
    (left, top), (right, bottom) = lips.min(axis=0) - 1.0, lips.max(axis=0) + 1.0
    near = (at_x >= left) & (at_x <= right) & (at_y >= top) & (at_y <= bottom)
    rows, cols = np.flatnonzero(near.any(axis=1)), np.flatnonzero(near.any(axis=0))
    if rows.size == 0:
        return drawn
    pad = int(np.ceil(3 * soften))
    window = (slice(max(rows[0] - pad, 0), rows[-1] + pad + 1), slice(max(cols[0] - pad, 0), cols[-1] + pad + 1))
    part = _bands(field, lips, reaches, at_x[window], at_y[window], drawn[window])
    if soften > 0:
        part = cv2.GaussianBlur(part, (0, 0), soften)
    out = np.array(drawn, np.float32, copy=True)
    out[window] = part
    return out


def _bands(field: np.ndarray, lips: np.ndarray, reaches: dict, at_x: np.ndarray, at_y: np.ndarray,
           drawn: np.ndarray) -> np.ndarray:
    """structured_interior over one window, unblurred."""
    xs = reaches["x"]
    top, bottom = lip_curves(lips, at_x)
    gap = np.maximum(bottom - top, 1e-3)
    upper_edge = top + np.interp(at_x, xs, reaches["upper"]) * gap
    lower_edge = bottom - np.interp(at_x, xs, reaches["lower"]) * gap
    in_upper = np.clip((upper_edge - at_y) / EDGE + 0.5, 0.0, 1.0)
    in_lower = np.clip((at_y - lower_edge) / EDGE + 0.5, 0.0, 1.0)
    # Teeth only where their band has some height (a reach of zero leaves no sliver along the lip).
    in_upper *= np.clip((upper_edge - top) / EDGE, 0.0, 1.0)
    in_lower *= np.clip((bottom - lower_edge) / EDGE, 0.0, 1.0)
    teeth_share = np.maximum(in_upper, in_lower)
    middle, half = (xs[0] + xs[-1]) / 2, max((xs[-1] - xs[0]) / 2, 1e-3)
    across = np.clip((at_x - middle) / half, -1.0, 1.0)
    from_lip = np.minimum(np.clip(at_y - top, 0.0, None), np.clip(bottom - at_y, 0.0, None))
    shadow = 1.0 - LIP_SHADOW * (1.0 - np.clip(from_lip / LIP_SHADOW_REACH, 0.0, 1.0))
    teeth = reaches["teeth"] * (1.0 - CORNER_SHADE * across ** 2) * shadow
    cavity_field = cv2.GaussianBlur(np.asarray(field, np.float32), (0, 0), CAVITY_SIGMA)
    cavity = cv2.remap(cavity_field, at_x.astype(np.float32), at_y.astype(np.float32), cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    cavity = np.minimum(cavity, reaches["ceiling"])
    inside = cavity + teeth_share * (teeth - cavity)
    # Between the lips (half an EDGE outside them blended in), the structure; beyond, T's fill.
    between = np.clip(np.minimum(at_y - top, bottom - at_y) / EDGE + 0.5, 0.0, 1.0)
    between *= (at_x >= xs[0]) & (at_x <= xs[-1])
    return (drawn + between * (inside - drawn)).astype(np.float32)
