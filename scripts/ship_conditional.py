"""Ship the conditional generator and its encoder, with the README's figure.

    python scripts/ship_conditional.py --run runs/fer2013/conditional --encoder-run runs/encoder \
        --device-note "CPU, 2-core AMD EPYC"

- `python -m gan export` of the run's generator to checkpoints/conditional.safetensors
  (float16 when no output moves by 1/255 or more, measured in every expression);
- the encoder's file to checkpoints/encoder.safetensors (without --encoder-run the shipped
  encoder stays: a change fine-tuning, `python -m gan train-change`, keeps it frozen);
- assets/conditional_expressions.png: rows are fixed z's, columns the seven
  expressions (the same face in each row), and assets/loss_conditional.png (a train-change
  run's plot goes to assets/loss_change.png);
- a row per model in checkpoints/training_summary.json (epochs, losses, time).

`--generator FILE` ships a generator that is no run's own, such as the average of two
fine-tunings (`python -m gan average`): its summary row names the ingredients and the
loss plots stay as they are.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan.__main__ import main as gan_main  # noqa: E402
from gan.checkpoint import load_generator, read_metadata  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402
from gan.run_history import recorded_in  # noqa: E402


def expression_figure(generator: Path, out: Path, rows: int = 6, seed: int = 0, side: int = 96) -> None:
    """rows x 7 grid: each row one z, each column one expression."""
    G, _ = load_generator(generator)
    z = torch.randn(rows, G.config.nz, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        faces = G(z.repeat_interleave(len(EXPRESSIONS), 0), torch.arange(len(EXPRESSIONS)).repeat(rows))
    faces = ((faces[:, 0] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
    tiles = [np.asarray(Image.fromarray(f).resize((side, side), Image.Resampling.BICUBIC)) for f in faces]
    grid = np.concatenate([np.concatenate(tiles[r * 7:(r + 1) * 7], 1) for r in range(rows)], 0)
    image = Image.fromarray(np.concatenate([np.full((20, grid.shape[1]), 255, np.uint8), grid], 0))
    draw = ImageDraw.Draw(image)
    for i, name in enumerate(EXPRESSIONS):
        draw.text((i * side + 4, 4), name, fill=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)


def write_summary(rows: list[dict]) -> None:
    """Replace the rows of these rows' models in checkpoints/training_summary.json."""
    path = ROOT / "checkpoints" / "training_summary.json"
    replaced = {row["model"] for row in rows}
    kept = [r for r in json.loads(path.read_text()) if r["model"] not in replaced]
    path.write_text(json.dumps(kept + rows, indent=2) + "\n")


def ship_average(generator: Path, device_note: str, encoder_run: Path | None) -> None:
    """The summary rows of an averaged generator (its ingredients' commands and shares) and of
    the encoder shipped with it, if a new one was."""
    meta = read_metadata(generator)
    if "averaged_from" not in meta:
        raise SystemExit(f"{generator}: not made by python -m gan average; ship a run with --run")
    write_summary([{"model": "conditional", "epochs": meta["epochs"], "dtype": meta["dtype"],
                    "half_max_abs_diff_255": round(meta["half_max_abs_diff"] * 255, 3), "device": device_note,
                    "command": meta["command"], "averaged_from": meta["averaged_from"]},
                   *encoder_rows(encoder_run, device_note)])
    print(f"shipped {generator}: the average of {len(meta['averaged_from'])} generators; {encoder_note(encoder_run)}")


def encoder_rows(encoder_run: Path | None, device_note: str) -> list[dict]:
    """The shipped encoder's summary row when this run ships a new one (--encoder-run), else none."""
    if encoder_run is None:
        return []
    meta = read_metadata(ROOT / "checkpoints" / "encoder.safetensors")
    rows = [json.loads(line) for line in (encoder_run / "metrics.jsonl").read_text().splitlines()]
    return [{"model": "encoder", "epochs": meta["epochs"], "losses": meta["losses"], "seconds": rows[-1]["seconds"],
             "device": device_note, "command": meta["command"], **recorded_in(meta)}]


def encoder_note(encoder_run: Path | None) -> str:
    if encoder_run is None:
        return "kept the shipped encoder"
    return f"the encoder (epoch {read_metadata(ROOT / 'checkpoints' / 'encoder.safetensors')['epochs']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="run folder of python -m gan train --model conditional or train-change")
    source.add_argument("--generator", type=Path, help="a generator file made by python -m gan average")
    parser.add_argument("--encoder-run", type=Path, help="run folder of python -m gan train-encoder "
                        "(default: keep the shipped encoder)")
    parser.add_argument("--device-note", required=True, help="the machine it was trained on, for the model card")
    args = parser.parse_args()
    generator = ROOT / "checkpoints" / "conditional.safetensors"
    source = args.generator if args.generator is not None else args.run / "generator.safetensors"
    assert gan_main(["export", str(source), "-o", str(generator)]) == 0
    if args.encoder_run is not None:
        shutil.copy(args.encoder_run / "encoder.safetensors", ROOT / "checkpoints" / "encoder.safetensors")
    expression_figure(generator, ROOT / "assets" / "conditional_expressions.png")
    if args.generator is not None:
        ship_average(generator, args.device_note, args.encoder_run)
        return
    rows = [json.loads(line) for line in (args.run / "metrics.jsonl").read_text().splitlines()]
    ends = [r for r in rows if r.get("epoch_end")]
    meta = read_metadata(generator)
    tuned = "fine_tuned_from" in meta  # a change fine-tuning (train-change) of a conditional run
    # keeps the GAN training's plot beside its own
    plot = "loss_change.png" if tuned else "loss_conditional.png"
    shutil.copy(args.run / "loss.png", ROOT / "assets" / plot)
    summary = [{"model": "conditional", "epochs": meta["epochs"], "images": meta["images"],
                    **{k: ends[-1][k] for k in ("loss_d", "loss_g", "ac_real", "loss_same")},
                    "seconds": ends[-1]["seconds"], "seconds_per_epoch": round(ends[-1]["seconds"] / len(ends), 1),
                    "dtype": meta["dtype"], "half_max_abs_diff_255": round(meta["half_max_abs_diff"] * 255, 3),
                    "device": args.device_note, "command": meta["command"], **recorded_in(meta),
                    **({"fine_tuned_from_command": meta["from_command"], "from_epochs": meta["from_epochs"],
                        "teacher_command": meta["teacher_command"]} if tuned else {})}]
    write_summary(summary + encoder_rows(args.encoder_run, args.device_note))
    print(f"shipped {generator} (epoch {meta['epochs']}); {encoder_note(args.encoder_run)}")


if __name__ == "__main__":
    main()
