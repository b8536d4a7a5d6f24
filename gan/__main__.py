"""`python -m gan train|train-encoder|train-change|train-classifier|train-landmarks|sample|export|average ...`: argparse -> config -> train."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import MISSING, fields
from pathlib import Path

from .cli_help import CHANGE_HELP, CLASSIFIER_HELP, ENCODER_HELP, HELP_OVERRIDES, LANDMARK_HELP
from .cli_files import cmd_average, cmd_export, cmd_sample
from .data import EXPRESSIONS, DataError


def _add_dataclass_args(parser: argparse.ArgumentParser, cls: type, help_overrides: dict[str, str]) -> None:
    """One flag per dataclass field, typed and defaulted from the field."""
    for f in fields(cls):
        if f.name == "command":
            continue
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        help_text = help_overrides.get(f.name, "")
        if f.type in ("bool",):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=help_text)
            continue
        kind = {"int": int, "float": float, "int | None": int, "float | None": float}.get(f.type, str)
        required = f.default is MISSING
        shown = "" if required or "default:" in help_text else f" (default: {default})"
        parser.add_argument(flag, type=kind, default=None if required else default, required=required,
                            help=f"{help_text}{shown}".strip())
    parser.add_argument("--fresh", action="store_true", help="ignore a saved state and start over")


def _add_train_args(parser: argparse.ArgumentParser) -> None:
    from .train_config import TrainConfig

    _add_dataclass_args(parser, TrainConfig, HELP_OVERRIDES)
    parser.add_argument("--interleave", action="store_true",
                        help="with --expression all: advance every model one epoch at a time")



def _stop_on_signals(saved: str = "state will be saved") -> list[int]:
    """Ctrl-C and SIGTERM ask the loop to stop after the current step; `saved` says what it
    keeps (gan train saves its state mid-epoch; train-encoder and train-change keep their
    last finished epoch). The list holds the signal's number once one arrived (0 before)."""
    flag = [0]

    def handler(signum, frame):  # noqa: ARG001
        if flag[0]:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        flag[0] = int(signum)
        print(f"\nstopping after this step ({signal.Signals(signum).name}); {saved}", file=sys.stderr)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return flag


# What a stop keeps in the trainers saved per epoch (all but gan train).
_KEEPS_LAST_EPOCH = "the run keeps its last finished epoch; this one's steps so far are not saved"


def _finished_while_stopping(stop: list[int]) -> int:
    """A signal that came after the last step (during the final evaluation or save): the run
    finished, but whoever pressed Ctrl-C wants to stop, so a script or scripts/retrain_editor.py
    must not go on to its next, hours-long step as if nothing had happened (it did)."""
    print(f"the run had finished its last step when {signal.Signals(stop[0]).name} came, so its outputs are "
          "complete and saved; stopping here", file=sys.stderr)
    return _stopped_code(stop)


def _stopped_code(stop: list[int]) -> int:
    """The shell's convention for a run a signal ended: 128 + its number (130 for Ctrl-C, 143
    for SIGTERM), so a scheduler can tell a stopped run from a finished or failed one."""
    return 128 + (stop[0] or signal.SIGINT)


