"""Training the expression classifier on FER2013's Training split.

Model selection uses PublicTest only: after every epoch the weights with the
best PublicTest accuracy so far are kept. PrivateTest is measured once, after
training, to report the selected model's accuracy; it never influences a choice
(it is read before training only so that a csv without it fails at once).

The loop follows the GAN trainer's shape: a config dataclass written into the
run folder, `metrics.jsonl`, `progress_fn`/`abort_fn` callbacks, and a state
file saved atomically at every epoch end, so a stopped run resumes from its
last finished epoch and ends exactly where an uninterrupted one would, given the same
options: the learning rate is a function of the step and of --epochs, --lr and --warmup-epochs,
so resuming with more --epochs (to train longer) stretches the cosine from there on, a warm
restart rather than the run that many epochs would have been from the start.
"""

from __future__ import annotations

import contextlib
import json
import math
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .checkpoint import CheckpointError, save_tensors
from .classifier import ClassifierConfig, ExpressionClassifier, build_classifier, save_classifier
from .classifier_eval import evaluate, write_confusion_plot
from .data import FaceDataset, balanced_order, check_class_balance, read_fer2013, to_model_range
from .device import describe_device, mixed_precision, resolve_device
from .run_files import trim_metrics, write_json
from .run_history import Sitting
from .image_augment import augment, degrade
from .train_state import check_epochs_done, check_run_counts, data_fingerprints, load_state, open_run, smoke_check_note


@dataclass
class ClassifierTrainConfig:
    """Every option of a classifier run; the defaults are the shipped model's."""

    data: str
    out: str = "runs/classifier"
    ferplus: str | None = None  # FER+ fer2013new.csv: train and select on its majority-vote labels
    # Class c is drawn in proportion to count_c ** (1 - class_balance) (balanced_order): 0 is
    # plain shuffling; FER+ has 175 disgust faces of 26,778, too few for a classifier to ever
    # say disgust without it (the FER+ teacher of train-change never did: MODEL_CARD.md).
    class_balance: float = 0.0
    epochs: int = 50
    batch_size: int = 128
    lr: float = 0.1  # SGD peak learning rate, after warm-up
    warmup_epochs: float = 2.0
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    rotate_degrees: float = 15.0  # augmentation: random rotation in +-degrees
    scale: float = 0.15  # augmentation: random zoom in 1 +- scale
    shift: float = 0.1  # augmentation: random shift, as a fraction of the side
    # Image-quality augmentation, so the classifier judges the expression of a noisy,
    # blurry or flat face (what a 48x48 generator makes) rather than reading its
    # artefacts: without it, pixel noise of 15 grey levels turned 69% of PublicTest
    # faces into "sad" and accuracy fell from 70% to 29%.
    noise: float = 20.0  # Gaussian pixel noise, std up to this many grey levels (half the images)
    blur: float = 0.3  # share of images shrunk by 1.5-3x and enlarged again
    contrast: float = 0.4  # contrast scaled by 1 +- this (half the images)
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # bf16 autocast where the hardware has native bf16
    limit: int | None = None  # use only the first N training images (smoke tests)
    # Measure only the first N faces of PublicTest and of PrivateTest (smoke tests): --limit cuts
    # Training alone, and the 7,178 test faces took most of a --quick retrain_editor.py chain.
    test_limit: int | None = None
    command: str = field(default_factory=lambda: shlex.join(["python", "-m", "gan", *sys.argv[1:]]))

    def __post_init__(self) -> None:
        check_run_counts(self, ("test_limit", 1))
        check_class_balance(self.class_balance)


@dataclass
class EpochReport:
    epoch: int  # 1-based, finished
    epochs: int
    loss: float
    train_accuracy: float
    public_accuracy: float
    best_public_accuracy: float
    seconds: float


@dataclass
class ClassifierResult:
    run_dir: Path
    epochs_done: int
    finished: bool
    best_epoch: int
    public_accuracy: float
    private_accuracy: float | None  # measured once, after training finished


# Options that must match for a run folder to be resumed (--data and --ferplus: their files'
# content, train_state.open_run); test_limit: the best epoch so far was chosen on those faces.
_RESUME_KEYS = ("batch_size", "seed", "limit", "test_limit")

# What the run reads each split for; its data must hold all three.
_SPLITS_NEEDED = ("train-classifier needs all three FER2013 splits (Training to train on, PublicTest to pick the "
                  "epoch, PrivateTest to report on); pass the whole fer2013.csv(.gz)")


class _Stopped(Exception):
    """Raised inside an epoch that abort_fn stopped: the part-epoch is not kept."""


