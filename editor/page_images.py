"""The images the page shows, as arrays and files; no Gradio (app.py lays them out).

The page shows photos at most DISPLAY_SIDE pixels on a side, because a browser
never needs more and a 40 MP JPEG would take seconds per slider move; the
download is always the full-size photo. In a group photo or a full-length
portrait the faces are small there, so the edited faces are also shown close up,
cut from the full-size photo. The generator's 48x48 faces are enlarged.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np
import PIL.Image

from .locations import EXAMPLES
from .edit_mark import marked_exif
from .photo_output import keep_grey, output_metadata, over_white

if TYPE_CHECKING:
    from .edits import EditResult
    from .scratch import Scratch

DISPLAY_SIDE = 1280  # longest side of the images the page shows; downloads are full size
FACE_SIDE = 192  # 48x48 generated faces are shown enlarged to this
CLOSEUP_HEIGHT = 560  # the close-up of the edited faces: their regions side by side, this high
CLOSEUP_MAX_WIDTH = 1600
CLOSEUP_GAP = 8  # white pixels between two faces' regions
CLOSEUP_MARGIN = 0.5  # around each face, in units of its larger side
CLOSEUP_MAX_ZOOM = 4.0  # a small face is enlarged at most this much: more shows only blur
# Up to this many faces go one above the other, each centred: the before/after divider starts in
# the middle, so it crosses every face (side by side, two faces met the divider in the gap between
# them, one face all before and the other all after). More faces (a group) take rows, as large as fit.
CLOSEUP_STACKED = 3
SHARED_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"  # beside a checkout


def display_size(image: np.ndarray, side: int = DISPLAY_SIDE) -> np.ndarray:
    """`image` shrunk so its longest side is at most `side` (the page never needs more)."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return shrink(image, size)


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` [H, W, C] uint8 made smaller, to `size` (width, height): each output pixel the mean
    of the input pixels it covers (OpenCV's area filter, on the array itself: a 24 MP photo to the
    page's 1280 px in 44 ms, where PIL's copy into an image and its filter took 126 ms)."""
    return cv2.resize(np.ascontiguousarray(image), size, interpolation=cv2.INTER_AREA)


def enlarge(face: np.ndarray, side: int = FACE_SIDE) -> np.ndarray:
    """A [48, 48] uint8 face enlarged for the page."""
    return np.asarray(PIL.Image.fromarray(face).resize((side, side), PIL.Image.Resampling.LANCZOS))


def face_thumbnail(rgb: np.ndarray, box: tuple[float, float, float, float], side: int = 128) -> np.ndarray:
    """A square crop around a detected face with some margin, for the "faces found" gallery."""
    x1, y1, x2, y2 = box
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, 0.65 * max(x2 - x1, y2 - y1)
    height, width = rgb.shape[:2]
    left, top = int(max(0, cx - half)), int(max(0, cy - half))
    right, bottom = int(min(width, cx + half)), int(min(height, cy + half))
    crop = PIL.Image.fromarray(rgb[top:bottom, left:right])
    crop.thumbnail((side, side))
    return np.asarray(crop)


def closeup_boxes(boxes: Sequence[tuple[float, float, float, float]], size: tuple[int, int], *,
                  margin: float = CLOSEUP_MARGIN) -> list[tuple[int, int, int, int]]:
    """For each face box (x1, y1, x2, y2) of a (width, height) photo, the part of the photo
    that shows it with `margin` x its larger side around it, clipped to the photo: (left, top,
    right, bottom) in whole pixels. Faces far apart in a group photo each get their own, so
    none is lost in a close-up of the whole group."""
    width, height = size
    regions = []
    for x1, y1, x2, y2 in boxes:
        pad = margin * max(x2 - x1, y2 - y1)
        left, top = max(0, math.floor(x1 - pad)), max(0, math.floor(y1 - pad))
        right, bottom = min(width, math.ceil(x2 + pad)), min(height, math.ceil(y2 + pad))
        if right > left and bottom > top:
            regions.append((left, top, right, bottom))
    return regions


def closeup(image: np.ndarray, boxes: Sequence[tuple[int, int, int, int]], *, height: int = CLOSEUP_HEIGHT,
            max_width: int = CLOSEUP_MAX_WIDTH) -> np.ndarray:
    """The `boxes` of `image` side by side, each scaled to the same height: `height`, or less
    where the largest region would be enlarged more than CLOSEUP_MAX_ZOOM times or the row
    would be wider than `max_width`. Many faces (a group photo) go into as many rows, within
    `height` in all, as make them largest, not into one strip of thumbnails. The same boxes
    give the photo and its edit the same layout, so the two line up in the before/after view.
    Up to CLOSEUP_STACKED faces go one per row; every row is centred."""
    regions = [image[t:b, l:r] for l, t, r, b in boxes]
    zoom_cap = CLOSEUP_MAX_ZOOM * max(r.shape[0] for r in regions)
    aspects = [r.shape[1] / r.shape[0] for r in regions]

    def layout(rows: int) -> tuple[float, list[list[int]]]:
        per_row = math.ceil(len(regions) / rows)
        groups = [list(range(i, min(i + per_row, len(regions)))) for i in range(0, len(regions), per_row)]
        side = min(float(height - CLOSEUP_GAP * (len(groups) - 1)) / len(groups), zoom_cap)
        for group in groups:  # each row within max_width
            free = max_width - CLOSEUP_GAP * (len(group) - 1)
            side = min(side, free / sum(aspects[i] for i in group))
        return side, groups

    choices = [len(regions)] if len(regions) <= CLOSEUP_STACKED else range(1, len(regions) + 1)
    side, groups = max((layout(rows) for rows in choices), key=lambda option: option[0])
    tile_height = max(1, round(side))
    rows = [_closeup_row([regions[i] for i in group], side, tile_height) for group in groups]
    width = max(row.shape[1] for row in rows)
    gap = np.full((CLOSEUP_GAP, width, 3), 255, np.uint8)
    stacked = []
    for row in rows:
        if stacked:
            stacked.append(gap)
        left = (width - row.shape[1]) // 2
        stacked.append(np.pad(row, ((0, 0), (left, width - row.shape[1] - left), (0, 0)), constant_values=255))
    return np.vstack(stacked)


def _closeup_row(regions: list[np.ndarray], side: float, tile_height: int) -> np.ndarray:
    """One row of the close-up: `regions` scaled to `tile_height`, a white gap between two."""
    gap = np.full((tile_height, CLOSEUP_GAP, 3), 255, np.uint8)
    row = []
    for region in regions:
        size = (max(1, round(region.shape[1] * side / region.shape[0])), tile_height)
        if row:
            row.append(gap)
        if size == (region.shape[1], region.shape[0]):
            row.append(region)
        elif size[1] < region.shape[0]:  # a large face (a camera's photo): shrunk by area averaging
            row.append(shrink(region, size))
        else:  # a small face enlarged: Lanczos draws the smoothest edges
            row.append(np.asarray(PIL.Image.fromarray(np.ascontiguousarray(region)).resize(
                size, PIL.Image.Resampling.LANCZOS)))
    return np.hstack(row)


def generator_views(result: EditResult) -> list[tuple[np.ndarray, str]]:
    """The "what the generator saw" gallery, captioned, per face: the aligned crop of the photo,
    the model's reconstruction of it (conditional model), and the face it generated."""
    views = []
    for f in result.faces:
        seen = f" (reads {f.before})" if f.before is not None else ""
        views.append((enlarge(f.aligned), f"Face {f.index + 1}: from the photo{seen}"))
        if f.source is not None:
            views.append((enlarge(f.source), f"Face {f.index + 1}: the model's reconstruction"))
        views.append((enlarge(f.generated), f"Face {f.index + 1}: generated ({result.expression})"))
    return views


def on_white(image: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """A transparent photo as the page shows it, over white (as its JPEG download is): the
    pixels under its transparent parts are not part of the picture. Opaque photos as they are."""
    if alpha is None:
        return image
    a = np.asarray(alpha, dtype=np.float32)[..., None] / 255.0
    return np.rint(image * a + 255.0 * (1.0 - a)).astype(np.uint8)


def write_display(scratch: Scratch, folder: Path, image: np.ndarray) -> str:
    """A display-sized JPEG of `image` in `folder` (a session's, so it goes with the session)."""
    return scratch.write(display_size(image), "edited.jpg", folder=folder, quality=90)


# The full-size download's formats: PNG is lossless; JPEG at 95 is a tenth of the time and a fifth of
# the size (24 MP: 1.15 s and 17.1 MB against 0.11 s and 2.9 MB; README "Camera-sized photos").
DOWNLOAD_FORMATS = {"PNG": (".png", {"compress_level": 1}), "JPEG": (".jpg", {"quality": 95})}


def write_download(scratch: Scratch, folder: Path, image: np.ndarray, stem: str, fmt: str, exif: bytes = b"",
                   alpha: np.ndarray | None = None) -> str:
    """The full-size edited photo the page offers for download, as `stem` + the format's suffix,
    tagged sRGB and with the original's EXIF (photo_output.output_metadata), marked as an edit (edit_mark);
    a transparent photo's `alpha` is kept (PNG) or the photo put over white (JPEG), as the command
    line saves it."""
    suffix, options = DOWNLOAD_FORMATS[fmt]
    image = keep_grey(image if alpha is None else np.dstack([image, alpha]))  # a grey photo stays grey
    if alpha is not None and suffix == ".jpg":
        image = np.asarray(over_white(PIL.Image.fromarray(image)))
    grey = image.ndim == 2 or image.shape[2] == 2
    metadata = output_metadata(marked_exif(exif), grey=grey)
    return scratch.write(image, stem + suffix, folder=folder, **options, **metadata)


def write_closeup(scratch: Scratch, folder: Path, image: np.ndarray, boxes: Sequence[tuple[int, int, int, int]],
                  name: str = "faces.jpg") -> str:
    """A JPEG of `image`'s faces close up (see `closeup`) in `folder`; "" without boxes."""
    return scratch.write(closeup(image, boxes), name, folder=folder, quality=92) if boxes else ""


def example_photos() -> list[str]:
    """The shipped example photos (public domain: astronaut Eileen Collins, Grace Hopper), then the
    project's shared test photos (a portrait, two people) when they are beside the checkout."""
    photos = [str(EXAMPLES / name) for name in ("astronaut.jpg", "grace_hopper.jpg") if (EXAMPLES / name).is_file()]
    photos += [str(SHARED_PHOTOS / name) for name in ("fr_obama.jpg", "fr_two_people.jpg")
               if (SHARED_PHOTOS / name).is_file()]
    return photos
