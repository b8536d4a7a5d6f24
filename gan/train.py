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
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .checkpoint import save_generator, save_tensors
from .data import FaceDataset, balanced_order, to_model_range
from .conditional import build_conditional_models, region_mask
from .conditional_step import STAT_NAMES, conditional_train_step
from .device import describe_device, distributed, mixed_precision, resolve_device
from .models import ModelConfig, build_models
from .run_figures import save_grid, write_loss_plot
from .run_files import trim_metrics, write_json
from .run_history import Sitting
from .seed_step import SEED_STAT_NAMES, train_step
from .train_config import (RESUME_KEYS, Progress, TrainConfig, TrainResult, load_training_data, read_splits,
                           unlabelled_data_message)
from .train_state import RunState, data_fingerprints, open_run, restore_state, save_state

ProgressFn = Callable[[Progress], None]
AbortFn = Callable[[], bool]


def train(config: TrainConfig, *, progress_fn: ProgressFn | None = None, abort_fn: AbortFn | None = None,
          fresh: bool = False, data: FaceDataset | None = None, sitting_started: str | None = None) -> TrainResult:
    """Train (or resume) one GAN; returns where it stopped. `sitting_started`: when the command
    that calls this began (run_history.sitting_start), so that --interleave's one call per epoch
    is recorded as one sitting in the checkpoints' "history"; None: this call is a sitting."""
    rank, world = distributed()
    device = resolve_device(config.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    is_main = rank == 0
    run_dir = Path(config.out) / config.run_name()
    state_path = run_dir / "state.safetensors"
    data = data if data is not None else load_training_data(config)
    if config.conditional and data.labels is None:
        raise ValueError(unlabelled_data_message(config))
    fingerprints = data_fingerprints(config, read_splits(config))
    # Only now, with the data read: a typo in --data must not have removed the old run (--fresh).
    if is_main or not fresh:  # the main process clears a --fresh run; the others must not judge the old one
        open_run(run_dir, config, RESUME_KEYS, fresh=fresh, fingerprints=fingerprints)
    model_config = config.model_config(data)
    G, D, opt_g, opt_d = _build_models(config, model_config, device)
    use_cuda = device.type == "cuda"
    rng = {"data": torch.Generator().manual_seed(config.seed),
           "noise": torch.Generator(device).manual_seed(config.seed + 1 + rank)}
    # The conditional grid shows 8 fixed z's, each in all seven expressions.
    fixed_count = 8 if config.conditional else config.sample_count
    fixed_noise = torch.randn(fixed_count, model_config.nz,
                              generator=torch.Generator().manual_seed(config.seed + 12345)).to(device)
    run, state_meta = RunState(), None
    if state_path.exists() and not fresh:  # open_run checked its options and data
        # The optimisers' moments come back; their settings stay this run's (train_state.restore_models),
        # so a changed --lr, --lr-d or --beta1/2 applies from here on, as config.json records.
        fixed_noise, run, state_meta = restore_state(state_path, G, D, opt_g, opt_d, rng, device)
    sitting = Sitting(state_meta, config.command, run.epoch, run.step, sitting_started)
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
            "dataset": data.source, "dataset_sha256": fingerprints["data"], "sha256": fingerprints,
            "images": n, "command": config.command, "device": describe_device(device)}

    def saved_meta() -> dict:  # what every file saved now records: the sittings up to this step too
        return {**meta, "history": sitting.history(run.epoch, run.step)}
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
    steps_before = steps_total
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
                    save_state(state_path, G_plain, D_plain, opt_g, opt_d, rng, fixed_noise, run, saved_meta())
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
            save_state(state_path, G_plain, D_plain, opt_g, opt_d, rng, fixed_noise, run, saved_meta())
            _save_models(run_dir, config, model_config, G_plain, D_plain, run.epoch, saved_meta())
        last_save = time.monotonic()
    if stopped and is_main and run.step > 0:
        save_state(state_path, G_plain, D_plain, opt_g, opt_d, rng, fixed_noise, run, saved_meta())
    progress_bar.close()
    elapsed = time.perf_counter() - t_start
    ips = (run.images - images_before) / elapsed if elapsed > 0 else 0.0
    return TrainResult(run_dir, run.epoch, run.epoch >= config.epochs, run.seconds, ips, steps_total - steps_before)


def _build_models(config: TrainConfig, model_config: ModelConfig, device: torch.device
                  ) -> tuple[nn.Module, nn.Module, torch.optim.Optimizer, torch.optim.Optimizer]:
    """G and D (seeded from config.seed) on the device, and their Adam optimisers."""
    if config.conditional:
        G, D = build_conditional_models(model_config, seed=config.seed, norm=config.d_norm)
    else:
        G, D = build_models(model_config, seed=config.seed)
    G.to(device)
    D.to(device)
    if device.type == "cuda" and config.channels_last:
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(config.beta1, config.beta2))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr_d or config.lr, betas=(config.beta1, config.beta2))
    return G, D, opt_g, opt_d


def _save_models(run_dir: Path, config: TrainConfig, model_config: ModelConfig, G: nn.Module, D: nn.Module,
                 epochs: int, meta: dict) -> None:
    """An epoch's files besides the state: the generator, the conditional run's discriminator
    (the encoder trains against its features) and the loss plot."""
    save_generator(run_dir / "generator.safetensors", G,
                   {k: v for k, v in meta.items() if k not in ("config", "model")} | {"epochs": epochs})
    if config.conditional:
        save_tensors(run_dir / "discriminator.safetensors", D.state_dict(),
                     {"kind": "discriminator", "model": model_config.to_dict(), "norm": config.d_norm,
                      "epochs": epochs})
    write_loss_plot(run_dir / "metrics.jsonl", run_dir / "loss.png", f"{config.run_name()}: loss per iteration")


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


def _write_epoch(run_dir: Path, config: TrainConfig, run: RunState, G: nn.Module, fixed_noise: torch.Tensor,
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


def _progress_bar(config: TrainConfig, steps_per_epoch: int, run: RunState, enabled: bool):
    from tqdm import tqdm

    total = config.epochs * steps_per_epoch
    done = run.epoch * steps_per_epoch + run.step
    return tqdm(total=total, initial=min(done, total), desc=config.run_name(), unit="step",
                disable=not enabled or os.environ.get("TQDM_DISABLE") == "1", dynamic_ncols=True)
