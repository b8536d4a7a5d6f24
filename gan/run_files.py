"""The text files of a run folder: `config.json` and `metrics.jsonl`.

A run can be killed at any moment (SIGKILL, a power cut), so:
- `config.json` is replaced atomically (a temporary file, then `os.replace`);
- `metrics.jsonl` is appended once per epoch, before the state is saved, so on
  resume it may hold rows of an epoch the state does not have yet, and its last
  line may be cut short. `trim_metrics` drops both; `read_metrics` drops a torn
  last line with a warning.
Every error names the file (and the line), and says what to do.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any


def write_json(path: str | Path, value: Any) -> None:
    """Write `value` as indented JSON, atomically: readers see the old file or the new one."""
    write_text_atomic(Path(path), json.dumps(value, indent=2) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes files private; run folders are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: str | Path) -> Any:
    """The JSON in `path`; ValueError naming the file when it is not valid JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is damaged, not valid JSON ({exc}); delete it to resume (the run's saved state "
                         "also records its options), or pass --fresh to start the run over") from exc


def read_metrics(path: str | Path) -> list[dict]:
    """The rows of a `metrics.jsonl`. A torn last line (a write cut short) is dropped with
    a warning; a bad line before it is an error naming the file and the line."""
    path = Path(path)
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict):
                raise json.JSONDecodeError("expected an object", line, 0)
        except json.JSONDecodeError as exc:
            if number == len(lines):
                print(f"warning: {path}, line {number}: dropped a line cut short by an interrupted write",
                      file=sys.stderr)
                break
            raise ValueError(f"{path}, line {number}: not a metrics row ({exc}); delete the line, or pass "
                             "--fresh to start the run over") from exc
        rows.append(row)
    return rows


def trim_metrics(path: str | Path, epochs_done: int) -> int:
    """Keep only the rows of the first `epochs_done` epochs (those the restored state
    has) and drop a torn last line; returns how many rows were dropped."""
    path = Path(path)
    if not path.exists():
        return 0
    rows = read_metrics(path)
    kept = [row for row in rows if int(row.get("epoch", 0)) <= epochs_done]
    text = "".join(json.dumps(row) + "\n" for row in kept)
    if text == path.read_text(errors="replace"):
        return 0
    write_text_atomic(path, text)
    dropped = len(rows) - len(kept)
    if dropped:
        print(f"note: {path}: dropped {dropped} rows past the saved state (epoch {epochs_done}); "
              "those steps run again now", file=sys.stderr)
    return dropped
