"""Loading the editor's models from a checkpoint folder, each on its own.

A missing or damaged checkpoint takes out only its model: the others load, and
the problem (what is wrong, how to restore it) is kept so the UI can say it.
Only when no generator or the face detector cannot load does the editor stop,
with a message that says how to restore or train them.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import torch

from gan.checkpoint import CheckpointError, load_generator
from gan.classifier import ExpressionClassifier, load_classifier
from gan.data import EXPRESSIONS
from gan.encoder import Encoder, encoder_mismatch, load_encoder
from gan.landmarks import LandmarkRegressor, load_landmarks
from gan.models import Generator

from .faces import FER_SIZE as CROP_SIZE, FaceDetector
from .glasses import GlassesDetector, load_glasses

CLASSIFIER_FILE = "classifier.safetensors"
CONDITIONAL_FILE = "conditional.safetensors"
ENCODER_FILE = "encoder.safetensors"
DETECTOR_FILE = "mtcnn.safetensors"
LANDMARKS_FILE = "landmarks.safetensors"
GLASSES_FILE = "glasses.safetensors"
T = TypeVar("T")


class MissingCheckpointsError(RuntimeError):
    """No usable generator, or no face detector; the message says how to train or restore them."""


def load_each(paths: dict[str, Path], load: Callable[[Path], T]) -> tuple[dict[str, T], dict[str, str]]:
    """Load every file of `paths` (name -> file). One that is missing or damaged does not stop
    the others: it is returned in the second dict, name -> what is wrong and how to restore it."""
    loaded, problems = {}, {}
    for name, path in paths.items():
        try:
            loaded[name] = load(path)
        except CheckpointError as exc:
            problems[name] = str(exc)
    return loaded, problems


@dataclass
class LoadedModels:
    """Everything `load_models` found; None (or empty) where a checkpoint did not load."""

    generators: dict[str, Generator]  # the seed's per-expression generators
    detector: FaceDetector
    metadata: dict[str, dict] = field(default_factory=dict)
    classifier: ExpressionClassifier | None = None
    classifier_problem: str | None = None  # why there is no classifier (shown in the UI)
    conditional: torch.nn.Module | None = None
    encoder: Encoder | None = None
    landmarks: LandmarkRegressor | None = None  # where the renders' mouth and jaw are (None: optical flow)
    unavailable: dict[str, str] = field(default_factory=dict)  # model -> what is wrong, how to restore it
    glasses: GlassesDetector | None = None  # None: every face counts as wearing glasses (brows held still)


def load_models(checkpoint_dir: Path, device: torch.device,
                expressions: tuple[str, ...] = EXPRESSIONS) -> LoadedModels:
    """The conditional generator and its encoder, every `<expression>.safetensors` of the
    seed's model, the classifier and the detector from `checkpoint_dir`, each on its own
    (warnings on stderr for those that do not load). MissingCheckpointsError when no
    generator loads or the face detector does not."""

    folder_problem = checkpoint_folder_problem(checkpoint_dir)
    if folder_problem:
        raise MissingCheckpointsError(folder_problem)

    def load_one(path: Path):
        G, meta = load_generator(path, device, retrain=("python -m gan train --model conditional"
                                                       if path.name == CONDITIONAL_FILE else "python -m gan train"))
        if path.name == CONDITIONAL_FILE and not getattr(G.config, "n_classes", 0):
            raise CheckpointError(f"{path}: not a conditional generator")
        if path.name != CONDITIONAL_FILE and getattr(G.config, "n_classes", 0):
            raise CheckpointError(f"{path}: a conditional generator (every expression in one), where the seed "
                                  f"model's {path.stem} generator belongs; the editor takes it as "
                                  f"{path.parent / CONDITIONAL_FILE}")
        size, channels = G.config.image_size, G.config.channels
        if (size, channels) != (CROP_SIZE, 1):  # faces are aligned into FER2013's 48x48 grey crops
            raise CheckpointError(f"{path}: a {size}x{size} generator with {channels} channel(s); the editor "
                                  f"needs {CROP_SIZE}x{CROP_SIZE} greyscale ones, as trained on FER2013 "
                                  "(python -m gan train --data fer2013.csv.gz ...)")
        return G, meta

    files = {e: checkpoint_dir / f"{e}.safetensors" for e in expressions}
    loaded, unavailable = load_each({**files, "conditional": checkpoint_dir / CONDITIONAL_FILE}, load_one)
    conditional, conditional_meta = loaded.pop("conditional", (None, None))
    if not loaded and conditional is None:
        raise MissingCheckpointsError(missing_message(checkpoint_dir, list(unavailable.values())))
    for name, problem in summarised(unavailable, expressions, checkpoint_dir, conditional is not None).items():
        print(f"warning: the {name} model is unavailable: {problem}", file=sys.stderr)
    metadata = {name: meta for name, (_, meta) in loaded.items()}
    encoder = landmarks = None
    if conditional is not None:
        metadata["conditional"] = conditional_meta
        try:
            encoder, metadata["encoder"] = load_encoder(checkpoint_dir / ENCODER_FILE, device)
            mismatch = encoder_mismatch(encoder.config, conditional.config) or encoder_misfit(encoder, conditional)
            if mismatch:
                encoder = None
                raise CheckpointError(
                    f"{checkpoint_dir / ENCODER_FILE} does not belong to {checkpoint_dir / CONDITIONAL_FILE} "
                    f"({mismatch}); train one for it with `python -m gan train-encoder --generator "
                    f"{checkpoint_dir / CONDITIONAL_FILE} ...`")
        except CheckpointError as exc:
            print(f"warning: {exc}; inversions start from the latent bank instead", file=sys.stderr)
        try:
            landmarks, metadata["landmarks"] = load_landmarks(checkpoint_dir / LANDMARKS_FILE, device)
        except CheckpointError as exc:
            print(f"warning: {exc}; the flow transfer falls back to optical flow (mouths barely move)",
                  file=sys.stderr)
    try:
        detector = FaceDetector(device, weights=checkpoint_dir / DETECTOR_FILE)
    except CheckpointError as exc:
        raise MissingCheckpointsError(str(exc)) from None
    classifier, classifier_problem = None, None
    try:
        classifier, _ = load_classifier(checkpoint_dir / CLASSIFIER_FILE, device)
    except CheckpointError as exc:
        classifier_problem = f"The expression read-out is off: {exc}"
        print(f"warning: {classifier_problem}", file=sys.stderr)
    glasses = None
    if conditional is not None:  # only the conditional model's flow transfer moves brows and lids
        try:
            glasses, metadata["glasses"] = load_glasses(checkpoint_dir / GLASSES_FILE)
        except CheckpointError as exc:
            print(f"warning: {exc}; brows and eyelids hold still on every face", file=sys.stderr)
    return LoadedModels({name: G for name, (G, _) in loaded.items()}, detector, metadata, classifier,
                        classifier_problem, conditional, encoder, landmarks, unavailable, glasses)


# An encoder fits its generator when its guesses for the generator's own samples redraw them at
# most this fraction of the mean latent's squared error (measured: the shipped pair 0.13; the
# shipped encoder with generators retrained for the editor by someone else, 0.76 and 1.02).
ENCODER_FIT = 0.5
# Below this mean squared error of the mean z's redraw (images in [-1, 1]) the generator's samples
# barely differ (a generator trained for minutes collapses to nearly one face): no encoder can do
# better than the mean z there, so the check cannot tell and lets the encoder be.
ENCODER_FIT_SPREAD = 0.01


@torch.no_grad()
def encoder_misfit(encoder: Encoder, generator: torch.nn.Module, *, per_class: int = 2) -> str | None:
    """Why `encoder` is not this generator's (it was trained against another one: a retrained
    generator beside the shipped encoder; or so briefly that it guesses no better than the mean z),
    or None. Its shapes can match while its z's mean
    nothing to this generator, which would start every inversion from a poor guess without a
    word; so: encode a few of the generator's own samples and redraw them."""
    config = generator.config
    device = next(generator.parameters()).device
    count = per_class * config.n_classes
    z = torch.randn(count, config.nz, generator=torch.Generator().manual_seed(0)).to(device)
    labels = torch.eye(config.n_classes, device=device).repeat(per_class, 1)
    samples = generator(z, labels)
    guessed = generator(encoder(samples)[0], labels)
    mean = generator(torch.zeros_like(z), labels)
    spread = float((mean - samples).square().mean())
    ratio = float((guessed - samples).square().mean()) / max(spread, 1e-12)
    if ratio <= ENCODER_FIT or spread < ENCODER_FIT_SPREAD:
        return None
    return (f"its z's redraw the generator's own samples {ratio:.2f}x as far off as the mean z does (its own "
            f"generator: about 0.1): it was trained for another generator, or for too short a time")


