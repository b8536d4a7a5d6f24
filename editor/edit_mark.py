"""Every edit the editor writes says so: EXIF Software = "expression-editor".

`edit ow/*.png --output-dir ow` run twice finds the first run's edits among the photos it is
given; a name like anna_sad.jpg alone cannot tell an edit of anna.jpg from a photo someone
named so (output_names.without_earlier_outputs once skipped such a photo and wrote the edit of
anna.jpg over it). The mark rides in the EXIF block, which PNG, JPEG and WebP all carry.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

SOFTWARE = 0x0131  # the EXIF tag (photo.kept_exif sets it too, so its size check counts it)
EDITOR = "expression-editor"


def marked_exif(exif: bytes = b"") -> bytes:
    """`exif` (photo.kept_exif's block, or b"" for a photo without one) with Software = EDITOR."""
    tags = Image.Exif()
    if exif:
        tags.load(exif)
    if tags.get(SOFTWARE) == EDITOR:
        return exif
    tags[SOFTWARE] = EDITOR
    return tags.tobytes()


def is_marked_edit(path: str | Path) -> bool:
    """Whether the file at `path` is an image this editor wrote (its EXIF names it); False for
    any other file, unreadable ones included. Reads the header only."""
    try:
        with Image.open(path) as image:
            return image.getexif().get(SOFTWARE) == EDITOR
    except Exception:  # not an image, damaged, unreadable: not one of ours, so left alone
        return False
