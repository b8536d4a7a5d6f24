"""Face detection (MTCNN) and 5-point alignment to FER2013's 48x48 framing.

Detection runs MTCNN (Zhang et al. 2016): facenet-pytorch's nets, copied into
`mtcnn_nets` so that neither facenet-pytorch nor torchvision is imported, in a
cascade that crops as the original does (`mtcnn_cascade`), with weights read from
`checkpoints/mtcnn.safetensors` (made by `scripts/convert_mtcnn_weights.py`):
the pickled .pt files in the facenet-pytorch wheel are never loaded.

Alignment maps the five MTCNN landmarks onto `FER_TEMPLATE`, where those
landmarks sit on an average FER2013 face, with a least-squares similarity
transform (rotation, uniform scale, translation), so a crop from any photo is
framed like the faces the generators were trained on. The `Alignment` carries
the exact inverse, for pasting the edited crop back.

Coordinates are pixel centres: pixel (i, j) of an image is the point x=j, y=i,
and an image of side n spans [-0.5, n - 0.5].

Everything here is a pure function or holds only read-only weights, so one
`FaceDetector` can serve concurrent requests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from safetensors import SafetensorError, safe_open

from gan.checkpoint import CheckpointError

from .locations import CHECKPOINTS
from .mtcnn_cascade import run_cascade
from .mtcnn_nets import ONet, PNet, RNet

DEFAULT_WEIGHTS = CHECKPOINTS / "mtcnn.safetensors"
NETS = {"pnet": PNet, "rnet": RNet, "onet": ONet}
FER_SIZE = 48

# Where MTCNN's five landmarks sit on a typical FER2013 face: (x, y) in 48x48
# pixel-centre coordinates. Derived from the data by scripts/derive_fer_template.py
# (2026-11-24): the per-coordinate median over the 1,711 of 2,000 sampled Training
# faces (seed 0) that MTCNN found with probability >= 0.95, each upscaled to 160 px
# with a replicated 32 px border. MAD is the median absolute deviation across faces.
FER_TEMPLATE = np.array([
    [14.94, 18.57],  # left eye (MAD 1.3, 1.6 px)
    [32.97, 18.30],  # right eye (MAD 1.3, 1.5 px)
    [24.00, 28.76],  # nose (MAD 1.9, 1.7 px)
    [16.60, 37.59],  # mouth left (MAD 1.9, 2.1 px)
    [31.48, 37.48],  # mouth right (MAD 2.0, 2.1 px)
], dtype=np.float32)
FER_TEMPLATE.setflags(write=False)


class NoFaceError(ValueError):
    """No usable face in a photo; the message names the photo and says what to try."""


@dataclass(frozen=True, eq=False)
class Face:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in photo pixels
    probability: float  # MTCNN's confidence that this is a face, in [0, 1]
    landmarks: np.ndarray  # [5, 2] float32 (x, y): left eye, right eye, nose, mouth left, mouth right

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


@dataclass(frozen=True, eq=False)
class Alignment:
    to_crop: np.ndarray  # [2, 3] float64 affine: photo (x, y, 1) -> crop (x, y)
    to_photo: np.ndarray  # [2, 3] float64 affine: crop (x, y, 1) -> photo (x, y); the exact inverse
    size: int  # side of the square crop in pixels


def load_mtcnn_nets(path: str | Path = DEFAULT_WEIGHTS,
                    device: str | torch.device = "cpu") -> tuple[PNet, RNet, ONet]:
    """P-, R- and O-net in eval mode on `device`, from the safetensors file alone."""
    path = Path(path)
    shipped = path.resolve() == DEFAULT_WEIGHTS.resolve()
    restore = ("Restore it with `git checkout -- checkpoints/mtcnn.safetensors`, "
               "or recreate it with `python scripts/convert_mtcnn_weights.py`" if shipped else
               f"Copy the shipped one into {path.parent} (`cp {DEFAULT_WEIGHTS} {path}`), "
               f"or make it with `python scripts/convert_mtcnn_weights.py --out {path}`")
    if not path.is_file():
        raise CheckpointError(f"{path}: the face detector's weights are missing. {restore}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
        nets = []
        for name, net_class in NETS.items():
            net = net_class()
            prefix = f"{name}."
            net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
            nets.append(net.to(device).eval().requires_grad_(False))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: the face detector's weights are corrupt ({exc}). {restore}") from exc
    return tuple(nets)  # type: ignore[return-value]


class FaceDetector:
    """MTCNN over whole photos: boxes, probabilities and landmarks in photo pixels.

    Photos whose longer side exceeds `max_side` are detected on a downscaled copy
    (faster, and MTCNN's pyramid needs no more) and the results mapped back.
    Holds only the nets, read-only, so `detect` is safe from concurrent threads.
    """

    def __init__(self, device: str | torch.device = "cpu", *, max_side: int = 1024,
                 min_probability: float = 0.9, min_face_size: int = 20,
                 weights: str | Path = DEFAULT_WEIGHTS) -> None:
        self.device = torch.device(device)
        self.max_side = max_side
        self.min_probability = min_probability
        self.min_face_size = min_face_size  # in pixels of the (downscaled) detection image
        self.pnet, self.rnet, self.onet = load_mtcnn_nets(weights, self.device)

    def detect(self, rgb: np.ndarray, *, name: str = "photo") -> list[Face]:
        """Faces in `rgb` [H, W, 3] uint8, left to right; NoFaceError when there are none."""
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an [H, W, 3] uint8 RGB array, got {rgb.dtype} {rgb.shape}")
        height, width = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        small = rgb
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            scale_x, scale_y = size[0] / width, size[1] / height
        else:
            scale_x = scale_y = 1.0

        faces = []
        # MTCNN's pyramid starts at faces of min_face_size; a smaller image holds none.
        if min(small.shape[:2]) >= self.min_face_size:
            boxes, points = run_cascade(small, self.pnet, self.rnet, self.onet,
                                        min_face_size=self.min_face_size, device=self.device)
            for box, marks in zip(boxes, points):
                box = np.asarray(box, np.float64)  # [5]: x1, y1, x2, y2, probability
                if box[4] < self.min_probability:
                    continue
                # Pixel-centre convention: x_photo = (x_small + 0.5) / scale - 0.5.
                x1, x2 = ((box[[0, 2]] + 0.5) / scale_x - 0.5).tolist()
                y1, y2 = ((box[[1, 3]] + 0.5) / scale_y - 0.5).tolist()
                marks = (np.asarray(marks, np.float64) + 0.5) / (scale_x, scale_y) - 0.5
                marks = marks.astype(np.float32)
                marks.setflags(write=False)
                faces.append(Face((x1, y1, x2, y2), float(box[4]), marks))
        if not faces:
            smallest = round(self.min_face_size / min(scale_x, scale_y))
            if min(height, width) < smallest:  # no face of a size MTCNN looks for fits in the photo
                if max(height, width) < smallest:
                    raise NoFaceError(f"{name} is too small to hold a face ({width}x{height} pixels); use a photo "
                                      f"at least {smallest} pixels in each direction")
                raise NoFaceError(f"{name} is too narrow to hold a face ({width}x{height} pixels): in a photo "
                                  f"this long a face must be at least {smallest} pixels across. Crop it to the "
                                  "part around the face, or use a photo of ordinary proportions")
            raise NoFaceError(f"no face found in {name}. Use a sharper, well-lit photo where the face "
                              f"looks at the camera and is larger in the frame (at least {smallest} "
                              f"pixels across)")
        return sorted(faces, key=lambda face: face.box[0] + face.box[2])


def template(size: int = FER_SIZE) -> np.ndarray:
    """FER_TEMPLATE [5, 2] float64 in the pixel-centre coordinates of a size x size crop."""
    return (FER_TEMPLATE.astype(np.float64) + 0.5) * (size / FER_SIZE) - 0.5


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The [2, 3] similarity (rotation, uniform scale, translation) that maps the
    points `src` [N, 2] closest to `dst` [N, 2] in least squares."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    # x' = a x - b y + tx,  y' = b x + a y + ty: linear in (a, b, tx, ty).
    ones, zeros = np.ones(len(src)), np.zeros(len(src))
    rows_x = np.stack([src[:, 0], -src[:, 1], ones, zeros], axis=1)
    rows_y = np.stack([src[:, 1], src[:, 0], zeros, ones], axis=1)
    system = np.concatenate([rows_x, rows_y])
    target = np.concatenate([dst[:, 0], dst[:, 1]])
    (a, b, tx, ty), *_ = np.linalg.lstsq(system, target, rcond=None)
    return np.array([[a, -b, tx], [b, a, ty]])


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """The inverse of a [2, 3] affine transform."""
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def align_face(rgb: np.ndarray, face: Face, *, size: int = FER_SIZE,
               window: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, Alignment]:
    """A grey crop [size, size] uint8 framed like FER2013, and the transforms to and from it.

    The crop is ITU-R BT.601 luma (as FER2013's greyscale). A face much larger
    than the crop is warped at an integer multiple of `size` and then area-averaged
    down, so the crop is not aliased. Both matrices use OpenCV's convention, so
    `cv2.warpAffine(crop, alignment.to_photo, (width, height))` puts a (generated)
    crop back where the face is in the photo. `window` (x0, y0, x1, y1), whole crop
    pixels: only that part of the crop is made ([y1 - y0, x1 - x0], the same pixels),
    which for a large face saves warping all of it.
    """
    to_crop = similarity_transform(face.landmarks, template(size))
    x0, y0, x1, y1 = window if window is not None else (0, 0, size, size)
    scale = float(np.hypot(to_crop[0, 0], to_crop[1, 0]))  # crop pixels per photo pixel
    factor = int(np.clip(np.ceil(1.0 / scale), 1, 32)) if scale < 1.0 else 1
    # Same transform into a crop `factor` times larger (pixel centres: x -> (x + 0.5) k - 0.5),
    # from the window's corner.
    upscale = np.array([[factor, 0.0, (factor - 1) / 2 - x0 * factor],
                        [0.0, factor, (factor - 1) / 2 - y0 * factor], [0.0, 0.0, 1.0]])
    warp = (upscale @ np.vstack([to_crop, [0.0, 0.0, 1.0]]))[:2]
    big = cv2.warpAffine(rgb, warp, ((x1 - x0) * factor, (y1 - y0) * factor), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    grey = cv2.cvtColor(big.astype(np.float32), cv2.COLOR_RGB2GRAY)  # 0.299 R + 0.587 G + 0.114 B
    if factor > 1:
        grey = cv2.resize(grey, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    crop = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    to_photo = invert_affine(to_crop)
    for matrix in (to_crop, to_photo):
        matrix.setflags(write=False)
    return crop, Alignment(to_crop=to_crop, to_photo=to_photo, size=size)


def crop_footprint(to_photo: np.ndarray, size: int, shape: tuple[int, ...],
                   margin: float = 0.0) -> tuple[int, int, int, int] | None:
    """The photo rectangle (x0, y0, x1, y1; x1, y1 exclusive) that a [size, size] crop placed by
    `to_photo` covers, grown by `margin` photo pixels and clipped to a photo of `shape`
    ([H, W, ...]); None where it lies outside the photo."""
    corners = np.array([[-0.5, -0.5], [size - 0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5]])
    placed = apply_affine(to_photo, corners)  # pixel edges, not centres
    height, width = shape[:2]
    x0, y0 = (int(max(0, math.floor(v - margin))) for v in placed.min(axis=0))
    x1 = int(min(width, math.ceil(placed[:, 0].max() + margin) + 1))
    y1 = int(min(height, math.ceil(placed[:, 1].max() + margin) + 1))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def affine_scale(matrix: np.ndarray) -> float:
    """How many destination pixels one source pixel spans under a [2, 3] affine (the square root of
    its linear part's determinant): photo pixels per crop pixel for an Alignment's to_photo."""
    return float(np.sqrt(abs(np.linalg.det(np.asarray(matrix, np.float64)[:, :2]))))


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points [N, 2] (x, y) through a [2, 3] affine transform."""
    points = np.asarray(points, np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]
