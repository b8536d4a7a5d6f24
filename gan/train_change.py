"""Fine-tuning the conditional generator so that its change carries the expression onto real faces.

Why: the editor never shows G's face; it adds the change T - S = G(z, y) - G(z, p)
of the face's own fit to the photo (README, "Where the expression is lost"). G's
training only asks that G's samples read as their class, and there the change is
weak: the renders T read as the target in 67% of edits, the photo's crop plus
the low-passed change in 42.5%. This run asks for the thing the editor uses.

Each step is the conditional GAN step (gan/conditional_step.py: adversarial,
auxiliary-classifier and same-face losses, so G keeps drawing faces and keeps
the person), plus, on a batch of real Training faces x:
- p, the classifier's reading of x (the editor's p_src), and z = E(x) from the
  frozen encoder (where the editor's inversion starts);
- a target t other than x's top reading and a strength a in [strength_min,
  strength_max], y = (1 - a) p + a onehot(t) (the editor's label);
- edited = x + blur(G(z, y) - G(z, p)), the low-pass the editor applies;
- the change loss: a frozen *teacher* classifier must read the edited face,
  mirrored at random, as t. The teacher must not be the classifier the
  benchmarks judge with (train one on the FER+ labels: `python -m gan
  train-classifier --ferplus ...`), or the numbers would measure the teacher;
- the fit loss: G(z, p) stays a reconstruction of x (pixel MSE), so the face's
  S and T remain the face; and the same-face loss between S and T outside the
  eyes, brows and mouth, so the change is an expression, not a relighting;
- the critic's loss (`lambda_critic`, 0 turns it off): a second discriminator,
  trained alongside, tells the edited faces from real ones
  (gan/edit_critic.py), so the change the teacher reads must also look like a
  real face of the target and not a smudge.
The run starts from a trained G with a fresh D, which first trains alone for
`warmup_steps` against the frozen G. Resumable per epoch.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from .checkpoint import CheckpointError, load_generator, save_generator, save_tensors
from .classifier import ExpressionClassifier, load_classifier, predict_proba
from .conditional import ConditionalGenerator, build_conditional_models, region_mask, same_face_loss
from .conditional_step import STAT_NAMES as GAN_STAT_NAMES, conditional_train_step
from .data import balanced_order, check_class_balance, read_fer2013
from .device import describe_device, mixed_precision, resolve_device
from .edit_critic import critic_g_loss, critic_step
from .encoder import Encoder, encoder_mismatch, load_encoder
from .run_figures import save_grid, write_loss_plot
from .run_files import trim_metrics, write_json
from .run_history import Sitting
from .shipped import shipped
from .data import to_model_range
from .train import sample_grid_images
from .train_encoder import TRAINING_NEEDED
from .train_state import check_run_counts, data_fingerprints, load_state, models_tensors, open_run, restore_models

CHANGE_STAT_NAMES = ("loss_change", "loss_fit", "loss_same_change", "teacher_hit", "loss_critic", "loss_g_critic")
STAT_NAMES = GAN_STAT_NAMES + CHANGE_STAT_NAMES


@dataclass
class ChangeTuneConfig:
    data: str
    teacher: str  # a classifier that is not `classifier`, e.g. one trained on the FER+ labels
    generator: str = shipped("conditional.safetensors")
    encoder: str = shipped("encoder.safetensors")
    classifier: str = shipped("classifier.safetensors")  # reads each face's own expression p
    out: str = "runs/change"
    epochs: int = 4
    batch_size: int = 64
    lr: float = 1e-4  # Adam, both nets (half the from-scratch rate: G is trained already)
    lambda_change: float = 1.0
    lambda_fit: float = 5.0
    lambda_ac: float = 3.0  # the shipped G's final auxiliary-classifier weight
    lambda_same: float = 5.0  # and its same-face weight, here also between the real faces' S and T
    lambda_critic: float = 0.2  # weight of the edit critic's loss for G (0: no critic; 1 undid the gain, model card)
    strength_min: float = 1.0
    strength_max: float = 1.5  # the editor's default strength when the shipped model was tuned (now 1.75)
    blur: float = 1.0  # Gaussian sigma in 48x48 pixels: the low-pass the editor gives the change
    warmup_steps: int = 300  # D-only steps before G moves
    class_balance: float = 0.5
    limit: int | None = None
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    max_steps: int | None = None
    command: str = field(default_factory=lambda: shlex.join(["python", "-m", "gan", *sys.argv[1:]]))

    def __post_init__(self) -> None:
        check_run_counts(self)
        check_class_balance(self.class_balance)


# Options that must match for a run folder to be resumed (--data: its file's content, train_state.open_run).
# The classifier reads every face's p; the critic (lambda_critic > 0) is part of the state file.
_RESUME_KEYS = ("teacher", "generator", "encoder", "classifier", "lambda_critic", "batch_size", "limit", "seed")


@dataclass
class ChangeTuneResult:
    run_dir: Path
    epochs_done: int
    finished: bool
    seconds: float
    losses: dict[str, float]


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of [N, C, H, W] (reflect padding); sigma 0 returns the input."""
    if sigma <= 0:
        return images
    radius = max(1, int(3 * sigma + 0.5))
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-x.square() / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    channels = images.shape[1]
    out = F.pad(images, (radius, radius, radius, radius), mode="reflect")
    out = F.conv2d(out, kernel.view(1, 1, 1, -1).repeat(channels, 1, 1, 1), groups=channels)
    return F.conv2d(out, kernel.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), groups=channels)


