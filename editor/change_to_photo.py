"""Draw one face's change (transfer.FaceChange, in crop space) into the photo at its own resolution.

Every photo pixel of the face's rectangle is mapped into the 48x48 crop (the alignment's inverse);
the crop-space fields (flow, residual, levels, cavity) are sampled there, the photo is warped with
the flow (bicubic), the residual added to its luminance under the rules the FaceChange carries
(transfer.py's module docstring says which and why), a parted mouth filled (mouth_opening.py), and
the result mixed in under the soft face oval; pixels where the oval is 0 keep the input's bytes.
"""

from __future__ import annotations

import cv2
import numpy as np

from .blend import _crop_face_mask
from .eyeballs import held_photo_eyes, smoothed_bands
from .faces import crop_footprint
from .mouth_darkening import CAVITY_GAIN
from .mouth_opening import fill_opening
from .skin_light import brighten_in, skin_tint
from .teeth_sideways import held_photo_flow
from .transfer import FaceChange

# The photo's face is resampled at sub-pixel offsets everywhere the (smooth) flow reaches, so the
# kernel decides how sharp the edit stays: bilinear averaged neighbours and lost about half the
# mouth's detail (Laplacian variance of fr_obama's mouth, happy: 330 against 610 in the photo);
# bicubic keeps 460 (Lanczos 503, but 5x bicubic's time: 190 against 35 ms for a 1500 px face box).
WARP_INTERPOLATION = cv2.INTER_CUBIC


def apply_change(photo_rgb: np.ndarray, change: FaceChange, to_photo: np.ndarray) -> np.ndarray:
    """The photo with one face's change applied: [H, W, 3] uint8. `to_photo`
    [2, 3] maps crop pixel centres to photo pixel centres (Alignment.to_photo)."""
    photo_rgb = np.asarray(photo_rgb)
    if photo_rgb.ndim != 3 or photo_rgb.shape[2] != 3 or photo_rgb.dtype != np.uint8:
        raise ValueError(f"photo_rgb must be [H, W, 3] uint8, got {photo_rgb.shape} {photo_rgb.dtype}")
    to_photo = np.asarray(to_photo, dtype=np.float64)
    size = change.residual.shape[0]
    out = photo_rgb.copy()
    box = crop_footprint(to_photo, size, photo_rgb.shape)
    if box is None:
        return out
    x0, y0, x1, y1 = box
    # Every photo pixel of the box in crop coordinates.
    to_crop = np.linalg.inv(np.vstack([to_photo, [0, 0, 1]]))[:2]
    xs, ys = np.meshgrid(np.arange(x0, x1, dtype=np.float64), np.arange(y0, y1, dtype=np.float64))
    crop_x = (to_crop[0, 0] * xs + to_crop[0, 1] * ys + to_crop[0, 2]).astype(np.float32)
    crop_y = (to_crop[1, 0] * xs + to_crop[1, 1] * ys + to_crop[1, 2]).astype(np.float32)

    def sample(field: np.ndarray) -> np.ndarray:  # a crop-space field at each box pixel
        return cv2.remap(field, crop_x, crop_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    mask = sample(np.ascontiguousarray(_crop_face_mask(size)))  # [h, w] in [0, 1]
    flow_x, flow_y = sample(np.ascontiguousarray(change.flow[..., 0])), sample(np.ascontiguousarray(change.flow[..., 1]))
    if change.sideways is not None:  # the teeth's hold, drawn at the photo's resolution
        flow_x, flow_y = held_photo_flow(flow_x, flow_y, crop_x, change.sideways, to_photo, box, photo_rgb[y0:y1, x0:x1])
    if change.eyes_held:  # the eyeballs' hold, likewise
        flow_y = held_photo_eyes(flow_y, crop_x, crop_y, change.eyes_held, to_photo, box)
    # Crop displacement -> photo displacement: the linear part of to_photo.
    linear = to_photo[:, :2]
    map_x = (xs + linear[0, 0] * flow_x + linear[0, 1] * flow_y).astype(np.float32)
    map_y = (ys + linear[1, 0] * flow_x + linear[1, 1] * flow_y).astype(np.float32)
    warped = cv2.remap(photo_rgb, map_x, map_y, WARP_INTERPOLATION, borderMode=cv2.BORDER_REFLECT)
    if change.eyes_held:  # the stretched bands' streaks smoothed sideways
        warped = smoothed_bands(warped, crop_x, crop_y, change.eyes_held, to_photo, box)
    residual = sample(np.ascontiguousarray(change.residual))
    region = photo_rgb[y0:y1, x0:x1].astype(np.float32)
    warped = warped.astype(np.float32)
    if change.level is not None or change.cavity is not None:
        luma = cv2.cvtColor(warped, cv2.COLOR_RGB2GRAY)  # BT.601, as faces.align_face makes the crop
    if change.level is not None:
        level = np.maximum(sample(np.ascontiguousarray(change.level)), 1.0)  # 0 only off the crop
        gain = np.minimum(luma / level, 1.0)
        residual = np.where(residual > 0, residual * gain, residual)
    if change.cavity is not None:
        level = np.maximum(sample(np.ascontiguousarray(change.cavity_level)), 1.0)
        weight = sample(np.ascontiguousarray(change.cavity))
        gain = 1.0 + (np.clip(luma / level, 1.0, CAVITY_GAIN) - 1.0) * weight
        residual = np.where(residual < 0, residual * gain, residual)
    if change.skin_light:  # light on skin has the skin's colour
        eyes = None if change.eyes is None else sample(np.ascontiguousarray(change.eyes))
        edited = warped + brighten_in(residual, skin_tint(region, mask), eyes, warped)
    else:
        edited = warped + residual[..., None]
    if change.opening is not None:
        edited = fill_opening(edited, warped, region, change.opening, to_photo, box, (map_x, map_y), sample_cubic=(crop_x, crop_y))
    mixed = region + mask[..., None] * (edited - region)
    result = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    keep = mask <= 0  # outside the oval: the input's own bytes, exactly
    result[keep] = photo_rgb[y0:y1, x0:x1][keep]
    out[y0:y1, x0:x1] = result
    return out
