"""How well the glasses test (editor/glasses.py) tells faces with glasses, whose brows and lids
must hold still, from bare ones, on the 200 faces_dev photos it was never trained on, and on
1,000 CelebA faces that neither its training nor its threshold saw.

    python benchmarks/glasses_accuracy.py [--faces-dir DIR] [--celeba ZIP] [--checkpoint FILE] [--results PATH]

The photos were labelled by eye (benchmarks/glasses_labels.json: faces_dev, 50 wear frames, none
sunglasses; celeba_heldout, images 004001-005000 of img_align_celeba_10k.zip). Each photo's
largest face is detected as the editor detects it and scored; for the shipped threshold and a
few round it, the frames missed (their brows would move and bend them) and the bare faces
flagged (their brows and lids held still) are counted, with the ROC AUC. faces_dev chose the
threshold (and C), so its counts are a little optimistic; the held-out CelebA faces are not. Prints
the tables and appends a JSON line to benchmarks/results/glasses_accuracy.jsonl (--results: another
file). scripts/train_glasses.py calls `measure` for the checkpoint's metadata and reads CelebA
through `celeba_labels` and `celeba_faces`.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import RESULTS, append_jsonl, command_line, existing_dir  # noqa: E402
from editor.faces import FaceDetector, NoFaceError  # noqa: E402
from editor.glasses import GlassesDetector, load_glasses  # noqa: E402
from editor.photo import read_photo  # noqa: E402

FACES_DEV = ROOT.parent / "shared" / "data" / "faces_dev"
CELEBA = ROOT.parent / "shared" / "data" / "img_align_celeba_10k.zip"
LABELS = Path(__file__).resolve().parent / "glasses_labels.json"
OFFSETS = (-2.0, -1.0, 0.0, 1.0, 2.0)  # thresholds tried, round the shipped one


def faces_dev_glasses(labels: Path = LABELS) -> frozenset[str]:
    """faces_dev numbers (the file names' devNNN) of the photos whose face wears glasses."""
    return frozenset(json.loads(labels.read_text())["faces_dev"]["glasses"])


def celeba_labels(labels: Path = LABELS, section: str = "celeba") -> dict[str, bool]:
    """CelebA image number ("000001") -> wears glasses, for every image of the labels' `section`
    ("celeba": the training faces, "celeba_heldout": the held-out ones; unsure ones left out)."""
    celeba = json.loads(labels.read_text())[section]
    glasses, unsure = set(celeba["glasses"]), set(celeba["unsure"])
    numbers = (f"{n:06d}" for n in range(celeba["first"], celeba["last"] + 1))
    return {n: n in glasses for n in numbers if n not in unsure}


def celeba_faces(archive: Path, numbers: Iterable[str], detector: FaceDetector) -> Iterator[tuple[str, np.ndarray, object]]:
    """(number, rgb, largest face) for each of the CelebA image `numbers` in img_align_celeba_10k.zip,
    doubled back to CelebA's own 178x218 (the zip's half-size faces are about 40 pixels across);
    images missing, unreadable or without a face are skipped, and said."""
    with zipfile.ZipFile(archive) as zipped:
        names = {Path(name).stem: name for name in zipped.namelist() if name.endswith(".jpg")}
        for number in numbers:
            try:
                rgb = np.asarray(Image.open(io.BytesIO(zipped.read(names[number]))).convert("RGB"))
            except (KeyError, UnidentifiedImageError, OSError) as exc:
                print(f"CelebA {number}: left out ({type(exc).__name__})")
                continue
            rgb = cv2.resize(rgb, (rgb.shape[1] * 2, rgb.shape[0] * 2), interpolation=cv2.INTER_CUBIC)
            try:
                face = max(detector.detect(rgb, name=number), key=lambda f: f.width)
            except NoFaceError:
                print(f"CelebA {number}: left out (no face found)")
                continue
            yield number, rgb, face


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


def summary(scores: dict[str, float], with_glasses: frozenset[str], threshold: float) -> dict:
    """The faces scored, those with glasses, the ROC AUC and the counts at thresholds round `threshold`."""
    rows = [counts(scores, with_glasses, threshold + offset) for offset in OFFSETS]
    return {"faces": len(scores), "with_glasses": sum(k in with_glasses for k in scores),
            "auc": round(roc_auc(scores, with_glasses), 4), "rows": rows, "scores": scores}


def measure_celeba(glasses: GlassesDetector, detector: FaceDetector, archive: Path,
                   labels: dict[str, bool]) -> dict:
    """measure's numbers on labelled CelebA faces (celeba_labels)."""
    scores = {number: glasses.score(rgb, face) for number, rgb, face in celeba_faces(archive, labels, detector)}
    return summary(scores, frozenset(n for n, wears in labels.items() if wears), glasses.threshold)


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
    return summary(scores, with_glasses, glasses.threshold)


def print_table(title: str, result: dict, threshold: float) -> None:
    print(f"{title}: {result['faces']} faces, {result['with_glasses']} with glasses; ROC AUC {result['auc']:.3f}")
    for row in result["rows"]:
        marker = " (shipped)" if row["threshold"] == round(threshold, 3) else ""
        print(f"  threshold {row['threshold']:+g}{marker}: frames missed {row['missed']}/{row['frames']}, "
              f"bare faces flagged {row['flagged']}/{row['bare']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces-dir", type=existing_dir, default=str(FACES_DEV))
    parser.add_argument("--celeba", type=Path, default=CELEBA,
                        help="img_align_celeba_10k.zip, for the held-out faces (skipped where missing)")
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "checkpoints" / "glasses.safetensors")
    parser.add_argument("--results", type=Path, default=RESULTS / "glasses_accuracy.jsonl")
    args = parser.parse_args()
    glasses, _ = load_glasses(args.checkpoint)
    detector = FaceDetector(weights=ROOT / "checkpoints" / "mtcnn.safetensors")
    result = measure(glasses, detector, Path(args.faces_dir), faces_dev_glasses())
    print_table("faces_dev (chose the threshold)", result, glasses.threshold)
    line = {"date": datetime.date.today().isoformat(), "command": command_line("glasses_accuracy.py"),
            "checkpoint": str(args.checkpoint.name), "auc": result["auc"], "rows": result["rows"]}
    if args.celeba.is_file():
        held = measure_celeba(glasses, detector, args.celeba, celeba_labels(section="celeba_heldout"))
        print_table("CelebA 004001-005000 (held out)", held, glasses.threshold)
        line["celeba_heldout"] = {k: held[k] for k in ("faces", "with_glasses", "auc", "rows")}
    else:
        print(f"{args.celeba}: not found, the held-out CelebA faces are skipped (pass --celeba)")
    append_jsonl(args.results, [line])


if __name__ == "__main__":
    main()
