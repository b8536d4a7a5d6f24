"""Copy trained generators into checkpoints/ and refresh the model card's figures.

    python scripts/ship_generators.py --runs runs/fer2013 --device-note "CPU, 2-core AMD EPYC"

For each expression: `python -m gan export` (float16 when outputs change by
< 1/255, measured), a 64-sample grid to assets/samples_<expression>.png, the
run's loss plot to assets/loss_<expression>.png, and a row of numbers (epochs,
final losses, seconds per epoch) in checkpoints/training_summary.json, which
MODEL_CARD.md quotes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan.__main__ import main as gan_main  # noqa: E402
from gan.checkpoint import read_metadata  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402
from gan.run_files import read_metrics  # noqa: E402
from gan.run_history import recorded_in  # noqa: E402
from scripts.doc_markers import replace_between_markers  # noqa: E402


def epoch_rows(metrics: Path) -> list[dict]:
    return [r for r in read_metrics(metrics) if r.get("epoch_end")]


def ship(run: Path, name: str, device_note: str) -> dict:
    out = ROOT / "checkpoints" / f"{name}.safetensors"
    assert gan_main(["export", str(run / "generator.safetensors"), "-o", str(out)]) == 0
    assert gan_main(["sample", "--checkpoint", str(out), "-n", "64", "-o",
                     str(ROOT / "assets" / f"samples_{name}.png"), "--device", "cpu"]) == 0
    shutil.copy(run / "loss.png", ROOT / "assets" / f"loss_{name}.png")
    rows = epoch_rows(run / "metrics.jsonl")
    meta = read_metadata(out)
    last = rows[-1]
    return {"model": name, "epochs": meta["epochs"], "images": meta.get("images"),
            "loss_d": last["loss_d"], "loss_g": last["loss_g"], "d_x": last["d_x"], "d_g_z": last["d_g_z"],
            "seconds": last["seconds"], "seconds_per_epoch": round(last["seconds"] / len(rows), 1),
            "dtype": meta["dtype"], "half_max_abs_diff_255": round(meta["half_max_abs_diff"] * 255, 3),
            "device": device_note, "command": meta.get("command"), **recorded_in(meta)}


def write_card_table(summary: list[dict]) -> None:
    """Replace the table between the markers in MODEL_CARD.md with these numbers."""
    card = ROOT / "checkpoints" / "MODEL_CARD.md"
    head = ("| model | epochs | images | final loss D | final loss G | D(x) | D(G(z)) | s/epoch | stored as |\n"
            "|---|---|---|---|---|---|---|---|---|\n")
    body = "".join(f"| {r['model']} | {r['epochs']} | {r['images']} | {r['loss_d']:.3f} | {r['loss_g']:.3f} | "
                   f"{r['d_x']:.3f} | {r['d_g_z']:.3f} | {r['seconds_per_epoch']:.0f} | {r['dtype']} "
                   f"(max change {r['half_max_abs_diff_255']:.2f}/255) |\n" for r in summary)
    replace_between_markers(card, "summary", head + body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "fer2013")
    parser.add_argument("--celeba-run", type=Path, default=ROOT / "runs" / "celeba" / "img_align_celeba_10k")
    parser.add_argument("--models", default=",".join((*EXPRESSIONS, "celeba")),
                        help="comma-separated models to ship (default: all); the others keep their rows")
    parser.add_argument("--device-note", required=True, help="the device the runs trained on, for the card")
    args = parser.parse_args()
    (ROOT / "assets").mkdir(exist_ok=True)
    path = ROOT / "checkpoints" / "training_summary.json"
    rows = {row["model"]: row for row in json.loads(path.read_text())} if path.exists() else {}
    for name in args.models.split(","):
        if name == "celeba":
            if (args.celeba_run / "generator.safetensors").exists():
                rows[name] = ship(args.celeba_run, name, args.device_note)
        else:
            rows[name] = ship(args.runs / name, name, args.device_note)
    summary = [rows[m] for m in (*EXPRESSIONS, "celeba") if m in rows]
    path.write_text(json.dumps(summary, indent=2) + "\n")
    write_card_table(summary)
    for row in summary:
        print(f"{row['model']:9s} epochs {row['epochs']:3d}  loss_d {row['loss_d']:.3f}  loss_g {row['loss_g']:.3f}  "
              f"{row['seconds_per_epoch']:.0f} s/epoch  {row['dtype']}")


if __name__ == "__main__":
    main()
