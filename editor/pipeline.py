"""The editor: photo -> faces -> aligned crops -> z -> renders -> change -> photo.

Two models can edit:
- "conditional" (the default): one generator for all seven expressions with a
  shared latent space. Each face is read by the classifier (its own
  expression p_src), inverted at p_src starting from the encoder's guess, and
  rendered twice from the same z: S = G(z, p_src) and T = G(z, y) with
  y = (1 - a) p_src + a onehot(target). Only the change from S to T reaches
  the photo (editor/transfer.py: the photo's own pixels are warped by the
  renders' motion, plus a low-passed luminance residual).
- "seed": the seed's seven per-expression generators; the face is inverted into
  the target expression's generator and its luminance pasted back (blend.py).

`Editor.load()` reads the models and the face detector once; `edit()` runs the
stages for one photo and keeps what the sliders need (per-face z, p_src,
alignment), and `render()` re-runs only the generator and the transfer for new
z's or expression weights. An Editor holds no per-request state, so one
instance serves concurrent requests.
"""

from __future__ import annotations

import dataclasses
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

from gan.encoder import Encoder, load_encoder

from .blend import crop_face_mask, paste_back
from .faces import Alignment, Face, FaceDetector, align_face
from .invert import DEFAULT_RESTARTS, DEFAULT_STEPS, InversionResult, build_latent_bank, invert
from .locations import CHECKPOINTS
from .photo import Photo, read_photo
from .transfer import FaceChange, apply_change, face_change

DEFAULT_CHECKPOINTS = CHECKPOINTS  # the shipped ones, in the checkout or the installed package
CROP_SIZE = 48
CLASSIFIER_FILE = "classifier.safetensors"
CONDITIONAL_FILE = "conditional.safetensors"
ENCODER_FILE = "encoder.safetensors"
MODELS = ("conditional", "seed")
# How each model's edit reaches the photo; the first is the default.
BLEND_MODES = {"conditional": ("flow", "difference", "replace"), "seed": ("alpha", "poisson")}
MAX_STRENGTH = {"conditional": 1.5, "seed": 1.0}  # past 1 the conditional model exaggerates
# Chosen by numbers (benchmarks/quality.py on faces_dev): the conditional model's edits land
# most often at 1.5 (hit and same person 29.7%, against 20.3% at 1 and 15.6% at 0.5) and still
# keep the person (dlib: 98.9% the same) and all the detail.
DEFAULT_STRENGTH = {"conditional": 1.5, "seed": 1.0}
# Inversion (steps, restarts) per model. The conditional model starts from the encoder's guess,
# so one long search beats several short ones: on 30 faces_dev photos 100 x 1 fits the face
# closer than 30 x 4 (24.1 against 22.4 dB inside the face) and its edits land far more often
# (hit and same person 43% against 31%) for ~0.2 s more; 200 x 1 adds ~2 points for 0.5 s more.
# The seed's generators keep invert's defaults (bank starts, 30 x 4).
DEFAULT_INVERSION = {"conditional": (100, 1), "seed": (DEFAULT_STEPS, DEFAULT_RESTARTS)}

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
    steps: int | None = None  # None: DEFAULT_INVERSION[model]
    restarts: int | None = None
    strength: float = 1.0
    blend_mode: str = "flow"  # one of BLEND_MODES[model]
    seed: int = 0
    model: str = "conditional"


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
    generated: np.ndarray  # [48, 48] uint8: the target render, T = G(z, y) (seed model: G_expression(z))
    loss: float
    before: ExpressionGuess | None = None  # the classifier on the face as it was (None: no classifier)
    after: ExpressionGuess | None = None  # ... and on the edited face, re-cropped from the edited photo
    # Conditional model only:
    source_label: np.ndarray | None = None  # [K] p_src, the expression the face was inverted at
    source: np.ndarray | None = None  # [48, 48] uint8, S = G(z, p_src): the face as the model sees it
    weights: np.ndarray | None = None  # [K] how far towards each expression y moved (target: strength)


