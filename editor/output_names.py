"""The files a batch edit writes: one name per photo and expression, decided before any edit,
so no output overwrites an input and no two outputs of a run share a name (cli_edit.py)."""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

from gan.data import EXPRESSIONS

from .edit_mark import is_marked_edit

FORMATS = ("png", "jpg", "webp")  # what `edit --format` writes (cli_edit's choices)


def _file_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of an existing file, following links; None when there is none.

    Comparing these, not names, also catches a symlink or hard link to an input and
    Photo.PNG against photo.png on a folder that ignores case (macOS, Windows)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def distinct_photos(photos: list[Path]) -> list[Path]:
    """Each photo once, in the order given: a file named twice (say, by a glob and by name) is
    edited once rather than written twice under two names."""
    seen: set = set()
    kept = []
    for path in photos:
        key = _file_id(path) or str(path.resolve())
        if key in seen:
            print(f"{path}: note: given more than once; edited once", file=sys.stderr)
            continue
        seen.add(key)
        kept.append(path)
    return kept


def without_earlier_outputs(photos: list[Path], folder: Path) -> list[Path]:
    """`photos` less the edits an earlier run wrote into `folder` of another photo given now, each
    named on stderr: rerunning `edit ow/*.png --output-dir ow` would otherwise edit the first run's
    astronaut_sad.png as a photo (astronaut_sad_sad.png) and, since it is now an input, write the
    new edit beside it as astronaut_sad_2.png instead of overwriting it. An earlier output is a file
    in `folder`, in a format `edit` writes, named as output_paths names an edit of one of the
    other photos: <stem>[_<suffix>][_<expression>][_<n>] (obama.png of obama.jpg too), whose EXIF
    says the editor wrote it (edit_mark): a photo someone named anna_sad.jpg is no edit and stays
    an input (were it skipped, the edit of anna.jpg would be written over it)."""
    here = _file_id(folder)
    tagged = "|".join(EXPRESSIONS)
    names = [(other, re.compile(rf"{re.escape(other.stem)}(?:_{re.escape(other.suffix[1:])})?(?:_(?:{tagged}))?"
                                rf"(?:_\d+)?", re.IGNORECASE)) for other in photos]  # what each one's edits are named
    kept = []
    for path in photos:
        source = None
        if path.suffix[1:].lower() in FORMATS and _file_id(path.parent) == here:
            source = next((other for other, name in names if other is not path and name.fullmatch(path.stem)), None)
            if source is not None and not is_marked_edit(path):
                source = None
        if source is None:
            kept.append(path)
        else:
            print(f"{path}: note: not edited: it is an earlier run's edit of {source.name} (rename it to edit it)",
                  file=sys.stderr)
    return kept


def output_paths(photos: list[Path], expressions: list[str], folder: Path, fmt: str) -> list[dict[str, Path]]:
    """For each photo, {expression: the file its edit is written to}, decided before any edit.

    <stem>[_<suffix>][_<expression>][_<n>].<fmt>, where
    - _<suffix>, the photo's in lower case (_jpg), comes when another photo of the run has the same
      stem: otherwise obama.jpg and obama.webp would both write obama.png, and the last one win;
    - _<expression> comes with several expressions, or when the plain name is an input file
      (`edit ow/*.png --output-dir ow/`). Renamed rather than refused: writing edits beside the
      photos is a reasonable wish, a batch tool should finish the run it was given, and the page's
      download name (obama_sad.png) is the name people already get for an edit and says what was done;
    - _<n> (2, 3, ...) comes when a name is still taken: by an earlier photo's output, an input file,
      a file the editor did not write, or a folder. The photos are taken in the order given, so the
      names are predictable.
    Names are compared case-insensitively, as folders on macOS and Windows do. An existing file that
    is no input is taken unless the editor wrote it (edit_mark: an earlier run's output), so
    re-running a command overwrites its outputs and never someone's photo that sits in `folder`.
    """
    inputs = {key for key in map(_file_id, photos) if key is not None}
    stems = [path.stem.casefold() for path in photos]
    shared = {stem for stem in stems if stems.count(stem) > 1}
    taken: set[str] = set()

    def is_input(name: str) -> bool:
        return _file_id(folder / name) in inputs

    def free(name: str) -> bool:
        if name.casefold() in taken or (folder / name).is_dir():
            return False
        # An existing file may be overwritten only if it is no input and an edit of ours (an earlier
        # run's output); any other file there is someone's photo to keep.
        found = _file_id(folder / name)
        return found is None or (found not in inputs and is_marked_edit(folder / name))

    plan = []
    for path in photos:
        stem = path.stem
        if stem.casefold() in shared and path.suffix:
            stem = f"{stem}_{path.suffix[1:].lower()}"
        tagged = len(expressions) > 1 or any(is_input(_name(stem, e, False, 1, fmt)) for e in expressions)
        for number in itertools.count(1):
            names = {e: _name(stem, e, tagged, number, fmt) for e in expressions}
            if all(map(free, names.values())):
                break
        taken.update(name.casefold() for name in names.values())
        plan.append({e: folder / name for e, name in names.items()})
    return plan


def _name(stem: str, expression: str, tagged: bool, number: int, fmt: str) -> str:
    parts = [stem, *([expression] if tagged else []), *([str(number)] if number > 1 else [])]
    return f"{'_'.join(parts)}.{fmt}"