def cmd_train(args: argparse.Namespace) -> int:
    from .device import end_distributed
    from .run_history import sitting_start
    from .train import train
    from .train_config import TrainConfig, expressions_for

    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if f.name != "command"}
    TrainConfig(**values)  # its checks (--batch-size 0, ...) before anything is made or read
    Path(args.out).mkdir(parents=True, exist_ok=True)  # a file there is refused now, not after the data is read
    stop = _stop_on_signals()
    expressions = expressions_for(args.expression)
    datasets = _expression_datasets(values) if len(expressions) > 1 else {}
    # --interleave: every model advances one epoch in turn, so a run cut short
    # (a CPU-only machine, a session limit) leaves all of them equally trained.
    targets = range(1, args.epochs + 1) if args.interleave else [args.epochs]
    finished = False  # the loop ended or stopped as asked, not with an error
    capped: set[str] = set()  # the models --max-steps stopped: done, as asked
    reports = os.environ.get("RANK", "0") == "0"  # under torchrun only rank 0 prints
    started = sitting_start()  # --interleave's calls, one per epoch, are one sitting of each model's history
    try:
        for target in targets:
            for expression in expressions:
                if expression in capped:
                    continue
                config = TrainConfig(**{**values, "expression": expression, "epochs": target})
                result = train(config, abort_fn=lambda: stop[0], fresh=args.fresh and target == targets[0],
                               data=datasets.get(expression), progress_fn=lambda p: _print_epoch(p, args.epochs),
                               sitting_started=started)
                if reports and result.finished and not result.steps_run:
                    # It said '2 epochs, 20 s, 0 images/s', as if training had stalled.
                    print(f"{result.run_dir}: already trained {result.epochs_done} epochs, as --epochs asks; "
                          "nothing to do (raise --epochs to train it further)", flush=True)
                elif reports:
                    print(f"{result.run_dir}: {result.epochs_done} epochs, {result.seconds:.0f} s, "
                          f"{result.images_per_second:.0f} images/s", flush=True)
                if not result.finished:
                    print(_train_stopped_message(config, result, by_signal=bool(stop[0])), file=sys.stderr)
                    if stop[0]:
                        finished = True
                        return _stopped_code(stop)
                    capped.add(expression)  # --max-steps: a stop asked for, not a failure (exit 0)
                elif stop[0]:  # Ctrl-C during the last epoch's end: not the next model, nor a caller's next step
                    finished = True
                    return _finished_while_stopping(stop)
        finished = True
        return 0
    finally:
        end_distributed(wait=finished)


def _train_stopped_message(config, result, *, by_signal: bool) -> str:
    """What a stopped `gan train` kept and how to go on. --max-steps counts the run's steps in
    total, resumed ones included, so the same command would stop again at once."""
    if by_signal or config.max_steps is None:
        message = "stopped; run the same command again to resume"
    else:
        message = (f"stopped at --max-steps {config.max_steps} (steps in total); to continue, run the command "
                   "again with a higher --max-steps or without it")
    if result.epochs_done == 0:  # the epoch-end files are written only when an epoch ends
        kept = "only the state to resume from" if (result.run_dir / "state.safetensors").exists() else "nothing yet"
        message += (f". No epoch has finished, so {result.run_dir} holds {kept}: no generator.safetensors, "
                    "metrics.jsonl or loss.png until the first epoch ends")
    return message


def _print_epoch(p, epochs: int) -> None:
    """One epoch's mean losses, against the --epochs asked for (with --interleave each pass trains
    to the next epoch only, so p.epochs would say 'epoch 1/1' of a 2-epoch run)."""
    print(f"epoch {p.epoch + 1}/{epochs}  " + "  ".join(f"{k} {v:.3f}" for k, v in p.losses.items()), flush=True)


def _expression_datasets(values: dict) -> dict:
    """Read FER2013 once and split it, instead of once per expression, each cut to --limit as a
    single expression's run is; {} (each run reads its own) for any other layout. The layout's
    checks come first, as for one expression (a --image-size FER2013 does not have is refused)."""
    from .data import read_fer2013, split_by_expression
    from .train_config import TrainConfig, data_layout

    kind, _, _ = data_layout(TrainConfig(**values))
    if kind != "fer2013":
        return {}
    split = split_by_expression(read_fer2013(values["data"], split=values["split"], ferplus=values["ferplus"]))
    # As one expression's run refuses (read_fer2013): an empty one would log NaN losses every epoch
    # and save an untrained generator.
    empty = [name for name, data in split.items() if len(data) == 0]
    if empty:
        raise DataError(f"{values['data']}: no {', '.join(empty)} images in split {values['split']}; "
                        "--expression all trains one model per expression and needs images of each "
                        "(train the others one by one with --expression NAME)")
    return {name: data.first(values["limit"]) for name, data in split.items()}


