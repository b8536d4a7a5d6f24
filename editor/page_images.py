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

import numpy as np
import PIL.Image

from .locations import EXAMPLES

if TYPE_CHECKING:
    from .edits import EditResult
    from .scratch import Scratch

DISPLAY_SIDE = 1280  # longest side of the images the page shows; downloads are full size
FACE_SIDE = 192  # 48x48 generated faces are shown enlarged to this
CLOSEUP_SIDE = 720  # longest side of the close-up of the edited faces
CLOSEUP_MARGIN = 0.5  # around the faces, in units of the largest face's side
CLOSEUP_MAX_ZOOM = 4.0  # a tiny face is enlarged at most this much: more shows only blur
SHARED_PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "photos"  # beside a checkout


def display_size(image: np.ndarray, side: int = DISPLAY_SIDE) -> np.ndarray:
    """`image` shrunk so its longest side is at most `side` (the page never needs more)."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(PIL.Image.fromarray(image).resize(size, PIL.Image.Resampling.BILINEAR, reducing_gap=2.0))


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


def closeup_box(boxes: Sequence[tuple[float, float, float, float]], size: tuple[int, int], *,
                margin: float = CLOSEUP_MARGIN) -> tuple[int, int, int, int] | None:
    """The part of a (width, height) photo that shows the face boxes (x1, y1, x2, y2) with
    `margin` x the largest face's side around them, clipped to the photo: (left, top, right,
    bottom) in whole pixels; None without faces."""
    if not boxes:
        return None
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    pad = margin * float(max((b[:, 2] - b[:, 0]).max(), (b[:, 3] - b[:, 1]).max()))
    width, height = size
    left, top = max(0, math.floor(b[:, 0].min() - pad)), max(0, math.floor(b[:, 1].min() - pad))
    right, bottom = min(width, math.ceil(b[:, 2].max() + pad)), min(height, math.ceil(b[:, 3].max() + pad))
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def closeup(image: np.ndarray, box: tuple[int, int, int, int], side: int = CLOSEUP_SIDE) -> np.ndarray:
    """`image` cut to `box` and scaled so its longest side is `side` (enlarged at most
    CLOSEUP_MAX_ZOOM times): the same box and size for the photo and its edit, so they line up."""
    left, top, right, bottom = box
    region = PIL.Image.fromarray(np.ascontiguousarray(image[top:bottom, left:right]))
    scale = min(side / max(region.size), CLOSEUP_MAX_ZOOM)
    size = (max(1, round(region.width * scale)), max(1, round(region.height * scale)))
    if size != region.size:
        region = region.resize(size, PIL.Image.Resampling.LANCZOS, reducing_gap=2.0 if scale < 1 else None)
    return np.asarray(region)


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


def write_display(scratch: Scratch, folder: Path, image: np.ndarray) -> str:
    """A display-sized JPEG of `image` in `folder` (a session's, so it goes with the session)."""
    return scratch.write(display_size(image), "edited.jpg", folder=folder, quality=90)


def write_closeup(scratch: Scratch, folder: Path, image: np.ndarray, box: tuple[int, int, int, int] | None,
                  name: str = "faces.jpg") -> str:
    """A JPEG of `image`'s faces close up (see `closeup`) in `folder`; "" without a box."""
    return "" if box is None else scratch.write(closeup(image, box), name, folder=folder, quality=92)


def example_photos() -> list[str]:
    """The shipped example photos (public domain: astronaut Eileen Collins, Grace Hopper), then the
    project's shared test photos (a portrait, two people) when they are beside the checkout."""
    photos = [str(EXAMPLES / name) for name in ("astronaut.jpg", "grace_hopper.jpg") if (EXAMPLES / name).is_file()]
    photos += [str(SHARED_PHOTOS / name) for name in ("fr_obama.jpg", "fr_two_people.jpg")
               if (SHARED_PHOTOS / name).is_file()]
    return photos
