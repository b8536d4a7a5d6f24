"""How good are the generators, the inversion and the edits? Numbers from our
FER2013 expression classifier (checkpoints/classifier.safetensors).

    python benchmarks/quality.py [--faces 200] [--samples 1000] [--curve-faces 30] [--device cpu|cuda]

1. Generator fidelity: the share of `--samples` random samples of each
   generator that the classifier assigns to its expression, and how varied the
   samples are (mean grey-level difference between two samples; the same
   figure for real Training faces of that expression beside it).
2. Inversion: `--faces` PrivateTest faces (a fixed random draw) inverted into
   every generator with the editor's defaults; PSNR and SSIM of G(z) against
   the face, inside the face mask. And a curve over the number of inversion
   steps on `--curve-faces` of them (assets/inversion_steps.png).
3. Edits: the same faces edited to each of the 7 targets in crop space
   (inversion + the editor's blend at strength 1), and every face of the photos
   in ../shared/data/photos edited by the whole `Editor.edit`; the share the
   classifier assigns to the target, the mean absolute grey-level change
   inside the face and the SSIM to the input (an edit that changes the person
   is not a success).
4. The do-nothing baseline: the unedited faces on the same measures.

Writes benchmarks/results/quality.json and quality.md (the README's table).
PrivateTest is only ever used here, never to train or select the classifier.
"""

from __future__ import annotations

import argparse
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
from editor.blend import crop_face_mask, paste_back  # noqa: E402
from editor.faces import align_face  # noqa: E402
from editor.invert import DEFAULT_STEPS, invert  # noqa: E402
from editor.metrics import mean_abs_change, pairwise_distance, psnr, ssim  # noqa: E402
from editor.photo import read_photo  # noqa: E402
from editor.pipeline import Editor, to_model_range, to_uint8  # noqa: E402
from gan.classifier import load_classifier, predict_proba  # noqa: E402
from gan.data import EXPRESSIONS, read_fer2013, split_by_expression  # noqa: E402
from scripts.doc_markers import replace_between_markers  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CURVE_STEPS = (0, 10, DEFAULT_STEPS, 60, 120)
IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # crop space is the "photo"


def classify(classifier, crops: np.ndarray) -> np.ndarray:
    """[N, 48, 48] uint8 -> probabilities [N, 7]."""
    return predict_proba(classifier, torch.from_numpy(crops)[:, None]).numpy()


def blend_in_crop(face: np.ndarray, generated: np.ndarray) -> np.ndarray:
    """The editor's paste-back with the crop itself as the photo: [48, 48] uint8."""
    rgb = np.repeat(face[..., None], 3, axis=2)
    return paste_back(rgb, generated, IDENTITY, original_crop=face)[..., 0]


def edit_measures(before: np.ndarray, after: np.ndarray, probs: np.ndarray, target: int, mask: np.ndarray) -> dict:
    """Share landing on the target, mean p(target), change and SSIM inside the face,
    and the share read as each expression (where the edits that miss go instead)."""
    readings = np.bincount(probs.argmax(1), minlength=len(EXPRESSIONS)) / len(probs)
    return {"hit_rate": float((probs.argmax(1) == target).mean()), "p_target": float(probs[:, target].mean()),
            "abs_change": float(mean_abs_change(before, after, mask).mean()),
            "ssim": float(ssim(before, after, mask).mean()), "n": int(len(before)),
            "read_as": {e: float(share) for e, share in zip(EXPRESSIONS, readings)}}


