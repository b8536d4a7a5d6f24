"""Reading the photos people have, as 8-bit RGB the way they see them.

`read_photo` takes a path, the file's bytes, a PIL image or a numpy array and
returns a `Photo`: RGB [H, W, 3] uint8 in the orientation the camera's EXIF tag
says (as viewers show it), in sRGB when the file carries another colour profile,
with any transparency kept aside as `alpha`, and the camera's EXIF kept aside to be written
back with the edit (`Photo.exif`; photo_output.py writes edits). Whatever PIL decodes is accepted
(JPEG, PNG, WebP, HEIC as iPhones save photos, and also AVIF, BMP, GIF, TIFF); every mode (palette, grey, 16-bit,
float, CMYK, ...) is converted. Anything that cannot be read raises
`PhotoError`, a message for the person who uploaded the photo.

Photos larger than `MAX_PIXELS` (40 megapixels, e.g. 8000x5000) are refused
before they are decoded: a decompression bomb (a small file that claims to hold a
huge image) must not exhaust memory. PIL's own guard, `Image.MAX_IMAGE_PIXELS`,
is lowered to the same limit, so PIL refuses anything over twice it by itself.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .edit_mark import EDITOR, SOFTWARE

MAX_PIXELS = 40_000_000
# The largest upload that can hold MAX_PIXELS: an uncompressed 8-bit RGBA file (BMP, TIFF),
# 4 bytes a pixel, plus room for headers and metadata. Compressed photos are far smaller.
MAX_FILE_BYTES = 4 * MAX_PIXELS + 1_000_000
# The largest file read from a path (the command line's photos; uploads are under MAX_FILE_BYTES
# already). It is checked before the file is read, which read all of a multi-GB file (a video given
# by mistake) into memory first. A local file may be a 16-bit master: at 8 bytes a pixel (16-bit
# RGBA, the most of any layout PIL reads as a photo) MAX_PIXELS take 320 MB uncompressed; 512 MiB
# leaves room for a TIFF's other pages and metadata.
MAX_READ_BYTES = 512 * 2**20
# PIL warns above MAX_IMAGE_PIXELS and raises above twice it; never loosen a stricter setting.
if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Said on the page and on the command line alike, so no "upload".
_UPLOAD = "choose a photo file (JPEG, PNG, WebP, HEIC, AVIF, TIFF, BMP or GIF)"
try:  # HEIC (iPhones' photos) through pillow-heif, a dependency; without it, _guess_format says what to do
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - an environment without the dependency
    register_heif_opener = None
if register_heif_opener is not None:
    register_heif_opener()

ORIENTATION, EXIF_IFD, GPS_IFD, MAKER_NOTE = 0x0112, 0x8769, 0x8825, 0x927C  # EXIF tags (Software: edit_mark's)
IMAGE_SIZE_TAGS, PIXEL_SIZE_TAGS = (0x0100, 0x0101), (0xA002, 0xA003)  # ImageWidth/Length, PixelX/YDimension
EXIF_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "HEIF", "AVIF")
MAX_EXIF_BYTES = 65_000  # a JPEG's EXIF segment holds at most 65,533 bytes
# What PIL's format plugins raise on malformed files (caught only around PIL calls).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error, zlib.error)


class PhotoError(ValueError):
    """A photo that cannot be used; the message names it and says what to do."""


@dataclass
class Photo:
    rgb: np.ndarray  # [H, W, 3] uint8, sRGB, upright
    alpha: np.ndarray | None  # [H, W] uint8 (255 opaque), or None when the photo has no transparency
    name: str  # what to call the photo in messages (its file name, usually)
    notes: tuple[str, ...] = ()  # what the person should know, e.g. that only page 1 of a TIFF was read
    exif: bytes = b""  # the EXIF an edit of it is saved with (kept_exif): camera, lens, date; b"": none
    format: str = ""  # the file format it was read from, as PIL names it (JPEG, HEIF, ...); "": an array

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


def read_photo(source: str | Path | bytes | Image.Image | np.ndarray, *, name: str | None = None,
               max_pixels: int = MAX_PIXELS) -> Photo:
    """Decode `source` into an upright 8-bit RGB `Photo`; PhotoError when it cannot be used."""
    if isinstance(source, np.ndarray):
        return _from_array(source, name or "photo", max_pixels)
    if isinstance(source, Image.Image):
        name = name or Path(getattr(source, "filename", "") or "photo").name
        _check_size(source.size, name, max_pixels)
        _decode(source, name)
        return _from_image(source, name)

    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), name or "photo"
    elif isinstance(source, (str, Path)):
        path = Path(source)
        name = name or path.name
        try:
            _check_file_size(path.stat().st_size, name)
            data = path.read_bytes()
        except FileNotFoundError:
            raise PhotoError(f"{name}: no such file; check the path") from None
        except IsADirectoryError:
            raise PhotoError(f"{name} is a folder, not a photo; {_UPLOAD}") from None
        except OSError as exc:
            raise PhotoError(f"{name} could not be read ({exc.strerror or exc}); {_UPLOAD}") from exc
    else:
        raise TypeError(f"read_photo takes a path, bytes, a PIL image or a numpy array, not {type(source).__name__}")
    if not data:
        raise PhotoError(f"{name} is empty (0 bytes); {_UPLOAD}")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data": kept_exif drops it
            # Past 89 MP PIL warns of a decompression bomb; _check_size refuses it in its own words.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError as exc:
        raise PhotoError(_too_large(name, None, max_pixels)) from exc
    except UnidentifiedImageError as exc:
        raise PhotoError(f"{name} is not an image we can read ({_guess_format(data)}); {_UPLOAD}") from exc
    except _DECODE_ERRORS as exc:
        raise PhotoError(f"{name} is not an image we can read ({exc}); {_UPLOAD}") from exc
    _check_size(image.size, name, max_pixels)
    notes = _frames_note(image, name) + _depth_note(image, data, name)
    _decode(image, name)
    photo = _from_image(image, name)
    photo.notes = notes
    return photo


def _frames_note(image: Image.Image, name: str) -> tuple[str, ...]:
    """A multi-page TIFF or an animation is read as its first page or frame: say so."""
    frames = getattr(image, "n_frames", 1)
    if frames <= 1 or image.format not in ("TIFF", "GIF", "PNG", "WEBP"):
        return ()  # (an MPO's extra pictures are previews and stereo views of the first)
    if image.format == "TIFF":
        return (f"{name} has {frames} pages; only page 1 is read and edited",)
    return (f"{name} is animated ({frames} frames); only the first frame is read and edited",)


def _depth_note(image: Image.Image, data: bytes, name: str) -> tuple[str, ...]:
    """A photo of 16 bits per channel is edited and written at 8: say so (a master file's depth
    is lost otherwise without a word). PIL opens a 16-bit grey image as I;16 (or I), and a 16-bit
    RGB(A) PNG as 8-bit RGB(A), so for PNGs the depth is read from the header (IHDR's bit depth)."""
    sixteen = image.mode.startswith("I;16") or (image.format == "PNG" and len(data) > 24 and data[24] == 16)
    if not sixteen:
        return ()
    return (f"{name} has 16 bits per channel; it is edited, and written, at 8 bits per channel",)


def kept_exif(image: Image.Image) -> bytes:
    """The EXIF of a photo as an edit of it is saved: the camera's tags (make, model, lens,
    exposure, date) stay; Orientation becomes 1, since the pixels are upright now; the GPS
    position goes, since an edit is made to be shared (README); Software names the editor; the
    size tags, which may not match the pixels, go.
    b"" when the photo has none or it cannot be read. Only formats that carry EXIF as a block of
    metadata are read: a TIFF's tags describe its own strips and compression, not the camera."""
    if image.format not in EXIF_FORMATS:
        return b""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL warns of corrupt EXIF, then reads what it can
            stored = image.getexif()
            if not stored:
                return b""
            exif = Image.Exif()  # a copy: the image's own must keep its Orientation for exif_transpose
            exif.load(stored.tobytes())
        exif[ORIENTATION] = 1
        exif.pop(GPS_IFD, None)
        exif[SOFTWARE] = EDITOR
        # The maker note is the camera maker's private block: its inner offsets point into the
        # original file and break when the EXIF is written anew, and it can be most of the EXIF.
        exif.get_ifd(EXIF_IFD).pop(MAKER_NOTE, None)
        # The size tags describe the file they came from (often stale: a resized photo keeps the
        # camera's); the saved file's own header says its size, so they go rather than mislead.
        for tag in IMAGE_SIZE_TAGS:
            exif.pop(tag, None)
        for tag in PIXEL_SIZE_TAGS:
            exif.get_ifd(EXIF_IFD).pop(tag, None)
        data = exif.tobytes()
        return data if len(data) <= MAX_EXIF_BYTES else b""  # a JPEG cannot hold more
    except (*_DECODE_ERRORS, TypeError):
        return b""  # unreadable EXIF: the edit is saved without it rather than refused


def _decode(image: Image.Image, name: str) -> None:
    try:
        image.load()
    except _DECODE_ERRORS as exc:
        raise PhotoError(f"{name} is damaged or incomplete ({exc}); try the original file again, "
                         f"or save it as a JPEG, PNG or WebP") from exc


def _guess_format(data: bytes) -> str:
    """Why PIL did not recognise `data`, in words a person can act on."""
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"hevc", b"mif1", b"msf1", b"avif"):
        return "a HEIC/AVIF photo this installation cannot decode; export it as JPEG first"
    if b"<svg" in data[:4096].lower():
        return "an SVG drawing: SVG is not supported, export it as PNG first"
    if all(32 <= b < 127 or b in b"\t\r\n" for b in data[:512]):
        return "it is a text file"
    return "not a known image format"


