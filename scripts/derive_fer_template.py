"""Derive editor.faces.FER_TEMPLATE: where MTCNN's five landmarks sit on FER2013 faces.

Takes a seeded sample of FER2013 Training faces, upscales each 48x48 face to
160 px (bicubic; MTCNN's nets want more pixels than 48), adds a replicated
border so the face does not touch the image edge (MTCNN's later stages crop
around its boxes and see black where a box leaves the image), runs
`editor.faces.FaceDetector`, keeps the largest face of each image when MTCNN is
confident, maps its landmarks back to 48x48 pixel-centre coordinates and prints
their per-coordinate median, ready to paste into editor/faces.py.

    python scripts/derive_fer_template.py [--data ../shared/data/fer2013.csv.gz] [--count 2000]

About two minutes on two CPU cores (a quarter of that reads the csv).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from editor.faces import FER_SIZE, FaceDetector, NoFaceError  # noqa: E402
from gan.data import read_fer2013  # noqa: E402


def landmarks_48(detector: FaceDetector, face: np.ndarray, *, side: int, border: int,
                 min_probability: float) -> np.ndarray | None:
    """MTCNN landmarks [5, 2] of one grey 48x48 face, in its own pixel-centre coordinates."""
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, border, border, border, border, cv2.BORDER_REPLICATE)
    try:
        faces = detector.detect(np.repeat(big[:, :, None], 3, axis=2))
    except NoFaceError:
        return None
    best = max(faces, key=lambda f: f.width)
    if best.probability < min_probability:
        return None
    return (best.landmarks.astype(np.float64) - border + 0.5) * (FER_SIZE / side) - 0.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "fer2013.csv.gz")
    parser.add_argument("--count", type=int, default=2000, help="how many Training faces to sample")
    parser.add_argument("--side", type=int, default=160, help="upscale each face to this side (px)")
    parser.add_argument("--border", type=int, default=32, help="replicated border around it (px)")
    parser.add_argument("--min-probability", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    # One thread: MTCNN's many small convolutions gain nothing from more, and
    # slow down badly when another job holds the other cores.
    torch.set_num_threads(1)

    start = time.perf_counter()
    data = read_fer2013(args.data, split="Training")
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(data), size=min(args.count, len(data)), replace=False)
    # The face fills the upscaled image, so skip MTCNN's search for small faces.
    detector = FaceDetector(min_probability=0.0, min_face_size=args.side // 4)

    found = []
    for done, index in enumerate(picks, 1):
        marks = landmarks_48(detector, data.images[index, 0].numpy(), side=args.side, border=args.border,
                             min_probability=args.min_probability)
        if marks is not None:
            found.append(marks)
        if done % 500 == 0:
            print(f"{done}/{len(picks)} faces, {len(found)} kept, {time.perf_counter() - start:.0f}s",
                  file=sys.stderr)
    found = np.stack(found)  # [N, 5, 2]
    median = np.median(found, axis=0)
    spread = np.median(np.abs(found - median), axis=0)  # median absolute deviation

    names = ("left eye", "right eye", "nose", "mouth left", "mouth right")
    print(f"# {len(found)} of {len(picks)} sampled Training faces (seed {args.seed}) kept "
          f"(MTCNN probability >= {args.min_probability}); {time.perf_counter() - start:.0f}s")
    print("FER_TEMPLATE = np.array([")
    for name, (x, y), (dx, dy) in zip(names, median, spread):
        print(f"    [{x:.2f}, {y:.2f}],  # {name} (MAD {dx:.1f}, {dy:.1f} px)")
    print("], dtype=np.float32)")


if __name__ == "__main__":
    main()
