"""Where the project's shipped checkpoints are, for the defaults of the commands that build on
them (train-encoder, train-change): the repository's `checkpoints/` in a checkout, or
`editor/checkpoints/` where `pip install .` puts them (pyproject.toml). Found from this file,
not the current directory, so the defaults hold from anywhere; `gan` only names the folder and
never imports `editor`."""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent  # the checkout, or site-packages
_INSTALLED = _ROOT / "editor" / "checkpoints"
SHIPPED_CHECKPOINTS = _INSTALLED if _INSTALLED.is_dir() else _ROOT / "checkpoints"


def shipped(name: str) -> str:
    """The path of a shipped checkpoint file, e.g. shipped("classifier.safetensors")."""
    return str(SHIPPED_CHECKPOINTS / name)
