"""Training the encoder against a frozen conditional generator (in-domain inversion).

Each step mixes two batches:
- G's own samples: z ~ N(0, I) with an expression vector p taken from the
  classifier's reading of a random real face (the kind of p the editor inverts
  at); E learns z back (latent MSE) and p (soft cross-entropy);
- real FER2013 Training faces x with the classifier's reading p: E(x) is
  rendered as G(E(x), p) and compared with x in pixels and in the frozen
  discriminator's features, with a small pull of ||z|| to the Gaussian shell.
Resumable per epoch: Ctrl-C stops after the current step and keeps the last finished epoch
(the state is saved at each epoch's end; the stopped epoch's steps are not).
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

import torch
import torch.nn.functional as F

from .checkpoint import CheckpointError, load_generator, load_tensors, save_tensors
from .classifier import load_classifier, predict_proba
from .conditional import ProjectionDiscriminator
from .data import read_fer2013, to_model_range
from .device import describe_device, mixed_precision, resolve_device
from .encoder import Encoder, build_encoder, save_encoder
from .models import ModelConfig
from .run_files import trim_metrics, write_json
from .run_history import Sitting
from .shipped import shipped
from .train_state import check_run_counts, data_fingerprints, load_state, models_tensors, open_run, restore_models

STAT_NAMES = ("loss", "latent", "class", "pixel", "feature")


@dataclass
class EncoderTrainConfig:
    data: str
    generator: str = shipped("conditional.safetensors")
    discriminator: str | None = None  # None: discriminator.safetensors beside the generator, if there
    classifier: str = shipped("classifier.safetensors")
    out: str = "runs/encoder"
    epochs: int = 4  # passes over the real Training faces
    batch_size: int = 64  # real faces per step (plus as many samples)
    lr: float = 2e-4
    lambda_latent: float = 1.0
    lambda_class: float = 0.1
    lambda_pixel: float = 1.0
    lambda_feature: float = 0.1
    lambda_prior: float = 0.05
    limit: int | None = None
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    max_steps: int | None = None
    command: str = field(default_factory=lambda: shlex.join(["python", "-m", "gan", *sys.argv[1:]]))

    def __post_init__(self) -> None:
        check_run_counts(self)


# Options that must match for a run folder to be resumed (--data: its file's content, train_state.open_run).
_RESUME_KEYS = ("generator", "discriminator", "classifier", "batch_size", "limit", "seed")
# What the run reads the data for, when it holds no Training faces.
TRAINING_NEEDED = "it trains on FER2013's Training faces; pass the whole fer2013.csv(.gz)"


@dataclass
class EncoderResult:
    run_dir: Path
    epochs_done: int
    finished: bool
    seconds: float
    losses: dict[str, float]


def encoder_losses(E: Encoder, G: torch.nn.Module, D: ProjectionDiscriminator | None, real: torch.Tensor,
                   p_real: torch.Tensor, z_fake: torch.Tensor, p_fake: torch.Tensor,
                   config: EncoderTrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """real: [B, 1, 48, 48] in [-1, 1] with readings p_real [B, K]; z_fake [B, nz]
    with p_fake [B, K]. Returns (total loss, STAT_NAMES values)."""
    with torch.no_grad():
        fake = G(z_fake, p_fake)
    z_hat, logits = E(torch.cat([fake, real]))
    batch = fake.shape[0]
    latent = F.mse_loss(z_hat[:batch].float(), z_fake)
    p_all = torch.cat([p_fake, p_real])
    class_loss = -(p_all * logits.float().log_softmax(1)).sum(1).mean()
    z_real = z_hat[batch:].float()
    rebuilt = G(z_real, p_real)
    pixel = F.mse_loss(rebuilt.float(), real)
    feature = torch.zeros((), device=real.device)
    if D is not None and config.lambda_feature > 0:
        for a, b in zip(D.features(rebuilt), D.features(real)):
            feature = feature + F.mse_loss(a.float(), b.float())
    prior = (z_real.norm(dim=1) / math.sqrt(z_real.shape[1]) - 1).square().mean()
    loss = (config.lambda_latent * latent + config.lambda_class * class_loss + config.lambda_pixel * pixel
            + config.lambda_feature * feature + config.lambda_prior * prior)
    return loss, torch.stack([loss.detach(), latent.detach(), class_loss.detach(), pixel.detach(),
                              feature.detach()])


def _load_discriminator(config: EncoderTrainConfig, model: ModelConfig, device: torch.device
                        ) -> ProjectionDiscriminator | None:
    path = Path(config.discriminator) if config.discriminator else Path(config.generator).with_name(
        "discriminator.safetensors")
    if not path.exists():
        if config.discriminator:
            raise CheckpointError(f"{path}: no such discriminator; train the conditional GAN first")
        print(f"note: no {path}; training without the feature loss", file=sys.stderr)
        return None
    tensors, meta = load_tensors(path, device, retrain="python -m gan train --model conditional")
    if meta.get("model") not in (None, model.to_dict()):  # another run's D: its features would not fit G
        raise CheckpointError(f"{path}: the discriminator of another generator (model {meta['model']}, not "
                              f"{model.to_dict()} as {config.generator}); pass --discriminator with the "
                              "discriminator.safetensors of that generator's run")
    D = ProjectionDiscriminator(model, meta.get("norm", "batch")).to(device)
    D.load_state_dict(tensors)
    return D.eval().requires_grad_(False)


def train_encoder(config: EncoderTrainConfig, *, progress_fn: Callable[[int, dict], None] | None = None,
                  abort_fn: Callable[[], bool] | None = None, fresh: bool = False) -> EncoderResult:
    """Train (or resume) the encoder; writes encoder.safetensors at every epoch end."""
    device = resolve_device(config.device)
    run_dir = Path(config.out)
    state_path = run_dir / "state.safetensors"
    G, g_meta = load_generator(config.generator, device)
    if not getattr(G.config, "n_classes", 0):
        raise CheckpointError(f"{config.generator}: a seed (unconditional) generator; the encoder needs the "
                              "conditional one (python -m gan train --model conditional)")
    G.requires_grad_(False)
    D = _load_discriminator(config, G.config, device)
    classifier, _ = load_classifier(config.classifier, device)
    data = read_fer2013(config.data, split="Training", empty_hint=TRAINING_NEEDED)
    fingerprints = data_fingerprints(config, ("Training",))  # what it reads: an image folder's train/
    # Only now, with the models and data read: a typo must not have removed the old run (--fresh).
    open_run(run_dir, config, _RESUME_KEYS, fresh=fresh, fingerprints=fingerprints)
    images = data.first(config.limit or None).images  # --limit 0: every face, as before
    readings = predict_proba(classifier, images).to(device)  # [N, K]: the editor's p_src, for every face
    images = images.to(device)
    n = images.shape[0]

    E = build_encoder(G.config, seed=config.seed).to(device)
    opt = torch.optim.Adam(E.parameters(), lr=config.lr, betas=(0.9, 0.999))
    rng = torch.Generator().manual_seed(config.seed)
    epoch, seconds, state_meta = 0, 0.0, None
    parts = {"E": (E, "opt", opt)}  # what the state file holds
    if state_path.exists():
        tensors, state_meta = load_state(state_path)
        try:
            restore_models(tensors, state_meta, parts)
            rng.set_state(tensors["rng"])
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"{state_path}: cannot resume from it ({exc}); pass --fresh to start over") from exc
        epoch, seconds = state_meta["epoch"], state_meta["seconds"]
    sitting = Sitting(state_meta, config.command, epoch)  # after the sittings the state records
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "config.json", asdict(config))
    trim_metrics(run_dir / "metrics.jsonl", epoch)  # an epoch's row is written before its state
    meta_base = {"generator": config.generator, "generator_epochs": g_meta.get("epochs"),
                 "dataset": data.source, "dataset_sha256": fingerprints["data"], "sha256": fingerprints,
                 "device": describe_device(device), "command": config.command, "config": asdict(config)}
    autocast = mixed_precision(device) if config.amp else contextlib.nullcontext()
    steps_per_epoch = max(1, n // config.batch_size)
    means: dict[str, float] = {}
    steps_done = epoch * steps_per_epoch
    stopped = False
    while epoch < config.epochs and not stopped:
        t0 = time.perf_counter()
        perm = torch.randperm(n, generator=rng).to(device)
        totals = torch.zeros(len(STAT_NAMES), device=device)
        E.train()
        for step in range(steps_per_epoch):
            if (abort_fn is not None and abort_fn()) or (config.max_steps is not None
                                                          and steps_done >= config.max_steps):
                stopped = True
                break
            index = perm[step * config.batch_size:(step + 1) * config.batch_size]
            real = to_model_range(images[index])
            z_fake = torch.randn(len(index), G.config.nz, generator=rng).to(device)
            p_fake = readings[torch.randint(0, n, (len(index),), generator=rng).to(device)]
            with autocast:
                loss, stats = encoder_losses(E, G, D, real, readings[index], z_fake, p_fake, config)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            totals += stats
            steps_done += 1
        if stopped:
            break  # a part-epoch is not kept: the same command redoes this epoch
        epoch += 1
        seconds += time.perf_counter() - t0
        means = dict(zip(STAT_NAMES, (totals / steps_per_epoch).tolist()))
        with open(run_dir / "metrics.jsonl", "a") as out:
            out.write(json.dumps({"epoch": epoch, "seconds": round(seconds, 1),
                                  **{k: round(v, 5) for k, v in means.items()}}) + "\n")
        E.eval()
        history = {"history": sitting.history(epoch)}
        save_encoder(run_dir / "encoder.safetensors", E, {**meta_base, **history, "epochs": epoch, "losses": means})
        tensors, opt_meta = models_tensors(parts)
        tensors["rng"] = rng.get_state()
        save_tensors(state_path, tensors, {"kind": "encoder_training_state", "epoch": epoch, "seconds": seconds,
                                           **opt_meta, **meta_base, **history})
        if progress_fn is not None:
            progress_fn(epoch, means)
    return EncoderResult(run_dir, epoch, epoch >= config.epochs, seconds, means)