def _too_large(name: str, size: tuple[int, int] | None, max_pixels: int) -> str:
    limit = f"{max_pixels / 1e6:g} megapixels"
    # Without a size, PIL refused the file itself: it claims over twice its limit.
    what = f"{size[0]}x{size[1]} pixels" if size else f"over {2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6:g} megapixels"
    return f"{name} is too large ({what}; the limit is {limit}); make it smaller and try again"


def _check_file_size(size: int, name: str) -> None:
    if size > MAX_READ_BYTES:
        raise PhotoError(f"{name} is too large a file for a photo ({size / 1e6:,.0f} MB; the limit is "
                         f"{MAX_READ_BYTES / 1e6:,.0f} MB, room for a 16-bit TIFF of {MAX_PIXELS / 1e6:g} "
                         f"megapixels); {_UPLOAD}, or save this one smaller (e.g. as JPEG)")


def _check_size(size: tuple[int, int], name: str, max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise PhotoError(_too_large(name, size, max_pixels))
    if width == 0 or height == 0:
        raise PhotoError(f"{name} has no pixels ({width}x{height}); {_UPLOAD}")


def _from_array(array: np.ndarray, name: str, max_pixels: int) -> Photo:
    if array.dtype != np.uint8 or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise PhotoError(f"{name}: expected an 8-bit image array [H, W], [H, W, 3] or [H, W, 4], "
                         f"got {array.dtype} {array.shape}; {_UPLOAD}")
    _check_size((array.shape[1], array.shape[0]), name, max_pixels)
    if array.ndim == 2 or array.shape[2] == 1:
        grey = array.reshape(array.shape[:2])
        return Photo(np.repeat(grey[:, :, None], 3, axis=2), None, name)
    alpha = np.ascontiguousarray(array[:, :, 3]) if array.shape[2] == 4 else None
    return Photo(np.ascontiguousarray(array[:, :, :3]), alpha, name)


def _from_image(image: Image.Image, name: str) -> Photo:
    exif, fmt = kept_exif(image), image.format or ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # corrupt EXIF: PIL warns, and the photo is read as stored
            image = ImageOps.exif_transpose(image)
    except _DECODE_ERRORS:
        pass  # unreadable EXIF: keep the pixels as stored rather than refuse the photo
    image = _to_srgb(image)
    mode = image.mode
    alpha = None
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        alpha = np.asarray(rgba.getchannel("A"))
        rgb = np.asarray(rgba.convert("RGB"))
    elif mode.startswith("I") or mode == "F":
        grey = _high_depth_to_uint8(image)
        rgb = np.repeat(grey[:, :, None], 3, axis=2)
    else:  # RGB, L, 1, P, CMYK, YCbCr, LAB, HSV
        rgb = np.asarray(image.convert("RGB"))
    return Photo(np.ascontiguousarray(rgb), None if alpha is None else np.ascontiguousarray(alpha), name,
                 exif=exif, format=fmt)


def _high_depth_to_uint8(image: Image.Image) -> np.ndarray:
    """Grey 16-bit, 32-bit integer or float images as uint8 [H, W].

    16-bit values (I;16*, and I holding 0..65535 as 16-bit PNGs decode) divide
    by 257 so that 65535 -> 255; floats in [0, 1] scale by 255, others clip to
    [0, 255]."""
    values = np.asarray(image).astype(np.float64)
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    if image.mode.startswith("I;16") or (image.mode == "I" and values.min() >= 0 and values.max() > 255):
        values = values / 257.0
    elif image.mode == "F" and values.max() <= 1.0:
        values = values * 255.0
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert through the embedded ICC profile (Display P3, Adobe RGB, CMYK, ...) to sRGB."""
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        output = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=output)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the pixels as stored are the best guess
