"""What one training run is: its options (the defaults are the seed's recipe), the data they
select, and what `gan.train.train` reports as it goes and when it stops."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .data import EXPRESSIONS, DataError, FaceDataset, check_class_balance, detect_kind, load_dataset
from .models import ModelConfig
from .train_state import check_run_counts


# The run folder of data whose path names nothing usable (`--data /`, `--data .hidden.csv`).
RUN_NAME_FALLBACK = "data"


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
        if self.expression not in (None, "all") and self.expression.lower() in EXPRESSIONS:
            self.expression = self.expression.lower()  # "Happy" is happy, and trains into runs/.../happy
        if self.expression not in (None, "all", *EXPRESSIONS):
            raise ValueError(f"--expression must be one of {', '.join(EXPRESSIONS)} or all, got {self.expression!r}")
        if self.conditional and self.expression is not None:
            raise ValueError("--model conditional trains on every expression at once; drop --expression")
        # A latent or width of 0 would only fail deep in torch, as a shape error.
        check_run_counts(self, ("sample_count", 1), ("nz", 1), ("ngf", 1), ("ndf", 1))
        check_class_balance(self.class_balance)

    @property
    def conditional(self) -> bool:
        return self.model == "conditional"

    def run_name(self) -> str:
        """The run's folder inside --out: one plain folder name, never --out itself or above it.

        The data's own name (fer2013.csv.gz -> fer2013), from its absolute path: `--data ..` or `.`
        gave an empty name, which put the run into --out itself, where --fresh deleted another run's
        generator.safetensors, config.json and samples/. (abspath, not resolve: a symlinked data
        file keeps the name its runs were made under.)"""
        if self.conditional:
            return "conditional"
        if self.expression:
            return self.expression  # one of EXPRESSIONS (__post_init__)
        # The last component of a normalised absolute path holds no separator, and cut at its
        # first dot no dot, so it is never "", "." or ".." but for "/" or ".hidden.csv": the fallback.
        name = Path(os.path.abspath(self.data)).name.split(".")[0]
        return name or RUN_NAME_FALLBACK

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
    steps_run: int = 0  # steps this call trained (0: the run had already trained its --epochs)


# Options that must match for a run folder to be resumed (the rest may change,
# e.g. --epochs grows a finished run). --data and --ferplus must name the same files, compared
# by content (train_state.open_run), not by how their paths are spelled.
RESUME_KEYS = ("model", "expression", "dataset", "split", "image_size", "channels", "limit",
                "batch_size", "nz", "ngf", "ndf", "seed", "class_balance", "d_norm")


def data_layout(config: TrainConfig) -> tuple[str, int, int]:
    """(layout, image size, channels) of the run's data: what --dataset/--image-size/--channels
    ask for, or the layout's own. DataError for a missing path or a shape the layout does not have."""
    if not Path(config.data).exists():
        raise DataError(f"{config.data}: no such file or folder; --data takes FER2013's csv(.gz), a CelebA zip "
                        "or folder, or a folder of images")
    kind = detect_kind(config.data) if config.dataset == "auto" else config.dataset
    size = config.image_size or (48 if kind == "fer2013" else 64)
    channels = config.channels or (1 if kind == "fer2013" else 3)
    # Layouts whose images come in one shape: say so rather than train another and record the asked-for.
    fixed = {"fer2013": (48, 1), "celeba": (None, 3)}.get(kind)
    if fixed and (fixed[0] not in (None, size) or channels != fixed[1]):
        shape = f"{fixed[0]}x{fixed[0]} " if fixed[0] else ""
        raise DataError(f"{config.data} is {kind} data, read as {shape}{'greyscale' if fixed[1] == 1 else 'colour'} "
                        "images; leave out --image-size/--channels, or pass its images as --dataset folder")
    return kind, size, channels


def load_training_data(config: TrainConfig) -> FaceDataset:
    kind, size, channels = data_layout(config)
    data = load_dataset(config.data, kind=kind, split=config.split, expression=config.expression,
                        ferplus=config.ferplus, image_size=size, channels=channels, limit=config.limit)
    return data.first(config.limit)


def expressions_for(choice: str | None) -> list[str | None]:
    """`--expression all` -> the seven; one name -> itself; None -> [None]."""
    if choice == "all":
        return list(EXPRESSIONS)
    return [choice]


def read_splits(config: TrainConfig) -> tuple[str, ...] | None:
    """The FER2013 split the run reads, which is all its data fingerprint covers (an image
    folder's test/ is not read by a Training run); None where every file is read."""
    kind, _, _ = data_layout(config)
    return (config.split,) if kind == "fer2013" else None


def unlabelled_data_message(config: TrainConfig) -> str:
    """--model conditional on images without expression labels: the layouts that have them."""
    path = Path(config.data)
    if not path.is_dir():
        return (f"{path} has no expression labels (no emotion column), which --model conditional needs; pass "
                "fer2013.csv(.gz) or Kaggle's train.csv")
    layout = f"{path / 'train'}/<expression>/*.jpg, one folder per expression ({', '.join(EXPRESSIONS)})"
    subfolders = sorted(p.name for p in path.iterdir() if p.is_dir())
    if any(name.lower() in EXPRESSIONS for name in subfolders):
        # DIR/<expression>/ is not read as labelled: a folder of colour photos sorted that way
        # would silently become 48x48 greyscale FER2013 faces.
        return (f"{path} holds expression folders ({', '.join(subfolders)}) directly, but --model conditional "
                f"reads expression labels from {layout}: move them into {path / 'train'}/ (and held-out faces "
                f"into {path / 'test'}/<expression>/ for train-classifier)")
    return (f"the images in {path} have no expression labels, which --model conditional needs; put them in "
            f"{layout}, or pass FER2013's csv")