def generator_fidelity(editor: Editor, classifier, real: dict, samples: int, seed: int) -> dict:
    out = {}
    for index, expression in enumerate(EXPRESSIONS):
        G = editor.generator(expression)
        z = torch.randn(samples, G.config.nz, generator=torch.Generator().manual_seed(seed)).to(editor.device)
        with torch.no_grad():
            generated = torch.cat([G(chunk) for chunk in z.split(250)])  # [samples, 1, 48, 48] in [-1, 1]
        images = np.stack([to_uint8(image) for image in generated])
        probs = classify(classifier, images)
        out[expression] = {"share": float((probs.argmax(1) == index).mean()), "p": float(probs[:, index].mean()),
                           "diversity": pairwise_distance(images),
                           "real_diversity": pairwise_distance(real[expression].images[:, 0].numpy())}
        print(f"fidelity {expression:8s} {out[expression]['share']:.1%}  diversity "
              f"{out[expression]['diversity']:.1f} (real {out[expression]['real_diversity']:.1f})", flush=True)
    return out


def fit(editor: Editor, expression: str, face: np.ndarray, steps: int, seed: int) -> np.ndarray:
    result = invert(editor.generator(expression), to_model_range(face, editor.device), mask=editor._mask,
                    steps=steps, seed=seed, device=editor.device, init_bank=editor.bank(expression))
    return to_uint8(result.image)


def crop_edits(editor: Editor, classifier, faces: np.ndarray, mask: np.ndarray, curve_faces: int,
               seed: int) -> tuple[dict, dict, dict]:
    """Invert every face into every generator; returns (inversion, edits, curve)."""
    inversion, edits, curve = {}, {}, {}
    for target, expression in enumerate(EXPRESSIONS):
        t0 = time.perf_counter()
        generated = np.stack([fit(editor, expression, face, DEFAULT_STEPS, seed) for face in faces])
        seconds = (time.perf_counter() - t0) / len(faces)
        inversion[expression] = {"psnr": float(psnr(faces, generated, mask).mean()),
                                 "ssim": float(ssim(faces, generated, mask).mean()), "seconds_per_face": seconds}
        edited = np.stack([blend_in_crop(face, gen) for face, gen in zip(faces, generated)])
        edits[expression] = edit_measures(faces, edited, classify(classifier, edited), target, mask)
        curve[expression] = {}
        subset = faces[:curve_faces]
        for steps in CURVE_STEPS:
            gen = generated[:curve_faces] if steps == DEFAULT_STEPS else np.stack(
                [fit(editor, expression, face, steps, seed) for face in subset])
            blended = np.stack([blend_in_crop(face, g) for face, g in zip(subset, gen)])
            landed = edit_measures(subset, blended, classify(classifier, blended), target, mask)
            # Fewer steps keep more of the generator's prior (more expression, less
            # likeness); the curve shows that trade-off for the edits too.
            curve[expression][steps] = {"psnr": float(psnr(subset, gen, mask).mean()),
                                        "ssim": float(ssim(subset, gen, mask).mean()),
                                        "edit_hit_rate": landed["hit_rate"], "edit_ssim": landed["ssim"]}
        print(f"{expression:8s} inversion PSNR {inversion[expression]['psnr']:.2f} dB SSIM "
              f"{inversion[expression]['ssim']:.3f} ({seconds:.2f} s/face); edits land "
              f"{edits[expression]['hit_rate']:.1%}, change {edits[expression]['abs_change']:.1f}, "
              f"SSIM {edits[expression]['ssim']:.3f}", flush=True)
    return inversion, edits, curve


def photo_edits(editor: Editor, classifier, photos: list[Path], mask: np.ndarray, seed: int) -> tuple[dict, dict]:
    """Every face of every photo, edited to every target by the whole pipeline."""
    read = [read_photo(path) for path in photos]
    edits, before = {}, None
    for target, expression in enumerate(EXPRESSIONS):
        results = [editor.edit(photo, expression, seed=seed) for photo in read]
        # The same faces are found and aligned for every target: the unedited crops do not depend on it.
        before = np.stack([f.aligned for r in results for f in r.faces])
        after = np.stack([align_face(r.image, f.face)[0] for r in results for f in r.faces])
        edits[expression] = edit_measures(before, after, classify(classifier, after), target, mask)
    probs = classify(classifier, before)
    baseline = {e: edit_measures(before, before, probs, t, mask) for t, e in enumerate(EXPRESSIONS)}
    return edits, baseline


