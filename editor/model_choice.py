"""Which models can edit a photo: the conditional generator (the default) and the
seed's per-expression generators, less those whose checkpoint is missing or
damaged, which are refused with what is wrong and how to restore it."""

from __future__ import annotations

import torch

from gan.data import EXPRESSIONS
from gan.models import Generator

from .edits import MODELS


class ModelChoice:
    def __init__(self, generators: dict[str, Generator], conditional: torch.nn.Module | None,
                 unavailable: dict[str, str] | None = None) -> None:
        self.generators = generators  # the seed's per-expression generators
        self.conditional = conditional  # the one generator for every expression (None: not shipped)
        # Models whose checkpoint is missing or damaged ("conditional", or a seed expression):
        # name -> what is wrong and how to restore it. The others work; only these are refused.
        self.unavailable = dict(unavailable or {})

    @property
    def models(self) -> tuple[str, ...]:
        """The models that can edit, the default first."""
        return tuple(m for m in MODELS if (m == "conditional" and self.conditional is not None)
                     or (m == "seed" and self.generators))

    @property
    def default_model(self) -> str:
        return self.models[0]

    @property
    def expressions(self) -> tuple[str, ...]:
        return self.expressions_of(self.default_model)

    def expressions_of(self, model: str) -> tuple[str, ...]:
        return EXPRESSIONS if model == "conditional" else tuple(self.generators)

    def usable_model(self, model: str | None) -> str:
        """`model` (None: the default) if it can edit, else ValueError saying why and what can."""
        model = model or self.default_model
        if model in self.unavailable:
            raise ValueError(f"the {model} model is unavailable: {self.unavailable[model]}")
        if model == "seed" and not self.generators:  # each asked-for seed generator unusable: say why
            problems = [f"the {e} model is unavailable: {self.unavailable[e]}" for e in EXPRESSIONS
                        if e in self.unavailable]
            if problems:
                raise ValueError("; ".join(problems))
        if model not in self.models:
            raise ValueError(f"model {model!r} is not available; choose one of {', '.join(self.models)}")
        return model

    def generator(self, expression: str) -> Generator:
        """The seed model's generator of `expression`."""
        if expression in self.unavailable:
            raise ValueError(f"the {expression} model is unavailable: {self.unavailable[expression]}")
        try:
            return self.generators[expression]
        except KeyError:
            raise ValueError(f"unknown expression {expression!r}; choose one of {', '.join(self.generators)}") from None