def checkpoint_folder_problem(checkpoint_dir: Path) -> str | None:
    """What to tell someone whose `--checkpoints` is no folder, or None."""
    if checkpoint_dir.is_dir():
        return None
    what = f"{checkpoint_dir} is a file" if checkpoint_dir.is_file() else f"{checkpoint_dir}: no such folder"
    return (f"--checkpoints {what}; give the folder that holds {CONDITIONAL_FILE} (the default model), "
            f"{DETECTOR_FILE} and the others, e.g. a copy of the shipped checkpoints/")


def summarised(unavailable: dict[str, str], expressions: tuple[str, ...], checkpoint_dir: Path,
               have_conditional: bool) -> dict[str, str]:
    """`unavailable` (model -> problem) as people are told it: a folder with the conditional model
    and none of the seed's files (a retrained conditional model, say) gets one entry for the
    seed model, not one per expression; a missing or damaged conditional model says that the
    seed model is used instead."""
    unavailable = dict(unavailable)
    if "conditional" in unavailable and any(e not in unavailable for e in expressions):
        unavailable["conditional"] += " (without it, the seed model is the default)"
    missing_seed = [e for e in expressions if e in unavailable and ": no such checkpoint" in unavailable[e]]
    # Only when every expression was looked for: `edit --model seed --expression happy` loads happy's
    # file alone, and its absence is happy's problem, not "none of its 1 files".
    if not (have_conditional and set(expressions) == set(EXPRESSIONS) and len(missing_seed) == len(expressions)):
        return unavailable
    return {"seed": f"none of its {len(expressions)} <expression>.safetensors files is in {checkpoint_dir} "
                    "(the conditional model, the default, is used)",
            **{name: p for name, p in unavailable.items() if name not in missing_seed}}


def missing_message(checkpoint_dir: Path, problems: list[str] | None = None) -> str:
    lines = [f"No usable expression generators in {checkpoint_dir}."]
    lines += [f"  - {p}" for p in problems or []]
    lines += ["Restore the shipped ones with `git checkout -- checkpoints/`, or train your own (the default, "
              f"conditional model: {CONDITIONAL_FILE}):",
              "  python -m gan train --model conditional --data ../shared/data/fer2013.csv.gz --out runs/fer2013",
              "  python -m gan export runs/fer2013/conditional/generator.safetensors -o "
              f"{checkpoint_dir / CONDITIONAL_FILE}"]
    return "\n".join(lines)
