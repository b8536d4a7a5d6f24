"""Time and quality of `editor.invert.invert` for a grid of steps / restarts / starts.

For each setting it inverts `--count` real FER2013 faces (PublicTest split, the
generator's own expression, masked with `crop_face_mask`) and `--count` of
the generator's own samples, and prints per setting: the wall time of one
`invert` call (median and fastest over the faces) and the reconstruction
quality inside the mask (MSE on [-1, 1] and PSNR in dB on a [0, 1] scale).
Building the latent bank is timed once. A JSON line per setting is appended to
benchmarks/results/invert_speed.jsonl (--results: another file).

    python benchmarks/invert_speed.py --generator checkpoints/happy.safetensors
    python benchmarks/invert_speed.py --generator checkpoints/conditional.safetensors --expression sad
    python benchmarks/invert_speed.py --steps 0,10,20,30,50 --restarts 1,4,8 --init bank,random

The conditional generator (the editor's default model) draws its own samples at
`--expression` (default happy), takes the FER faces of that expression, and
inverts every target at that expression's label; its latent bank is built at the
mean label, as the editor builds it (editor/generator_extras.py). The encoder's
starting guess is not used: this measures `invert` alone.

Without a generator file it uses a randomly initialised G whose BatchNorm
statistics were set from one batch; that measures speed, not realistic quality.
The last line times `paste_back` of one face into a 1-megapixel photo.

On a machine busy with other work, OpenMP's default busy-waiting makes two
threads 4-5x slower than one for these small convolutions; run with
`--threads 1` or `OMP_WAIT_POLICY=PASSIVE` to see the difference.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.arguments import RESULTS, append_jsonl, choice_list, existing_file, int_list  # noqa: E402
from benchmarks.arguments import positive_int  # noqa: E402
from benchmarks.machine import cpu_name  # noqa: E402
from editor.blend import crop_face_mask  # noqa: E402
from editor.folded_generator import FIT_DTYPE  # noqa: E402
from editor.invert import DEFAULT_RESTARTS, DEFAULT_STEPS, build_latent_bank, invert  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402
from gan.models import ModelConfig, build_models  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONDITIONAL_EXPRESSION = "happy"  # the conditional G's targets and label when --expression is not given


def calibrated_random_generator(seed: int = 0) -> torch.nn.Module:
    """A random-init G with BatchNorm running statistics from one batch of z."""
    G, _ = build_models(ModelConfig(), seed=seed)
    for module in G.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # cumulative average: one batch sets the statistics
    with torch.no_grad():
        G.train()(torch.randn(256, G.config.nz, generator=torch.Generator().manual_seed(seed)))
    return G.eval()


def masked_mse(image: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> float:
    return float(((image - target).square() * mask).sum() / mask.sum())


def psnr(mse_pm1: float) -> float:
    """PSNR in dB of an MSE measured on [-1, 1], expressed on a [0, 1] scale."""
    return 10 * math.log10(4.0 / max(mse_pm1, 1e-12))


def machine() -> str:
    name = cpu_name()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{name}, {os.cpu_count()} cores, torch {torch.__version__} x{torch.get_num_threads()} threads, "
            f"loop dtype {str(FIT_DTYPE).replace('torch.', '')}, load average {load:.1f}")


def is_conditional(G: torch.nn.Module) -> bool:
    """Whether G takes an expression label besides z (gan.conditional.ConditionalGenerator)."""
    return getattr(G.config, "n_classes", 0) >= 2


def expression_label(expression: str) -> torch.Tensor:
    """The one-hot expression vector [K] that `invert(..., label=)` and the bank take."""
    label = torch.zeros(len(EXPRESSIONS))
    label[EXPRESSIONS.index(expression)] = 1.0
    return label


def generate(G: torch.nn.Module, z: torch.Tensor, label: torch.Tensor | None) -> torch.Tensor:
    """G(z), or G(z, label) for every z when G is conditional (label [K])."""
    return G(z) if label is None else G(z, label.expand(len(z), -1))


def load_targets(args: argparse.Namespace, G: torch.nn.Module, expression: str | None,
                 label: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The generator's own samples (at `label` for a conditional G) and FER PublicTest faces of
    `expression` (all when None), [count, 1, 48, 48] in [-1, 1] each."""
    targets = {}
    with torch.no_grad():
        z = torch.randn(args.count, G.config.nz, generator=torch.Generator().manual_seed(1234))
        targets["own samples"] = generate(G, z, label)
    if args.faces and Path(args.faces).exists():
        from gan.data import read_fer2013

        faces = read_fer2013(args.faces, split="PublicTest", expression=expression).images[:args.count]
        targets[f"FER {expression or 'all'}"] = faces.float().div(127.5).sub(1.0)
    return targets


