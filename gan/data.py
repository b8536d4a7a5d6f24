"""Readers for the training data: FER2013 (every common layout), CelebA and any
folder of images; the dataset's fingerprint and a class-balanced epoch order.

Every reader returns a `FaceDataset` of uint8 images [N, C, H, W]
(face_dataset.py); training moves that one tensor to the device once and
batches from there. Malformed input raises `DataError` naming the file and
line, and saying what to do. The csv rows and FER+ labels are read in
fer_csv.py; the shared names are re-exported here, where callers look for them.
"""

from __future__ import annotations

import functools
import hashlib
import io
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .face_dataset import EXPRESSIONS, FER_SIDE, SPLITS, DataError, FaceDataset, expression_index
from .fer_csv import fer_csv_rows, ferplus_label, parse_pixels, read_ferplus, read_ferplus_labels

__all__ = ["EXPRESSIONS", "FER_SIDE", "SPLITS", "DataError", "FaceDataset", "expression_index", "read_ferplus_labels",
           "read_fer2013", "split_by_expression", "read_celeba", "read_image_folder", "detect_kind", "load_dataset",
           "dataset_fingerprint", "missing_splits", "balanced_order", "check_class_balance", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}

# The Kaggle image-folder variant names its class folders like this.
_FOLDER_SPLIT = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return split


def read_fer2013(path: str | Path, *, split: str = "Training", expression: str | None = None,
                 ferplus: str | Path | None = None, empty_hint: str = "check --split and --expression") -> FaceDataset:
    """FER2013 from the Kaggle csv (`fer2013.csv`, `.csv.gz`, `train.csv`,
    `test.csv`, `icml_face_data.csv`) or the image-folder variant
    (`DIR/train/<expression>/*.jpg`). `ferplus` replaces the labels with the
    FER+ majority vote (csv layouts only: FER+ rows follow fer2013.csv rows by position, so
    a csv whose rows' Usage disagrees with the FER+ file's, such as a subset, is refused).
    `empty_hint` ends the error for a split with no images: what the caller's user can do."""
    path = Path(path)
    _check_split(split)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder; pass --data with the path of fer2013.csv(.gz) "
                        "or of the folder holding train/<expression>/ images")
    if path.is_dir():
        if ferplus is not None:
            raise DataError("FER+ labels follow the rows of fer2013.csv; use the csv, not the image folder")
        return _read_fer_folder(path, split=split, expression=expression)

    wanted = expression_index(expression) if expression else None
    relabel = read_ferplus(ferplus) if ferplus is not None else None
    images, labels = [], []
    unlabelled = False
    for row_index, (line, row) in enumerate(fer_csv_rows(path)):
        where = f"{path}, line {line}"
        usage = row.get("usage", "Training").strip() or "Training"
        if usage not in SPLITS:
            raise DataError(f"{where}: Usage {usage!r} is not one of {', '.join(SPLITS)}; fix that row")
        if relabel is not None:  # every row, not only the split's: the pairing is by position
            plus_label = ferplus_label(relabel, row_index, usage, path, line)
        if usage != split:
            continue
        if "emotion" in row:
            try:
                label = int(row["emotion"])
            except ValueError:
                raise DataError(f"{where}: emotion {row['emotion']!r} is not an integer 0-6; fix that row") from None
            if not 0 <= label < len(EXPRESSIONS):
                raise DataError(f"{where}: emotion {label} is outside 0-6; fix that row")
        else:
            label, unlabelled = -1, True
        if relabel is not None:
            label = plus_label
            if label < 0:
                continue
        if wanted is not None and label != wanted:
            continue
        images.append(parse_pixels(row["pixels"], where))
        labels.append(label)
    if wanted is not None and unlabelled:
        raise DataError(f"{path}: has no emotion column, so it cannot be filtered by expression; "
                        "use fer2013.csv or train.csv")
    if not images:
        what = f"{expression} images" if expression else "images"
        raise DataError(f"{path}: no {what} in split {split}; {empty_hint}")
    tensor = torch.from_numpy(np.stack(images))[:, None]  # [N, 1, 48, 48] uint8
    label_tensor = None if unlabelled else torch.tensor(labels, dtype=torch.int64)
    desc = f"FER2013 {path.name} split={split}" + (f" expression={expression}" if expression else "")
    return FaceDataset(tensor, label_tensor, desc + (" labels=FER+" if ferplus else ""))


def split_by_expression(data: FaceDataset) -> dict[str, FaceDataset]:
    """One labelled dataset -> one dataset per expression (reads the csv once)."""
    if data.labels is None:
        raise DataError(f"{data.source}: no expression labels to split the images by")
    return {name: FaceDataset(data.images[data.labels == i], data.labels[data.labels == i],
                              f"{data.source} expression={name}")
            for i, name in enumerate(EXPRESSIONS)}


