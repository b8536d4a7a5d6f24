"""Checkpoints: safetensors tensors plus JSON metadata. Nothing is pickled.

Two kinds of file share this format:
- a *generator* file (`kind: generator`): G's weights and the metadata needed to
  rebuild it (architecture, expression, dataset, epochs, command, version), and the sittings
  a resumed run was trained in (history: gan/run_history.py);
- a *training state* file (`kind: training_state`): G, D, both Adam states, the
  RNG state and the loop position, so a run resumes exactly where it stopped.
Writes are atomic: a temporary file in the same folder, then `os.replace`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from .models import ModelConfig, build_generator

FORMAT_VERSION = 1
_META_KEY = "expression_editor"


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, corrupt or of the wrong kind; the message says how to fix it."""


def _package_version() -> str:
    from . import __version__

    return __version__


def save_tensors(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
    """Atomically write `tensors` with `metadata` (any JSON-serialisable dict)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"format_version": FORMAT_VERSION, "package_version": _package_version(), **metadata}
    # safetensors wants contiguous CPU tensors that share no memory.
    clean = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(clean, tmp, metadata={_META_KEY: json.dumps(meta)})
        os.chmod(tmp, 0o644)  # mkstemp makes files private; checkpoints are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_metadata(path: str | Path, *, retrain: str = "python -m gan train") -> dict[str, Any]:
    """The JSON metadata of a checkpoint, without loading its tensors; `retrain` is the command
    that makes such a file, for the error when there is none."""
    path = _existing(path, retrain)
    try:
        with safe_open(str(path), framework="pt") as handle:
            raw = (handle.metadata() or {}).get(_META_KEY)
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(_corrupt(path, exc, retrain)) from exc
    if raw is None:
        raise CheckpointError(f"{path}: a safetensors file without expression-editor metadata; "
                              "it was not written by `python -m gan`")
    try:
        metadata = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CheckpointError(_corrupt(path, exc, retrain)) from exc
    if not isinstance(metadata, dict):  # valid JSON, but a list or a number failed later as AttributeError
        raise CheckpointError(_corrupt(path, ValueError(f"its metadata is a JSON {type(metadata).__name__}, "
                                                        "not an object"), retrain))
    return metadata


def load_tensors(path: str | Path, device: str | torch.device = "cpu", *,
                 retrain: str = "python -m gan train") -> tuple[dict[str, torch.Tensor], dict]:
    metadata = read_metadata(path, retrain=retrain)
    try:
        tensors = load_file(str(path), device=str(device))
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(_corrupt(Path(path), exc, retrain)) from exc
    return tensors, metadata


def _existing(path: str | Path, retrain: str = "python -m gan train") -> Path:
    """`path`, or a CheckpointError naming the command that makes such a file (`retrain`: a
    classifier's is not a generator's) and, for the shipped folder only, git's restore."""
    path = Path(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.safetensors"))[:3]
        example = path / (inside[0] if inside else "generator.safetensors")
        holds = f" (it holds {', '.join(inside)}{', ...' if len(inside) == 3 else ''})" if inside else ""
        raise CheckpointError(f"{path} is a folder; give the checkpoint file in it, e.g. {example}{holds}")
    if not path.is_file():
        fix = f"Train one with `{retrain}` (see README, 'Training')"
        if _is_shipped(path):  # git has only the shipped files; a run's own output is made by its command
            fix += f", or restore the shipped one with `git checkout -- {path}`"
        raise CheckpointError(f"{path}: no such checkpoint. {fix}")
    return path


def _corrupt(path: Path, exc: Exception, retrain: str = "python -m gan train") -> str:
    # git restores only the shipped files; a run's own output is made again by its command.
    if _is_shipped(path):
        fix = f"Restore it with `git checkout -- {path}` or retrain it with `{retrain}`"
    else:
        fix = "Make it again: re-run the command that wrote it"
    return f"{path}: the checkpoint is corrupt or truncated ({exc}). {fix} (see README, 'Training')"


def _is_shipped(path: Path) -> bool:
    from .shipped import SHIPPED_CHECKPOINTS

    return Path(path).resolve().parent == SHIPPED_CHECKPOINTS.resolve()


def rebuild(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, Any],
            build: Callable[[dict[str, Any]], torch.nn.Module], *,
            retrain: str = "python -m gan train") -> torch.nn.Module:
    """The module `build(metadata["model"])` with `tensors` loaded as float32 (files may
    store float16). Metadata or weights that do not fit it are a CheckpointError that says
    how to restore the file or retrain it (`retrain`: the command)."""
    try:
        module = build(metadata["model"])
        module.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in tensors.items()})
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(_corrupt(Path(path), exc, retrain)) from exc
    return module


def _a(kind: object) -> str:
    """A file's kind with its article, for messages: "an 'encoder'", "a 'generator'"."""
    return f"{'an' if str(kind)[:1].lower() in tuple('aeiou') else 'a'} {kind!r}"


def load_module(path: str | Path, kind: str, what: str, build: Callable[[dict[str, Any]], torch.nn.Module], *,
                retrain: str, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """A model of `kind` (metadata "kind", described as `what` in errors) rebuilt from its file
    alone with `build(metadata["model"])`, in eval mode, on `device`."""
    tensors, metadata = load_tensors(path, device, retrain=retrain)
    if metadata.get("kind") != kind:
        raise CheckpointError(f"{path}: holds {_a(metadata.get('kind'))}, not {what}")
    module = rebuild(path, tensors, metadata, build, retrain=retrain)
    return module.to(device).eval(), metadata


def generator_metadata(config: ModelConfig, /, **extra: Any) -> dict[str, Any]:
    """A generator file's metadata; `config` is positional-only, so `extra` may hold a
    "config" of its own (a training run's settings) without clashing with it."""
    return {"kind": "generator", "model": config.to_dict(), **extra}


def save_generator(path: str | Path, G: torch.nn.Module, metadata: dict[str, Any], *, half: bool = False) -> None:
    """Save G's weights (optionally as float16) with its metadata."""
    state = G.state_dict()
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_tensors(path, state, generator_metadata(G.config, **metadata, dtype="float16" if half else "float32"))


def load_generator(path: str | Path, device: str | torch.device = "cpu", *,
                   retrain: str = "python -m gan train") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a generator (the seed's `Generator`, or a `ConditionalGenerator`
    when the metadata has `n_classes`) from its file alone, in eval mode,
    float32, on `device`; `retrain`: the command that makes such a file, for the errors.

    Accepts generator files and training-state files (whose G is under `G.`)."""
    tensors, metadata = load_tensors(path, device, retrain=retrain)
    kind = metadata.get("kind")
    if kind == "training_state":
        tensors = {k[2:]: v for k, v in tensors.items() if k.startswith("G.")}
    elif kind != "generator":
        raise CheckpointError(f"{path}: holds {_a(kind)}, not a generator")
    G = rebuild(path, tensors, metadata, lambda model: build_generator(ModelConfig(**model)), retrain=retrain)
    return G.to(device).eval(), metadata
