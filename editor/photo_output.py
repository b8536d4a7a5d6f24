"""Writing edits as files: the photo's pixels back into a PIL image (grey stays grey, the
alpha comes back), saved in the format its name asks for, tagged sRGB and with the camera's
EXIF kept (photo.kept_exif) and marked as the editor's (edit_mark). photo.py reads photos in."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

from .edit_mark import marked_exif
from .photo import Photo


def to_pil(photo: Photo, rgb: np.ndarray) -> Image.Image:
    """`rgb` [H, W, 3] uint8 (an edited `photo.rgb`) as a PIL image, with the photo's alpha
    re-attached; greyscale (L or LA) when every pixel is grey, as `keep_grey` says."""
    if rgb.shape != photo.rgb.shape or rgb.dtype != np.uint8:
        raise ValueError(f"expected uint8 {photo.rgb.shape} like the photo, got {rgb.dtype} {rgb.shape}")
    pixels = rgb if photo.alpha is None else np.dstack([rgb, photo.alpha])
    return Image.fromarray(keep_grey(pixels))


def keep_grey(image: np.ndarray) -> np.ndarray:
    """An [H, W, 3 or 4] uint8 image whose every pixel is grey (R = G = B) as one grey channel
    (plus its alpha): a black-and-white photo comes back black and white, in a third of the
    bytes. The edit keeps such a photo exactly grey (the same move and the same luminance
    change in every channel), so this loses nothing; any colour at all keeps it RGB."""
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        return image
    r, g, b = image[:, :, 0], image[:, :, 1], image[:, :, 2]
    if not (np.array_equal(r, g) and np.array_equal(g, b)):
        return image
    return np.ascontiguousarray(image[:, :, 0] if image.shape[2] == 3 else image[:, :, [0, 3]])


def save_photo(image: Image.Image, path: str | Path, *, quality: int = 95, exif: bytes = b"") -> Path:
    """Save an edit in the format the suffix names, tagged sRGB and with `exif` (a `Photo.exif`)
    marked as the editor's (edit_mark); JPEG, which has no alpha, gets the image over white."""
    path = Path(path)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        image = over_white(image)
    image.save(path, quality=quality, **output_metadata(marked_exif(exif), grey=image.mode in ("L", "LA")))
    return path


def over_white(image: Image.Image) -> Image.Image:
    """A transparent image over white, for a format without alpha (JPEG); others as they are."""
    if image.mode not in ("RGBA", "LA"):
        return image
    background = (Image.new("RGB", image.size, (255, 255, 255)) if image.mode == "RGBA"
                  else Image.new("L", image.size, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def output_metadata(exif: bytes = b"", *, grey: bool = False) -> dict:
    """PIL save arguments for an edited photo: the sRGB profile its pixels are in (read_photo
    converted them), so colour-managed viewers show them as the editor did, and the EXIF kept.
    A greyscale image gets no profile: an RGB profile on one channel is invalid."""
    return {**({} if grey else {"icc_profile": _srgb_profile()}), **({"exif": exif} if exif else {})}


@functools.lru_cache(maxsize=1)
def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