def cmd_train_classifier(args: argparse.Namespace) -> int:
    from .train_classifier import ClassifierTrainConfig, limited_test_note, train_classifier

    values = {f.name: getattr(args, f.name) for f in fields(ClassifierTrainConfig) if f.name != "command"}
    stop = _stop_on_signals(_KEEPS_LAST_EPOCH)

    def report(r) -> None:
        print(f"epoch {r.epoch}/{r.epochs}  loss {r.loss:.3f}  train {r.train_accuracy:.3f}  "
              f"PublicTest {r.public_accuracy:.3f} (best {r.best_public_accuracy:.3f})  {r.seconds:.0f} s", flush=True)

    result = train_classifier(ClassifierTrainConfig(**values), progress_fn=report, abort_fn=lambda: stop[0],
                              fresh=args.fresh)
    if not result.finished:
        _print_stopped(result.epochs_done)
        return _stopped_code(stop)
    limited = limited_test_note(args.test_limit)
    print(f"{result.run_dir / 'classifier.safetensors'}: best epoch {result.best_epoch}, "
          f"PublicTest {result.public_accuracy:.2%}, PrivateTest {result.private_accuracy:.2%}"
          + (f" ({limited})" if limited else ""))
    return _finished_while_stopping(stop) if stop[0] else 0


def cmd_train_landmarks(args: argparse.Namespace) -> int:
    from .train_landmarks import LandmarkTrainConfig, limited_nme_note, train_landmarks

    values = {f.name: getattr(args, f.name) for f in fields(LandmarkTrainConfig) if f.name != "command"}
    stop = _stop_on_signals(_KEEPS_LAST_EPOCH)

    def report(row: dict) -> None:
        print(f"epoch {row['epoch']}/{args.epochs}  loss {row['loss']:.3f}  PublicTest NME {row['public_nme']:.4f}  "
              f"{row['seconds']:.0f} s", flush=True)

    result = train_landmarks(LandmarkTrainConfig(**values), fresh=args.fresh, abort_fn=lambda: stop[0],
                             progress_fn=report)
    if not result.finished:
        _print_stopped(result.epochs_done)
        return _stopped_code(stop)
    limited = limited_nme_note(args.test_limit)
    print(f"wrote {result.path}" + (f" (its PublicTest NME {limited})" if limited else ""))
    return _finished_while_stopping(stop) if stop[0] else 0


def _print_stopped(epochs_done: int) -> None:
    """A per-epoch trainer's stop: what it kept, and that the same command carries on."""
    print(f"stopped after epoch {epochs_done}; run the same command again to resume (it redoes epoch "
          f"{epochs_done + 1} from its start)", file=sys.stderr)


def cmd_train_encoder(args: argparse.Namespace) -> int:
    from .train_encoder import EncoderTrainConfig, train_encoder

    values = {f.name: getattr(args, f.name) for f in fields(EncoderTrainConfig) if f.name != "command"}
    stop = _stop_on_signals(_KEEPS_LAST_EPOCH)

    def report(epoch: int, losses: dict) -> None:
        print(f"epoch {epoch}/{args.epochs}  " + "  ".join(f"{k} {v:.4f}" for k, v in losses.items()), flush=True)

    result = train_encoder(EncoderTrainConfig(**values), progress_fn=report, abort_fn=lambda: stop[0],
                           fresh=args.fresh)
    if not result.finished:
        _print_stopped(result.epochs_done)
        return _stopped_code(stop)
    print(f"{result.run_dir / 'encoder.safetensors'}: {result.epochs_done} epochs, {result.seconds:.0f} s")
    return _finished_while_stopping(stop) if stop[0] else 0


