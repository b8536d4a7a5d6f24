"""How well the glasses test (editor/glasses.py) tells faces with glasses, whose brows and lids
must hold still, from bare ones, on the 200 faces_dev photos it was never trained on.

    python benchmarks/glasses_accuracy.py [--faces-dir DIR] [--checkpoint FILE] [--results PATH]

The photos were labelled by eye (benchmarks/glasses_labels.json: 50 wear frames, none
sunglasses). Each photo's largest face is detected as the editor detects it and scored; for
the shipped threshold and a few round it, the frames missed (their brows would move and bend
them) and the bare faces flagged (their brows and lids held still) are counted, with the ROC
AUC. Prints the table and appends a JSON line to benchmarks/results/glasses_accuracy.jsonl
(--results: another file). scripts/train_glasses.py calls `measure` for the checkpoint's metadata.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import RESULTS, append_jsonl, command_line, existing_dir  # noqa: E402
from editor.faces import FaceDetector, NoFaceError  # noqa: E402
from editor.glasses import GlassesDetector, load_glasses  # noqa: E402
from editor.photo import read_photo  # noqa: E402

FACES_DEV = ROOT.parent / "shared" / "data" / "faces_dev"
LABELS = Path(__file__).resolve().parent / "glasses_labels.json"
OFFSETS = (-2.0, -1.0, 0.0, 1.0, 2.0)  # thresholds tried, round the shipped one


def faces_dev_glasses(labels: Path = LABELS) -> frozenset[str]:
    """faces_dev numbers (the file names' devNNN) of the photos whose face wears glasses."""
    return frozenset(json.loads(labels.read_text())["faces_dev"]["glasses"])


def counts(scores: dict[str, float], with_glasses: frozenset[str], threshold: float) -> dict:
    """Frames missed and bare faces flagged at `threshold`, of `scores` (faces_dev number -> score)."""
    framed = [v for k, v in scores.items() if k in with_glasses]
    bare = [v for k, v in scores.items() if k not in with_glasses]
    return {"threshold": round(threshold, 3), "frames": len(framed), "missed": sum(v < threshold for v in framed),
            "bare": len(bare), "flagged": sum(v >= threshold for v in bare)}


def roc_auc(scores: dict[str, float], with_glasses: frozenset[str]) -> float:
    """The chance that a face with glasses scores above a bare one (ties count half)."""
    framed = np.array([v for k, v in scores.items() if k in with_glasses])
    bare = np.array([v for k, v in scores.items() if k not in with_glasses])
    if not len(framed) or not len(bare):
        return float("nan")
    above = (framed[:, None] > bare[None, :]).mean() + 0.5 * (framed[:, None] == bare[None, :]).mean()
    return float(above)


def measure(glasses: GlassesDetector, detector: FaceDetector, faces_dir: Path,
            with_glasses: frozenset[str]) -> dict:
    """Scores of each dev photo's largest face and the counts at thresholds round the shipped one."""
    scores = {}
    for path in sorted(Path(faces_dir).glob("dev*.jpg")):
        photo = read_photo(path)
        try:
            face = max(detector.detect(photo.rgb, name=path.name), key=lambda f: f.width)
        except NoFaceError as exc:  # left out, and said
            print(f"{path.name}: left out ({exc})")
            continue
        scores[path.name[3:6]] = glasses.score(photo.rgb, face)
    rows = [counts(scores, with_glasses, glasses.threshold + offset) for offset in OFFSETS]
    return {"faces": len(scores), "with_glasses": sum(k in with_glasses for k in scores),
            "auc": round(roc_auc(scores, with_glasses), 4), "rows": rows, "scores": scores}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces-dir", type=existing_dir, default=str(FACES_DEV))
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "checkpoints" / "glasses.safetensors")
    parser.add_argument("--results", type=Path, default=RESULTS / "glasses_accuracy.jsonl")
    args = parser.parse_args()
    glasses, _ = load_glasses(args.checkpoint)
    result = measure(glasses, FaceDetector(weights=ROOT / "checkpoints" / "mtcnn.safetensors"),
                     Path(args.faces_dir), faces_dev_glasses())
    print(f"{result['faces']} faces, {result['with_glasses']} with glasses; ROC AUC {result['auc']:.3f}")
    for row in result["rows"]:
        marker = " (shipped)" if row["threshold"] == round(glasses.threshold, 3) else ""
        print(f"threshold {row['threshold']:+g}{marker}: frames missed {row['missed']}/{row['frames']}, "
              f"bare faces flagged {row['flagged']}/{row['bare']}")
    append_jsonl(args.results, [{"date": datetime.date.today().isoformat(), "command": command_line("glasses_accuracy.py"),
                                 "checkpoint": str(args.checkpoint.name), "auc": result["auc"], "rows": result["rows"]}])


if __name__ == "__main__":
    main()
