"""Draw transfer variants side by side for one photo: the pictures behind a screen's numbers.

    python benchmarks/transfer_figure.py dev068_28_0_3_20170105175516710.jpg \
        --variants relative-none,default -o docs/dark_features.png

Rows are variants (the names of benchmarks/transfer_screen.py, with an optional
@strength; those that need the second judge are not drawn here), columns the photo
and its seven targets, each a crop around one face (--face: which, left to right), or
around its mouth (--region mouth: where teeth, lips and moustaches show what a
transfer does; docs/transfer_screens.md's open-mouth pictures were looked at so) or a band
round its eyes (--region eyes: lids, pupils and catchlights).
The photo is fitted once, as the app does, so rows differ only in the transfer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import existing_dir  # noqa: E402
from benchmarks.quality import DATA  # noqa: E402
from benchmarks.transfer_screen import edited_photo, variant  # noqa: E402
from editor.page_images import closeup_boxes  # noqa: E402
from editor.photo import read_photo  # noqa: E402
from editor.pipeline import Editor  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402

MARGIN = 0.2  # around the face, of its larger side (the page's close-ups use 0.5)
MOUTH_REACH = 0.35  # the mouth crop's half side, of the face box's width
EYES_REACH = 0.6  # the eyes crop's reach beside each eye, of the eye distance


def mouth_box(face, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A square around `face`'s mouth (the middle of MTCNN's two mouth corners), MOUTH_REACH x
    the face's width on each side, clipped to the (width, height) photo."""
    x, y = np.asarray(face.landmarks, np.float64)[3:5].mean(axis=0)
    reach = MOUTH_REACH * face.width
    (box,) = closeup_boxes([(x - reach, y - reach, x + reach, y + reach)], size, margin=0.0)
    return box


def eyes_box(face, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A band round `face`'s eyes (MTCNN's two eye points): EYES_REACH eye distances beside them,
    half one above and a third below, clipped to the (width, height) photo."""
    (x0, y0), (x1, y1) = np.asarray(face.landmarks, np.float64)[:2]
    span = x1 - x0
    (box,) = closeup_boxes([(x0 - EYES_REACH * span, min(y0, y1) - span / 2, x1 + EYES_REACH * span,
                             max(y0, y1) + span / 3)], size, margin=0.0)
    return box


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photo", help="a faces_dev file name, or a path to any photo")
    parser.add_argument("--variants", default="relative-none,default")
    parser.add_argument("--face", type=int, default=0, help="which face, left to right (default: %(default)s)")
    parser.add_argument("--region", choices=("face", "mouth", "eyes"), default="face",
                        help="what each picture shows (default: %(default)s)")
    parser.add_argument("--tile", type=int, default=160, help="pixels per picture (default: %(default)s)")
    parser.add_argument("--data", type=existing_dir, default=str(DATA))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    path = Path(args.photo) if Path(args.photo).exists() else args.data / "faces_dev" / args.photo
    editor = Editor.load(ROOT / "checkpoints")
    result = editor.edit(read_photo(path), EXPRESSIONS[0], seed=args.seed, model="conditional")
    if not 0 <= args.face < len(result.faces):
        raise SystemExit(f"--face must be 0-{len(result.faces) - 1}: {path.name} has {len(result.faces)} face(s)")
    height, width = result.original.shape[:2]
    face = result.faces[args.face].face
    if args.region == "mouth":
        box = mouth_box(face, (width, height))
    elif args.region == "eyes":
        box = eyes_box(face, (width, height))
    else:
        (box,) = closeup_boxes([face.box], (width, height), margin=MARGIN)

    tile_height = args.tile if args.region != "eyes" else round(args.tile * (box[3] - box[1]) / (box[2] - box[0]))

    def tile(image: np.ndarray) -> Image.Image:
        return Image.fromarray(image).crop(box).resize((args.tile, tile_height), Image.LANCZOS)

    rows = []
    for spec in args.variants.split(","):
        _, make_change, strength = variant(spec)
        rows.append([tile(result.original)] + [tile(edited_photo(editor, None, result, make_change, strength, target))
                                               for target in range(len(EXPRESSIONS))])
    sheet = Image.new("RGB", (args.tile * 8, tile_height * len(rows)))
    for r, row in enumerate(rows):
        for c, picture in enumerate(row):
            sheet.paste(picture, (c * args.tile, r * tile_height))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.output, optimize=True)
    print(f"{path.name}: rows {args.variants}; columns photo, {', '.join(EXPRESSIONS)} -> {args.output}")


if __name__ == "__main__":
    main()