def edit_labels(p: torch.Tensor, target: torch.Tensor, strength: torch.Tensor) -> torch.Tensor:
    """The editor's expression vector y = (1 - a) p + a onehot(target), per row."""
    onehot = F.one_hot(target, p.shape[1]).to(p.dtype)
    a = strength[:, None].to(p.dtype)
    return (1 - a) * p + a * onehot


def change_losses(G: ConditionalGenerator, teacher: ExpressionClassifier, real: torch.Tensor, z: torch.Tensor,
                  p: torch.Tensor, target: torch.Tensor, strength: torch.Tensor, *, blur: float,
                  mirror: torch.Tensor, mask: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(change loss, fit loss, same-face loss, teacher hit rate, edited faces) for real faces
    [B, 1, 48, 48] in [-1, 1] with encoder latents z [B, nz], readings p [B, K],
    targets [B] and strengths [B]; `mirror` [B] bool flips those edited faces
    for the teacher. The same-face loss holds S and T alike outside the eyes,
    brows and mouth (`mask`, gan.conditional.region_mask; 0 without one), so the
    change cannot buy the teacher's reading with shading across the whole face.
    The edited faces (not mirrored, with their graph) are for the edit critic."""
    y = edit_labels(p, target, strength)
    renders = G(torch.cat([z, z]), torch.cat([p, y])).float()
    S, T = renders.chunk(2)
    edited = (real + gaussian_blur(T - S, blur)).clamp(-1, 1)
    shown = torch.where(mirror[:, None, None, None], edited.flip(3), edited)
    logits = teacher(shown).float()
    change = F.cross_entropy(logits, target)
    fit = F.mse_loss(S, real)
    same = same_face_loss(S, T, mask) if mask is not None else torch.zeros((), device=real.device)
    return change, fit, same, (logits.argmax(1) == target).float().mean(), edited


def random_targets(p: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A class per row other than the row's top reading (an edit that changes something)."""
    k = p.shape[1]
    offset = torch.randint(1, k, (p.shape[0],), generator=generator).to(p.device)
    return (p.argmax(1) + offset) % k


def _load_encoder_for(config: ChangeTuneConfig, G: ConditionalGenerator, device: torch.device) -> Encoder:
    """The frozen encoder, refused in words when it was trained for another generator (the
    default, the shipped encoder, fits only the shipped generator): its z's would not fit G."""
    E, _ = load_encoder(config.encoder, device)
    why = encoder_mismatch(E.config, G.config)
    if why is not None:
        default = " (the default --encoder, trained for the shipped generator)" if config.encoder == shipped(
            "encoder.safetensors") else ""
        raise CheckpointError(f"{config.encoder}{default} does not fit {config.generator}: {why}. Pass --encoder "
                              "with an encoder trained for this generator: python -m gan train-encoder --data "
                              f"{config.data} --generator {config.generator} --out runs/encoder")
    return E


def _precompute(config: ChangeTuneConfig, images: torch.Tensor, E: Encoder, device: torch.device
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Every face's reading p (the editor's p_src) and the frozen encoder's z."""
    classifier, _ = load_classifier(config.classifier, device)
    readings = predict_proba(classifier, images).to(device)
    latents = []
    with torch.no_grad():
        for start in range(0, images.shape[0], 512):
            latents.append(E(to_model_range(images[start:start + 512].to(device)))[0].float())
    return readings, torch.cat(latents)


def train_change(config: ChangeTuneConfig, *, progress_fn: Callable[[int, dict], None] | None = None,
                 abort_fn: Callable[[], bool] | None = None, fresh: bool = False) -> ChangeTuneResult:
    """Fine-tune (or resume); writes generator.safetensors and discriminator.safetensors at every epoch end."""
    device = resolve_device(config.device)
    run_dir = Path(config.out)
    state_path = run_dir / "state.safetensors"
    if _same_file(config.teacher, config.classifier):  # the change would be taught to please its own judge
        print(f"warning: --teacher {config.teacher} is the classifier the benchmarks judge edits with "
              "(--classifier); train a teacher of its own on the FER+ labels (README, 'The conditional "
              "generator and its encoder')", file=sys.stderr)
    G, g_meta = load_generator(config.generator, device)
    if not getattr(G.config, "n_classes", 0):
        raise CheckpointError(f"{config.generator}: a seed (unconditional) generator; this fine-tunes the "
                              "conditional one (python -m gan train --model conditional)")
    E = _load_encoder_for(config, G, device)
    teacher, teacher_meta = load_classifier(config.teacher, device)
    teacher.requires_grad_(False)
    data = read_fer2013(config.data, split="Training", empty_hint=TRAINING_NEEDED)
    fingerprints = data_fingerprints(config, ("Training",))  # what it reads: an image folder's train/
    # Only now, with the models and data read: a typo must not have removed the old run (--fresh).
    open_run(run_dir, config, _RESUME_KEYS, fresh=fresh, fingerprints=fingerprints)
    data = data.first(config.limit or None)  # --limit 0: every face, as before
    images, labels = data.images, data.labels
    readings, latents = _precompute(config, images, E, device)
    images, labels = images.to(device), labels.to(device)
    n = images.shape[0]

    _, D = build_conditional_models(G.config, seed=config.seed)
    _, critic = build_conditional_models(G.config, seed=config.seed + 1)
    D, critic = D.to(device), critic.to(device)
    G.train()
    opt_g = torch.optim.Adam(G.parameters(), lr=config.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=config.lr, betas=(0.5, 0.999))
    opt_c = torch.optim.Adam(critic.parameters(), lr=config.lr, betas=(0.5, 0.999))
    use_critic = config.lambda_critic > 0
    rng = torch.Generator().manual_seed(config.seed)
    fixed_noise = torch.randn(8, G.config.nz, generator=torch.Generator().manual_seed(config.seed)).to(device)
    epoch, seconds, steps_done, state_meta = 0, 0.0, 0, None
    # What the state file holds: each module with its optimiser (the critic only when it trains).
    parts = {"G": (G, "opt_g", opt_g), "D": (D, "opt_d", opt_d)}
    if use_critic:
        parts["C"] = (critic, "opt_c", opt_c)
    if state_path.exists():
        tensors, state_meta = load_state(state_path)
        try:
            restore_models(tensors, state_meta, parts)
            rng.set_state(tensors["rng"])
        except (KeyError, RuntimeError, ValueError) as exc:
            raise CheckpointError(f"{state_path}: cannot resume from it ({exc}); pass --fresh to start over") from exc
        epoch, seconds, steps_done = state_meta["epoch"], state_meta["seconds"], state_meta["steps"]
    sitting = Sitting(state_meta, config.command, epoch)  # after the sittings the state records
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "config.json", asdict(config))
    trim_metrics(run_dir / "metrics.jsonl", epoch)  # an epoch's row is written before its state
    meta_base = {"fine_tuned_from": config.generator, "from_epochs": g_meta.get("epochs"),
                 "from_command": g_meta.get("command"),
                 # the generator's own sittings (its GAN phases), so the model card can show the whole lineage
                 **({"from_history": g_meta["history"]} if "history" in g_meta else {}), "teacher": config.teacher,
                 "teacher_command": teacher_meta.get("command"), "dataset": data.source,
                 "dataset_sha256": fingerprints["data"], "sha256": fingerprints, "device": describe_device(device),
                 "command": config.command, "config": asdict(config)}
    autocast = mixed_precision(device) if config.amp else contextlib.nullcontext()
    mask = region_mask(G.config.image_size).to(device)
    steps_per_epoch = max(1, n // config.batch_size)
    means: dict[str, float] = {}
    stopped = False
    while epoch < config.epochs and not stopped:
        t0 = time.perf_counter()
        perm = balanced_order(labels.cpu(), config.class_balance, rng).to(device)
        # [0]: steps after the warm-up; [1]: warm-up steps (the frozen G), reported only for an
        # epoch that is all warm-up, so its row holds D's and the critic's real numbers; the G-side
        # ones (loss_change, loss_fit, loss_same_change, teacher_hit, loss_g_critic) are 0 there,
        # since G takes no step and they are not computed.
        totals = torch.zeros(2, len(STAT_NAMES), device=device)
        counted = [0, 0]
        for step in range(steps_per_epoch):
            if (abort_fn is not None and abort_fn()) or (config.max_steps is not None
                                                          and steps_done >= config.max_steps):
                stopped = True
                break
            index = perm[step * config.batch_size:(step + 1) * config.batch_size]
            real = to_model_range(images[index])
            noise = torch.randn(len(index), G.config.nz, generator=rng).to(device)
            p = readings[index]
            target = random_targets(p, rng)
            strength = (config.strength_min + (config.strength_max - config.strength_min)
                        * torch.rand(len(index), generator=rng)).to(device)
            mirror = (torch.rand(len(index), generator=rng) < 0.5).to(device)
            extra = torch.zeros(len(CHANGE_STAT_NAMES), device=device)
            edits: list[torch.Tensor] = []  # the step's edited faces, for the critic's own update

            def extra_loss() -> torch.Tensor:
                change, fit, same, hit, edited = change_losses(G, teacher, real, latents[index], p, target,
                                                               strength, blur=config.blur, mirror=mirror, mask=mask)
                fool = critic_g_loss(critic, edited, target) if use_critic else torch.zeros((), device=device)
                edits.append(edited.detach())
                extra[:4].copy_(torch.stack([change.detach(), fit.detach(), same.detach(), hit]))
                extra[5] = fool.detach()
                return (config.lambda_change * change + config.lambda_fit * fit + config.lambda_same * same
                        + config.lambda_critic * fool)

            warm = steps_done >= config.warmup_steps
            stats = conditional_train_step(G, D, opt_g, opt_d, real, labels[index], noise, mask=mask,
                                           lambda_ac=config.lambda_ac, lambda_same=config.lambda_same,
                                           generator=rng, autocast=autocast, extra_g_loss=extra_loss,
                                           update_g=warm)
            if use_critic:
                if not edits:  # warm-up: the frozen G's edits, so the critic starts informed too
                    with torch.no_grad(), autocast:
                        edits.append(change_losses(G, teacher, real, latents[index], p, target, strength,
                                                   blur=config.blur, mirror=mirror)[4])
                extra[4] = critic_step(critic, opt_c, real, labels[index], edits[0].float(), target,
                                       autocast=autocast)
            steps_done += 1
            totals[0 if warm else 1] += torch.cat([stats, extra])  # the warm-up's G losses describe
            counted[0 if warm else 1] += 1                          # the frozen G, not the run
        if stopped:
            break  # a part-epoch is not kept: the same command redoes this epoch
        epoch += 1
        seconds += time.perf_counter() - t0
        warm_up_only = counted[0] == 0
        means = dict(zip(STAT_NAMES, (totals[int(warm_up_only)] / max(1, counted[int(warm_up_only)])).tolist()))
        if warm_up_only:
            means["warm_up"] = 1.0  # G did not move this epoch: its losses are the frozen G's
        with open(run_dir / "metrics.jsonl", "a") as out:
            out.write(json.dumps({"epoch": epoch, "epoch_end": True, "iter": steps_done, "seconds": round(seconds, 1),
                                  **{k: round(v, 5) for k, v in means.items()}}) + "\n")
        saved = {**meta_base, "history": sitting.history(epoch)}
        _write_epoch_files(run_dir, G, D, fixed_noise, epoch, means, saved, n)
        tensors, opt_meta = models_tensors(parts)
        tensors["rng"] = rng.get_state()
        save_tensors(state_path, tensors, {"kind": "change_training_state", "epoch": epoch, "seconds": seconds,
                                           "steps": steps_done, **opt_meta, **saved})
        if progress_fn is not None:
            progress_fn(epoch, means)
    return ChangeTuneResult(run_dir, epoch, epoch >= config.epochs, seconds, means)


def _write_epoch_files(run_dir: Path, G: ConditionalGenerator, D: torch.nn.Module, fixed_noise: torch.Tensor,
                       epoch: int, means: dict[str, float], meta_base: dict, images: int) -> None:
    """The generator and discriminator of this epoch, its sample grid and the loss plot."""
    G.eval()
    with torch.no_grad():
        grid, nrow = sample_grid_images(G, fixed_noise)
    save_grid(grid, run_dir / "samples" / f"epoch_{epoch:03d}.png", nrow=nrow)
    G.train()
    shared = {k: v for k, v in meta_base.items() if k != "config"}
    save_generator(run_dir / "generator.safetensors", G,
                   {**shared, "epochs": epoch, "images": images * epoch, "losses": means})
    save_tensors(run_dir / "discriminator.safetensors", D.state_dict(),
                 {"kind": "discriminator", "model": G.config.to_dict(), "norm": "batch", "epochs": epoch})
    write_loss_plot(run_dir / "metrics.jsonl", run_dir / "loss.png", "change fine-tuning: loss per epoch")


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve().samefile(Path(b).resolve())
    except OSError:
        return False
