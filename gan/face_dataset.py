"""What every training-data reader returns, and the names they share: the
FER2013 expressions in label order, its splits, and the error a reader raises
for input it cannot use (gan/data.py, gan/fer_csv.py)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

# FER2013's label order: the `emotion` column's integers index this tuple.
EXPRESSIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SPLITS: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
FER_SIDE = 48


class DataError(ValueError):
    """A data file that cannot be used as given; the message says what to do."""


@dataclass
class FaceDataset:
    images: torch.Tensor  # [N, C, H, W] uint8
    labels: torch.Tensor | None  # [N] int64 FER2013 class, or None when unlabelled
    source: str  # human-readable description of where the images came from

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def first(self, limit: int | None) -> "FaceDataset":
        """The first `limit` images and their labels (--limit); all of them when `limit` is None."""
        if limit is None:
            return self
        return FaceDataset(self.images[:limit], None if self.labels is None else self.labels[:limit], self.source)


def expression_index(expression: str) -> int:
    """The FER2013 label of an expression name (any case)."""
    try:
        return EXPRESSIONS.index(expression.lower())
    except ValueError:
        raise DataError(f"unknown expression {expression!r}; choose one of {', '.join(EXPRESSIONS)}") from None
