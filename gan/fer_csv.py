"""The text layer of FER2013's csv files: rows with their line numbers, 48x48
pixel strings, and the FER+ relabelling (fer2013new.csv). Malformed input
raises `DataError` naming the file and line, and saying what to do."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

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
    # utf-8-sig: a csv saved by Excel or Notepad starts with a byte-order mark, which would
    # otherwise become part of the first column's name ("\ufeffemotion") and lose that column.
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, "r", encoding="utf-8-sig", newline="")


def parse_pixels(text: str, where: str) -> np.ndarray:
    """A row's space-separated pixel string -> [48, 48] uint8; `where` names the row in errors."""
    values = text.split()
    if len(values) != FER_SIDE * FER_SIDE:
        raise DataError(f"{where}: expected {FER_SIDE * FER_SIDE} pixel values, found {len(values)}; "
                        "fix or delete that row (each row holds one 48x48 grey image)")
    try:
        pixels = np.array(values, dtype=np.int32)
    except (ValueError, OverflowError):  # "1.5" or "x"; a number past int32 ("3000000000")
        raise DataError(f"{where}: pixel values must be integers 0-255; fix or delete that row") from None
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"{where}: pixel values must lie in 0-255; fix or delete that row")
    return pixels.astype(np.uint8).reshape(FER_SIDE, FER_SIDE)


def _abbreviated(fields: list[str], shown: int = 3, width: int = 20) -> str:
    """A header for an error message: a first line of data (a csv without its header) is one
    field of 2,304 pixel values, so show a few fields, each cut short."""
    cut = [field if len(field) <= width else field[:width] + "..." for field in fields[:shown]]
    more = f", ... ({len(fields)} fields)" if len(fields) > shown else ""
    return ",".join(cut) + more


def fer_csv_rows(path: Path, required: Iterable[str] = ("pixels",),
                  expected: str = "the Kaggle FER2013 csv, whose first line is the header emotion,pixels,Usage"
                  ) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) with header names normalised (icml_face_data.csv
    writes ' Usage' and ' pixels' with a leading space)."""
    if not path.is_file():
        raise DataError(f"{path}: no such file; expected {expected}")
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            first = next(reader, [])
            header = [name.strip().lower() for name in first]
            if not header:
                raise DataError(f"{path}: the file is empty; download it again")
            missing = [name for name in required if name not in header]
            if missing:
                raise DataError(f"{path}, line 1: missing column{'s' * (len(missing) > 1)} {', '.join(missing)} in "
                                f"the header ({_abbreviated(first)}); expected {expected} (add that line if the "
                                "file starts with data)")
            rows = 0
            for row in reader:
                if not row:
                    continue
                if len(row) != len(header):
                    raise DataError(f"{path}, line {reader.line_num}: expected {len(header)} fields "
                                    f"({','.join(header)}), found {len(row)}; fix or delete that row")
                rows += 1
                yield reader.line_num, dict(zip(header, row))
            if not rows:  # said so, not "no happy images in split Training", as a split filter would
                raise DataError(f"{path}: has its header but no rows of data; the file may be truncated, "
                                "download it again")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read it ({exc}); the file may be truncated, download it again") from exc


class FerPlus(NamedTuple):
    """fer2013new.csv, one entry per FER2013 row: `labels` (see read_ferplus_labels), the
    row's `usages` (Training, PublicTest, PrivateTest) and the file's `lines` (for errors)."""
    path: Path
    labels: np.ndarray
    usages: list[str]
    lines: list[int]


def read_ferplus(path: str | Path) -> FerPlus:
    """The FER+ file's labels with its Usage column, which read_fer2013 checks against the
    FER2013 csv's (FER+ rows follow fer2013.csv's rows by position alone)."""
    path = Path(path)
    labels, usages, lines = [], [], []
    required = ("usage", "image name") + tuple(v.lower() for v in _FERPLUS_VOTES)
    for line, row in fer_csv_rows(path, required, expected="the FER+ fer2013new.csv, whose first "
                                  "line is the header Usage,Image name,neutral,...,NF"):
        usages.append(row["usage"].strip())
        lines.append(line)
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
    return FerPlus(path, np.array(labels, dtype=np.int64), usages, lines)


def read_ferplus_labels(path: str | Path) -> np.ndarray:
    """FER+ majority-vote labels per FER2013 row: a FER2013 class index, or -1
    where FER+ dropped the image, the majority is "not a face", contempt or
    unknown (no FER2013 class), or the vote is tied."""
    return read_ferplus(path).labels


def ferplus_label(ferplus: FerPlus, row_index: int, usage: str, csv_path: Path, csv_line: int) -> int:
    """The FER+ label of the FER2013 csv's row `row_index` (0-based, at `csv_line`), whose
    Usage is `usage`. FER+ rows carry no pixels, only their position, so a csv that is not
    the full fer2013.csv in order (a subset, a reordering) would silently take other rows'
    labels: refuse it where the two files' row counts or Usage columns disagree."""
    redo = (f"the FER+ file must be the one made for this exact csv: FER+ rows follow the "
            f"{len(ferplus.labels):,} rows of fer2013.csv in order, so pass the full fer2013.csv(.gz) "
            "with it, or drop --ferplus")
    if row_index >= len(ferplus.labels):
        raise DataError(f"{ferplus.path}: has {len(ferplus.labels):,} rows but {csv_path} has more "
                        f"(line {csv_line}); {redo}")
    if ferplus.usages[row_index] != usage:
        raise DataError(f"{ferplus.path}, line {ferplus.lines[row_index]} says Usage {ferplus.usages[row_index]!r} "
                        f"but the matching row of {csv_path} (row {row_index + 1}, line {csv_line}) says {usage!r}; "
                        f"{redo}")
    return int(ferplus.labels[row_index])
