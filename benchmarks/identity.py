"""Likeness, measured by a model that is not ours: dlib's face recognition ResNet
(and how far the features moved, by dlib's 68-point landmarks).

dlib (`dlib-bin`) with the weights of `face_recognition_models`, both from the
package registry, installed by the project's `bench` extra; a benchmark-only
dependency, never loaded by the editor. Two faces are "the same person" when
their 128-d descriptors are closer than 0.6 (dlib's own threshold, 99.38% on
LFW). The face is found by dlib's HOG detector (also independent of us), and
by the box we give it when HOG finds nothing.

Run alone, it says whether two photos show the same person (the largest face of each):

    python benchmarks/identity.py PHOTO_A PHOTO_B
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, gan/ is beside benchmarks/

from benchmarks.arguments import existing_file  # noqa: E402
from gan.train_landmarks import dlib_models_dir  # noqa: E402

SAME_PERSON = 0.6


class IdentityModel:
    def __init__(self) -> None:
        models = dlib_models_dir("benchmarks/identity.py")  # says what to install when dlib is missing
        import dlib

        self._dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self.shapes68 = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))
        self.net = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))

    def box(self, rgb: np.ndarray, hint: tuple[float, float, float, float]):
        """dlib's own detection of the face nearest `hint` (x1, y1, x2, y2), else the hint."""
        cx, cy = (hint[0] + hint[2]) / 2, (hint[1] + hint[3]) / 2
        found = [r for r in self.detector(rgb, 1) if r.left() <= cx <= r.right() and r.top() <= cy <= r.bottom()]
        if found:
            return max(found, key=lambda r: r.area())
        return self._dlib.rectangle(*(int(round(v)) for v in hint))

    def descriptor(self, rgb: np.ndarray, box) -> np.ndarray:
        """The 128-d face descriptor of the face in `box` (from `box()`)."""
        shape = self.shapes(np.ascontiguousarray(rgb), box)
        return np.asarray(self.net.compute_face_descriptor(np.ascontiguousarray(rgb), shape))


    def landmarks(self, rgb: np.ndarray, box) -> np.ndarray:
        """dlib's 68 landmarks (iBUG 300-W order) of the face in `box`: [68, 2] float (x, y)."""
        shape = self.shapes68(np.ascontiguousarray(rgb), box)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


# The iBUG 300-W points that move with an expression: brows 17-26, eyes 36-47, mouth 48-67.
EXPRESSION_POINTS = np.r_[17:27, 36:48, 48:68]


def feature_motion(before: np.ndarray, after: np.ndarray) -> float:
    """How far the brows, eyes and mouth moved between two landmark sets of the
    same face: the mean displacement of those points, in % of the distance
    between the outer eye corners (points 36 and 45) before."""
    eyes = float(np.linalg.norm(before[45] - before[36]))
    moved = np.linalg.norm(after[EXPRESSION_POINTS] - before[EXPRESSION_POINTS], axis=1)
    return float(100.0 * moved.mean() / max(eyes, 1e-9))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


def largest_face_descriptor(model: IdentityModel, path: Path) -> np.ndarray:
    """The descriptor of the largest face dlib's HOG detector finds in the photo at `path`."""
    from PIL import Image, ImageOps

    rgb = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    faces = model.detector(rgb, 1)
    if not faces:
        raise SystemExit(f"error: dlib finds no face in {path}; try a photo with a larger, frontal face")
    return model.descriptor(rgb, max(faces, key=lambda r: r.area()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("photos", nargs=2, type=existing_file, metavar="PHOTO", help="two photos to compare")
    args = parser.parse_args(argv)
    try:
        model = IdentityModel()
    except ValueError as exc:  # dlib_models_dir says what to install
        raise SystemExit(f"error: {exc}") from None
    d = distance(*(largest_face_descriptor(model, path) for path in args.photos))
    verdict = "the same person" if d < SAME_PERSON else "different people"
    print(f"distance {d:.3f}: {verdict} (threshold {SAME_PERSON})")


if __name__ == "__main__":
    main()
