"""The DCGAN training loop, as small functions around one config.

`train(config, progress_fn=..., abort_fn=...)` is what the CLI, the tests and
any UI call. The whole dataset lives on the device as uint8 and batches are
gathered from it, so there is no DataLoader and no per-batch host copy. Every
run folder holds the resolved options (`config.json`), per-iteration losses
(`metrics.jsonl`), fixed-noise grids per epoch (`samples/`), a loss plot
(`loss.png`), the training state for resuming (`state.safetensors`) and the
final generator (`generator.safetensors`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .checkpoint import CheckpointError, load_tensors, save_generator, save_tensors
from .data import EXPRESSIONS, FaceDataset, balanced_order, dataset_fingerprint, detect_kind, load_dataset
from .conditional import build_conditional_models, region_mask
from .conditional_step import STAT_NAMES, conditional_train_step
from .models import ModelConfig, build_models
from .run_files import read_json, read_metrics, trim_metrics, write_json

SEED_STAT_NAMES = ("loss_d", "loss_g", "d_x", "d_g_z")

ProgressFn = Callable[["Progress"], None]
AbortFn = Callable[[], bool]


@dataclass
class TrainConfig:
    """Every training option; the defaults are the seed's recipe."""

    data: str
    out: str = "runs"
    model: str = "seed"  # seed: one unconditional DCGAN per expression; conditional: one for all
    expression: str | None = None  # a FER2013 expression; None trains on every image
    dataset: str = "auto"  # fer2013 | celeba | folder | auto
    ferplus: str | None = None  # FER+ fer2013new.csv to relabel FER2013
    split: str = "Training"
    image_size: int | None = None  # None: 48 for FER2013, 64 otherwise
    channels: int | None = None  # None: 1 for FER2013, 3 otherwise
    limit: int | None = None  # use only the first N images (smoke tests)
    epochs: int = 50
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    nz: int = 100
    ngf: int = 64
    ndf: int = 64
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # bf16 autocast where the hardware has native bf16
    channels_last: bool = True  # on CUDA (ignored elsewhere)
    sample_count: int = 64  # images in the fixed-noise grid
    checkpoint_minutes: float = 10.0  # also save mid-epoch this often
    # --model conditional only (gan/conditional_step.py says why each is there):
    lr_d: float | None = None  # D's learning rate (None: --lr); TTUR sets it higher
    lambda_ac: float = 1.0  # weight of the auxiliary expression-classifier loss
    lambda_same: float = 1.0  # weight of the same-face loss between two expressions of one z
    class_balance: float = 0.5  # 0: classes drawn as in the data; 1: all equally often
    d_norm: str = "batch"  # batch: the seed's D and BCE; spectral: spectral norm and hinge
    max_steps: int | None = None  # stop after this many steps in total (smoke tests)
    command: str = field(default_factory=lambda: shlex.join(["python", "-m", "gan", *sys.argv[1:]]))

    def __post_init__(self) -> None:
        if self.model not in ("seed", "conditional"):
            raise ValueError(f"--model must be seed or conditional, got {self.model!r}")
        if self.conditional and self.expression is not None:
            raise ValueError("--model conditional trains on every expression at once; drop --expression")

    @property
    def conditional(self) -> bool:
        return self.model == "conditional"

    def run_name(self) -> str:
        if self.conditional:
            return "conditional"
        return self.expression or Path(self.data).name.split(".")[0]

    def model_config(self, data: FaceDataset) -> ModelConfig:
        channels, size, _ = data.shape
        return ModelConfig(image_size=size, channels=channels, nz=self.nz, ngf=self.ngf, ndf=self.ndf,
                           n_classes=len(EXPRESSIONS) if self.conditional else 0)


@dataclass
class Progress:
    epoch: int  # 0-based epoch in progress
    epochs: int
    step: int  # step within the epoch
    steps_per_epoch: int
    losses: dict[str, float] | None = None  # the epoch's means, at epoch end


@dataclass
class TrainResult:
    run_dir: Path
    epochs_done: int
    finished: bool
    seconds: float
    images_per_second: float


# Options that must match for a run folder to be resumed (the rest may change,
# e.g. --epochs grows a finished run).
_RESUME_KEYS = ("model", "expression", "dataset", "ferplus", "split", "image_size", "channels", "limit",
                "batch_size", "nz", "ngf", "ndf", "seed", "class_balance", "d_norm")


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple's MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but CUDA is not available; use --device auto or cpu")
    return device