@dataclass
class EditResult:
    image: np.ndarray  # [H, W, 3] uint8, the edited photo
    original: np.ndarray  # [H, W, 3] uint8
    photo: Photo
    expression: str
    faces: list[FaceEdit]
    settings: EditSettings = field(default_factory=EditSettings)

    @property
    def model(self) -> str:
        return self.settings.model


def expression_weights(expression: str, strength: float) -> np.ndarray:
    """[K] weights: `strength` towards `expression`, 0 towards the others."""
    weights = np.zeros(len(EXPRESSIONS), np.float32)
    weights[EXPRESSIONS.index(expression)] = strength
    return weights


def target_label(source_label: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """y = (1 - sum w) p_src + sum_k w_k onehot_k: each weight moves the face's own
    expression towards expression k (one weight a: (1 - a) p_src + a onehot).
    Past a total of 1 the own expression is subtracted: an exaggeration."""
    weights = np.asarray(weights, np.float32)
    return ((1.0 - weights.sum()) * np.asarray(source_label, np.float32) + weights).astype(np.float32)


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
                 conditional: torch.nn.Module | None = None, encoder: Encoder | None = None,
                 unavailable: dict[str, str] | None = None) -> None:
        if not generators and conditional is None:
            raise MissingCheckpointsError(_missing_message(checkpoint_dir or DEFAULT_CHECKPOINTS))
        self.generators = generators  # the seed's per-expression generators
        self.conditional = conditional  # the one generator for every expression (None: not shipped)
        self.encoder = encoder  # E: crop -> z for the conditional generator (None: start from the bank)
        # Models whose checkpoint is missing or damaged ("conditional", or a seed expression):
        # name -> what is wrong and how to restore it. The others work; only these are refused.
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
        self._labels: dict[str, object] = {}
        self._lock = threading.Lock()
        self._entry_locks: dict[tuple[int, str], threading.Lock] = {}

    @classmethod
    def load(cls, checkpoint_dir: str | Path = DEFAULT_CHECKPOINTS, device: str = "auto",
             expressions: tuple[str, ...] = EXPRESSIONS) -> "Editor":
        """Load the conditional generator and its encoder, every `<expression>.safetensors`
        of the seed's model, the classifier and the detector from `checkpoint_dir`.

        A missing or damaged checkpoint takes out only its model (the conditional one, or one
        expression of the seed's): `unavailable` says why and how to restore it, and a warning
        is printed. MissingCheckpointsError when no generator loads or the face detector does not."""
        checkpoint_dir = Path(checkpoint_dir)
        dev = resolve_device(device)

        def load_one(path: Path):
            G, meta = load_generator(path, dev)
            if path.name == CONDITIONAL_FILE and not getattr(G.config, "n_classes", 0):
                raise CheckpointError(f"{path}: not a conditional generator")
            return G, meta

        files = {e: checkpoint_dir / f"{e}.safetensors" for e in expressions}
        loaded, unavailable = load_each({**files, "conditional": checkpoint_dir / CONDITIONAL_FILE}, load_one)
        conditional, conditional_meta = loaded.pop("conditional", (None, None))
        if not loaded and conditional is None:
            raise MissingCheckpointsError(_missing_message(checkpoint_dir, list(unavailable.values())))
        for problem in unavailable.values():
            print(f"warning: starting without this model: {problem}", file=sys.stderr)
        generators = {name: G for name, (G, _) in loaded.items()}
        metadata = {name: meta for name, (_, meta) in loaded.items()}
        encoder = None
        if conditional is not None:
            metadata["conditional"] = conditional_meta
            try:
                encoder, metadata["encoder"] = load_encoder(checkpoint_dir / ENCODER_FILE, dev)
            except CheckpointError as exc:
                print(f"warning: {exc}; inversions start from the latent bank instead", file=sys.stderr)
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
        return cls(generators, detector, dev, metadata, checkpoint_dir, classifier, problem, conditional, encoder,
                   unavailable)

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

    def _model(self, model: str | None) -> str:
        model = model or self.default_model
        if model in self.unavailable:
            raise ValueError(f"the {model} model is unavailable: {self.unavailable[model]}")
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

    def _cached(self, store: dict, key: str, build: Callable[[], object]):
        """store[key], built once. A lock per entry, so a slow first build
        for one generator never blocks requests for another."""
        with self._lock:
            lock = self._entry_locks.setdefault((id(store), key), threading.Lock())
        with lock:
            if key not in store:
                store[key] = build()
            return store[key]

    def bank(self, key: str):
        """Latent bank for inversion starts, built once per generator: `key` is
        an expression (seed model) or "conditional" (rendered at the mean expression)."""
        if key == "conditional":
            label = torch.full((len(EXPRESSIONS),), 1.0 / len(EXPRESSIONS))
            return self._cached(self._banks, key, lambda: build_latent_bank(self.conditional, device=self.device,
                                                                            label=label))
        G = self.generator(key)
        return self._cached(self._banks, key, lambda: build_latent_bank(G, device=self.device))

    def directions(self, key: str):
        """GANSpace directions of a generator (computed once, cached): `key` is an
        expression (seed model) or "conditional"."""
        from .directions import cached_directions

        G = self.conditional if key == "conditional" else self.generator(key)
        name = CONDITIONAL_FILE if key == "conditional" else f"{key}.safetensors"
        checkpoint = self.checkpoint_dir / name if self.checkpoint_dir else None
        return self._cached(self._directions, key,
                            lambda: cached_directions(G, device=self.device, checkpoint=checkpoint))

    def direction_labels(self, key: str, count: int) -> list[str]:
        """What each of the first `count` directions of a generator does: measured
        changes in the classifier's reading and the region that moves most
        (conditional model with a classifier), else their share of the variation."""
        directions = self.directions(key)
        if key == "conditional" and self.classifier is not None:
            from .direction_labels import describe_directions

            return self._cached(self._labels, f"{key}:{count}", lambda: describe_directions(
                self.conditional, directions, self.classifier, count=count, device=self.device))
        return [f"{directions.explained_variance_ratio[k]:.1%} of the generator's variation"
                for k in range(min(count, len(directions)))]

    def warm_up(self, stop: threading.Event | None = None) -> None:
        """Build the default model's bank, directions and slider labels now (the UI calls
        this in a background thread at start-up, so the first edit and slider are fast;
        the seed model's are built on first use). `stop` ends it between steps: a
        thread still inside torch when the interpreter exits aborts the process."""
        key = "conditional" if self.default_model == "conditional" else next(iter(self.generators))
        steps = [lambda: self.bank(key), lambda: self.directions(key),
                 lambda: self.direction_labels(key, 6), lambda: self._first_inversion(key)]
        for step in steps:
            if stop is not None and stop.is_set():
                return
            step()

    def _first_inversion(self, key: str) -> None:
        """The first inversion in a process pays ~1 s of kernel set-up: pay it now."""
        bank = self.bank(key)
        if key == "conditional":
            label = torch.full((len(EXPRESSIONS),), 1.0 / len(EXPRESSIONS))
            with torch.no_grad():
                target = self.conditional(bank.z[:1].to(self.device), label[None].to(self.device))
            invert(self.conditional, target, mask=self._mask, steps=1, restarts=1, device=self.device,
                   init_bank=bank, label=label)
        else:
            G = self.generator(key)
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
             steps: int | None = None, restarts: int | None = None, strength: float | None = None,
             blend_mode: str | None = None, model: str | None = None, progress_fn: ProgressFn | None = None,
             name: str | None = None) -> EditResult:
        """Edit the chosen faces (all by default) of a photo to `expression`.

        `strength` is how far: 0 returns the photo unchanged, 1 is the full
        expression, up to 1.5 exaggerates it (the seed model stops at 1); None:
        DEFAULT_STRENGTH[model].
        `model` is "conditional" (default) or "seed"; `blend_mode` one of
        BLEND_MODES[model] (None: that model's default)."""
        model = self._model(model)
        if expression not in self.expressions_of(model):
            raise ValueError(f"unknown expression {expression!r}; choose one of "
                             f"{', '.join(self.expressions_of(model))}")
        blend_mode = blend_mode or BLEND_MODES[model][0]
        if blend_mode not in BLEND_MODES[model]:
            raise ValueError(f"blend mode {blend_mode!r} does not apply to the {model} model; "
                             f"choose one of {', '.join(BLEND_MODES[model])}")
        strength = DEFAULT_STRENGTH[model] if strength is None else float(strength)
        if not 0.0 <= strength <= MAX_STRENGTH[model]:
            raise ValueError(f"strength must be between 0 and {MAX_STRENGTH[model]} for the {model} model, "
                             f"got {strength}")
        steps = DEFAULT_INVERSION[model][0] if steps is None else steps
        restarts = DEFAULT_INVERSION[model][1] if restarts is None else restarts
        settings = EditSettings(steps, restarts, strength, blend_mode, seed, model)
        report = progress_fn or (lambda fraction, message: None)
        photo = image if isinstance(image, Photo) else read_photo(image, name=name)
        report(0.0, "finding faces")
        detected = self.detector.detect(photo.rgb, name=photo.name)
        chosen = list(range(len(detected))) if faces is None else sorted(set(faces))
        if any(i < 0 or i >= len(detected) for i in chosen):
            raise ValueError(f"{photo.name} has {len(detected)} faces; face numbers must be 0-{len(detected) - 1}")
        overrides = {"steps": steps, "restarts": restarts}
        edited = photo.rgb
        edits = []
        for order, index in enumerate(chosen):
            crop, alignment = align_face(photo.rgb, detected[index], size=CROP_SIZE)

            def step_progress(step: int, total: int, loss: float, order=order) -> None:
                report((order + step / max(total, 1)) / len(chosen) * 0.95,
                       f"face {order + 1} of {len(chosen)}: fitting ({step}/{total})")

            fit, source_label = self._fit(model, expression, crop, seed, step_progress, overrides)
            edit = FaceEdit(index, detected[index], alignment, crop, fit.z.detach().cpu(), to_uint8(fit.image),
                            float(fit.loss))
            if model == "conditional":
                edit.source_label = source_label
                edit.source = to_uint8(fit.image)
                edit.weights = expression_weights(expression, strength)
                edit.generated = self._render_conditional(edit.z, target_label(edit.source_label, edit.weights))
            edited = self._apply(edited, edit, settings)
            edits.append(edit)
        self._read_expressions(edits, edited)
        report(1.0, "done")
        return EditResult(edited, photo.rgb, photo, expression, edits, settings)

    def _fit(self, model: str, expression: str, crop: np.ndarray, seed: int, progress: Callable,
             overrides: dict) -> tuple[InversionResult, np.ndarray | None]:
        """Invert one aligned crop: into the expression's generator (seed model), or
        into the conditional generator at the face's own expression p_src, started
        from the encoder's guess. Returns the fit and p_src (None for the seed model)."""
        target = to_model_range(crop, self.device)
        if model == "seed":
            fit = invert(self.generator(expression), target, mask=self._mask, seed=seed, device=self.device,
                         init_bank=self.bank(expression), progress_fn=progress, **overrides)
            return fit, None
        source_label = self.source_label(crop, target)
        start = None
        if self.encoder is not None:
            with torch.no_grad():
                start = self.encoder(target)[0]
        fit = invert(self.conditional, target, mask=self._mask, seed=seed, device=self.device,
                     init_bank=self.bank("conditional"), start=start, label=torch.from_numpy(source_label),
                     progress_fn=progress, **overrides)
        return fit, source_label

    def source_label(self, crop: np.ndarray, target: torch.Tensor | None = None) -> np.ndarray:
        """p_src [K]: the face's own expression, as the classifier reads it (else
        the encoder's expression head, else neutral)."""
        if self.classifier is not None:
            return predict_proba(self.classifier, torch.from_numpy(crop)[None, None])[0].numpy().astype(np.float32)
        if self.encoder is not None:
            target = to_model_range(crop, self.device) if target is None else target
            with torch.no_grad():
                return self.encoder(target)[1].softmax(1)[0].cpu().numpy().astype(np.float32)
        return expression_weights("neutral", 1.0)

    @torch.no_grad()
    def _render_conditional(self, z: torch.Tensor, label: np.ndarray) -> np.ndarray:
        """G(z, y) of the conditional generator: [48, 48] uint8."""
        y = torch.as_tensor(label, dtype=torch.float32).reshape(1, -1).to(self.device)
        return to_uint8(self.conditional(z.reshape(1, -1).to(self.device), y))

    def _apply(self, image: np.ndarray, edit: FaceEdit, settings: EditSettings) -> np.ndarray:
        """`image` with one face's edit brought in, by the settings' model and blend mode."""
        if settings.model == "seed" and settings.strength == 0.0:
            return image
        if settings.model == "conditional" and np.array_equal(edit.source, edit.generated):
            return image  # no change (strength 0): the photo's bytes, untouched
        if settings.model == "seed":
            return paste_back(image, edit.generated, edit.alignment.to_photo, original_crop=edit.aligned,
                              strength=settings.strength, mode=settings.blend_mode)
        if settings.blend_mode == "replace":  # the seed's paste-back of the target render, for comparison
            return paste_back(image, edit.generated, edit.alignment.to_photo, original_crop=edit.aligned)
        change: FaceChange = face_change(edit.source, edit.generated, edit.aligned, mode=settings.blend_mode)
        return apply_change(image, change, edit.alignment.to_photo)

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
    def render(self, result: EditResult, zs: dict[int, torch.Tensor] | None = None,
               weights: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """The photo with the faces in `zs` (face index -> z [1, nz]) and, for the
        conditional model, `weights` (face index -> [K] expression weights, as in
        `target_label`) rendered anew, and every other face as it was edited:
        generator and transfer only, no new fit."""
        zs, weights = zs or {}, weights or {}
        image = result.original
        for edit in result.faces:
            moved = dataclasses.replace(edit)
            if result.model == "conditional":
                if edit.index in zs or edit.index in weights:
                    moved.weights = np.asarray(weights.get(edit.index, edit.weights), np.float32)
                    z = zs.get(edit.index, edit.z)
                    moved.generated = self._render_conditional(z, target_label(edit.source_label, moved.weights))
            elif edit.index in zs:
                moved.generated = to_uint8(self.generator(result.expression)(
                    zs[edit.index].reshape(1, -1).to(self.device)))
            image = self._apply(image, moved, result.settings)
        return image

    @torch.no_grad()
    def generate(self, expression: str, z: torch.Tensor, model: str | None = None) -> np.ndarray:
        """A face of `expression` from latent z [1, nz] (or [nz]): [48, 48] uint8."""
        if self._model(model) == "conditional":
            return self._render_conditional(z, expression_weights(expression, 1.0))
        return to_uint8(self.generator(expression)(z.reshape(1, -1).to(self.device)))

    def random_z(self, expression: str, seed: int) -> torch.Tensor:
        G = self.conditional if self.conditional is not None else self.generator(expression)
        return torch.randn(1, G.config.nz, generator=torch.Generator().manual_seed(seed))


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