def time_paste_back() -> dict[str, float]:
    import numpy as np

    from editor.blend import paste_back

    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)
    face = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    to_photo = np.array([[6.25, 0.0, 350.0], [0.0, 6.25, 300.0]])  # a 300-pixel face
    fastest = {}
    for mode in ("alpha", "poisson"):
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            paste_back(photo, face, to_photo, original_crop=face, mode=mode)
            times.append(time.perf_counter() - t0)
        fastest[mode] = round(min(times) * 1e3, 2)
    return fastest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", type=existing_file,
                        help="a generator .safetensors (default: a calibrated random G)")
    parser.add_argument("--expression", choices=EXPRESSIONS,
                        help=f"the conditional generator's targets and label (default: {CONDITIONAL_EXPRESSION}); "
                             "a seed generator has its own")
    parser.add_argument("--faces", default=str(REPO.parent / "shared/data/fer2013.csv.gz"))
    parser.add_argument("--count", type=positive_int, default=8, help="faces per target set")
    parser.add_argument("--steps", type=int_list(0), default=f"0,10,20,{DEFAULT_STEPS},50",
                        help="comma list of Adam steps")
    parser.add_argument("--restarts", type=int_list(1), default=str(DEFAULT_RESTARTS), help="comma list")
    parser.add_argument("--init", type=choice_list(("bank", "random")), default="bank",
                        help="comma list of bank, random")
    parser.add_argument("--bank-size", type=positive_int, default=1024)
    parser.add_argument("--threads", type=positive_int, default=None)
    parser.add_argument("--results", type=Path, default=RESULTS / "invert_speed.jsonl",
                        help="append the JSON lines here (default: %(default)s)")
    return parser


def load_generator_and_label(args: argparse.Namespace, parser: argparse.ArgumentParser
                             ) -> tuple[torch.nn.Module, str | None, torch.Tensor | None, str]:
    """(G, the targets' expression, the label to invert at (None: G is unconditional), a description of G)."""
    if not args.generator:
        if args.expression:
            parser.error("--expression needs a --generator (the random G has no expressions)")
        return calibrated_random_generator(), None, None, "random G (calibrated BatchNorm)"
    from gan.checkpoint import load_generator

    G, metadata = load_generator(args.generator)
    source = f"{args.generator} ({metadata.get('epochs', '?')} epochs)"
    if is_conditional(G):
        expression = args.expression or CONDITIONAL_EXPRESSION
        return G, expression, expression_label(expression), f"{source}, at {expression}"
    own = metadata.get("expression")
    if args.expression and args.expression != own:
        parser.error(f"{args.generator} is the seed's {own or 'all-expressions'} generator; "
                     "--expression is for the conditional one, leave it out")
    return G, own, None, source


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    G, expression, label, source = load_generator_and_label(args, parser)
    mask = torch.from_numpy(crop_face_mask(48))[None, None]
    targets = load_targets(args, G, expression, label)

    start = time.perf_counter()
    # The editor's conditional bank is at the mean label, a face no expression pulls at; so is this one.
    bank_label = None if label is None else torch.full((len(EXPRESSIONS),), 1.0 / len(EXPRESSIONS))
    bank = build_latent_bank(G, n=args.bank_size, label=bank_label)
    bank_s = time.perf_counter() - start
    invert(G, targets["own samples"][:1], mask=mask, steps=2, init_bank=bank, label=label)  # warm-up

    print(machine())
    print(f"generator: {source}; latent bank of {args.bank_size}: {bank_s:.2f} s")
    print(f"{'targets':<14} {'init':<6} {'steps':>5} {'restarts':>8} {'ms median':>9} {'ms min':>7} "
          f"{'cpu ms':>6} {'masked MSE':>10} {'PSNR dB':>7}")
    rows = []
    for name, images in targets.items():
        for init in args.init:
            for restarts in args.restarts:
                for steps in args.steps:
                    times, cpu, errors = [], [], []
                    for target in images:
                        target = target[None]
                        t0, c0 = time.perf_counter(), time.process_time()
                        result = invert(G, target, mask=mask, steps=steps, restarts=restarts,
                                        init_bank=bank if init == "bank" else None, label=label)
                        times.append(time.perf_counter() - t0)
                        cpu.append(time.process_time() - c0)
                        errors.append(masked_mse(result.image, target, mask))
                    mse = statistics.fmean(errors)
                    row = {"targets": name, "init": init, "steps": steps, "restarts": restarts,
                           "ms_median": round(statistics.median(times) * 1e3, 1), "ms_min": round(min(times) * 1e3, 1),
                           "cpu_ms_min": round(min(cpu) * 1e3, 1),
                           "masked_mse": round(mse, 5), "psnr_db": round(psnr(mse), 2)}
                    rows.append(row)
                    print(f"{name:<14} {init:<6} {steps:>5} {restarts:>8} {row['ms_median']:>9.0f} "
                          f"{row['ms_min']:>7.0f} {row['cpu_ms_min']:>6.0f} {mse:>10.4f} {row['psnr_db']:>7.2f}",
                          flush=True)
    blend_ms = time_paste_back()
    print(f"paste_back, one 300-pixel face in a 1000x1000 photo: alpha {blend_ms['alpha']:.1f} ms, "
          f"poisson {blend_ms['poisson']:.1f} ms (fastest of 20)")
    rows.append({"paste_back_ms": blend_ms})
    stamp = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(), "generator": source,
             "bank_s": round(bank_s, 2)}
    append_jsonl(args.results, ({**stamp, **row} for row in rows))
    print(f"appended {len(rows)} lines to {args.results}")


if __name__ == "__main__":
    main()