def mixed_precision(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast where the hardware does bf16 natively (CUDA; CPUs with
    AVX512-BF16/AMX, measured 1.75x faster per step on a 2-core EPYC); else none."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        import platform

        return f"cpu ({platform.machine()}, {torch.get_num_threads()} threads)"
    return device.type


def load_training_data(config: TrainConfig) -> FaceDataset:
    kind = detect_kind(config.data) if config.dataset == "auto" else config.dataset
    size = config.image_size or (48 if kind == "fer2013" else 64)
    channels = config.channels or (1 if kind == "fer2013" else 3)
    data = load_dataset(config.data, kind=kind, split=config.split, expression=config.expression,
                        ferplus=config.ferplus, image_size=size, channels=channels, limit=config.limit)
    if config.limit is not None:
        data = FaceDataset(data.images[: config.limit], None if data.labels is None else data.labels[: config.limit],
                           data.source)
    return data


def to_model_range(batch: torch.Tensor) -> torch.Tensor:
    """uint8 [N, C, H, W] in 0..255 -> float [N, C, H, W] in [-1, 1]."""
    return batch.float().div_(127.5).sub_(1.0)


def train_step(G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
               real: torch.Tensor, noise: torch.Tensor, autocast: contextlib.AbstractContextManager) -> torch.Tensor:
    """One DCGAN update of D then G (the paper's alternating scheme, non-saturating
    G loss). real: [B, C, H, W] in [-1, 1]; noise: [B, nz]. Returns a device
    tensor [4]: loss_d, loss_g, D(x), D(G(z)), so the caller decides when to sync."""
    ones = torch.ones(real.shape[0], device=real.device)
    zeros = torch.zeros_like(ones)

    opt_d.zero_grad(set_to_none=True)
    # Real and fake go through D separately, as in the paper, so BatchNorm sees
    # pure batches; one backward each (as pytorch/examples does), which also
    # keeps DistributedDataParallel's one-forward-one-backward rhythm.
    with autocast:
        logit_real = D(real, logits=True)
        loss_real = F.binary_cross_entropy_with_logits(logit_real.float(), ones)
    loss_real.backward()
    with autocast:
        fake = G(noise)
        logit_fake = D(fake.detach(), logits=True)
        loss_fake = F.binary_cross_entropy_with_logits(logit_fake.float(), zeros)
    loss_fake.backward()
    opt_d.step()
    loss_d = loss_real + loss_fake

    opt_g.zero_grad(set_to_none=True)
    with autocast:
        logit_gen = D(fake, logits=True)
        loss_g = F.binary_cross_entropy_with_logits(logit_gen.float(), ones)
    loss_g.backward()
    opt_g.step()
    with torch.no_grad():
        return torch.stack([loss_d.detach(), loss_g.detach(),
                            torch.sigmoid(logit_real.float()).mean(), torch.sigmoid(logit_fake.float()).mean()])


class _RunState:
    """What a resumed run needs beyond the weights: where the loop stood."""

    def __init__(self, epoch: int = 0, step: int = 0, perm: torch.Tensor | None = None,
                 partial: torch.Tensor | None = None, seconds: float = 0.0, images: int = 0) -> None:
        self.epoch, self.step, self.perm, self.partial = epoch, step, perm, partial
        self.seconds, self.images = seconds, images


def _adam_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors = {}
    for index, state in sd["state"].items():
        for key, value in state.items():
            tensors[f"{prefix}.state.{index}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return tensors, {"param_groups": sd["param_groups"]}


def _adam_state(prefix: str, tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + ".state."):
            index, key = name[len(prefix) + 7:].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def save_state(path: Path, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
               rng: dict[str, torch.Generator], fixed_noise: torch.Tensor, run: _RunState, meta: dict) -> None:
    tensors = {f"G.{k}": v for k, v in G.state_dict().items()}
    tensors.update({f"D.{k}": v for k, v in D.state_dict().items()})
    og, og_meta = _adam_tensors("opt_g", opt_g)
    od, od_meta = _adam_tensors("opt_d", opt_d)
    tensors.update(og)
    tensors.update(od)
    tensors.update({f"rng.{name}": gen.get_state() for name, gen in rng.items()})
    tensors["fixed_noise"] = fixed_noise
    if run.perm is not None:
        tensors["perm"] = run.perm
        tensors["partial"] = run.partial
    save_tensors(path, tensors, {**meta, "kind": "training_state", "epoch": run.epoch, "step": run.step,
                                 "seconds": run.seconds, "images": run.images,
                                 "opt_g": og_meta, "opt_d": od_meta})


def load_state(path: Path, device: str | torch.device = "cpu", *, kind: str | None = None,
               what: str = "training state") -> tuple[dict[str, torch.Tensor], dict]:
    """A run's saved training state: its tensors and metadata. A damaged file, or (with `kind`)
    one of another kind, is a CheckpointError that says how to start the run over."""
    try:
        tensors, meta = load_tensors(path, device)
    except CheckpointError as exc:
        raise CheckpointError(damaged_state_message(path, exc.__cause__ or exc)) from exc
    if kind is not None and meta.get("kind") != kind:
        raise CheckpointError(f"{path}: not a {what}; delete it or pass --fresh")
    return tensors, meta


def restore_state(path: Path, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer,
                  opt_d: torch.optim.Optimizer, rng: dict[str, torch.Generator],
                  device: torch.device) -> tuple[torch.Tensor, _RunState, dict]:
    tensors, meta = load_state(path)
    try:
        G.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("G.")})
        D.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("D.")})
        opt_g.load_state_dict(_adam_state("opt_g", tensors, meta["opt_g"]))
        opt_d.load_state_dict(_adam_state("opt_d", tensors, meta["opt_d"]))
        for name, gen in rng.items():
            gen.set_state(tensors[f"rng.{name}"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot resume from it ({exc}); delete it or pass --fresh to start over") from exc
    run = _RunState(meta["epoch"], meta["step"], tensors.get("perm"), tensors.get("partial"),
                    meta.get("seconds", 0.0), meta.get("images", 0))
    return tensors["fixed_noise"].to(device), run, meta


def damaged_state_message(path: Path, reason: object) -> str:
    """A training state that cannot be read: the run can only start over (nothing else restores it)."""
    return (f"{path}: the saved training state is damaged or incomplete ({reason}), so the run cannot resume "
            "from it. Run the same command with --fresh to start this run over, or pass another --out")


def open_run(run_dir: Path, config: object, keys: tuple[str, ...] = _RESUME_KEYS, *, fresh: bool = False) -> None:
    """Before training into `run_dir`: with `fresh`, forget its saved state, metrics and
    config (start over); otherwise refuse to continue a run whose saved config.json
    differs in `keys`."""
    if fresh:
        for name in ("state.safetensors", "metrics.jsonl", "config.json"):
            (run_dir / name).unlink(missing_ok=True)
    saved_path = run_dir / "config.json"
    if not saved_path.exists():
        return
    saved = read_json(saved_path)
    changed = [k for k in keys if saved.get(k) != getattr(config, k)]
    if changed:
        raise ValueError(f"{run_dir} holds a run with different {', '.join(changed)}; "
                         "pass another --out, or --fresh to overwrite it")


def loss_plot_steps(rows: list[dict]) -> list[int]:
    """The x of each metrics row: its optimiser step ("iter") where it has one, so a run that
    logs once an epoch is not drawn as if it had logged every iteration; else its row number."""
    return [int(r.get("iter", i)) for i, r in enumerate(rows)]


def write_loss_plot(metrics_path: Path, out_path: Path, title: str) -> None:
    """G and D loss per iteration, like the seed's loss figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in read_metrics(metrics_path) if "loss_d" in r]
    if not rows:
        return
    steps = loss_plot_steps(rows)
    marker = "o" if len(rows) < 50 else None  # per-epoch rows (train-change): show each one
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    ax.plot(steps, [r["loss_g"] for r in rows], label="G", linewidth=0.6, marker=marker)
    ax.plot(steps, [r["loss_d"] for r in rows], label="D", linewidth=0.6, marker=marker)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8) -> None:
    """images: [N, C, H, W] in [-1, 1] -> a PNG grid."""
    from torchvision.utils import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.float().cpu(), path, nrow=nrow, normalize=True, value_range=(-1, 1), padding=2)


def _distributed() -> tuple[int, int]:
    """(rank, world size) under torchrun, else (0, 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    rank = int(os.environ.get("RANK", "0"))
    return rank, world


def train(config: TrainConfig, *, progress_fn: ProgressFn | None = None, abort_fn: AbortFn | None = None,
          fresh: bool = False, data: FaceDataset | None = None) -> TrainResult:
    """Train (or resume) one GAN; returns where it stopped."""
    rank, world = _distributed()
    device = resolve_device(config.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    is_main = rank == 0
    run_dir = Path(config.out) / config.run_name()
    state_path = run_dir / "state.safetensors"
    open_run(run_dir, config, fresh=fresh and is_main)

    data = data if data is not None else load_training_data(config)
    if config.conditional and data.labels is None:
        raise ValueError(f"{data.source} has no expression labels; --model conditional needs them")
    model_config = config.model_config(data)
    if config.conditional:
        G, D = build_conditional_models(model_config, seed=config.seed, norm=config.d_norm)
    else:
        G, D = build_models(model_config, seed=config.seed)
    G.to(device)
    D.to(device)
    use_cuda = device.type == "cuda"
    if use_cuda and config.channels_last:
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(config.beta1, config.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d or config.lr, betas=(config.beta1, config.beta2))
    rng = {"data": torch.Generator().manual_seed(config.seed),
           "noise": torch.Generator(device).manual_seed(config.seed + 1 + rank)}
    # The conditional grid shows 8 fixed z's, each in all seven expressions.
    fixed_count = 8 if config.conditional else config.sample_count
    fixed_noise = torch.randn(fixed_count, model_config.nz,
                              generator=torch.Generator().manual_seed(config.seed + 12345)).to(device)
    run = _RunState()
    if state_path.exists() and not fresh:
        fixed_noise, run, _ = restore_state(state_path, G, D, opt_g, opt_d, rng, device)
    if world > 1:
        G = nn.parallel.DistributedDataParallel(G, device_ids=[device.index] if use_cuda else None)
        D = nn.parallel.DistributedDataParallel(D, device_ids=[device.index] if use_cuda else None)

    images = data.images.to(device)  # [N, C, H, W] uint8, on the device once
    labels = data.labels.to(device) if config.conditional else None
    stat_names = STAT_NAMES if config.conditional else SEED_STAT_NAMES
    step_fn = _make_step(config, model_config, G, D, opt_g, opt_d, device, rng)
    if use_cuda and config.channels_last:
        images = images.contiguous(memory_format=torch.channels_last)
    n = images.shape[0]
    per_rank = config.batch_size
    steps_per_epoch = max(1, n // (per_rank * world)) if n >= 2 * world else 1
    autocast = mixed_precision(device) if config.amp else contextlib.nullcontext()
    meta = {"config": asdict(config), "model": model_config.to_dict(), "expression": config.expression,
            "dataset": data.source, "dataset_sha256": dataset_fingerprint(config.data),
            "images": n, "command": config.command, "device": describe_device(device)}
    if is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "config.json", asdict(config))
        # Metrics are written before the state at each epoch end: rows of an epoch the
        # state does not have (a kill in between) would be logged twice.
        trim_metrics(run_dir / "metrics.jsonl", run.epoch)

    progress_bar = _progress_bar(config, steps_per_epoch, run, enabled=is_main)
    G_plain = G.module if world > 1 else G
    D_plain = D.module if world > 1 else D
    steps_total = run.epoch * steps_per_epoch + run.step
    last_save = time.monotonic()
    t_start = time.perf_counter()
    seconds_before, images_before = run.seconds, run.images
    stopped = False
    while run.epoch < config.epochs and not stopped:
        if run.perm is None:
            run.perm = (balanced_order(data.labels, config.class_balance, rng["data"]) if config.conditional
                        else torch.randperm(n, generator=rng["data"]))
            run.partial = torch.zeros(steps_per_epoch, len(stat_names))
            run.step = 0
        perm = run.perm.to(device)
        losses = torch.zeros(steps_per_epoch, len(stat_names), device=device)
        losses[: run.step] = run.partial[: run.step].to(device)
        G.train()
        D.train()
        while run.step < steps_per_epoch:
            if (abort_fn is not None and abort_fn()) or (config.max_steps is not None and steps_total >= config.max_steps):
                stopped = True
                break
            start = (run.step * world + rank) * per_rank
            index = perm[start: start + per_rank]
            if index.numel() < 2:  # BatchNorm needs two samples
                index = perm[:per_rank]
            real = to_model_range(images[index])
            noise = torch.randn(real.shape[0], model_config.nz, device=device, generator=rng["noise"])
            losses[run.step] = step_fn(real, None if labels is None else labels[index], noise, autocast)
            run.step += 1
            run.images += real.shape[0] * world
            steps_total += 1
            progress_bar.update(1)
            if config.checkpoint_minutes and time.monotonic() - last_save > 60 * config.checkpoint_minutes:
                run.partial = losses.cpu()
                run.seconds = seconds_before + time.perf_counter() - t_start
                if is_main:
                    save_state(state_path, G_plain, D_plain, opt_g, opt_d, rng, fixed_noise, run, meta)
                last_save = time.monotonic()
        run.partial = losses.cpu()
        run.seconds = seconds_before + time.perf_counter() - t_start
        if stopped:
            break
        # End of an epoch: write everything, then move the loop position on.
        if is_main:
            _write_epoch(run_dir, config, run, G_plain, fixed_noise, steps_per_epoch, progress_fn, stat_names)
        run.epoch, run.step, run.perm, run.partial = run.epoch + 1, 0, None, None
        if is_main:
            save_state(state_path, G_plain, D_plain, opt_g, opt_d, rng, fixed_noise, run, meta)
            save_generator(run_dir / "generator.safetensors", G_plain,
                           {k: v for k, v in meta.items() if k not in ("config", "model")} | {"epochs": run.epoch})
            if config.conditional:  # the encoder trains against D's features
                save_tensors(run_dir / "discriminator.safetensors", D_plain.state_dict(),
                             {"kind": "discriminator", "model": model_config.to_dict(), "norm": config.d_norm,
                              "epochs": run.epoch})
            write_loss_plot(run_dir / "metrics.jsonl", run_dir / "loss.png", f"{config.run_name()}: loss per iteration")
        last_save = time.monotonic()
    if stopped and is_main and run.step > 0:
        save_state(state_path, G_plain, D_plain, opt_g, opt_d, rng, fixed_noise, run, meta)
    progress_bar.close()
    elapsed = time.perf_counter() - t_start
    ips = (run.images - images_before) / elapsed if elapsed > 0 else 0.0
    return TrainResult(run_dir, run.epoch, run.epoch >= config.epochs, run.seconds, ips)


def _make_step(config: TrainConfig, model_config: ModelConfig, G: nn.Module, D: nn.Module,
               opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, device: torch.device,
               rng: dict[str, torch.Generator]) -> Callable:
    """(real, labels, noise, autocast) -> stats: the seed's step or the conditional one."""
    if not config.conditional:
        return lambda real, labels, noise, autocast: train_step(G, D, opt_g, opt_d, real, noise, autocast)
    mask = region_mask(model_config.image_size).to(device)
    return lambda real, labels, noise, autocast: conditional_train_step(
        G, D, opt_g, opt_d, real, labels, noise, mask=mask, lambda_ac=config.lambda_ac,
        lambda_same=config.lambda_same, generator=rng["noise"], autocast=autocast)


def sample_grid_images(G: nn.Module, fixed_noise: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The per-epoch grid and its row length: the seed's G draws one image per z;
    a conditional G draws each z in every expression, one row per z."""
    n_classes = getattr(G.config, "n_classes", 0)
    if not n_classes:
        return G(fixed_noise), 8
    z = fixed_noise.repeat_interleave(n_classes, dim=0)
    y = torch.arange(n_classes, device=z.device).repeat(fixed_noise.shape[0])
    return G(z, y), n_classes


def _write_epoch(run_dir: Path, config: TrainConfig, run: _RunState, G: nn.Module, fixed_noise: torch.Tensor,
                 steps_per_epoch: int, progress_fn: ProgressFn | None, stat_names: tuple[str, ...]) -> None:
    partial = run.partial
    with open(run_dir / "metrics.jsonl", "a") as out:
        for step, values in enumerate(partial.tolist()):
            out.write(json.dumps({"epoch": run.epoch + 1, "iter": run.epoch * steps_per_epoch + step,
                                  **{k: round(v, 5) for k, v in zip(stat_names, values)}}) + "\n")
        means = dict(zip(stat_names, partial.mean(0).tolist()))
        out.write(json.dumps({"epoch": run.epoch + 1, "epoch_end": True, "seconds": round(run.seconds, 2),
                              **{k: round(v, 5) for k, v in means.items()}}) + "\n")
    G.eval()
    with torch.no_grad():
        grid, nrow = sample_grid_images(G, fixed_noise)
        save_grid(grid, run_dir / "samples" / f"epoch_{run.epoch + 1:03d}.png", nrow=nrow)
    G.train()
    if progress_fn is not None:
        progress_fn(Progress(run.epoch, config.epochs, steps_per_epoch, steps_per_epoch, means))


def _progress_bar(config: TrainConfig, steps_per_epoch: int, run: _RunState, enabled: bool):
    from tqdm import tqdm

    total = config.epochs * steps_per_epoch
    done = run.epoch * steps_per_epoch + run.step
    return tqdm(total=total, initial=min(done, total), desc=config.run_name(), unit="step",
                disable=not enabled or os.environ.get("TQDM_DISABLE") == "1", dynamic_ncols=True)


def expressions_for(choice: str | None) -> list[str | None]:
    """`--expression all` -> the seven; one name -> itself; None -> [None]."""
    if choice == "all":
        return list(EXPRESSIONS)
    return [choice]
