"""How well editor/glasses.py tells faces with glasses (whose brows must hold still) from bare ones.

    python benchmarks/glasses_accuracy.py [--faces-dir DIR] [--steps 10] [--results PATH]

The 200 faces_dev photos were labelled by eye (2026-12-07): WITH_GLASSES lists the 50 that wear
them (frames of any kind, sunglasses none). Each photo is fitted as the editor fits it (the largest
face; --steps: the inversion's steps, few, since only S's landmarks are needed), its nose-bridge
edge measured (`editor.glasses.bridge_edge`), and for thresholds round GLASSES_EDGE the frames
missed (their brows would move and bend them) and the bare faces flagged (their brows held still,
as before the brows moved) are counted. Prints the table and appends a JSON line to
benchmarks/results/glasses_accuracy.jsonl (--results: another file).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import RESULTS, append_jsonl, command_line, existing_dir, positive_int  # noqa: E402
from editor.glasses import GLASSES_EDGE, bridge_edge  # noqa: E402
from editor.photo import read_photo  # noqa: E402
from editor.pipeline import Editor  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402

FACES_DEV = ROOT.parent / "shared" / "data" / "faces_dev"
# faces_dev numbers (the file names' devNNN) of the photos whose face wears glasses.
WITH_GLASSES = frozenset(f"{n:03d}" for n in (
    0, 11, 12, 30, 65, 79, 82, 88, 96, 97, 100, 106, 107, 108, 111, 122, 123, 125, 126, 129, 133, 136, 138,
    141, 142, 143, 144, 148, 150, 152, 155, 157, 158, 159, 160, 161, 165, 166, 167, 170, 174, 176, 177, 178,
    181, 182, 188, 194, 197, 199))
THRESHOLDS = (3.0, GLASSES_EDGE, 5.0, 6.0)


def counts(edges: dict[str, float], threshold: float) -> dict:
    """Frames missed and bare faces flagged at `threshold`, of `edges` (faces_dev number -> edge)."""
    framed = [v for k, v in edges.items() if k in WITH_GLASSES]
    bare = [v for k, v in edges.items() if k not in WITH_GLASSES]
    return {"threshold": threshold, "frames": len(framed), "missed": sum(v < threshold for v in framed),
            "bare": len(bare), "flagged": sum(v >= threshold for v in bare)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces-dir", type=existing_dir, default=str(FACES_DEV))
    parser.add_argument("--steps", type=positive_int, default=10)
    parser.add_argument("--results", type=Path, default=RESULTS / "glasses_accuracy.jsonl")
    args = parser.parse_args()
    editor = Editor.load(ROOT / "checkpoints")
    edges = {}
    for path in sorted(Path(args.faces_dir).glob("dev*.jpg")):
        photo = read_photo(path)
        try:
            result = editor.edit(photo, EXPRESSIONS[0], seed=0, model="conditional", steps=args.steps)
        except Exception as exc:  # no face found: left out, and said
            print(f"{path.name}: left out ({exc})")
            continue
        face = max(result.faces, key=lambda f: f.face.width)
        edges[path.name[3:6]] = bridge_edge(photo.rgb, face.face, face.source_points)
    rows = [counts(edges, threshold) for threshold in THRESHOLDS]
    print(f"{len(edges)} faces, {sum(k in WITH_GLASSES for k in edges)} with glasses")
    for row in rows:
        marker = " (GLASSES_EDGE)" if row["threshold"] == GLASSES_EDGE else ""
        print(f"threshold {row['threshold']:g}{marker}: frames missed {row['missed']}/{row['frames']}, "
              f"bare faces flagged {row['flagged']}/{row['bare']}")
    append_jsonl(args.results, [{"date": datetime.date.today().isoformat(), "command": command_line("glasses_accuracy.py"),
                                 "steps": args.steps, "rows": rows}])


if __name__ == "__main__":
    main()
