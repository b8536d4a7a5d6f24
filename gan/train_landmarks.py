"""Training the landmark regressor (gan/landmarks.py) on FER2013 faces.

The labels are dlib's 68-point shape predictor run on each face (4x upscaled,
the whole crop as the face box): the regressor distils dlib into a model that
runs on 48x48 renders without dlib. dlib comes from the project's `bench`
extra (`pip install '.[bench]'`) and is needed only to make the labels, which
are cached in the run folder (`teacher.safetensors`); `--teacher FILE` uses a
labels file made elsewhere (the same layout). PublicTest, labelled the same
way, measures the fit after every epoch: the mean point error over the
distance between the outer eye corners (NME).

The loop has the other trainers' shape: config.json, metrics.jsonl, a state
saved atomically at every epoch end, so a stopped run (`abort_fn`, asked before
every step: Ctrl-C) resumes from its last finished epoch. Its cosine learning rate spans
--epochs: resuming with more of them stretches the decay from there on (a warm restart).
"""

from __future__ import annotations

import importlib.util
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

from .checkpoint import CheckpointError, load_tensors, save_tensors
from .data import read_fer2013, to_model_range
from .device import describe_device, resolve_device
from .landmarks import LandmarkConfig, LandmarkRegressor, predict_landmarks, save_landmarks
from .run_files import trim_metrics, write_json
from .run_history import Sitting
from .train_state import (check_epochs_done, check_run_counts, data_fingerprints, load_state, models_tensors,
                          open_run, restore_models, smoke_check_note)

SPLITS = ("Training", "PublicTest")
# Options that must match for a run folder to be resumed (--data: its file's content, train_state.open_run).
_RESUME_KEYS = ("batch_size", "seed", "limit", "teacher", "test_limit")
_SPLITS_NEEDED = ("train-landmarks needs FER2013's Training faces to train on and PublicTest faces to measure; "
                  "pass the whole fer2013.csv(.gz)")


@dataclass
class LandmarkTrainConfig:
    """Every option of a landmark run; the defaults are the shipped model's."""

    data: str
    out: str = "runs/landmarks"
    teacher: str | None = None  # labels file (teacher.safetensors layout); None: run dlib, cache in the run
    epochs: int = 6
    batch_size: int = 128
    lr: float = 1e-3  # AdamW peak, cosine decay to 0
    weight_decay: float = 1e-4
    rotate_degrees: float = 10.0  # augmentation: the face and its points rotated, scaled and shifted together
    scale: float = 0.08
    shift: float = 0.08  # fraction of the side
    seed: int = 0
    device: str = "auto"
    limit: int | None = None  # use only the first N training faces (smoke tests)
    # Measure only the first N PublicTest faces (smoke tests): --limit cuts Training alone, and dlib
    # labelling all 3,589 PublicTest faces took most of a small run's time.
    test_limit: int | None = None
    command: str = field(default_factory=lambda: shlex.join(["python", "-m", "gan", *sys.argv[1:]]))

    def __post_init__(self) -> None:
        check_run_counts(self, ("test_limit", 1))


@dataclass
class LandmarkResult:
    run_dir: Path
    epochs_done: int
    finished: bool
    path: Path | None  # landmarks.safetensors, written when the last epoch is done


def dlib_models_dir(purpose: str, otherwise: str = "") -> Path:
    """The folder of dlib's model files (the `face_recognition_models` package, from the `bench`
    extra), found without importing that package: its __init__ imports pkg_resources, which newer
    setuptools no longer ships. ValueError saying what to install when dlib or it is missing."""
    spec = importlib.util.find_spec("face_recognition_models")
    if importlib.util.find_spec("dlib") is None or spec is None or not spec.submodule_search_locations:
        raise ValueError(f"{purpose} needs dlib and its models: pip install '.[bench]'{otherwise}")
    return Path(spec.submodule_search_locations[0]) / "models"


def dlib_landmarks(images: np.ndarray) -> np.ndarray:
    """dlib's 68 points [N, 68, 2] (crop pixels) of 48x48 uint8 faces [N, 48, 48]."""
    models = dlib_models_dir("making landmark labels", " (or pass --teacher with a labels file)")
    import cv2
    import dlib

    predictor = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))
    up, pad = 4, 24  # dlib's predictor was trained on faces far larger than 48 px, with some margin
    side = images.shape[-1] * up
    box = dlib.rectangle(pad + 4, pad + 4, pad + side - 4, pad + side - 4)
    out = np.zeros((len(images), 68, 2), np.float32)
    for i, face in enumerate(images):
        big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        shape = predictor(np.ascontiguousarray(np.repeat(big[..., None], 3, axis=2)), box)
        out[i] = (np.array([(p.x, p.y) for p in shape.parts()], np.float32) - pad) / up
    return out


