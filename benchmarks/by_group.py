"""How the edits land by ethnicity, gender and age, from a transfer screen's rows.

    python benchmarks/by_group.py benchmarks/results/transfer_screen_seam.json [--variant default] \
        [--readme README.md]

faces_dev's photos are UTKFace's, whose file names carry age, gender (0 man, 1 woman) and
ethnicity (0 white, 1 Black, 2 Asian, 3 Indian, 4 other): `devNNN_AGE_GENDER_ETHNICITY_date.jpg`.
The groups are not balanced for age: of 40 photos each, white faces hold 21 aged 45 or more
and "other" 3, and older faces' edits read less often as the target at every ethnicity. So
besides each group's own share this prints the ethnicities age-standardised (direct
standardisation: each group's share per age band, weighted by the band's share of all the
edits), which says what a group's figure would be at the same ages as everyone's.

Reads the rows benchmarks/transfer_screen.py writes (one per edited face: photo, target,
hit, hit2, same); measures nothing itself, so it runs in a second.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import existing_file  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402
from scripts.doc_markers import replace_between_markers  # noqa: E402

ETHNICITIES = ("white", "Black", "Asian", "Indian", "other")
GENDERS = ("men", "women")
# Bands of about equal size in faces_dev (609, 378 and 413 of its 1400 edits).
AGE_BANDS = ((0, 30, "under 30"), (30, 45, "30-44"), (45, 200, "45 and over"))
UTKFACE_NAME = re.compile(r"^(?:dev\d+_)?(\d+)_([01])_([0-4])_")


def utkface_labels(name: str) -> dict | None:
    """A UTKFace file name's age, gender and ethnicity (names), None where it holds none."""
    match = UTKFACE_NAME.match(name)
    if match is None:
        return None
    age, gender, ethnicity = (int(v) for v in match.groups())
    band = next(label for low, high, label in AGE_BANDS if low <= age < high)
    return {"age": age, "age band": band, "gender": GENDERS[gender], "ethnicity": ETHNICITIES[ethnicity]}


def both(row: dict) -> bool:
    return bool(row["hit"] and row["same"])


def both2(row: dict) -> bool:
    return bool(row["hit2"] and row["same"])


def share(rows: Iterable[dict], key: Callable[[dict], bool]) -> float:
    rows = list(rows)
    return sum(key(r) for r in rows) / len(rows) if rows else float("nan")


def labelled(rows: Iterable[dict]) -> list[dict]:
    """The rows whose photo names carry UTKFace's labels, each with them added."""
    return [row | labels for row in rows if (labels := utkface_labels(row["photo"])) is not None]


def grouped(rows: list[dict], by: str) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row[by]].append(row)
    return dict(groups)


def standardised(rows: list[dict], by: str, key: Callable[[dict], bool]) -> dict[str, float]:
    """Each `by` group's share of `key`, age-standardised: its share in each age band weighted
    by that band's share of all `rows` (a band a group has no edits in is left out and the
    others' weights renormalised)."""
    bands = grouped(rows, "age band")
    weights = {band: len(items) / len(rows) for band, items in bands.items()}
    result = {}
    for group, items in grouped(rows, by).items():
        per_band = {band: share(b, key) for band, b in grouped(items, "age band").items()}
        total = sum(weights[band] for band in per_band)
        result[group] = sum(weights[band] * value for band, value in per_band.items()) / total
    return result


def table(rows: list[dict], source: str, variant: str) -> str:
    """The markdown table: per group its photos, both, both2 and per-target hit, then the
    ethnicities age-standardised."""
    rows = labelled(rows)
    head = ["group", "photos", "both", "both2", *EXPRESSIONS]
    lines = [f"From `{source}` (variant `{variant}`, {len(rows)} edits): per group the share of edits read "
             "as the target with the same person kept (both: our classifier, both2: the second judge), "
             "and per target the share our classifier reads as it.", "",
             "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for by, order in (("ethnicity", ETHNICITIES), ("gender", GENDERS), ("age band", [b[2] for b in AGE_BANDS])):
        groups = grouped(rows, by)
        for name in order:
            items = groups.get(name, [])
            if not items:
                continue
            targets = grouped(items, "target")
            cells = [name, str(len({r["photo"] for r in items})), f"{share(items, both):.1%}", f"{share(items, both2):.1%}",
                     *(f"{share(targets.get(e, []), lambda r: r['hit']):.0%}" for e in EXPRESSIONS)]
            lines.append("| " + " | ".join(cells) + " |")
    standard, standard2 = standardised(rows, "ethnicity", both), standardised(rows, "ethnicity", both2)
    lines += ["", "Age-standardised (each ethnicity's share per age band, weighted by the band's share of all "
              "edits), both / both2: " + ", ".join(f"{name} {standard[name]:.1%} / {standard2[name]:.1%}"
                                                  for name in ETHNICITIES if name in standard) + "."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("screen", type=existing_file, help="a JSON file benchmarks/transfer_screen.py wrote")
    parser.add_argument("--variant", default="default", help="which of its variants (default: %(default)s)")
    parser.add_argument("--readme", type=Path, default=None, help="also write the table between the by-group markers")
    args = parser.parse_args()
    rows = json.loads(args.screen.read_text())["rows"]
    if args.variant not in rows:
        parser.error(f"{args.screen} has no variant {args.variant!r}; it has {', '.join(rows)}")
    source = args.screen.resolve().relative_to(ROOT) if args.screen.resolve().is_relative_to(ROOT) else args.screen
    text = table(rows[args.variant], str(source), args.variant)
    if args.readme:
        replace_between_markers(args.readme, "by-group", text)
    print(text)


if __name__ == "__main__":
    main()