def write_curve_plot(curve: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), dpi=100)
    for expression, points in curve.items():
        steps = sorted(int(s) for s in points)
        for ax, key in zip(axes, ("psnr", "ssim", "edit_hit_rate")):
            ax.plot(steps, [points[s][key] for s in steps], marker="o", label=expression)
    labels = ("inversion PSNR on the face (dB)", "inversion SSIM on the face", "edits classified as the target")
    for ax, label in zip(axes, labels):
        ax.axvline(DEFAULT_STEPS, color="grey", linestyle=":", linewidth=1)
        ax.set_xlabel("inversion steps (0: best latent-bank start)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[2].legend(fontsize=7)
    fig.suptitle("Inversion quality against steps (PrivateTest faces; dotted: the editor's default)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def markdown(report: dict) -> str:
    meta = report["meta"]
    lines = [f"Measured {meta['date']} on {meta['machine']} with `{meta['command']}` "
             f"({meta['minutes']:.0f} min). Classifier: PrivateTest accuracy {meta['classifier_private']:.1%}.",
             "",
             f"| Generator | its samples classified as it (n={meta['samples']}) | sample diversity (real) "
             f"| inversion PSNR (dB) | inversion SSIM |",
             "| --- | --- | --- | --- | --- |"]
    for e in EXPRESSIONS:
        f, i = report["fidelity"][e], report["inversion"][e]
        lines.append(f"| {e} | {f['share']:.1%} | {f['diversity']:.1f} ({f['real_diversity']:.1f}) "
                     f"| {i['psnr']:.2f} | {i['ssim']:.3f} |")
    lines += ["", "| Target | FER crops: edits classified as target (do nothing) | change | SSIM "
                  "| photos: edits classified as target (do nothing) | change | SSIM |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    rows = []
    for e in EXPRESSIONS:
        c, cb = report["edits"]["fer"][e], report["baseline"]["fer"][e]
        p, pb = report["edits"]["photos"][e], report["baseline"]["photos"][e]
        rows.append((c["hit_rate"], cb["hit_rate"], c["abs_change"], c["ssim"],
                     p["hit_rate"], pb["hit_rate"], p["abs_change"], p["ssim"]))
        lines.append(f"| {e} | {c['hit_rate']:.1%} ({cb['hit_rate']:.1%}) | {c['abs_change']:.1f} | {c['ssim']:.3f} "
                     f"| {p['hit_rate']:.1%} ({pb['hit_rate']:.1%}) | {p['abs_change']:.1f} | {p['ssim']:.3f} |")
    m = np.mean(rows, axis=0)
    lines.append(f"| **mean** | {m[0]:.1%} ({m[1]:.1%}) | {m[2]:.1f} | {m[3]:.3f} "
                 f"| {m[4]:.1%} ({m[5]:.1%}) | {m[6]:.1f} | {m[7]:.3f} |")
    lines += ["", "What the FER-crop edits read as (rows: the target; the diagonal is the table above):", "",
              "| Target | " + " | ".join(EXPRESSIONS) + " |", "| --- |" + " --- |" * len(EXPRESSIONS)]
    read_rows = [(e, report["edits"]["fer"][e]) for e in EXPRESSIONS]
    read_rows.append(("do nothing", report["baseline"]["fer"][EXPRESSIONS[0]]))
    for name, measures in read_rows:
        cells = (f"**{share:.1%}**" if reading == name else f"{share:.1%}"
                 for reading, share in measures["read_as"].items())
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Inversion steps against quality and edits ({meta['curve_faces']} of the faces, mean of the "
                  "7 generators; the editor's default is "
                  f"{DEFAULT_STEPS}):", "",
              "| steps | inversion PSNR (dB) | inversion SSIM | edits classified as target | edit SSIM to input |",
              "| --- | --- | --- | --- | --- |"]
    for steps in CURVE_STEPS:
        points = [report["inversion_curve"][e][steps] for e in EXPRESSIONS]
        mean = {k: float(np.mean([p[k] for p in points])) for k in points[0]}
        lines.append(f"| {steps} | {mean['psnr']:.2f} | {mean['ssim']:.3f} | {mean['edit_hit_rate']:.1%} "
                     f"| {mean['edit_ssim']:.3f} |")
    lines += ["", f"FER crops: {meta['faces']} PrivateTest faces; photos: {meta['photo_faces']} faces in "
                  f"{meta['photos']} photos. Change: mean absolute grey-level change inside the face (0-255). "
                  "Do nothing: the unedited faces (change 0, SSIM 1)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=int, default=200, help="PrivateTest faces to invert and edit")
    parser.add_argument("--samples", type=int, default=1000, help="samples per generator for fidelity")
    parser.add_argument("--curve-faces", type=int, default=30, help="faces for the steps curve")
    parser.add_argument("--data", type=Path, default=DATA / "fer2013.csv.gz")
    parser.add_argument("--photos", type=Path, default=DATA / "photos")
    parser.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    parser.add_argument("--classifier", type=Path, default=None, help="default: CHECKPOINTS/classifier.safetensors")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--plot", type=Path, default=ROOT / "assets" / "inversion_steps.png")
    parser.add_argument("--readme", type=Path, default=None,
                        help="also put the table into this file, between the quality markers")
    args = parser.parse_args()
    started = time.perf_counter()

    editor = Editor.load(args.checkpoints, device=args.device)
    classifier, classifier_meta = load_classifier(args.classifier or args.checkpoints / "classifier.safetensors",
                                                  editor.device)
    mask = crop_face_mask(48)
    private = read_fer2013(args.data, split="PrivateTest")
    chosen = torch.randperm(len(private), generator=torch.Generator().manual_seed(args.seed))[: args.faces]
    faces = private.images[chosen, 0].numpy()  # [N, 48, 48] uint8, already aligned FER crops
    real = split_by_expression(read_fer2013(args.data, split="Training"))
    photos = sorted(p for p in args.photos.iterdir() if p.suffix.lower() in {".jpg", ".jpeg", ".png"})

    fidelity = generator_fidelity(editor, classifier, real, args.samples, args.seed)
    inversion, fer_edits, curve = crop_edits(editor, classifier, faces, mask, args.curve_faces, args.seed)
    probs = classify(classifier, faces)
    fer_baseline = {e: edit_measures(faces, faces, probs, t, mask) for t, e in enumerate(EXPRESSIONS)}
    photo_results, photo_baseline = photo_edits(editor, classifier, photos, mask, args.seed)

    device = editor.device
    machine = (torch.cuda.get_device_name(device) if device.type == "cuda"
               else f"{cpu_name()} ({platform.machine()}), {torch.get_num_threads()} threads")
    report = {
        "meta": {"date": time.strftime("%Y-%m-%d"), "machine": machine, "torch": torch.__version__,
                 "command": shlex.join(["python", "benchmarks/quality.py", *sys.argv[1:]]),
                 "faces": len(faces), "samples": args.samples, "curve_faces": min(args.curve_faces, len(faces)),
                 "photos": len(photos), "photo_faces": photo_baseline[EXPRESSIONS[0]]["n"],
                 "classifier_private": classifier_meta.get("private_test", {}).get("accuracy", float("nan")),
                 "classifier_public": classifier_meta.get("public_test", {}).get("accuracy", float("nan")),
                 "minutes": (time.perf_counter() - started) / 60},
        "fidelity": fidelity, "inversion": inversion, "inversion_curve": curve,
        "edits": {"fer": fer_edits, "photos": photo_results},
        "baseline": {"fer": fer_baseline, "photos": photo_baseline},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.json").write_text(json.dumps(report, indent=1) + "\n")
    table = markdown(report)
    (args.out / "quality.md").write_text(table)
    write_curve_plot(curve, args.plot)
    if args.readme:
        replace_between_markers(args.readme, "quality", table)
    print(table)


if __name__ == "__main__":
    main()
