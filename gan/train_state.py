"""What lets a training run resume where it stopped: the loop's position, the
models' and optimisers' state and the random generators, in one safetensors file
(`state.safetensors`, JSON metadata, nothing pickled), and the checks before a run
folder is reused. Shared by every `python -m gan train*` command."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import torch
from torch import nn

from .checkpoint import CheckpointError, load_tensors, read_metadata, save_tensors
from .data import dataset_fingerprint
from .run_files import read_json


def check_run_counts(config: object, *extra: tuple[str, int]) -> None:
    """ValueError naming the flag when one of a run's counts is too small: --batch-size under 2
    (BatchNorm needs two images; 0 divided by zero after the data was read), --limit under 2,
    --epochs under 1 (0 wrote the untrained model as if trained), and any `extra` (name, least)."""
    for name, least in (("batch_size", 2), ("limit", 2), ("epochs", 1), *extra):
        value = getattr(config, name, None)
        if value is not None and value < least:
            raise ValueError(f"--{name.replace('_', '-')} must be at least {least}, got {value}")


def smoke_check_note(test_limit: int | None, faces: str, model: str) -> str:
    """What a --test-limit run's test numbers are ('' without one), said wherever they are shown:
    `faces` names what was measured ("PublicTest faces"), `model` whose accuracy it is not."""
    if test_limit is None:
        return ""
    return (f"measured on the first {test_limit} {faces} only (--test-limit): a smoke check that the run "
            f"works, not the {model}'s accuracy")


class RunState:
    """What a resumed run needs beyond the weights: where the loop stood."""

    def __init__(self, epoch: int = 0, step: int = 0, perm: torch.Tensor | None = None,
                 partial: torch.Tensor | None = None, seconds: float = 0.0, images: int = 0) -> None:
        self.epoch, self.step, self.perm, self.partial = epoch, step, perm, partial
        self.seconds, self.images = seconds, images


def adam_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """An optimiser's state as flat tensors named `prefix.state.<param>.<key>` plus its
    param_groups as JSON metadata: what safetensors can hold without pickling."""
    sd = opt.state_dict()
    tensors = {}
    for index, state in sd["state"].items():
        for key, value in state.items():
            tensors[f"{prefix}.state.{index}.{key}"] = value if torch.is_tensor(value) else torch.tensor(value)
    return tensors, {"param_groups": sd["param_groups"]}


def adam_state(prefix: str, tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    """The inverse of `adam_tensors`: a state_dict for `optimizer.load_state_dict`."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith(prefix + ".state."):
            index, key = name[len(prefix) + 7:].split(".", 1)
            state.setdefault(int(index), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def models_tensors(parts: dict[str, tuple[nn.Module, str, torch.optim.Optimizer]]) -> tuple[dict[str, torch.Tensor],
                                                                                           dict[str, dict]]:
    """The inverse of `restore_models`: each module's weights as `<key>.` tensors and its
    optimiser's state under its prefix, and {prefix: the optimiser's metadata}."""
    tensors, meta = {}, {}
    for key, (module, prefix, opt) in parts.items():
        tensors.update({f"{key}.{k}": v for k, v in module.state_dict().items()})
        opt_tensors, meta[prefix] = adam_tensors(prefix, opt)
        tensors.update(opt_tensors)
    return tensors, meta


def restore_models(tensors: dict[str, torch.Tensor], meta: dict,
                   parts: dict[str, tuple[nn.Module, str, torch.optim.Optimizer]]) -> None:
    """Load each module from its `<key>.` tensors and its optimiser from the `<prefix>` ones:
    parts = {key: (module, optimiser prefix, optimiser)}. Raises KeyError/RuntimeError on a mismatch.
    The optimisers' moments and step counts come back; their settings (lr, betas, weight decay)
    stay this run's (every trainer builds its optimisers from its config before restoring), so a
    changed --lr applies from here on, as config.json records."""
    for key, (module, prefix, opt) in parts.items():
        module.load_state_dict({k[len(key) + 1:]: v for k, v in tensors.items() if k.startswith(key + ".")})
        settings = [{name: value for name, value in group.items() if name != "params"} for group in opt.param_groups]
        opt.load_state_dict(adam_state(prefix, tensors, meta[prefix]))
        for group, kept in zip(opt.param_groups, settings):
            group.update(kept)


def save_state(path: Path, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
               rng: dict[str, torch.Generator], fixed_noise: torch.Tensor, run: RunState, meta: dict) -> None:
    tensors, opt_meta = models_tensors({"G": (G, "opt_g", opt_g), "D": (D, "opt_d", opt_d)})
    tensors.update({f"rng.{name}": gen.get_state() for name, gen in rng.items()})
    tensors["fixed_noise"] = fixed_noise
    if run.perm is not None:
        tensors["perm"] = run.perm
        tensors["partial"] = run.partial
    save_tensors(path, tensors, {**meta, "kind": "training_state", "epoch": run.epoch, "step": run.step,
                                 "seconds": run.seconds, "images": run.images, **opt_meta})


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
                  device: torch.device) -> tuple[torch.Tensor, RunState, dict]:
    tensors, meta = load_state(path)
    try:
        restore_models(tensors, meta, {"G": (G, "opt_g", opt_g), "D": (D, "opt_d", opt_d)})
        for name, gen in rng.items():
            gen.set_state(tensors[f"rng.{name}"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot resume from it ({exc}); delete it or pass --fresh to start over") from exc
    run = RunState(meta["epoch"], meta["step"], tensors.get("perm"), tensors.get("partial"),
                    meta.get("seconds", 0.0), meta.get("images", 0))
    return tensors["fixed_noise"].to(device), run, meta


def damaged_state_message(path: Path, reason: object) -> str:
    """A training state that cannot be read: the run can only start over (nothing else restores it)."""
    return (f"{path}: the saved training state is damaged or incomplete ({reason}), so the run cannot resume "
            "from it. Run the same command with --fresh to start this run over, or pass another --out")


# What the training commands write into a run folder besides state, metrics and config.
RUN_OUTPUTS = ("generator.safetensors", "discriminator.safetensors", "encoder.safetensors",
               "classifier.safetensors", "landmarks.safetensors", "loss.png")


# The options that name data files: a resume compares those files' SHA-256 (recorded in the
# state as "sha256"), not their paths.
DATA_OPTIONS = ("data", "ferplus")
# Options a resume may change that do not change how the model learns (--epochs to go on, ...).
_NOT_HYPERPARAMETERS = ("command", "out", "device", "epochs", "max_steps", "checkpoint_minutes", *DATA_OPTIONS)


def data_fingerprints(config: object, splits: tuple[str, ...] | None = None) -> dict[str, str | None]:
    """{option: SHA-256 of the file it names, or None when not given} for the run's data
    options (DATA_OPTIONS it has); what the state records and `open_run` compares. `splits`:
    the FER2013 splits the run reads, so an image folder's hash covers only their folders
    (dataset_fingerprint); None for the whole of it."""
    names = [name for name in DATA_OPTIONS if hasattr(config, name)]
    return {name: _fingerprint_of(getattr(config, name), splits if name == "data" else None) for name in names}


def _fingerprint_of(path: str | None, splits: tuple[str, ...] | None) -> str | None:
    return dataset_fingerprint(path, splits) if path else None


def open_run(run_dir: Path, config: object, keys: tuple[str, ...], *, fresh: bool = False,
             fingerprints: dict[str, str | None] | None = None) -> None:
    """Before training into `run_dir`, once the run's data and models have been read (so a typo
    in --data or a missing file fails before anything is removed): with `fresh`, forget its saved
    state, metrics, config and outputs (start over); otherwise refuse to continue a run whose
    options differ in `keys`, or whose state was trained on other data than `fingerprints`
    (data_fingerprints: the same file however its path is spelled is the same data, and
    another file at the same path is other data)."""
    if fresh:  # and the old run's outputs: a generator of epoch 2 must not sit beside a new run's config
        for name in ("state.safetensors", "metrics.jsonl", "config.json", *RUN_OUTPUTS):
            (run_dir / name).unlink(missing_ok=True)
        shutil.rmtree(run_dir / "samples", ignore_errors=True)
        return
    state = saved_state_metadata(run_dir / "state.safetensors")
    saved_path = run_dir / "config.json"
    # config.json deleted (as its damage message allows): the state records the run's options too.
    saved = read_json(saved_path) if saved_path.exists() else (state or {}).get("config")
    if saved is not None:
        changed = [f"{k} (it has {saved.get(k)!r}, this command {getattr(config, k)!r})"
                   for k in keys if saved.get(k) != getattr(config, k)]
        if changed:
            raise ValueError(f"{run_dir} holds a run with different {', '.join(changed)}; pass the same "
                             "values to resume it, another --out, or --fresh to overwrite it")
    if state is None:
        return
    recorded = dict(state.get("sha256") or {})
    if state.get("dataset_sha256"):  # what every state records (the only record of older ones)
        recorded.setdefault("data", state["dataset_sha256"])
    for name, sha256 in (fingerprints or {}).items():
        # A run recorded before a split's hash covered only its folders has the whole folder's.
        # (Hashed again only when the split's hash differs: a folder's hash stats every file.)
        if name in recorded and recorded[name] != sha256 and recorded[name] != _fingerprint_of(
                getattr(config, name), None):
            what = "data" if name == "data" else f"--{name} labels"
            raise ValueError(f"{run_dir} was trained on other {what} than {getattr(config, name) or 'none'} "
                             f"(its SHA-256 differs); pass the same --{name} to resume, another --out, or "
                             "--fresh to start over")
    # The data is the run's own (checked above). A resume may change the rest (--lr, --lambda-ac, ...):
    # say so, not silently (leaving out a flag the first command had went on with its default).
    if saved is not None:
        retuned = [f"{k} {saved[k]!r} -> {v!r}" for k, v in vars(config).items()
                   if k in saved and k not in keys and k not in _NOT_HYPERPARAMETERS and saved[k] != v]
        if retuned:
            print(f"note: resuming {run_dir} with {', '.join(retuned)}; the changed values apply from here on "
                  "(config.json records them)", file=sys.stderr)


def saved_state_metadata(path: Path) -> dict | None:
    """The metadata of a run's saved state (None when there is none), without its tensors."""
    if not path.exists():
        return None
    try:
        return read_metadata(path)
    except CheckpointError as exc:
        raise CheckpointError(damaged_state_message(path, exc.__cause__ or exc)) from exc


def check_epochs_done(run_dir: Path, done: int, asked: int) -> None:
    """Refuse an --epochs below what the run has done: its final file would claim `asked` epochs
    of a model trained for `done`."""
    if done > asked:
        raise ValueError(f"{run_dir} has already trained {done} epochs, more than --epochs {asked}; pass "
                         f"--epochs {done} or more to keep it (its files stay as they are), another --out, or "
                         "--fresh to start over")
