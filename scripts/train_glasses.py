"""Train the glasses test (editor/glasses.py) and write checkpoints/glasses.safetensors.

    python scripts/train_glasses.py [--celeba ZIP] [--faces-dir DIR] [--c 0.1] [-o FILE]

Reads the labelled CelebA faces (benchmarks/glasses_labels.json: the first 4,000 images of
img_align_celeba_10k.zip, 224 with glasses), doubles each image back to CelebA's own
178x218 (the zip holds them at half size), detects the face as the editor does, cuts the eye
band, fits a class-balanced, L2-regularised logistic regression (scikit-learn, lbfgs:
deterministic) on the band's HOG features and sets its threshold (--threshold). It is then
measured on faces_dev, which it never saw (benchmarks/glasses_accuracy.py), and the numbers go
into the file's metadata. About three minutes on two CPU cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import command_line  # noqa: E402
from benchmarks.glasses_accuracy import CELEBA, FACES_DEV, celeba_faces, celeba_labels, faces_dev_glasses, measure  # noqa: E402
from editor.faces import FaceDetector  # noqa: E402
from editor.glasses import GlassesDetector, band_features, eye_band, save_glasses  # noqa: E402

def celeba_features(archive: Path, labels: dict[str, bool], detector: FaceDetector) -> tuple[np.ndarray, np.ndarray]:
    """HOG features [N, 1800] of the labelled images' largest faces and their labels [N] (bool);
    images without a face, or unreadable ones, are left out and counted."""
    features, targets = [], []
    for number, rgb, face in celeba_faces(archive, labels, detector):
        features.append(band_features(eye_band(rgb, face)))
        targets.append(labels[number])
    print(f"{len(features)} CelebA faces ({sum(targets)} with glasses); {len(labels) - len(features)} left out (no face found)")
    return np.stack(features), np.array(targets)


def fit(features: np.ndarray, targets: np.ndarray, c: float) -> GlassesDetector:
    """The class-balanced logistic regression (scikit-learn) as a GlassesDetector."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000).fit(features, targets)
    return GlassesDetector(model.coef_[0].astype(np.float32), float(model.intercept_[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--celeba", type=Path, default=CELEBA, help="img_align_celeba_10k.zip")
    parser.add_argument("--faces-dir", type=Path, default=FACES_DEV, help="faces_dev, to measure on")
    parser.add_argument("--c", type=float, default=0.1,
                        help="inverse L2 strength (0.1, 0.3 and 1 measured on faces_dev: 0.1 missed fewest frames)")
    parser.add_argument("--threshold", type=float, default=-1.0,
                        help="decision value from which a face counts as wearing glasses; below 0, since a missed "
                             "frame bends with the brows while a bare face flagged only keeps its brows still "
                             "(on faces_dev: -1 missed 2 of 50 frames and flagged 13 of 150 bare faces, 0: 6 and 7)")
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "checkpoints" / "glasses.safetensors")
    args = parser.parse_args()
    if not args.celeba.is_file():
        parser.error(f"{args.celeba}: no such file; pass --celeba with the path of img_align_celeba_10k.zip")
    started = time.time()
    detector = FaceDetector(weights=ROOT / "checkpoints" / "mtcnn.safetensors")
    features, targets = celeba_features(args.celeba, celeba_labels(), detector)
    glasses = dataclasses.replace(fit(features, targets, args.c), threshold=args.threshold)
    train_accuracy = float(((features @ glasses.weights + glasses.bias >= 0) == targets).mean())
    metadata = {"model": "logistic regression on HOG of the eye band", "c": args.c,
                "data": {"celeba": args.celeba.name, "faces": int(len(targets)), "with_glasses": int(targets.sum())},
                "train_accuracy": round(train_accuracy, 4), "command": command_line("scripts/train_glasses.py"),
                "date": datetime.date.today().isoformat()}
    if args.faces_dir.is_dir():
        dev = measure(glasses, detector, args.faces_dir, faces_dev_glasses())
        metadata["faces_dev"] = {k: dev[k] for k in ("faces", "with_glasses", "auc", "rows")}
        shipped = next(r for r in dev["rows"] if r["threshold"] == round(args.threshold, 3))
        print(f"faces_dev: ROC AUC {dev['auc']:.3f}; frames missed {shipped['missed']}/{shipped['frames']}, "
              f"bare faces flagged {shipped['flagged']}/{shipped['bare']}")
    metadata["seconds"] = round(time.time() - started, 1)
    save_glasses(args.out, glasses, metadata)
    print(f"wrote {args.out} ({metadata['seconds']:.0f} s; training accuracy {train_accuracy:.3f})")


if __name__ == "__main__":
    main()
