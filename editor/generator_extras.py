"""What each generator needs besides its weights, built once per process: the
latent bank (inversion starts), the GANSpace directions (explore sliders) and
what each direction was measured to do (the sliders' labels).

Built on first use, or ahead in `warm_up` (the UI runs it in a background
thread at start-up, so the first edit and slider move are fast). A lock per
entry, so a slow first build for one generator never blocks another's.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import torch

from gan.classifier import ExpressionClassifier
from gan.data import EXPRESSIONS

from .directions import LatentDirections
from .invert import LatentBank, build_latent_bank, invert
from .model_loading import CONDITIONAL_FILE
from .sliders import N_SLIDERS


class BuildOnce:
    """key -> value, each built once by the first caller that asks; others wait for it."""

    def __init__(self) -> None:
        self._values: dict[str, object] = {}
        self._lock = threading.Lock()
        self._entry_locks: dict[str, threading.Lock] = {}

    def get(self, key: str, build: Callable[[], object]):
        with self._lock:
            lock = self._entry_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = build()
            return self._values[key]

    def ready(self, key: str) -> bool:
        """Whether `key` is built already (asking never builds it)."""
        with self._lock:
            return key in self._values


class GeneratorExtras:
    """Banks, directions and direction labels of the editor's generators. `key` is
    "conditional" or an expression of the seed's model; `generator(expression)`
    returns a seed generator (raising ValueError for one that is unavailable)."""

    def __init__(self, conditional: torch.nn.Module | None, generator: Callable[[str], torch.nn.Module],
                 device: torch.device, classifier: ExpressionClassifier | None = None,
                 checkpoint_dir: Path | None = None) -> None:
        self.conditional, self.generator, self.device = conditional, generator, device
        self.classifier, self.checkpoint_dir = classifier, checkpoint_dir
        self._built = BuildOnce()

    def _generator_and_label(self, key: str) -> tuple[torch.nn.Module, torch.Tensor | None]:
        """The generator of `key`, and for the conditional one the label its bank and
        warm-up render at: the mean expression, a face no expression pulls at."""
        if key == "conditional":
            return self.conditional, torch.full((len(EXPRESSIONS),), 1.0 / len(EXPRESSIONS))
        return self.generator(key), None

    def bank(self, key: str) -> LatentBank:
        """Latent bank for inversion starts."""
        G, label = self._generator_and_label(key)
        return self._built.get(f"bank:{key}", lambda: build_latent_bank(G, device=self.device, label=label))

    def directions(self, key: str) -> LatentDirections:
        """GANSpace directions (also cached on disk beside the checkpoint, see directions.py)."""
        from .directions import cached_directions

        G, _ = self._generator_and_label(key)
        name = CONDITIONAL_FILE if key == "conditional" else f"{key}.safetensors"
        checkpoint = self.checkpoint_dir / name if self.checkpoint_dir else None
        return self._built.get(f"directions:{key}",
                               lambda: cached_directions(G, device=self.device, checkpoint=checkpoint))

    def direction_labels(self, key: str, count: int) -> list[str]:
        """What each of the first `count` directions does: measured changes in the
        classifier's reading and the region that moves most (conditional model with
        a classifier), else their share of the variation."""
        directions = self.directions(key)
        if key == "conditional" and self.classifier is not None:
            from .direction_labels import describe_directions

            return self._built.get(f"labels:{key}:{count}", lambda: describe_directions(
                self.conditional, directions, self.classifier, count=count, device=self.device))
        return [f"{directions.explained_variance_ratio[k]:.1%} of the generator's variation"
                for k in range(min(count, len(directions)))]

    def direction_labels_ready(self, key: str, count: int) -> bool:
        """Whether `direction_labels(key, count)` would answer at once."""
        if key == "conditional" and self.classifier is not None:
            return self._built.ready(f"labels:{key}:{count}")
        return self._built.ready(f"directions:{key}")

    def warm_up(self, key: str, mask: torch.Tensor, stop: threading.Event | None = None) -> None:
        """Build `key`'s bank, directions and slider labels and pay the first inversion's
        kernel set-up now. `stop` ends it between steps: a thread still inside torch
        when the interpreter exits aborts the process."""
        steps = [lambda: self.bank(key), lambda: self.directions(key),
                 lambda: self.direction_labels(key, N_SLIDERS), lambda: self._first_inversion(key, mask)]
        for step in steps:
            if stop is not None and stop.is_set():
                return
            step()

    def _first_inversion(self, key: str, mask: torch.Tensor) -> None:
        """The first inversion in a process pays ~1 s of kernel set-up: pay it now."""
        bank = self.bank(key)
        G, label = self._generator_and_label(key)
        with torch.no_grad():
            z = bank.z[:1].to(self.device)
            target = G(z) if label is None else G(z, label[None].to(self.device))
        invert(G, target, mask=mask, steps=1, restarts=1, device=self.device, init_bank=bank, label=label)