def cmd_train_change(args: argparse.Namespace) -> int:
    from .train_change import ChangeTuneConfig, train_change

    values = {f.name: getattr(args, f.name) for f in fields(ChangeTuneConfig) if f.name != "command"}
    stop = _stop_on_signals(_KEEPS_LAST_EPOCH)

    def report(epoch: int, losses: dict) -> None:
        note = "  (warm-up: only the critics trained; G's losses are the frozen G's)" if losses.get("warm_up") else ""
        print(f"epoch {epoch}/{args.epochs}  " + "  ".join(f"{k} {v:.4f}" for k, v in losses.items()
                                                         if k != "warm_up") + note, flush=True)

    result = train_change(ChangeTuneConfig(**values), progress_fn=report, abort_fn=lambda: stop[0], fresh=args.fresh)
    if not result.finished:
        _print_stopped(result.epochs_done)
        return _stopped_code(stop)
    print(f"{result.run_dir / 'generator.safetensors'}: {result.epochs_done} epochs, {result.seconds:.0f} s")
    return _finished_while_stopping(stop) if stop[0] else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train (or resume) a DCGAN")
    _add_train_args(train)
    train.set_defaults(func=cmd_train)
    sample = sub.add_parser("sample", help="write a grid of samples from a checkpoint")
    sample.add_argument("--checkpoint", required=True, help="a generator checkpoint (.safetensors)")
    sample.add_argument("--expression", choices=EXPRESSIONS,
                        help="the expression to draw (conditional checkpoints; required there)")
    sample.add_argument("-n", type=int, default=64, help="number of samples (default: 64)")
    sample.add_argument("--nrow", type=int, default=8, help="images per row (default: 8)")
    sample.add_argument("-o", "--output", default="samples.png", help="PNG to write (default: samples.png)")
    sample.add_argument("--seed", type=int, default=0, help="seed of the z's (default: 0)")
    sample.add_argument("--truncation", type=float, default=1.0,
                        help="scale z by this, 0-1: lower draws more typical, cleaner faces (the editor's "
                             "random tab uses 0.7; default: 1, the model's full variety)")
    sample.add_argument("--device", default="auto",
                        help="auto (CUDA, then Apple's MPS, then the CPU), cpu, cuda, cuda:N or mps (default: auto)")
    sample.set_defaults(func=cmd_sample)
    export = sub.add_parser("export", help="copy a run's generator to a shippable checkpoint")
    export.add_argument("run", help="generator.safetensors or state.safetensors of a run")
    export.add_argument("-o", "--output", required=True,
                        help="the checkpoint to write (.safetensors; the editor loads it from its --checkpoints "
                             "folder as <expression>.safetensors or conditional.safetensors)")
    export.add_argument("--half", action=argparse.BooleanOptionalAction, default=True,
                        help="store float16 when outputs differ by < 1/255 (default: on)")
    export.set_defaults(func=cmd_export)
    average = sub.add_parser("average", help="average the weights of fine-tunings of one generator (a model soup)")
    average.add_argument("generators", nargs="+", help="generator.safetensors files of the same architecture")
    average.add_argument("-o", "--output", required=True, help="the averaged generator to write (.safetensors)")
    average.add_argument("--weights", type=float, nargs="+", help="one share per generator (default: equal)")
    average.set_defaults(func=cmd_average)
    classifier = sub.add_parser("train-classifier", help="train (or resume) the FER2013 expression classifier")
    from .train_classifier import ClassifierTrainConfig

    _add_dataclass_args(classifier, ClassifierTrainConfig, CLASSIFIER_HELP)
    classifier.set_defaults(func=cmd_train_classifier)
    encoder = sub.add_parser("train-encoder", help="train (or resume) the encoder of a conditional generator")
    from .train_encoder import EncoderTrainConfig

    _add_dataclass_args(encoder, EncoderTrainConfig, ENCODER_HELP)
    encoder.set_defaults(func=cmd_train_encoder)
    change = sub.add_parser("train-change", help="fine-tune the conditional generator so that its change, added "
                                                 "to real faces as the editor adds it, reads as the target")
    from .train_change import ChangeTuneConfig

    _add_dataclass_args(change, ChangeTuneConfig, CHANGE_HELP)
    change.set_defaults(func=cmd_train_change)
    landmarks = sub.add_parser("train-landmarks", help="train (or resume) the 68-point landmark regressor (dlib's "
                                                       "points on FER2013 faces) the editor uses to move mouths")
    from .train_landmarks import LandmarkTrainConfig

    _add_dataclass_args(landmarks, LandmarkTrainConfig, LANDMARK_HELP)
    landmarks.set_defaults(func=cmd_train_landmarks)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .checkpoint import CheckpointError
    from .device import DeviceError

    args = build_parser().parse_args(argv)
    # Each run records its command from sys.argv (the configs' `command`); a caller that passes
    # `argv` in-process (scripts/retrain_editor.py, tests) gets that command recorded, not its own.
    saved_argv = sys.argv
    if argv is not None:
        sys.argv = [saved_argv[0] if saved_argv else "gan", *argv]
    try:
        return args.func(args)
    except (DataError, CheckpointError, DeviceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file or folder that cannot be made or read: its name, not a traceback
        where = exc.filename or "a file"
        print(f"error: {where}: {(exc.strerror or str(exc)).lower()}; check the path (a file where a folder "
              "should be?) and that you may write there", file=sys.stderr)
        return 2
    finally:
        sys.argv = saved_argv


if __name__ == "__main__":
    sys.exit(main())
