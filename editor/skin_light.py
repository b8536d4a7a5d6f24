"""A brightening in the colour of the face's own skin, not in grey.

The residual (transfer.py) is the model's change in grey levels. Added to R, G and B alike, a
brightening keeps the pixel's differences between channels while its level rises, so warm skin
loses saturation: fr_obama.jpg's upper lip and chin at every target but happy, dev122's and
dev130's cheeks, come out a flat grey-beige wash ("ashy"). Light reflected by skin has the skin's
colour, so more light on it adds R, G and B in the skin's proportions: the brightening r is added
as r x `tint`, the face's median skin colour over its luminance (BT.601 luma of `tint` is 1, so
the luminance still rises by r: the judges, who read grey, see the same change).

Except round the eyes: the whites that fear and surprise show are brightened too, and in the
skin's colour they came out amber (dev035's "cat's eyes"); there (each eye's six landmarks'
hull, S's and T's, widened by EYE_MARGIN crop pixels; without landmarks, the FER template's band
of the eyes) the brightening stays grey.

And only as far as the pixel is skin-coloured (skin_likeness: its chromaticity projected on the
tint's): a grey moustache lightened in the skin's colour dissolved into pink streaks (dev166's
disgust, fear and surprise), where light on grey hair is grey.

The pixel's own colour (tried: docs/transfer_screens.md) multiplies whatever cast a dark pixel has
(a black moustache went teal, a brown one orange); one tint per face cannot: a dark feature the
brightening still reaches (the knees and the moustache shield fade most of it) turns a shade of
the skin's brown instead of grey. Darkening stays grey: subtracted alike, a shadow keeps the
colour a deepened mouth or crease has (docs/transfer_screens.md, "A darkening as a shade").
"""

from __future__ import annotations

import numpy as np

from .mouth_darkening import mouth_region

# The brightening is added in the skin's colour (True) or in grey (False: R, G, B alike).
SKIN_LIGHT = True
BT601 = np.array([0.299, 0.587, 0.114], np.float32)
# Skin is the oval's pixels between these percentiles of luminance (not hair, brows, pupils,
# nostrils, nor teeth, eye whites and specular highlights).
SKIN_PERCENTILES = (25.0, 90.0)
# Chroma farther than this share of the luminance from grey is clipped (a red cast, a gel light):
# a tint stays a skin's.
MAX_CHROMA = 0.5
SAMPLES = 20_000  # pixels the median is taken over: a 24 MP photo's face has millions
EYE_MARGIN = 1.0
EYES = (slice(36, 42), slice(42, 48))  # iBUG 300-W: each eye's six points
# Without landmarks, both eyes at once: FER2013's mean face has its eyes on y = 20 between its cheeks
# (blend.py's oval); y0, y1, x0, x1 in the 48x48 crop, lids included.
TEMPLATE_EYES = (16, 24, 8, 40)


def skin_tint(region: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """[3] float32: the median R, G, B over the median luminance of the skin of `region` ([h, w, 3]
    float32) where `weight` ([h, w]) > 0.5 (the face's oval), scaled so its BT.601 luma is 1;
    (1, 1, 1) where there is no such pixel or no light."""
    # Every step-th row and column first: a 24 MP photo's face box is some 9 M pixels, and this runs
    # at each slider move.
    step = max(1, int(np.sqrt(weight.size / (4 * SAMPLES))))
    grid = weight[::step, ::step]
    chosen = np.flatnonzero(grid > 0.5)
    if chosen.size > SAMPLES:  # an even spread of the face, the same every time
        chosen = chosen[np.linspace(0, chosen.size - 1, SAMPLES).astype(np.int64)]
    # Only the chosen pixels are gathered: indexing every inside pixel first cost most of the
    # 5-7 ms this took at each slider move.
    rows, cols = np.unravel_index(chosen, grid.shape)
    inside = region[rows * step, cols * step]
    grey = np.ones(3, np.float32)
    if inside.shape[0] == 0:
        return grey
    luma = inside @ BT601
    low, high = np.percentile(luma, SKIN_PERCENTILES)
    skin = inside[(luma >= low) & (luma <= high)]
    if skin.shape[0] == 0:
        return grey
    colour = np.median(skin, axis=0)
    level = float(colour @ BT601)
    if level < 1.0:
        return grey
    tint = np.clip(colour / level, 1.0 - MAX_CHROMA, 1.0 + MAX_CHROMA)
    return (tint / float(tint @ BT601)).astype(np.float32)


def eye_region(source_points: np.ndarray | None, target_points: np.ndarray | None, size: int = 48, *,
               margin: float = EYE_MARGIN) -> np.ndarray:
    """[size, size] float32 in [0, 1]: 1 inside each eye's landmarks' hull (S's and T's, [68, 2]
    crop points each) widened by `margin` pixels, falling to 0 over one more pixel. Without
    landmarks (None: the optical-flow transfer), the FER template's band of the eyes (TEMPLATE_EYES)."""
    if source_points is None or target_points is None:
        return mouth_region(_template_eyes(size), size, margin=margin)
    region = np.zeros((size, size), np.float32)
    for points in (source_points, target_points):
        for eye in EYES:
            region = np.maximum(region, mouth_region(np.asarray(points, np.float64)[eye], size, margin=margin))
    return region


def _template_eyes(size: int) -> np.ndarray:
    """TEMPLATE_EYES' corners [4, 2] in a size x size crop."""
    y0, y1, x0, x1 = (v * size / 48 for v in TEMPLATE_EYES)
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)


def skin_likeness(pixels: np.ndarray, tint: np.ndarray) -> np.ndarray:
    """[h, w] float32 in [0, 1]: how far each pixel's colour ([h, w, 3]) goes from grey towards the
    skin's `tint` ([3], luma 1): its chromaticity's projection on the tint's, 0 for grey hair,
    eye whites and teeth (and colours off the skin's direction), 1 for skin and anything as warm."""
    direction = np.asarray(tint, np.float32) - 1.0
    length = float(direction @ direction)
    if length < 1e-6:
        return np.zeros(pixels.shape[:2], np.float32)
    luma = np.maximum(pixels @ BT601, 1.0)
    chroma = pixels / luma[..., None] - 1.0
    return np.clip((chroma @ direction) / length, 0.0, 1.0).astype(np.float32)


def brighten_in(residual: np.ndarray, tint: np.ndarray, grey: np.ndarray | None = None,
                pixels: np.ndarray | None = None) -> np.ndarray:
    """[h, w, 3] float32: what to add to R, G and B for `residual` ([h, w], grey levels): its
    brightening times `tint` ([3], luma 1), except in proportion to `grey` ([h, w] in [0, 1], or
    None), where it stays grey, and, given the `pixels` it is added to ([h, w, 3]), only as far as
    each is skin-coloured (skin_likeness: grey hair stays grey); its darkening alike in every channel."""
    tint = np.asarray(tint, np.float32)
    bright = np.maximum(residual, 0.0)
    if grey is not None:
        bright = bright * (1.0 - grey)
    if pixels is not None:
        bright = bright * skin_likeness(pixels, tint)
    return (residual[..., None] + bright[..., None] * (tint - 1.0)).astype(np.float32)
