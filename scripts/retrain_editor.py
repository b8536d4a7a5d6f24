"""Retrain the editor's default model chain in one command, with the shipped models' recipes.

    python scripts/retrain_editor.py --data ../shared/data/fer2013.csv.gz \
        [--ferplus ../shared/data/fer2013new.csv] [--out runs/editor] [--device auto] [--fresh] [--ship]

The steps, in the order each needs the one before (model card, "The conditional generator"
and "The change fine-tuning"):
 1. the conditional GAN, epochs 1-11 (auxiliary-classifier weight 1), then 12-22 (weight 3);
 2. its encoder, 3 epochs against the frozen generator;
 3. a teacher classifier (FER+ labels with --ferplus, else the data's own labels with another
    seed: it must not be the classifier the benchmarks judge with), 8 epochs;
 4. the change fine-tuning, 4 epochs with that teacher (edit critic weight 0.2);
 5. a class-balanced teacher (classes drawn as the square root of their size), 8 epochs;
 6. a second change stage with it, 3 epochs, change loss weighted 2;
 7. the average of the two stages, 0.35 / 0.65: `<out>/conditional_average.safetensors`;
 8. `<out>/checkpoints/`: that generator and the encoder beside the shipped detector, classifier
    and landmark regressor, a folder the editor loads (`python -m editor --checkpoints
    <out>/checkpoints`); with --ship, that generator and the encoder into checkpoints/
    (scripts/ship_conditional.py) instead of the shipped ones.
Each real face's own expression is read by `--classifier` (the shipped one by default). The
landmark regressor and the face detector are not retrained (they do not depend on the GAN).

Every step is resumable: Ctrl-C (or a crash) stops the chain, and the same command carries on
from the last saved epoch of the step it stopped in; finished steps take a moment to confirm;
`--fresh` starts every step over. Before step 1 the data is checked for every split the steps
read: Training, and the PublicTest and PrivateTest the teachers need (a csv's Usage values, or an
image folder's `DIR/train/<expression>/` and held-out `DIR/test/<expression>/`).
`--quick` runs every step for one epoch on the first `--limit` faces (default 256), and the
teachers measure only the first `--limit` faces of PublicTest and of PrivateTest (all 7,178 took
most of a quick chain): a check that the chain runs on your data and device before the real run,
whose accuracies are a smoke check, not the teachers' (tests/test_retrain.py). A real run
measures every test face.
On the 2-core CPU the full chain takes about 2.5 hours (the steps as measured when the shipped
models were made: 60 + 6 + 13 + 34 + 13 + 32 min); the second change stage took 38 s on an H200.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan.__main__ import main as gan_main  # noqa: E402
from gan.data import EXPRESSIONS, DataError, missing_splits  # noqa: E402

SHIPPED = ROOT / "checkpoints"
AVERAGE_WEIGHTS = ("0.35", "0.65")  # first stage, second stage (the shipped soup)


def steps(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """(what, `python -m gan` arguments) for each training step, in order."""
    out, data = Path(args.out), str(args.data)
    common = ["--device", args.device]
    quick = ["--limit", str(args.limit), "--batch-size", "16"] if args.quick else []
    # the change stages' discriminator warms up alone for 300 steps: in a quick run, for 2, so G moves
    change_quick = [*quick, "--warmup-steps", "2"] if args.quick else []
    # the teachers' PublicTest/PrivateTest too (--limit cuts Training only): a smoke check's accuracy
    teacher_quick = [*quick, "--test-limit", str(args.limit)] if args.quick else []
    epochs = (lambda n: ["--epochs", "1" if args.quick else str(n)])  # noqa: E731
    ferplus = ["--ferplus", str(args.ferplus)] if args.ferplus else []
    # Every run folder's first step starts over; the GAN's second phase continues its first.
    fresh = ["--fresh"] if args.fresh else []
    generator = out / "conditional" / "generator.safetensors"
    encoder = out / "encoder" / "encoder.safetensors"
    gan = ["train", "--model", "conditional", "--data", data, "--out", str(out), "--lambda-same", "5", *common,
           *(quick or ["--batch-size", "64"])]
    return [
        ("conditional GAN, first phase", [*gan, *epochs(11), *fresh]),
        ("conditional GAN, second phase (auxiliary classifier x3)",
         [*gan, "--lambda-ac", "3", "--epochs", "2" if args.quick else "22"]),  # past the first phase's
        ("encoder", ["train-encoder", "--data", data, "--generator", str(generator), "--out", str(out / "encoder"),
                     "--classifier", str(args.classifier), *epochs(3), *common, *quick, *fresh]),
        ("teacher classifier", ["train-classifier", "--data", data, *ferplus, "--out", str(out / "teacher"),
                                "--seed", "1", *epochs(8), *common, *teacher_quick, *fresh]),
        ("change fine-tuning, first stage",
         ["train-change", "--data", data, "--teacher", str(out / "teacher" / "classifier.safetensors"),
          "--generator", str(generator), "--encoder", str(encoder), "--classifier", str(args.classifier),
          "--out", str(out / "change"), *epochs(4), *common, *change_quick, *fresh]),
        ("class-balanced teacher", ["train-classifier", "--data", data, *ferplus, "--out",
                                    str(out / "teacher_balanced"), "--seed", "2", "--class-balance", "0.5",
                                    *epochs(8), *common, *teacher_quick, *fresh]),
        ("change fine-tuning, second stage (balanced teacher, change loss x2)",
         ["train-change", "--data", data, "--teacher", str(out / "teacher_balanced" / "classifier.safetensors"),
          "--generator", str(out / "change" / "generator.safetensors"), "--encoder", str(encoder),
          "--classifier", str(args.classifier), "--out", str(out / "change_balanced"), "--lambda-change", "2",
          *epochs(3), *common, *change_quick, *fresh]),
        ("average of the two stages",
         ["average", str(out / "change" / "generator.safetensors"),
          str(out / "change_balanced" / "generator.safetensors"), "--weights", *AVERAGE_WEIGHTS,
          "-o", str(out / "conditional_average.safetensors")]),
    ]


# The FER2013 splits the chain reads: every step trains on Training; the teacher classifiers
# choose their epoch on PublicTest and report on PrivateTest (an image folder's test/ is both).
NEEDED_SPLITS = ("Training", "PublicTest", "PrivateTest")


def data_problem(args: argparse.Namespace) -> str | None:
    """Why a later step would fail on the chain's inputs, or None. Checked before step 1: the
    first step that reads a held-out split (the teacher) starts an hour or more into the chain."""
    data = Path(args.data)
    if not data.exists():
        return None  # step 1 names the missing path, as every gan command does
    for flag, path in (("--classifier", args.classifier), ("--ferplus", args.ferplus)):
        if path is not None and not Path(path).is_file():
            return f"{flag} {path}: no such file"
    if data.is_dir() and args.ferplus:
        return (f"--ferplus labels follow the rows of fer2013.csv, so they cannot relabel the image folder {data}; "
                "pass the csv as --data, or drop --ferplus")
    try:
        missing = missing_splits(data, NEEDED_SPLITS)
    except DataError as exc:
        return str(exc)
    if not missing:
        return None
    if data.is_dir():
        return _missing_folders(data, missing)
    return (f"{data} has no {', '.join(missing)} rows: the teacher classifiers choose their best epoch on "
            "PublicTest and report on PrivateTest; pass the whole fer2013.csv(.gz), whose Usage column holds all "
            "three splits")


def _missing_folders(data: Path, missing: list[str]) -> str:
    """An image folder without train/ or test/: the layout the chain needs."""
    folders = [name for name, split in (("train/", "Training"), ("test/", "PublicTest")) if split in missing]
    return (f"{data} has no {' and no '.join(folders)} images: the chain trains on {data / 'train'}/<expression>/"
            f"*.jpg, and its teacher classifiers choose their best epoch on held-out faces in {data / 'test'}/"
            f"<expression>/*.jpg (expressions: {', '.join(EXPRESSIONS)}); add {'them' if len(folders) > 1 else 'it'}"
            " (test/: e.g. a tenth of each expression's images, moved from train/)")


# Not retrained by the chain: the editor takes these from the shipped folder.
KEPT_FILES = ("mtcnn.safetensors", "classifier.safetensors", "landmarks.safetensors")


def assemble_checkpoints(out: Path) -> Path:
    """`<out>/checkpoints/`, a folder the editor loads (`--checkpoints`): the retrained generator
    (exported as the shipped one is) and encoder, and the shipped detector, classifier and
    landmark regressor, which the chain does not retrain. Made again after every run."""
    folder = out / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    if gan_main(["export", str(out / "conditional_average.safetensors"), "-o", str(folder / "conditional.safetensors")]):
        raise SystemExit(f"could not export {out / 'conditional_average.safetensors'}")
    shutil.copyfile(out / "encoder" / "encoder.safetensors", folder / "encoder.safetensors")
    for name in KEPT_FILES:
        if (SHIPPED / name).is_file():
            shutil.copyfile(SHIPPED / name, folder / name)
    return folder


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--data", required=True, type=Path, help="FER2013 csv/csv.gz (or another layout gan reads)")
    parser.add_argument("--ferplus", type=Path, help="FER+ labels (fer2013new.csv) for the teachers")
    parser.add_argument("--classifier", type=Path, default=ROOT / "checkpoints" / "classifier.safetensors",
                        help="reads each face's own expression (default: the shipped classifier)")
    parser.add_argument("--out", type=Path, default=Path("runs/editor"), help="folder for every step's run")
    parser.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cuda, cpu, ...")
    parser.add_argument("--quick", action="store_true",
                        help="one epoch per step on the first --limit faces, the teachers measured on the first "
                             "--limit faces of each test split (a check that the chain runs: their accuracy is a "
                             "smoke check only)")
    parser.add_argument("--limit", type=int, default=256,
                        help="training faces per step, and test faces per split, with --quick (default: 256)")
    parser.add_argument("--fresh", action="store_true",
                        help="start every step over, forgetting what earlier runs into --out saved")
    parser.add_argument("--ship", action="store_true",
                        help="at the end, replace checkpoints/conditional.safetensors and encoder.safetensors")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick and args.ship:  # a one-epoch check run must never replace the shipped models
        parser.error("--quick trains one epoch per step, a check that the chain runs, not a model to ship; "
                     "drop --ship for the check, or --quick for the real run")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = data_problem(args)
    if problem:
        print(f"error: {problem} (checked before step 1; nothing was trained)", file=sys.stderr)
        return 2
    chain = steps(args)
    started = time.perf_counter()
    for number, (what, command) in enumerate(chain, 1):
        print(f"[{number}/{len(chain)}] {what}: python -m gan {' '.join(command)}", flush=True)
        code = gan_main(command)
        if code != 0:
            print(f"step {number} ({what}) stopped (exit code {code}); after fixing what it says, the same "
                  "command keeps the finished steps and resumes this one from its last saved epoch (with --fresh, "
                  "every step starts over)", file=sys.stderr)
            return code
    folder = assemble_checkpoints(args.out)
    print(f"done in {(time.perf_counter() - started) / 60:.1f} min: {args.out / 'conditional_average.safetensors'}"
          f" and {args.out / 'encoder' / 'encoder.safetensors'}; edit with them (the shipped checkpoints stay as "
          f"they are): python -m editor --checkpoints {folder}")
    if args.quick:
        print(f"a --quick check: one epoch per step on {args.limit} faces, the teachers' accuracies measured on "
              f"{args.limit} test faces per split; they show that the chain runs, not how good its models are")
    if args.ship:
        return subprocess.call([sys.executable, str(ROOT / "scripts" / "ship_conditional.py"),
                                "--generator", str(args.out / "conditional_average.safetensors"),
                                "--encoder-run", str(args.out / "encoder"),
                                "--device-note", f"retrain_editor.py, --device {args.device}"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
