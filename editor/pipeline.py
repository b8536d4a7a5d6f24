"""The editor: photo -> faces -> aligned crops -> z -> generated crops -> blended photo.

`Editor.load()` reads every expression generator and the face detector once;
`edit()` runs the stages for one photo and keeps what the sliders need
(per-face z and alignment), and `render()` re-runs only the generator and the
blend for new z's. An Editor holds no per-request state, so one instance
serves concurrent requests.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np
import torch

from gan.checkpoint import CheckpointError, load_generator
from gan.classifier import ExpressionClassifier, load_classifier, predict_proba
from gan.data import EXPRESSIONS
from gan.models import Generator
from gan.train import resolve_device
from gan.train import to_model_range as images_to_model_range

from .blend import crop_face_mask, paste_back
from .faces import Alignment, Face, FaceDetector, align_face
from .invert import build_latent_bank, invert
from .photo import Photo, read_photo

DEFAULT_CHECKPOINTS = Path(__file__).resolve().parents[1] / "checkpoints"
CROP_SIZE = 48
CLASSIFIER_FILE = "classifier.safetensors"

ProgressFn = Callable[[float, str], None]
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


@dataclass(frozen=True)
class EditSettings:
    steps: int | None = None  # None: invert's default
    restarts: int | None = None
    strength: float = 1.0
    blend_mode: str = "alpha"  # "alpha" or "poisson"
    seed: int = 0


@dataclass(frozen=True)
class ExpressionGuess:
    """What the expression classifier reads in one face."""

    expression: str  # the most probable expression
    probability: float  # its probability, 0-1
    probabilities: dict[str, float]  # every expression's probability

    def __str__(self) -> str:
        return f"{self.expression} {self.probability:.0%}"


@dataclass
class FaceEdit:
    index: int  # position in the detected faces (left to right)
    face: Face
    alignment: Alignment
    aligned: np.ndarray  # [48, 48] uint8, the photo's face as the generator sees it
    z: torch.Tensor  # [1, nz], the inverted latent
    generated: np.ndarray  # [48, 48] uint8, G(z)
    loss: float
    before: ExpressionGuess | None = None  # the classifier on the face as it was (None: no classifier)
    after: ExpressionGuess | None = None  # ... and on the edited face, re-cropped from the edited photo


@dataclass
class EditResult:
    image: np.ndarray  # [H, W, 3] uint8, the edited photo
    original: np.ndarray  # [H, W, 3] uint8
    photo: Photo
    expression: str
    faces: list[FaceEdit]
    settings: EditSettings = field(default_factory=EditSettings)


def to_model_range(crop: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """[48, 48] uint8 -> [1, 1, 48, 48] float in [-1, 1], the scaling training used."""
    return images_to_model_range(torch.from_numpy(crop)[None, None]).to(device)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """[1, 1, 48, 48] (or [48, 48]) in [-1, 1] -> [48, 48] uint8."""
    return ((image.detach().float().cpu().reshape(image.shape[-2:]) + 1) * 127.5).round().clamp(0, 255).to(
        torch.uint8).numpy()


class Editor:
    def __init__(self, generators: dict[str, Generator], detector: FaceDetector, device: torch.device,
                 metadata: dict[str, dict] | None = None, checkpoint_dir: Path | None = None,
                 classifier: ExpressionClassifier | None = None, classifier_problem: str | None = None,
                 unavailable: dict[str, str] | None = None) -> None:
        if not generators:
            raise MissingCheckpointsError(_missing_message(checkpoint_dir or DEFAULT_CHECKPOINTS))
        self.generators = generators
        # Models whose checkpoint is missing or damaged: name -> what is wrong and how to restore it.
        # The others work; only these choices are refused.
        self.unavailable = dict(unavailable or {})
        self.detector = detector
        self.device = device
        self.metadata = metadata or {}
        self.checkpoint_dir = checkpoint_dir
        self.classifier = classifier
        # Why there is no classifier (shown in the UI); editing works without one.
        self.classifier_problem = classifier_problem
        self._mask = torch.from_numpy(crop_face_mask(CROP_SIZE))[None, None].to(device)  # [1,1,48,48] in [0,1]
        self._banks: dict[str, object] = {}
        self._directions: dict[str, object] = {}
        self._lock = threading.Lock()
        self._entry_locks: dict[tuple[int, str], threading.Lock] = {}

    @classmethod
    def load(cls, checkpoint_dir: str | Path = DEFAULT_CHECKPOINTS, device: str = "auto",
             expressions: tuple[str, ...] = EXPRESSIONS) -> "Editor":
        """Load every `<expression>.safetensors` in `checkpoint_dir` and the detector.

        A missing or damaged generator makes only its expression unavailable
        (`unavailable` says why and how to restore it, and a warning is printed);
        MissingCheckpointsError when no generator loads or the face detector does not."""
        checkpoint_dir = Path(checkpoint_dir)
        dev = resolve_device(device)
        loaded, unavailable = load_each({e: checkpoint_dir / f"{e}.safetensors" for e in expressions},
                                        lambda path: load_generator(path, dev))
        if not loaded:
            raise MissingCheckpointsError(_missing_message(checkpoint_dir, list(unavailable.values())))
        for problem in unavailable.values():
            print(f"warning: starting without this model: {problem}", file=sys.stderr)
        generators = {name: G for name, (G, _) in loaded.items()}
        metadata = {name: meta for name, (_, meta) in loaded.items()}
        try:
            detector = FaceDetector(dev, weights=checkpoint_dir / "mtcnn.safetensors")
        except CheckpointError as exc:
            raise MissingCheckpointsError(str(exc)) from None
        classifier, problem = None, None
        try:
            classifier, _ = load_classifier(checkpoint_dir / CLASSIFIER_FILE, dev)
        except CheckpointError as exc:
            problem = f"The expression read-out is off: {exc}"
            print(f"warning: {problem}", file=sys.stderr)
        return cls(generators, detector, dev, metadata, checkpoint_dir, classifier, problem, unavailable)

    @property
    def expressions(self) -> tuple[str, ...]:
        return tuple(self.generators)

    def generator(self, expression: str) -> Generator:
        if expression in self.unavailable:
            raise ValueError(f"the {expression} model is unavailable: {self.unavailable[expression]}")
        try:
            return self.generators[expression]
        except KeyError:
            raise ValueError(f"unknown expression {expression!r}; choose one of {', '.join(self.expressions)}") from None

    def _cached(self, store: dict, expression: str, build: Callable[[], object]):
        """store[expression], built once. A lock per entry, so a slow first build
        for one expression never blocks requests for another."""
        with self._lock:
            lock = self._entry_locks.setdefault((id(store), expression), threading.Lock())
        with lock:
            if expression not in store:
                store[expression] = build()
            return store[expression]

    def bank(self, expression: str):
        """Latent bank for fast inversion starts, built once per generator."""
        G = self.generator(expression)
        return self._cached(self._banks, expression, lambda: build_latent_bank(G, device=self.device))

    def directions(self, expression: str):
        """GANSpace directions of an expression's generator (computed once, cached)."""
        from .directions import cached_directions

        G = self.generator(expression)
        checkpoint = self.checkpoint_dir / f"{expression}.safetensors" if self.checkpoint_dir else None
        return self._cached(self._directions, expression,
                            lambda: cached_directions(G, device=self.device, checkpoint=checkpoint))

    def warm_up(self) -> None:
        """Build every bank and set of directions now (the UI calls this in a
        background thread at start-up, so the first edit and slider are fast)."""
        for expression in self.expressions:
            bank = self.bank(expression)
            self.directions(expression)
        # The first inversion in a process also pays ~1 s of kernel set-up.
        G = self.generator(expression)
        with torch.no_grad():
            target = G(bank.z[:1].to(self.device))
        invert(G, target, mask=self._mask, steps=1, restarts=1, device=self.device, init_bank=bank)

    def classify(self, crops: list[np.ndarray]) -> list[ExpressionGuess] | None:
        """The classifier's reading of aligned [48, 48] uint8 crops (None without a classifier)."""
        if self.classifier is None:
            return None
        if not crops:
            return []
        probs = predict_proba(self.classifier, torch.from_numpy(np.stack(crops))[:, None]).tolist()
        guesses = []
        for row in probs:
            best = int(np.argmax(row))
            guesses.append(ExpressionGuess(EXPRESSIONS[best], float(row[best]), dict(zip(EXPRESSIONS, row))))
        return guesses

    def face_expressions(self, image, faces: list[Face]) -> list[ExpressionGuess] | None:
        """The classifier's reading of each detected face of a photo."""
        photo = image if isinstance(image, Photo) else read_photo(image)
        return self.classify([align_face(photo.rgb, face, size=CROP_SIZE)[0] for face in faces])

    def detect(self, image, *, name: str | None = None) -> list[Face]:
        photo = image if isinstance(image, Photo) else read_photo(image, name=name)
        return self.detector.detect(photo.rgb, name=photo.name)

    def edit(self, image, expression: str, *, faces: list[int] | None = None, seed: int = 0,
             steps: int | None = None, restarts: int | None = None, strength: float = 1.0,
             blend_mode: str = "alpha", progress_fn: ProgressFn | None = None,
             name: str | None = None) -> EditResult:
        """Edit the chosen faces (all by default) of a photo to `expression`."""
        G = self.generator(expression)
        settings = EditSettings(steps, restarts, strength, blend_mode, seed)
        report = progress_fn or (lambda fraction, message: None)
        photo = image if isinstance(image, Photo) else read_photo(image, name=name)
        report(0.0, "finding faces")
        detected = self.detector.detect(photo.rgb, name=photo.name)
        chosen = list(range(len(detected))) if faces is None else sorted(set(faces))
        if any(i < 0 or i >= len(detected) for i in chosen):
            raise ValueError(f"{photo.name} has {len(detected)} faces; face numbers must be 0-{len(detected) - 1}")
        bank = self.bank(expression)
        overrides = {k: v for k, v in (("steps", steps), ("restarts", restarts)) if v is not None}
        edited = photo.rgb
        edits = []
        for order, index in enumerate(chosen):
            crop, alignment = align_face(photo.rgb, detected[index], size=CROP_SIZE)

            def step_progress(step: int, total: int, loss: float, order=order) -> None:
                report((order + step / max(total, 1)) / len(chosen) * 0.95,
                       f"face {order + 1} of {len(chosen)}: fitting ({step}/{total})")

            fit = invert(G, to_model_range(crop, self.device), mask=self._mask, seed=seed, device=self.device,
                         init_bank=bank, progress_fn=step_progress, **overrides)
            generated = to_uint8(fit.image)
            edited = paste_back(edited, generated, alignment.to_photo, original_crop=crop,
                                strength=strength, mode=blend_mode)
            edits.append(FaceEdit(index, detected[index], alignment, crop, fit.z.detach().cpu(), generated,
                                  float(fit.loss)))
        self._read_expressions(edits, edited)
        report(1.0, "done")
        return EditResult(edited, photo.rgb, photo, expression, edits, settings)

    def _read_expressions(self, edits: list[FaceEdit], edited: np.ndarray) -> None:
        """Fill in each face's expression before and after, the "after" read from
        the edited photo with the same alignment (what a viewer sees)."""
        guesses = self.classify([edit.aligned for edit in edits] + _aligned_crops(edited, edits))
        if guesses is None:
            return
        for edit, before, after in zip(edits, guesses[: len(edits)], guesses[len(edits):]):
            edit.before, edit.after = before, after

    def read_edited(self, result: EditResult, image: np.ndarray) -> list[ExpressionGuess] | None:
        """The classifier's reading of each edited face as it shows in `image`
        (the edit itself, or a render with the sliders moved)."""
        return self.classify(_aligned_crops(image, result.faces))

    @torch.no_grad()
    def render(self, result: EditResult, zs: dict[int, torch.Tensor]) -> np.ndarray:
        """The photo with the faces in `zs` (face index -> z [1, nz]) regenerated
        and every other edited face as it was: generator and blend only."""
        G = self.generator(result.expression)
        image = result.original
        for edit in result.faces:
            if edit.index in zs:
                generated = to_uint8(G(zs[edit.index].reshape(1, -1).to(self.device)))
            else:
                generated = edit.generated
            image = paste_back(image, generated, edit.alignment.to_photo, original_crop=edit.aligned,
                               strength=result.settings.strength, mode=result.settings.blend_mode)
        return image

    @torch.no_grad()
    def generate(self, expression: str, z: torch.Tensor) -> np.ndarray:
        """A face of `expression` from latent z [1, nz] (or [nz]): [48, 48] uint8."""
        return to_uint8(self.generator(expression)(z.reshape(1, -1).to(self.device)))

    def random_z(self, expression: str, seed: int) -> torch.Tensor:
        nz = self.generator(expression).config.nz
        return torch.randn(1, nz, generator=torch.Generator().manual_seed(seed))


def _aligned_crops(image: np.ndarray, edits: list[FaceEdit]) -> list[np.ndarray]:
    """The edited faces as they show in `image`, aligned as they were for the edit."""
    return [align_face(image, edit.face, size=CROP_SIZE)[0] for edit in edits]


def _missing_message(checkpoint_dir: Path, problems: list[str] | None = None) -> str:
    lines = [f"No usable expression generators in {checkpoint_dir}."]
    lines += [f"  - {p}" for p in problems or []]
    lines += ["Restore the shipped ones with `git checkout -- checkpoints/`, or train your own:",
              "  python -m gan train --data ../shared/data/fer2013.csv.gz --expression all --out runs/fer2013",
              "  python -m gan export runs/fer2013/<expression>/generator.safetensors -o "
              f"{checkpoint_dir}/<expression>.safetensors"]
    return "\n".join(lines)
