"""Where the shipped checkpoints and example photos are.

In a checkout they are the repository's `checkpoints/` and `assets/examples/`.
`pip install .` copies them into the installed package as `editor/checkpoints/`
and `editor/examples/` (pyproject.toml maps the folders), so the installed
commands find them from any directory. `--checkpoints DIR` still chooses others.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def shipped(installed: str, checkout: str) -> Path:
    """`installed` inside the installed package when it is there, else `checkout` in the repository."""
    inside = PACKAGE / installed
    return inside if inside.is_dir() else PACKAGE.parent / checkout


CHECKPOINTS = shipped("checkpoints", "checkpoints")  # generators, classifier, face detector
EXAMPLES = shipped("examples", "assets/examples")  # example photos the page offers
