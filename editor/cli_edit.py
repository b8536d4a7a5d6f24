"""`python -m editor edit PHOTO [PHOTO ...] --expression X[,Y...|all] --output-dir DIR`.

Edits every face of each photo (or those `--faces` names) and writes
DIR/<photo name>.png at the input's size (`--format jpg` or `webp`: those,
at `--quality`); with several expressions,
DIR/<photo name>_<expression>.png for each, from one fit per face (the
editor remembers it: recent.py). A bad photo is named and skipped; the exit
status is non-zero at the end if any photo failed.

No output overwrites an input, and no two outputs of a run share a name: photos
of the same name get their suffix added (obama.jpg, obama.webp -> obama_jpg.png,
obama_webp.png); an output that would be its own input (editing ow/*.png into
ow/) gets the expression, as the page's downloads do (astronaut_sad.png); a name
still taken (also by a file there that the editor did not write) gets _2, _3, ...
Each `PHOTO -> OUTPUT` line says which name it got.
Outputs of earlier runs are overwritten, and not edited again when a glob picks them up
(`edit ow/*.png --output-dir ow` twice: astronaut_sad.png is not a photo to edit)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from gan.data import EXPRESSIONS

from .edits import BROW_CHOICES, count_faces
from .output_names import FORMATS, distinct_photos, output_paths, without_earlier_outputs

if TYPE_CHECKING:  # the models load only when a command runs (--help stays fast)
    from .photo import Photo
    from .pipeline import Editor

# --checkpoints, as both commands (the page's and `edit`) describe it.
CHECKPOINTS_HELP = ("folder of conditional.safetensors (the default model), encoder.safetensors, mtcnn.safetensors "
                    "and the seed model's <expression>.safetensors (default: checkpoints/)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m editor edit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photos", nargs="+", type=Path, help="photos to edit (JPEG, PNG, WebP, ...)")
    parser.add_argument("--expression", required=True, type=_expressions, metavar="EXPRESSION[,...]|all",
                        help="the expression, several separated by commas (happy,sad), or all")
    parser.add_argument("--output-dir", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--checkpoints", type=Path, default=None, metavar="DIR", help=CHECKPOINTS_HELP)
    parser.add_argument("--steps", type=int, default=None, help="inversion steps (default: the editor's)")
    parser.add_argument("--restarts", type=int, default=None, help="inversion restarts (default: the editor's)")
    parser.add_argument("--model", choices=("conditional", "seed"), default=None,
                        help="conditional (default): one generator for every expression, only the change is "
                             "brought into the photo; seed: the seed's per-expression generators")
    parser.add_argument("--strength", type=float, default=None,
                        help="how strong the expression is: 0 unchanged, 1 full, up to 2 exaggerated "
                             "(default: 1.75 for the conditional model, chosen by measurement; the seed model: "
                             "0-1, default 1)")
    parser.add_argument("--blend-mode", choices=("flow", "difference", "replace", "alpha", "poisson"), default=None,
                        help="how the edit reaches the photo (conditional: flow (default), difference, replace; "
                             "seed: alpha (default), poisson)")
    parser.add_argument("--brows", choices=BROW_CHOICES, default=None,
                        help="whether the brows and eyelids move with the expression (conditional model, flow): "
                             "auto (default: unless the face wears glasses, whose frames would bend), move or still")
    parser.add_argument("--format", choices=FORMATS, default="png",
                        help="file format of the edited photos: png (default, lossless), jpg or webp")
    parser.add_argument("--quality", type=_quality, default=95,
                        help="JPEG or WebP quality, 1-100 (default: 95; png ignores it)")
    parser.add_argument("--faces", type=_faces, default="all", metavar="all|main|N[,N...]",
                        help="which faces to edit: all (default); main, the large, clearly detected ones the "
                             "web page ticks by default; or face numbers counted from the left, e.g. 1,3")
    return parser


def _quality(value: str) -> int:
    from . import validate

    try:
        return validate.whole_number("quality", value, 1, 100)
    except validate.ArgumentError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _expressions(value: str) -> list[str]:
    names = list(EXPRESSIONS) if value.strip().lower() == "all" else [v.strip().lower() for v in value.split(",")]
    unknown = [name for name in names if name not in EXPRESSIONS]
    if unknown or not names:
        what = ", ".join(unknown) if unknown else repr(value)
        raise argparse.ArgumentTypeError(f"unknown expression {what}; choose from "
                                         f"{', '.join(EXPRESSIONS)}, several separated by commas, or all")
    return list(dict.fromkeys(names))  # each once, in the order given


def _faces(value: str) -> str | list[int]:
    if value in ("all", "main"):
        return value
    try:
        numbers = [int(n) for n in value.split(",")]
    except ValueError:
        numbers = []
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError("expected all, main, or face numbers from 1, e.g. 1,3")
    return numbers


def chosen_faces(editor: Editor, photo: Photo, faces: str | list[int]) -> list[int] | None:
    """0-based face indices for `--faces` (None: every face)."""
    from .face_choice import main_faces

    detected = editor.detect(photo)  # remembered: the edit does not detect again
    if faces == "all":
        for index, why in main_faces(detected).left_out.items():  # a bystander, or not a face at all
            print(f"{photo.name}: note: face {index + 1} is edited too, though {why}; "
                  "--faces main leaves such faces alone", file=sys.stderr)
        return None
    if faces == "main":
        return main_faces(detected).chosen
    if max(faces) > len(detected):
        raise ValueError(f"{photo.name} has {count_faces(len(detected))}; --faces counts them from 1 to {len(detected)}")
    return [n - 1 for n in faces]


def settings_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the run's edit settings, in the web API's ranges (validate.py), or None."""
    from . import validate

    model = args.model or "conditional"
    try:
        validate.edit_options(faces=None, seed=args.seed, steps=args.steps, restarts=args.restarts,
                              strength=args.strength, blend_mode=args.blend_mode, model=model)
    except validate.ArgumentError as exc:
        return "--" + str(exc).replace("blend_mode", "blend-mode")  # the API's names, as flags
    return None


