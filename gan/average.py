"""Weight averaging of generators: a "model soup" (Wortsman et al. 2022).

Two fine-tunings of the same generator (for example two `train-change` stages,
the second started from the first) lie in one basin of the loss, and the
average of their weights is often better than either: the average of the
conditional generator's two change fine-tunings read as its expression more
often than both (model card, "The average of the two stages"). Averaging needs the same architecture;
the result is a plain generator file whose metadata names every ingredient.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import torch

from .checkpoint import CheckpointError, load_generator

# Metadata of an ingredient worth keeping: enough to rebuild it, nothing bulky (its sittings,
# run_history, and those of the generator it was fine-tuned from: a resumed stage is not one command).
_INGREDIENT_KEYS = ("command", "epochs", "history", "from_command", "from_epochs", "from_history", "teacher_command",
                    "dataset_sha256")


def average_state_dicts(states: Sequence[dict[str, torch.Tensor]], weights: Sequence[float]
                        ) -> dict[str, torch.Tensor]:
    """The weighted mean of floating-point tensors (BatchNorm running statistics
    included); integer tensors (BatchNorm's batch counter) come from the first state."""
    if len(states) != len(weights) or not states:
        raise ValueError(f"need one weight per state, got {len(states)} states and {len(weights)} weights")
    total = float(sum(weights))
    if total <= 0 or any(w < 0 for w in weights):
        raise ValueError(f"weights must be non-negative with a positive sum, got {list(weights)}")
    keys = set(states[0])
    for i, state in enumerate(states[1:], start=1):
        if set(state) != keys:
            raise ValueError(f"ingredient {i + 1} has other tensors than the first: not the same architecture")
    averaged = {}
    for key, first in states[0].items():
        if first.is_floating_point():
            averaged[key] = sum(state[key].float() * (w / total) for state, w in zip(states, weights))
        else:
            averaged[key] = first.clone()
    return averaged


def average_generators(paths: Sequence[str | Path], weights: Sequence[float] | None = None
                       ) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Load the generators at `paths` and average their weights (equal shares by
    default). Returns the averaged generator and the metadata to save with it."""
    if len(paths) < 2:
        raise ValueError("averaging needs at least two generators")
    weights = [1.0] * len(paths) if weights is None else list(weights)
    if len(weights) != len(paths):  # before reading any file: a typo should not cost the loads
        raise ValueError(f"need one weight per generator, got {len(paths)} generators and {len(weights)} weights")
    loaded = [load_generator(path) for path in paths]
    first_config = loaded[0][0].config
    for path, (G, _) in zip(paths[1:], loaded[1:]):
        if G.config != first_config:
            raise CheckpointError(f"{path}: another architecture than {paths[0]} ({G.config} against "
                                  f"{first_config}); only fine-tunings of one generator can be averaged")
    expressions = {meta.get("expression") for _, meta in loaded}
    if len(expressions) > 1:  # e.g. sad.safetensors + happy.safetensors: two models, not two fine-tunings
        raise CheckpointError(f"{', '.join(map(str, paths))} draw different expressions "
                              f"({', '.join(sorted(map(str, expressions)))}); only fine-tunings of one "
                              "generator can be averaged")
    G = loaded[0][0]
    G.load_state_dict(average_state_dicts([g.state_dict() for g, _ in loaded], weights))
    total = sum(weights)
    ingredients = [{"path": str(path), "weight": w / total, **{k: meta[k] for k in _INGREDIENT_KEYS if k in meta}}
                   for path, (_, meta), w in zip(paths, loaded, weights)]
    first_meta = loaded[0][1]
    meta = {k: v for k, v in first_meta.items() if k in ("dataset", "dataset_sha256", "expression")}
    meta.update({"averaged_from": ingredients, "epochs": max(m.get("epochs") or 0 for _, m in loaded)})
    return G, meta
