"""Argument types and result files shared by the benchmark scripts.

The scripts load several models before they measure anything, so a bad value must be
refused by argparse up front (one line, exit status 2), not found by a traceback
minutes later. Each type function raises argparse.ArgumentTypeError with what to pass.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Callable, Iterable

RESULTS = Path(__file__).resolve().parent / "results"


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise argparse.ArgumentTypeError(f"must be a whole number >= {minimum}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """A whole number >= 1 (a count of repeats, samples, threads)."""
    return _whole_number(text, 1)


def nonnegative_int(text: str) -> int:
    """A whole number >= 0 (a count where 0 means none)."""
    return _whole_number(text, 0)


def at_least(minimum: int) -> Callable[[str], int]:
    """A whole number >= `minimum`, for counts that need more than one item."""
    def parse(text: str) -> int:
        return _whole_number(text, minimum)
    parse.__name__ = f"at_least_{minimum}"  # argparse names the type in some messages
    return parse


def positive_float(text: str) -> float:
    """A finite number > 0 (a size or a scale)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def photo_range(text: str) -> tuple[int, int]:
    """FIRST:END, whole numbers with 0 <= FIRST < END: a slice of the sorted faces_dev photos."""
    first, colon, end = text.partition(":")
    try:
        bounds = int(first), int(end)
    except ValueError:
        bounds = None
    if not colon or bounds is None or not 0 <= bounds[0] < bounds[1]:
        raise argparse.ArgumentTypeError(f"must be FIRST:END with 0 <= FIRST < END (e.g. 0:40), got {text!r}")
    return bounds


def existing_file(text: str) -> Path:
    """A path to a file that exists."""
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    return path


def existing_dir(text: str) -> Path:
    """A path to a folder that exists."""
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: no such folder")
    return path


def int_list(minimum: int) -> Callable[[str], list[int]]:
    """A comma list of whole numbers, each >= `minimum` ("0,10,20")."""
    def parse(text: str) -> list[int]:
        try:
            return [_whole_number(item.strip(), minimum) for item in text.split(",")]
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(
                f"must be whole numbers >= {minimum} separated by commas, got {text!r}") from None
    parse.__name__ = "int_list"
    return parse


def choice_list(choices: Iterable[str]) -> Callable[[str], list[str]]:
    """A comma list, each item one of `choices` ("bank,random")."""
    allowed = tuple(choices)

    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",")]
        unknown = [item for item in items if item not in allowed]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(map(repr, unknown))}: "
                                             f"use {', '.join(allowed)}, several separated by commas")
        return items
    parse.__name__ = "choice_list"
    return parse


def append_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """Append one JSON line per row to `path`, making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def command_line(script: str) -> str:
    """How this run was started, for its report: `python benchmarks/<script> <its arguments>`."""
    return shlex.join(["python", f"benchmarks/{script}", *sys.argv[1:]])