def _load_image(source: str | Path | io.BytesIO, where: str, *, size: int, channels: int) -> np.ndarray:
    """Decode, centre-crop to a square, resize to size x size: [H, W, C] uint8."""
    try:
        with Image.open(source) as img:
            img = img.convert("L" if channels == 1 else "RGB")
            w, h = img.size
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            img = img.crop((left, top, left + side, top + side))
            if side != size:
                img = img.resize((size, size), Image.Resampling.BICUBIC)
            arr = np.asarray(img, dtype=np.uint8)
    # DecompressionBombError (no OSError): a header claiming over twice PIL's pixel limit.
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"{where}: not a readable image ({exc}); delete or replace it") from exc
    return arr[:, :, None] if arr.ndim == 2 else arr


def _stack(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()  # [N, C, H, W]


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _expression_folders(split_dir: Path) -> dict[str, Path]:
    """expression -> its folder in `split_dir`, the names matched in any case ("Happy" is happy).
    A folder that names no expression is not read: warned about, with the names that are."""
    folders, unknown = {}, []
    for folder in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        name = folder.name.lower()
        if name in EXPRESSIONS:
            folders[name] = folder
        else:
            unknown.append(folder.name)
    if unknown:
        print(f"warning: {split_dir}: skipped {', '.join(unknown)}: not an expression; rename "
              f"{'it' if len(unknown) == 1 else 'them'} to one of {', '.join(EXPRESSIONS)} to use "
              f"{'its' if len(unknown) == 1 else 'their'} images", file=sys.stderr)
    return folders


def _read_fer_folder(root: Path, *, split: str, expression: str | None) -> FaceDataset:
    split_dir = root / _FOLDER_SPLIT[split]
    if not split_dir.is_dir():
        raise DataError(f"{root}: expected a '{split_dir.name}/<expression>/' folder for split {split}")
    names = [expression.lower()] if expression else list(EXPRESSIONS)
    expression_index(names[0])
    folders = _expression_folders(split_dir)
    images, labels, empty = [], [], []
    for name in names:
        files = _image_files(folders[name]) if name in folders else []
        empty += [] if files else [name]
        for file in files:
            images.append(_load_image(file, str(file), size=FER_SIDE, channels=1))
            labels.append(EXPRESSIONS.index(name))
    if not images:
        raise DataError(f"{split_dir}: no images for {', '.join(names)}; put each expression's images in "
                        f"{split_dir}/<expression>/ (one of {', '.join(EXPRESSIONS)})")
    if empty:  # a conditional model would never see these classes; say so rather than train on
        print(f"warning: {split_dir}: no images for {', '.join(empty)}", file=sys.stderr)
    return FaceDataset(_stack(images), torch.tensor(labels), f"FER2013 folder {root.name} split={split}")


def read_celeba(path: str | Path, *, size: int = 64, limit: int | None = None) -> FaceDataset:
    """CelebA aligned faces from `img_align_celeba.zip` or its folder: centre
    square crop, resized to `size`, RGB."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder; pass the path of img_align_celeba.zip or its folder")
    images = []
    if path.is_dir():
        for file in _image_files(path)[:limit]:
            images.append(_load_image(file, str(file), size=size, channels=3))
    else:
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"{path}: not a readable zip ({exc}); download img_align_celeba.zip again") from exc
        with archive:
            names = sorted(n for n in archive.namelist() if Path(n).suffix.lower() in IMAGE_SUFFIXES)
            for name in names[:limit]:
                images.append(_load_image(io.BytesIO(_zip_member(archive, path, name)), f"{path}:{name}",
                                          size=size, channels=3))
    if not images:
        raise DataError(f"{path}: holds no images")
    return FaceDataset(_stack(images), None, f"CelebA {path.name}")


def _zip_member(archive: zipfile.ZipFile, path: Path, name: str) -> bytes:
    """The bytes of one member of a CelebA zip, or a DataError naming it when it is damaged."""
    try:
        return archive.read(name)
    # A damaged member fails only when read: a CRC mismatch or bad header (BadZipFile), a corrupt
    # deflate stream (zlib.error), one cut short (EOFError), and they reached the user as a traceback.
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise DataError(f"{path}: its member {name} is damaged ({exc}); download img_align_celeba.zip again "
                        "(`python -m zipfile -t` checks a zip)") from exc


def read_image_folder(path: str | Path, *, size: int, channels: int) -> FaceDataset:
    """Any folder of images (searched recursively), centre-cropped and resized."""
    path = Path(path)
    files = _image_files(path) if path.is_dir() else []
    if not files:
        raise DataError(f"{path}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
    images = [_load_image(f, str(f), size=size, channels=channels) for f in files]
    return FaceDataset(_stack(images), None, f"images in {path.name}")


def detect_kind(path: str | Path) -> str:
    """Guess the dataset layout: 'fer2013', 'celeba' or 'folder'."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "fer2013"
    if name.endswith(".zip") or "celeba" in name:
        return "celeba"
    if path.is_dir() and (path / "train").is_dir():
        return "fer2013"
    return "folder"


DATASET_KINDS = ("fer2013", "celeba", "folder")


def load_dataset(path: str | Path, *, kind: str = "auto", split: str = "Training",
                 expression: str | None = None, ferplus: str | Path | None = None,
                 image_size: int = 64, channels: int = 3, limit: int | None = None) -> FaceDataset:
    """One entry point for the CLI: dispatch on the layout (`kind`)."""
    if kind not in ("auto", *DATASET_KINDS):  # before anything else names it as the data's layout
        raise DataError(f"--dataset {kind}: unknown; choose auto, {', '.join(DATASET_KINDS)}")
    kind = detect_kind(path) if kind == "auto" else kind
    if kind == "fer2013":
        return read_fer2013(path, split=split, expression=expression, ferplus=ferplus)
    if expression:
        layout = "a CelebA set" if kind == "celeba" else "a folder of images without expression folders"
        raise DataError(f"--expression needs faces labelled by expression, and {path} is {layout}: drop "
                        "--expression to train one model of all its faces, or lay the images out as "
                        "DIR/train/<expression>/ (one of " + ", ".join(EXPRESSIONS) + ")")
    if kind == "celeba":
        return read_celeba(path, size=image_size, limit=limit)
    if kind == "folder":
        return read_image_folder(path, size=image_size, channels=channels)
    raise DataError(f"unknown dataset kind {kind!r}; choose fer2013, celeba or folder")


def dataset_fingerprint(path: str | Path, splits: tuple[str, ...] | None = None) -> str:
    """sha256 of a data file, or of a folder's file names and sizes (cheap, and
    enough to tell two copies apart). With `splits`, a FER2013 image folder's hash covers only
    the folders those splits read (train/ for Training), so adding held-out test/ images does
    not make a Training run's data "other data"; a folder of train/ alone hashes as it always has."""
    path = Path(path).resolve()
    if path.is_dir():  # not cached: a file added to train/happy/ leaves the folder's own mtime as it was
        folders = None
        if splits is not None and (path / "train").is_dir():
            folders = tuple(sorted({_FOLDER_SPLIT[_check_split(split)] for split in splits}))
        return _folder_fingerprint(path, folders)
    stat = path.stat()
    return _file_fingerprint(path, stat.st_size, stat.st_mtime_ns)


def _folder_fingerprint(path: Path, folders: tuple[str, ...] | None) -> str:
    digest = hashlib.sha256()
    # Names relative to `path` either way, so a split's hash is the whole folder's when it is all there is.
    files = _image_files(path) if folders is None else [f for name in folders for f in _image_files(path / name)]
    for file in files:
        digest.update(f"{file.relative_to(path)}:{file.stat().st_size}\n".encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=16)
def _file_fingerprint(path: Path, size: int, mtime_ns: int) -> str:  # noqa: ARG001 (cache keys)
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def missing_splits(path: str | Path, splits: tuple[str, ...]) -> list[str]:
    """The `splits` that FER2013 data at `path` holds no faces of: a csv's Usage values (read
    until all are seen; a csv without a Usage column is all Training), or an image folder's
    train/ and test/ (test/ serves PublicTest and PrivateTest). Cheap next to reading the images:
    a chain of runs checks up front what its later steps will read."""
    path = Path(path)
    if path.is_dir():
        return [split for split in splits if not _image_files(path / _FOLDER_SPLIT[_check_split(split)])]
    wanted = {_check_split(split) for split in splits}
    for _, row in fer_csv_rows(path):
        wanted.discard(row.get("usage", "Training").strip() or "Training")
        if not wanted:
            break
    return [split for split in splits if split in wanted]


def check_class_balance(power: float) -> None:
    """Refuse a --class-balance outside 0-1: above 1 a rare class would outnumber the common
    ones, below 0 it would be drawn even less than in the data."""
    if not 0.0 <= power <= 1.0:
        raise ValueError(f"--class-balance must be between 0 (classes as in the data) and 1 (every class "
                         f"equally often), got {power}")


def balanced_order(labels: torch.Tensor, power: float, generator: torch.Generator) -> torch.Tensor:
    """An epoch's image order [N] (with replacement) in which class c is drawn
    in proportion to count_c ** (1 - power): power 0 is plain shuffling, 1 gives
    every class the same share, 0.5 (the default) lifts disgust from 1.5% of
    the batches to 4.9% without repeating its 436 faces 10 times an epoch."""
    if power == 0:
        return torch.randperm(labels.numel(), generator=generator)
    counts = torch.bincount(labels).float()
    weights = counts[labels].pow(-power)
    return torch.multinomial(weights, labels.numel(), replacement=True, generator=generator)


def to_model_range(batch: torch.Tensor) -> torch.Tensor:
    """uint8 [N, C, H, W] in 0..255 -> float [N, C, H, W] in [-1, 1]."""
    return batch.float().div_(127.5).sub_(1.0)