def limited_nme_note(test_limit: int | None) -> str:
    """What a --test-limit run's PublicTest NME is ('' without one)."""
    return smoke_check_note(test_limit, "PublicTest faces", "regressor")


def teacher_labels(config: LandmarkTrainConfig, faces: dict[str, np.ndarray], run_dir: Path,
                   data_sha256: str | None = None) -> dict[str, np.ndarray]:
    """split -> [N, 68, 2]: from --teacher, the run's cache (made from the data whose SHA-256
    is `data_sha256`), or dlib (then cached)."""
    path = Path(config.teacher) if config.teacher else run_dir / "teacher.safetensors"
    if config.teacher and not path.is_file():  # not made here by dlib: --teacher names labels made elsewhere
        raise CheckpointError(f"{path}: no such landmark labels file; pass the teacher.safetensors a "
                              "train-landmarks run without --teacher made (it runs dlib: pip install '.[bench]'), "
                              "or leave out --teacher")
    if path.exists():
        tensors, meta = load_tensors(path)
        labels = {split: tensors[split].numpy() for split in SPLITS if split in tensors}
        # The run's own cache of other data (--data changed, --fresh) is made again, not reused.
        same_data = config.teacher or meta.get("dataset_sha256") in (None, data_sha256)
        if same_data and all(split in labels and len(labels[split]) >= len(faces[split]) for split in SPLITS):
            return {split: labels[split][: len(faces[split])] for split in SPLITS}
        if config.teacher:
            raise ValueError(f"{path}: needs landmarks for {', '.join(f'{len(faces[s])} {s}' for s in SPLITS)} faces")
    labels = {split: dlib_landmarks(faces[split]) for split in SPLITS}
    save_tensors(path, {split: torch.from_numpy(v) for split, v in labels.items()},
                 {"kind": "landmark_labels", "teacher": "dlib shape_predictor_68_face_landmarks, 4x upscaled",
                  "dataset_sha256": data_sha256})
    return labels


def nme(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Mean point error over the outer-eye-corner distance (points 36 and 45), averaged over faces."""
    eyes = np.linalg.norm(truth[:, 45] - truth[:, 36], axis=1)
    return float((np.linalg.norm(predicted - truth, axis=2).mean(1) / np.maximum(eyes, 1e-6)).mean())


def augment(images: torch.Tensor, points: torch.Tensor,
            generator: torch.Generator, config: LandmarkTrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The same random similarity transform of each face and its points, and a
    brightness/contrast jitter. images [B, 1, S, S] in [-1, 1]; points [B, P, 2] pixels."""
    n, side = images.shape[0], images.shape[-1]
    rand = lambda *shape: torch.rand(*shape, generator=generator) * 2 - 1  # noqa: E731
    angle, scale = rand(n) * math.radians(config.rotate_degrees), 1 + rand(n) * config.scale
    shift = rand(n, 2) * config.shift
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(images.device), list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, padding_mode="border", align_corners=False)
    # theta maps output to input (normalised coordinates): a point p of the input lands at theta^-1(p).
    unit = (points + 0.5) / (side / 2) - 1
    moved = torch.linalg.solve(theta[:, :, :2].to(points), (unit - theta[:, None, :, 2].to(points)).transpose(1, 2))
    points = (moved.transpose(1, 2) + 1) * (side / 2) - 0.5
    gain, offset = 1 + rand(n, 1, 1, 1) * 0.3, rand(n, 1, 1, 1) * 0.2
    return images * gain.to(images) + offset.to(images), points


