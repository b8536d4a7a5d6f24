"""How far the detector's five landmarks sit from an independent model's, and how long it takes.

    python benchmarks/landmark_accuracy.py [--faces-dir DIR] [--limit 200] [--threads 1] [--results PATH]

For each photo where dlib's HOG detector finds exactly one face, the reference points are
taken from dlib's 68 landmarks (benchmarks/identity.py; not our models): the centres of the
two eyes (mean of each eye's six points), the nose tip (30) and the mouth corners (48, 54),
the points MTCNN predicts. The error of a face is the mean distance of its five points from
those, in eye distances (dlib's). Two detectors run on the same photos:
- ours: `editor.faces.FaceDetector` (editor/mtcnn_cascade.py: refining crops filled with
  black where they pass the photo's edge, as the original MTCNN does);
- facenet-pytorch: the same nets through facenet-pytorch's own `detect_face`, which stretches
  the part of each crop inside the photo instead.
The largest face of each is compared. Prints the table and appends a JSON line to
benchmarks/results/landmark_accuracy.jsonl (--results: another file).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import RESULTS, append_jsonl, existing_dir, positive_int  # noqa: E402
from benchmarks.machine import device_name  # noqa: E402
from editor.faces import FaceDetector, NoFaceError  # noqa: E402
from editor.mtcnn_cascade import PYRAMID_FACTOR, THRESHOLDS  # noqa: E402
from editor.photo import read_photo  # noqa: E402

FACES_DEV = ROOT.parent / "shared" / "data" / "faces_dev"


def reference_points(landmarks68: np.ndarray) -> np.ndarray:
    """MTCNN's five points from dlib's 68 (iBUG order): eye centres, nose tip, mouth corners."""
    return np.array([landmarks68[36:42].mean(0), landmarks68[42:48].mean(0), landmarks68[30],
                     landmarks68[48], landmarks68[54]])


def landmark_error(points: np.ndarray, reference: np.ndarray) -> float:
    """Mean distance of the five points from the reference's, in the reference's eye distances."""
    eyes = float(np.linalg.norm(reference[0] - reference[1]))
    return float(np.linalg.norm(points - reference, axis=1).mean() / eyes)


def facenet_points(detector: FaceDetector, rgb: np.ndarray) -> np.ndarray | None:
    """The largest face's landmarks by facenet-pytorch's own cascade, with our detector's nets
    and settings (faces_dev photos are small: no downscaling)."""
    from facenet_pytorch.models.utils.detect_face import detect_face

    with torch.inference_mode():
        boxes, points = detect_face(np.ascontiguousarray(rgb), detector.min_face_size, detector.pnet,
                                    detector.rnet, detector.onet, list(THRESHOLDS), PYRAMID_FACTOR,
                                    detector.device)
    boxes = np.asarray(boxes[0], np.float64).reshape(-1, 5)
    points = np.asarray(points[0], np.float64).reshape(-1, 5, 2)
    keep = boxes[:, 4] >= detector.min_probability
    if not keep.any():
        return None
    boxes, points = boxes[keep], points[keep]
    return points[np.argmax(boxes[:, 2] - boxes[:, 0])]


def our_points(detector: FaceDetector, rgb: np.ndarray) -> np.ndarray | None:
    try:
        faces = detector.detect(rgb)
    except NoFaceError:
        return None
    return max(faces, key=lambda face: face.width).landmarks.astype(np.float64)


def summary(errors: list[float], seconds: list[float], photos: int) -> dict:
    errors_ = np.asarray(errors)
    return {"found": len(errors), "of": photos, "median": float(np.median(errors_)), "mean": float(errors_.mean()),
            "p90": float(np.percentile(errors_, 90)), "max": float(errors_.max()),
            "ms_p50": 1000 * float(np.median(seconds))}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces-dir", type=existing_dir, default=FACES_DEV, help="photos (default: %(default)s)")
    parser.add_argument("--limit", type=positive_int, default=200, help="at most this many photos (default: 200)")
    parser.add_argument("--threads", type=positive_int, default=1,
                        help="torch threads (default: 1; MTCNN's tiny convolutions gain little from more)")
    parser.add_argument("--results", type=Path, default=RESULTS / "landmark_accuracy.jsonl",
                        help="append the JSON line here (default: %(default)s)")
    return parser


def main() -> None:
    args = build_parser().parse_args()
    torch.set_num_threads(args.threads)
    from benchmarks.identity import IdentityModel

    dlib_model = IdentityModel()  # says what to install when dlib is missing
    detector = FaceDetector()
    photos = sorted(p for p in args.faces_dir.iterdir() if p.is_file())[:args.limit]
    detectors = {"ours": our_points, "facenet-pytorch": facenet_points}
    errors: dict[str, list[float]] = {name: [] for name in detectors}
    seconds: dict[str, list[float]] = {name: [] for name in detectors}
    judged = 0
    for path in photos:
        rgb = read_photo(path).rgb
        found = dlib_model.detector(rgb, 1)
        if len(found) != 1:  # no reference, or not sure which face it is
            continue
        judged += 1
        reference = reference_points(dlib_model.landmarks(rgb, found[0]))
        for name, points_of in detectors.items():
            start = time.perf_counter()
            points = points_of(detector, rgb)
            seconds[name].append(time.perf_counter() - start)
            if points is not None:
                errors[name].append(landmark_error(points, reference))
    rows = {name: summary(errors[name], seconds[name], judged) for name in detectors}
    machine = device_name("cpu")
    print(f"{judged} of {len(photos)} photos in {args.faces_dir} with one face by dlib; {machine}")
    print("| detector | found | error median | mean | p90 | max | time p50 |")
    print("|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['found']} of {row['of']} | {row['median']:.3f} | {row['mean']:.3f} | {row['p90']:.3f} "
              f"| {row['max']:.3f} | {row['ms_p50']:.1f} ms |")
    append_jsonl(args.results, [{"benchmark": "landmark_accuracy", "date": time.strftime("%Y-%m-%d"),
                                 "machine": machine, "faces_dir": str(args.faces_dir), "photos": len(photos),
                                 "judged": judged, "detectors": rows}])
    print(f"appended to {args.results}")


if __name__ == "__main__":
    main()
