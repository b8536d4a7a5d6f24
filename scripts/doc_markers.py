"""Generated sections of the README and the model card, kept between HTML comment
markers (`<!-- name:start -->` ... `<!-- name:end -->`) so that a script can
refresh its numbers without touching the prose around them."""

from __future__ import annotations

from pathlib import Path


def replace_between_markers(path: Path, name: str, body: str) -> None:
    """Put `body` between the `name` markers of the file at `path`; the file must
    hold each marker exactly once."""
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    text = path.read_text()
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f"{path} must contain '{start.strip()}' and '{end}' once each")
    before, rest = text.split(start)
    path.write_text(before + start + body + end + rest.split(end, 1)[1])