def output_dir_problem(folder: Path) -> str | None:
    """Create `folder` if missing; what to tell the person when it cannot be the output folder."""
    if folder.exists() and not folder.is_dir():
        return f"--output-dir {folder} is a file; give a folder (it is created if missing)"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"--output-dir {folder}: cannot create it ({exc.strerror or exc}); give a folder you can write to"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"--output-dir {folder}: you may not write there; give a folder you can write to"
    return None


def main(argv: list[str] | None = None) -> int:
    from .faces import NoFaceError
    from .photo import PhotoError, read_photo
    from .photo_output import save_photo, to_pil
    from gan.device import DeviceError

    from .pipeline import DEFAULT_CHECKPOINTS, Editor, MissingCheckpointsError

    args = build_parser().parse_args(argv)
    # Every check that can refuse the run comes before the models load and anything is written:
    # a setting out of range is one usage error, not a failure of every photo.
    problem = settings_problem(args) or output_dir_problem(args.output_dir)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    photos = without_earlier_outputs(distinct_photos(args.photos), args.output_dir)
    outputs = output_paths(photos, args.expression, args.output_dir, args.format)
    try:
        editor = Editor.load(args.checkpoints or DEFAULT_CHECKPOINTS, device=args.device,
                             expressions=tuple(args.expression) if args.model == "seed" else EXPRESSIONS)
    except (MissingCheckpointsError, DeviceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = []
    for path, out_for in zip(photos, outputs):
        try:
            photo = read_photo(path)
            for note in photo.notes:
                print(f"{path}: note: {note}", file=sys.stderr)
            faces = chosen_faces(editor, photo, args.faces)
            for expression in args.expression:
                start = time.perf_counter()
                result = editor.edit(photo, expression, faces=faces, seed=args.seed, steps=args.steps,
                                     restarts=args.restarts, strength=args.strength, blend_mode=args.blend_mode,
                                     model=args.model, brows=args.brows)
                out = out_for[expression]
                try:
                    save_photo(to_pil(photo, result.image), out, exif=photo.exif, quality=args.quality)
                except OSError as exc:  # a full disk, a folder made read-only mid-run: this photo fails
                    raise PhotoError(f"cannot write {out} ({exc.strerror or exc}); free some space or give "
                                     "another --output-dir") from exc
                print(f"{path} -> {out}: {count_faces(len(result.faces))}, {time.perf_counter() - start:.1f} s",
                      flush=True)
        except (PhotoError, NoFaceError, ValueError) as exc:
            print(f"{path}: skipped: {exc}", file=sys.stderr)
            failed.append(path)
            continue
    if failed:
        print(f"{len(failed)} of {len(photos)} photos failed: {', '.join(map(str, failed))}", file=sys.stderr)
        return 1
    return 0