def learning_rate(step: int, total_steps: int, warmup_steps: int, peak: float) -> float:
    """Linear warm-up from peak/10 to peak, then cosine decay to 0. A pure
    function of the step, so a resumed run needs no scheduler state."""
    if step < warmup_steps:
        return peak * (0.1 + 0.9 * step / max(1, warmup_steps))
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _state_tensors(model: ExpressionClassifier, best: dict[str, torch.Tensor],
                   opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    tensors |= {f"best.{k}": v for k, v in best.items()}
    for index, state in opt.state_dict()["state"].items():
        if "momentum_buffer" in state and state["momentum_buffer"] is not None:
            tensors[f"momentum.{index}"] = state["momentum_buffer"]
    return tensors


def _restore(path: Path, model: ExpressionClassifier, opt: torch.optim.Optimizer,
             device: torch.device) -> tuple[dict[str, torch.Tensor], dict]:
    tensors, meta = load_state(path, device, kind="classifier_training_state", what="classifier training state")
    try:
        model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        best = {k[5:]: v.clone() for k, v in tensors.items() if k.startswith("best.")}
        sd = opt.state_dict()
        sd["state"] = {int(k.split(".")[1]): {"momentum_buffer": v} for k, v in tensors.items()
                       if k.startswith("momentum.")}
        opt.load_state_dict(sd)
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: the state does not fit this model ({exc}); pass --fresh to start over") from exc
    return best, meta


def train_classifier(config: ClassifierTrainConfig, *, progress_fn: Callable[[EpochReport], None] | None = None,
                     abort_fn: Callable[[], bool] | None = None, fresh: bool = False) -> ClassifierResult:
    """Train (or resume) the classifier; writes `classifier.safetensors` (the
    best-on-PublicTest weights) into the run folder when the last epoch is done.
    `abort_fn` is asked before every step; a stop drops the epoch's steps so far (the
    same call redoes that epoch from the last saved one)."""
    device = resolve_device(config.device)
    run_dir = Path(config.out)
    state_path = run_dir / "state.safetensors"
    # Every split first: a csv without one would otherwise fail after the last epoch, unsaved.
    def read(split: str) -> FaceDataset:
        return read_fer2013(config.data, split=split, ferplus=config.ferplus, empty_hint=_SPLITS_NEEDED)

    train_data, public = read("Training"), read("PublicTest")
    # An image folder has one test/ split: it serves as both (read once: its warnings came twice).
    folder = Path(config.data).is_dir()
    private = public if folder else read("PrivateTest")
    if folder:
        print(f"note: {config.data} has one test set (test/), so the epoch is chosen on the same images the "
              "'PrivateTest' accuracy is then measured on: that accuracy is optimistic", file=sys.stderr)
    train_data = train_data.first(config.limit)
    public, private = _limit_test_splits(config, public, private)
    fingerprints = data_fingerprints(config)
    open_run(run_dir, config, _RESUME_KEYS, fresh=fresh, fingerprints=fingerprints)

    model = build_classifier(ClassifierConfig(), seed=config.seed).to(device).to(memory_format=torch.channels_last)
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]  # no weight decay on BN and biases
    rest = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": config.weight_decay},
                           {"params": rest, "weight_decay": 0.0}],
                          lr=config.lr, momentum=config.momentum, nesterov=True)
    epoch, best_epoch, best_accuracy, seconds = 0, 0, -1.0, 0.0
    best = {k: v.clone() for k, v in model.state_dict().items()}
    state_meta = None
    if state_path.exists():
        best, state_meta = _restore(state_path, model, opt, device)
        epoch, best_epoch, best_accuracy, seconds = (state_meta["epoch"], state_meta["best_epoch"],
                                                     state_meta["best_accuracy"], state_meta["seconds"])
        check_epochs_done(run_dir, epoch, config.epochs)  # before anything of the run is rewritten
    sitting = Sitting(state_meta, config.command, epoch)  # after the sittings the state records
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "config.json", asdict(config))
    trim_metrics(run_dir / "metrics.jsonl", epoch)  # rows past the saved state would repeat

    images = train_data.images.to(device)
    labels = train_data.labels.to(device)
    autocast = mixed_precision(device) if config.amp else contextlib.nullcontext()
    meta_base = {"dataset": train_data.source, "dataset_sha256": fingerprints["data"], "sha256": fingerprints,
                 "device": describe_device(device), "command": config.command, "config": asdict(config)}
    stopped = False
    # Dropout draws from the global generator: seeded per epoch inside a fork,
    # so the caller's random state is left as it was.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        while epoch < config.epochs:
            t0 = time.perf_counter()
            try:
                loss, train_accuracy = train_epoch(model, opt, images, labels, config, epoch, autocast, abort_fn)
            except _Stopped:
                stopped = True  # the model holds part of an epoch: not saved, the state has the last whole one
                break
            epoch += 1
            public_accuracy = evaluate(model, public)["accuracy"]
            if public_accuracy > best_accuracy:
                best_accuracy, best_epoch = public_accuracy, epoch
                best = {k: v.detach().clone() for k, v in model.state_dict().items()}
            seconds += time.perf_counter() - t0
            report = EpochReport(epoch, config.epochs, loss, train_accuracy, public_accuracy, best_accuracy, seconds)
            with open(run_dir / "metrics.jsonl", "a") as out:
                out.write(json.dumps({k: round(v, 5) if isinstance(v, float) else v
                                      for k, v in asdict(report).items()}) + "\n")
            save_tensors(state_path, _state_tensors(model, best, opt),
                         {"kind": "classifier_training_state", "epoch": epoch, "best_epoch": best_epoch,
                          "best_accuracy": best_accuracy, "seconds": seconds, **meta_base,
                          "history": sitting.history(epoch)})
            if progress_fn is not None:
                progress_fn(report)

    if stopped:
        return ClassifierResult(run_dir, epoch, False, best_epoch, best_accuracy, None)
    return _finish(run_dir, config, best, best_epoch, public, private, seconds,
                   {**meta_base, "history": sitting.history(epoch)}, device)