def train_landmarks(config: LandmarkTrainConfig, *, progress_fn: Callable[[dict], None] | None = None,
                    abort_fn: Callable[[], bool] | None = None, fresh: bool = False) -> LandmarkResult:
    """Train (or resume) the regressor; writes `landmarks.safetensors` into the run folder
    when the last epoch is done. `abort_fn` is asked before every step; a stop keeps the
    last finished epoch (the same call redoes the one it stopped in)."""
    device = resolve_device(config.device)
    run_dir = Path(config.out)
    state_path = run_dir / "state.safetensors"
    # The data and labels before open_run: a typo in --data must not have removed the old run (--fresh).
    faces = {split: read_fer2013(config.data, split=split, empty_hint=_SPLITS_NEEDED).images[:, 0].numpy()
             for split in SPLITS}
    if config.limit is not None:
        faces["Training"] = faces["Training"][: config.limit]
    if config.test_limit is not None:
        faces["PublicTest"] = faces["PublicTest"][: config.test_limit]
        print(f"note: PublicTest NME {limited_nme_note(config.test_limit)}", file=sys.stderr)
    fingerprints = data_fingerprints(config)
    if not fresh:  # a resume on other data is refused before dlib labels that data and replaces the run's cache
        open_run(run_dir, config, _RESUME_KEYS, fingerprints=fingerprints)
    labels = teacher_labels(config, faces, run_dir, fingerprints["data"])  # the cache is kept by --fresh
    if fresh:  # only now, with the labels made: a missing dlib or teacher must not have removed the old run
        open_run(run_dir, config, _RESUME_KEYS, fresh=True, fingerprints=fingerprints)
    run_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(config.seed)
    model = LandmarkRegressor(LandmarkConfig()).to(device)
    model.mean_shape.copy_(torch.from_numpy(labels["Training"].mean(0)))
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    epoch, seconds, public, state_meta = 0, 0.0, None, None
    if state_path.exists():
        state_meta = _restore(state_path, model, opt, device)
        epoch, seconds = int(state_meta["epoch"]), float(state_meta["seconds"])
        check_epochs_done(run_dir, epoch, config.epochs)  # before anything of the run is rewritten
    sitting = Sitting(state_meta, config.command, epoch)  # after the sittings the state records
    write_json(run_dir / "config.json", asdict(config))
    trim_metrics(run_dir / "metrics.jsonl", epoch)

    images = to_model_range(torch.from_numpy(faces["Training"])[:, None]).to(device)
    points = torch.from_numpy(labels["Training"]).to(device)
    steps_per_epoch = max(1, len(images) // config.batch_size)
    meta_base = {"dataset": f"FER2013 {config.data}", "dataset_sha256": fingerprints["data"], "sha256": fingerprints,
                 "device": describe_device(device), "command": config.command, "config": asdict(config)}
    stopped = False
    while epoch < config.epochs:
        t0 = time.perf_counter()
        rng = torch.Generator().manual_seed(config.seed * 100_003 + epoch)  # resuming replays the same epochs
        order = torch.randperm(len(images), generator=rng).to(device)
        model.train()
        total = torch.zeros((), device=device)  # summed on the device: one sync per epoch
        for step in range(steps_per_epoch):
            if abort_fn is not None and abort_fn():
                stopped = True
                break
            progress = (epoch * steps_per_epoch + step) / (config.epochs * steps_per_epoch)
            for group in opt.param_groups:
                group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * progress))
            index = order[step * config.batch_size: (step + 1) * config.batch_size]
            batch, target = augment(images[index], points[index], rng, config)
            loss = F.smooth_l1_loss(model(batch), target, beta=0.5)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach()
        if stopped:
            break  # a part-epoch is not kept: the same command redoes this epoch
        epoch += 1
        seconds += time.perf_counter() - t0
        public = nme(predict_landmarks(model, faces["PublicTest"]), labels["PublicTest"])
        row = {"epoch": epoch, "loss": round(total.item() / steps_per_epoch, 5), "seconds": round(seconds, 1),
               "public_nme": round(public, 5)}
        with open(run_dir / "metrics.jsonl", "a") as out:
            out.write(json.dumps(row) + "\n")
        state, opt_meta = models_tensors({"model": (model, "opt", opt)})
        save_tensors(state_path, state, {"kind": "landmark_training_state", "epoch": epoch, "seconds": seconds,
                                         **opt_meta, **meta_base, "history": sitting.history(epoch)})
        if progress_fn is not None:
            progress_fn(row)
    if stopped:
        return LandmarkResult(run_dir, epoch, False, None)
    final = run_dir / "landmarks.safetensors"
    if public is None:  # resumed a run whose epochs were all done: measure the restored model
        public = nme(predict_landmarks(model, faces["PublicTest"]), labels["PublicTest"])
    mean_shape = nme(np.broadcast_to(labels["Training"].mean(0), labels["PublicTest"].shape), labels["PublicTest"])
    save_landmarks(final, model, {**meta_base, "history": sitting.history(epoch), "epochs": config.epochs,
                                  "train_seconds": round(seconds, 1),
                                  "public_test_nme": round(public, 5), "mean_shape_nme": round(mean_shape, 5),
                                  "public_test_faces": len(faces["PublicTest"]),
                                  "teacher": "dlib shape_predictor_68_face_landmarks (4x upscaled faces)"})
    return LandmarkResult(run_dir, epoch, True, final)


def _restore(path: Path, model: LandmarkRegressor, opt: torch.optim.Optimizer,
             device: torch.device) -> dict:
    """Load the saved model and optimiser; returns the state's metadata (epoch, seconds, history)."""
    tensors, meta = load_state(path, device, kind="landmark_training_state", what="landmark training state")
    try:
        restore_models(tensors, meta, {"model": (model, "opt", opt)})
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: the state does not fit this model ({exc}); pass --fresh to start over") from exc
    return meta
