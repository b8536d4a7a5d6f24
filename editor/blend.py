"""Paste a generated 48x48 face back into the photo.

The algorithm is facexlib's paste-back (face_restoration_helper.py): warp the
crop back with the inverse of the alignment affine, warp a face mask the same
way, erode and blur it in proportion to the face's size so no seam shows, and
mix. Two differences:
- the generators are greyscale, so only LUMINANCE comes from the generated
  face. In YCrCb with Cr and Cb held fixed, R, G and B each move by exactly the
  change in Y, so the photo keeps its own colour (skin tone, lighting hue);
- the generated luminance is first matched to the original face's mean and
  standard deviation inside the mask (brightness and contrast), and the photo's
  detail finer than one crop pixel can be kept (`detail`), so an upscaled
  48x48 face does not look blurred next to a sharp photo.
Everything is a pure function of its arguments (safe under concurrent
requests) and works only inside the face's bounding rectangle plus a margin,
so a megapixel photo costs a few milliseconds. Pixels where the mask is 0 are
copied from the input unchanged.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from .faces import affine_scale, crop_footprint

MODES = ("alpha", "poisson")

# The face oval in FER2013 framing (48x48, pixel-centre coordinates): the mean
# of FER2013's Training faces has its eyes on y = 20, its chin near y = 46 and
# its cheeks near x = 6 and x = 41; the forehead starts near y = 4.
_OVAL_CENTRE = (23.5, 25.5)
_OVAL_AXES = (18.5, 21.5)
_OVAL_SOFT = 0.2  # the mask falls from 1 to 0 over the outer 20% of the radius


def crop_face_mask(size: int = 48) -> np.ndarray:
    """A soft face oval for a size x size crop in FER2013 framing:
    [size, size] float32 in [0, 1], 1 on the face, 0 in the corners."""
    return _crop_face_mask(int(size)).copy()


@lru_cache(maxsize=8)
def _crop_face_mask(size: int) -> np.ndarray:
    scale = size / 48.0
    coords = (np.arange(size, dtype=np.float64) + 0.5) / scale - 0.5  # pixel centres in 48-crop units
    x, y = np.meshgrid(coords, coords)
    radius = np.hypot((x - _OVAL_CENTRE[0]) / _OVAL_AXES[0], (y - _OVAL_CENTRE[1]) / _OVAL_AXES[1])
    t = np.clip((1.0 - radius) / _OVAL_SOFT, 0.0, 1.0)
    mask = (t * t * (3.0 - 2.0 * t)).astype(np.float32)  # smoothstep: no kink at either edge
    mask.setflags(write=False)
    return mask


def _as_grey255(image: np.ndarray) -> np.ndarray:
    """[S, S] uint8, or float in [-1, 1] -> float32 in [0, 255]."""
    image = np.asarray(image)
    image = image.reshape(image.shape[-2:]) if image.ndim > 2 else image
    if image.dtype == np.uint8:
        return image.astype(np.float32)
    return np.clip((image.astype(np.float32) + 1.0) * 127.5, 0.0, 255.0)


def luma(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma Y of [..., 3] RGB as float32 (the Y of YCrCb, and FER2013's grey)."""
    rgb = rgb.astype(np.float32)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def match_luminance(generated: np.ndarray, original: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """`generated` with its weighted mean and std moved to those of `original`
    (same-shape float arrays; `weights` >= 0). The contrast ratio is kept in
    [0.5, 2] so a flat generated face is not blown up."""
    total = float(weights.sum())
    if total <= 0:
        return generated
    mean_g = float((generated * weights).sum() / total)
    mean_o = float((original * weights).sum() / total)
    std_g = math.sqrt(max(float((np.square(generated - mean_g) * weights).sum() / total), 1e-6))
    std_o = math.sqrt(max(float((np.square(original - mean_o) * weights).sum() / total), 1e-6))
    return (generated - mean_g) * float(np.clip(std_o / std_g, 0.5, 2.0)) + mean_o


def _odd(value: float) -> int:
    return 2 * max(0, int(round(value / 2.0))) + 1


def paste_back(
    photo_rgb: np.ndarray,  # [H, W, 3] uint8
    generated: np.ndarray,  # [S, S] float in [-1, 1], or uint8
    to_photo: np.ndarray,  # [2, 3] affine: crop pixel centres -> photo pixel centres
    *,
    original_crop: np.ndarray | None = None,  # [S, S] uint8, the aligned crop the face was fitted to
    strength: float = 1.0,
    mode: str = "alpha",
    detail: float = 0.0,
) -> np.ndarray:
    """The photo with the generated face's luminance blended in: [H, W, 3] uint8.

    `strength` in [0, 1] scales the change (0 returns the photo unchanged).
    `mode="alpha"` mixes with the feathered mask; `mode="poisson"` solves for
    the face with cv2.seamlessClone (gradients from the generated face, values
    from the photo at the mask's edge), then applies `strength`. `detail` in
    [0, 1] keeps that fraction of the photo's luminance detail finer than one
    crop pixel (0: the face is exactly the upscaled generated one).
    """
    photo_rgb = np.asarray(photo_rgb)
    if photo_rgb.ndim != 3 or photo_rgb.shape[2] != 3 or photo_rgb.dtype != np.uint8:
        raise ValueError(f"photo_rgb must be [H, W, 3] uint8, got {photo_rgb.shape} {photo_rgb.dtype}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    to_photo = np.asarray(to_photo, dtype=np.float64)
    if to_photo.shape != (2, 3):
        raise ValueError(f"to_photo must be a [2, 3] affine matrix, got {to_photo.shape}")
    strength = float(np.clip(strength, 0.0, 1.0))
    out = photo_rgb.copy()
    if strength == 0.0:
        return out

    face = _as_grey255(generated)  # [S, S] float32 in [0, 255]
    size = face.shape[0]
    oval = _crop_face_mask(size)
    if original_crop is not None:
        # Brightness/contrast in crop space, where both faces have the same framing.
        face = match_luminance(face, _as_grey255(original_crop), oval)

    # The face's footprint in the photo, plus room for the feathering.
    scale = affine_scale(to_photo)  # photo pixels per crop pixel
    face_px = size * scale
    erode = max(1, int(round(0.03 * face_px)))
    blur = _odd(0.06 * face_px)
    box = crop_footprint(to_photo, size, photo_rgb.shape, margin=blur // 2 + 2)
    if box is None:
        return out  # the face lies outside the photo
    x0, y0, x1, y1 = box
    local = to_photo.copy()
    local[:, 2] -= (x0, y0)
    region = (y1 - y0, x1 - x0)

    mask = cv2.warpAffine(oval, local, region[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=0)
    mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1)))
    mask = cv2.GaussianBlur(mask, (blur, blur), 0)
    mask[mask < 1.0 / 512] = 0.0  # below half a grey level: leave those pixels alone
    if not mask.any():
        return out
    face_photo = cv2.warpAffine(face, local, region[::-1], flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)

    patch = photo_rgb[y0:y1, x0:x1].astype(np.float32)  # [h, w, 3]
    y_old = luma(patch)
    if original_crop is None:
        face_photo = match_luminance(face_photo, y_old, mask)
    if detail > 0:
        # Photo detail finer than one crop pixel, which the 48x48 face cannot have.
        y_fine = y_old - cv2.GaussianBlur(y_old, (0, 0), max(0.5, 0.7 * scale))
        face_photo = face_photo + float(detail) * y_fine
    face_photo = np.clip(face_photo, 0.0, 255.0)
    # Cr, Cb fixed: R, G, B each move by the change in Y.
    delta = face_photo - y_old  # [h, w]

    if mode == "alpha":
        blended = patch + (mask * strength * delta)[..., None]
        inside = mask > 0
    else:
        inside = mask >= 0.5
        inside[[0, -1], :] = False  # seamlessClone needs the mask off the region's border
        inside[:, [0, -1]] = False
        if not inside.any():
            return out
        # Poisson on the luminance alone (seamlessClone wants 3 channels: Y three times),
        # then the same Y-only change to R, G, B as in alpha mode, so colour stays put.
        y_before = np.clip(np.rint(y_old), 0, 255).astype(np.uint8)
        y_after = np.clip(np.rint(face_photo), 0, 255).astype(np.uint8)
        binary = inside.astype(np.uint8) * 255
        bx, by, bw, bh = cv2.boundingRect(binary)
        cloned = cv2.seamlessClone(cv2.merge([y_after] * 3), cv2.merge([y_before] * 3), binary,
                                   (bx + bw // 2, by + bh // 2), cv2.NORMAL_CLONE)
        delta = cloned[..., 0].astype(np.float32) - y_before
        blended = patch + (strength * delta)[..., None]
    blended = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    window = out[y0:y1, x0:x1]
    window[inside] = blended[inside]
    return out