def limited_test_note(test_limit: int | None) -> str:
    """What a --test-limit run's accuracies are ('' without one)."""
    return smoke_check_note(test_limit, "faces of each test split", "classifier")


def _limit_test_splits(config: ClassifierTrainConfig, public: FaceDataset,
                       private: FaceDataset) -> tuple[FaceDataset, FaceDataset]:
    """PublicTest and PrivateTest cut to --test-limit (all of them without it), said on stderr."""
    if config.test_limit is None:
        return public, private
    print(f"note: PublicTest and PrivateTest {limited_test_note(config.test_limit)}", file=sys.stderr)
    limited = public.first(config.test_limit)
    return limited, limited if private is public else private.first(config.test_limit)


def train_epoch(model: ExpressionClassifier, opt: torch.optim.Optimizer, images: torch.Tensor, labels: torch.Tensor,
                config: ClassifierTrainConfig, epoch: int, autocast: contextlib.AbstractContextManager,
                abort_fn: Callable[[], bool] | None = None) -> tuple[float, float]:
    """One pass over the (augmented) training images; returns mean loss and accuracy.
    The order, the augmentation and dropout depend only on (seed, epoch), so
    resuming after epoch k replays epochs k+1.. exactly. `abort_fn`, asked before every
    step, stops the epoch part-way (_Stopped): Ctrl-C need not wait for an epoch's end."""
    n = images.shape[0]
    steps_per_epoch = max(1, n // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    warmup_steps = int(config.warmup_epochs * steps_per_epoch)
    rng = torch.Generator().manual_seed(config.seed * 100_003 + epoch)
    torch.manual_seed(config.seed * 100_003 + epoch)
    perm = balanced_order(labels.cpu(), config.class_balance, rng).to(images.device)
    model.train()
    loss_sum, correct, seen = torch.zeros((), device=images.device), torch.zeros((), device=images.device), 0
    for step in range(steps_per_epoch):
        if abort_fn is not None and abort_fn():
            raise _Stopped
        for group in opt.param_groups:
            group["lr"] = learning_rate(epoch * steps_per_epoch + step, total_steps, warmup_steps, config.lr)
        index = perm[step * config.batch_size: (step + 1) * config.batch_size]
        batch = augment(to_model_range(images[index]), rng, rotate_degrees=config.rotate_degrees,
                        scale=config.scale, shift=config.shift)
        batch = degrade(batch, rng, noise=config.noise, blur=config.blur, contrast=config.contrast)
        batch = batch.contiguous(memory_format=torch.channels_last)
        target = labels[index]
        with autocast:
            logits = model(batch)
        loss = F.cross_entropy(logits.float(), target, label_smoothing=config.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        loss_sum += loss.detach() * len(index)
        correct += (logits.argmax(1) == target).sum()
        seen += len(index)
    return loss_sum.item() / seen, correct.item() / seen


def _finish(run_dir: Path, config: ClassifierTrainConfig, best: dict[str, torch.Tensor], best_epoch: int,
            public_data: FaceDataset, private_data: FaceDataset, seconds: float, meta_base: dict,
            device: torch.device) -> ClassifierResult:
    """Load the selected weights, measure them on both test splits (the first
    and only time PrivateTest is measured), and write the shippable checkpoint."""
    model = ExpressionClassifier(ClassifierConfig()).to(device)
    model.load_state_dict(best)
    model.eval()
    public = evaluate(model, public_data)
    private = evaluate(model, private_data)
    save_classifier(run_dir / "classifier.safetensors", model,
                    {**meta_base, "epochs": config.epochs, "best_epoch": best_epoch, "train_seconds": round(seconds, 1),
                     "public_test": public, "private_test": private, "selection": "best PublicTest accuracy",
                     "test_time_augmentation": "mean of the face and its mirror image",
                     # a --test-limit run's accuracies must not be read (or shipped) as the model's
                     **({"smoke_check": limited_test_note(config.test_limit)} if config.test_limit else {})})
    write_confusion_plot(np.array(private["confusion"]), run_dir / "confusion_private.png",
                         f"PrivateTest confusion (accuracy {private['accuracy']:.1%})")
    return ClassifierResult(run_dir, config.epochs, True, best_epoch, public["accuracy"], private["accuracy"])
