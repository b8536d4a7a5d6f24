"""The text layer of FER2013's csv files: rows with their line numbers, 48x48
pixel strings, and the FER+ relabelling (fer2013new.csv). Malformed input
raises `DataError` naming the file and line, and saying what to do."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .face_dataset import FER_SIDE, DataError

# FER+ vote columns -> FER2013 label; contempt, unknown and "not a face" have none.
_FERPLUS_TO_FER = {
    "neutral": 6, "happiness": 3, "surprise": 5, "sadness": 4,
    "anger": 0, "disgust": 1, "fear": 2,
}
_FERPLUS_VOTES = ("neutral", "happiness", "surprise", "sadness", "anger",
                  "disgust", "fear", "contempt", "unknown", "NF")


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", newline="")
    return open(path, "r", newline="")


def parse_pixels(text: str, where: str) -> np.ndarray:
    """A row's space-separated pixel string -> [48, 48] uint8; `where` names the row in errors."""
    values = text.split()
    if len(values) != FER_SIDE * FER_SIDE:
        raise DataError(f"{where}: expected {FER_SIDE * FER_SIDE} pixel values, found {len(values)}; "
                        "fix or delete that row (each row holds one 48x48 grey image)")
    try:
        pixels = np.array(values, dtype=np.int32)
    except ValueError:
        raise DataError(f"{where}: pixel values must be integers 0-255; fix or delete that row") from None
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"{where}: pixel values must lie in 0-255; fix or delete that row")
    return pixels.astype(np.uint8).reshape(FER_SIDE, FER_SIDE)


def fer_csv_rows(path: Path, required: Iterable[str] = ("pixels",),
                  expected: str = "the Kaggle FER2013 csv (emotion,pixels,Usage)") -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) with header names normalised (icml_face_data.csv
    writes ' Usage' and ' pixels' with a leading space)."""
    if not path.is_file():
        raise DataError(f"{path}: no such file; expected {expected}")
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            header = [name.strip().lower() for name in next(reader, [])]
            if not header:
                raise DataError(f"{path}: the file is empty; download it again")
            missing = [name for name in required if name not in header]
            if missing:
                raise DataError(f"{path}, line 1: missing columns {missing} in header {header}; expected {expected}")
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise DataError(f"{path}, line {reader.line_num}: expected {len(header)} fields "
                                    f"({','.join(header)}), found {len(row)}; fix or delete that row")
                yield reader.line_num, dict(zip(header, row))
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read it ({exc}); the file may be truncated, download it again") from exc


def read_ferplus_labels(path: str | Path) -> np.ndarray:
    """FER+ majority-vote labels per FER2013 row: a FER2013 class index, or -1
    where FER+ dropped the image, the majority is "not a face", contempt or
    unknown (no FER2013 class), or the vote is tied."""
    path = Path(path)
    labels = []
    required = ("image name",) + tuple(v.lower() for v in _FERPLUS_VOTES)
    for line, row in fer_csv_rows(path, required, expected="the FER+ fer2013new.csv"):
        if not row["image name"].strip():
            labels.append(-1)
            continue
        try:
            votes = np.array([int(row[v.lower()]) for v in _FERPLUS_VOTES])
        except ValueError:
            raise DataError(f"{path}, line {line}: vote counts must be integers; fix or delete that row") from None
        top = np.flatnonzero(votes == votes.max())
        name = _FERPLUS_VOTES[top[0]]
        labels.append(_FERPLUS_TO_FER.get(name, -1) if len(top) == 1 and votes.max() > 0 else -1)
    return np.array(labels, dtype=np.int64)
