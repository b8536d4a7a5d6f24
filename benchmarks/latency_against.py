"""Is a change faster or slower? This checkout's editing latency against another commit's, paired.

    python benchmarks/latency_against.py REV [--rounds 4] [--repeats 5] [--photo PATH] [--threads 2]

A shared machine's speed drifts from hour to hour by more than most changes move (the same
commit measured 526 to 624 ms p50 for the whole edit on the 2-core CPU, README "Benchmarks"), so
a latency table next to one measured another day says little. This runs
benchmarks/edit_latency.py alternately here and in a git worktree of REV (in a temporary folder,
removed afterwards; each side with its own code and checkpoints), ROUNDS times each, in ABBA
order (this, REV; REV, this; ...) so a drift during a round hits both sides alike. Per stage it
reports each side's median p50 and the median over rounds of this side's p50 / REV's from the
same round, with the rounds' lowest and highest ratio: a ratio whose range straddles 1 is no
difference. Appends a JSON line to benchmarks/results/latency_against.jsonl (--results).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import RESULTS, append_jsonl, command_line, existing_file, positive_int  # noqa: E402
from benchmarks.machine import cpu_name  # noqa: E402

SCRIPT = Path("benchmarks") / "edit_latency.py"
# edit_latency.py's photo, named again rather than imported: importing that script loads torch
# into this process, which only waits, and the runs beside it took 40% longer (one try each:
# whole edit 824-1056 ms p50 against 576-780 without).
PHOTO = ROOT.parent / "shared" / "data" / "photos" / "fr_obama.jpg"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the commit to compare against (anything git rev-parse takes: HEAD~1, a hash, a tag)")
    parser.add_argument("--rounds", type=positive_int, default=4, help="runs of each side (default: 4)")
    parser.add_argument("--repeats", type=positive_int, default=5, help="edits timed per run (default: 5)")
    # A str default, checked by the type only when left out: a missing shared photo is one line.
    parser.add_argument("--photo", type=existing_file, default=str(PHOTO), help="a photo with a face")
    parser.add_argument("--threads", type=positive_int, default=None, help="torch threads on both sides")
    parser.add_argument("--results", type=Path, default=RESULTS / "latency_against.jsonl",
                        help="append the JSON line here (default: %(default)s)")
    return parser


def resolve(rev: str) -> str:
    """The full hash of `rev`, or SystemExit with git's reason."""
    done = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{rev!r} is not a commit of this repository (try a hash from `git log --oneline`)")
    return done.stdout.strip()


def run_side(checkout: Path, args: argparse.Namespace, results: Path) -> dict:
    """One run of edit_latency.py in `checkout`: the row it appended to `results`."""
    command = [sys.executable, str(SCRIPT), "--repeats", str(args.repeats), "--photo", str(args.photo.resolve()),
               "--results", str(results)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, cwd=checkout, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"edit_latency.py failed in {checkout} (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(results.read_text().splitlines()[-1])


def stage_p50(row: dict) -> dict[str, float]:
    """{stage: p50 ms} of one edit_latency.py row (its other keys say what ran)."""
    return {key: value["p50_ms"] for key, value in row.items() if isinstance(value, dict) and "p50_ms" in value}


def compare(here: list[dict[str, float]], there: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Per stage both sides have: each side's median p50 and the median, lowest and highest of the
    rounds' ratios here / there (rounds paired by position)."""
    table = {}
    for stage in here[0]:
        if not all(stage in side for side in here + there):
            continue  # a stage one commit does not time
        ratios = [a[stage] / b[stage] for a, b in zip(here, there) if b[stage] > 0]
        if not ratios:
            continue
        table[stage] = {"here_ms": round(float(np.median([a[stage] for a in here])), 1),
                        "there_ms": round(float(np.median([b[stage] for b in there])), 1),
                        "ratio": round(float(np.median(ratios)), 3),
                        "low": round(min(ratios), 3), "high": round(max(ratios), 3)}
    return table


def main() -> None:
    args = build_parser().parse_args()
    commit = resolve(args.rev)
    here: list[dict[str, float]] = []
    there: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="latency_against_") as scratch:
        worktree = Path(scratch) / "rev"
        subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(worktree), commit], cwd=ROOT, check=True)
        try:
            if not (worktree / SCRIPT).is_file():
                raise SystemExit(f"{args.rev} has no {SCRIPT}: choose a later commit")
            for round_ in range(args.rounds):
                sides = [("here", ROOT), ("there", worktree)]
                for name, checkout in sides if round_ % 2 == 0 else sides[::-1]:
                    row = run_side(checkout, args, Path(scratch) / f"{name}{round_}.jsonl")
                    (here if name == "here" else there).append(stage_p50(row))
                    print(f"round {round_ + 1}/{args.rounds} {name}: whole edit {row['edit']['p50_ms']} ms p50", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False)
    table = compare(here, there)
    print(f"\nthis checkout against {args.rev} ({commit[:10]}), {args.rounds} rounds x {args.repeats} edits, "
          f"p50 in ms; ratio: median over rounds of here / there (lowest-highest)")
    for stage, cell in table.items():
        print(f"{stage:9s} {cell['here_ms']:8.1f} {cell['there_ms']:8.1f}   x{cell['ratio']:.3f} "
              f"({cell['low']:.3f}-{cell['high']:.3f})")
    append_jsonl(args.results, [{"date": time.strftime("%Y-%m-%d %H:%M"), "machine": cpu_name(),
                                 "command": command_line("latency_against.py"), "against": commit,
                                 "rounds": args.rounds, "repeats": args.repeats, "stages": table}])
    print(f"appended to {args.results}")


if __name__ == "__main__":
    main()
