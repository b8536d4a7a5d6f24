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

Around it: model_loading.py reads the checkpoints, edits.py holds what an edit
is (settings per model, per-face records), generator_extras.py the latent banks
and slider directions, and apply_edit.py the last stage (change -> photo).

`Editor.load()` reads the models and the face detector once; `edit()` runs the
stages for one photo and keeps what the sliders need (per-face z, p_src,
alignment), and `render()` re-runs only the generator and the transfer for new
z's or expression weights. An Editor holds no per-request state, so one
instance serves concurrent requests.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from gan.classifier import ExpressionClassifier, predict_proba
from gan.data import EXPRESSIONS
from gan.device import resolve_device
from gan.encoder import Encoder
from gan.landmarks import LandmarkRegressor, predict_landmarks
from gan.models import Generator

from .apply_edit import apply_face_edit
from .blend import crop_face_mask
from .edits import (MODELS, EditResult, EditSettings, ExpressionGuess, FaceEdit, edit_settings, expression_weights,
                    target_label, to_model_range, to_uint8)
from .faces import Face, FaceDetector, align_face
from .generator_extras import GeneratorExtras
from .invert import InversionResult, invert
from .locations import CHECKPOINTS
from .model_loading import MissingCheckpointsError, load_models, missing_message  # noqa: F401
from .photo import Photo, read_photo

DEFAULT_CHECKPOINTS = CHECKPOINTS  # the shipped ones, in the checkout or the installed package
CROP_SIZE = 48
ProgressFn = Callable[[float, str], None]


class Editor:
    def __init__(self, generators: dict[str, Generator], detector: FaceDetector, device: torch.device,
                 metadata: dict[str, dict] | None = None, checkpoint_dir: Path | None = None,
                 classifier: ExpressionClassifier | None = None, classifier_problem: str | None = None,
                 conditional: torch.nn.Module | None = None, encoder: Encoder | None = None,
                 unavailable: dict[str, str] | None = None, landmarks: LandmarkRegressor | None = None) -> None:
        if not generators and conditional is None:
            raise MissingCheckpointsError(missing_message(checkpoint_dir or DEFAULT_CHECKPOINTS))
        self.generators = generators  # the seed's per-expression generators
        self.conditional = conditional  # the one generator for every expression (None: not shipped)
        self.encoder = encoder  # E: crop -> z for the conditional generator (None: start from the bank)
        self.landmarks = landmarks  # the renders' 68 points, for the flow transfer (None: optical flow)
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
        self.extras = GeneratorExtras(conditional, self.generator, device, classifier, checkpoint_dir)

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
        m = load_models(checkpoint_dir, dev, expressions)
        return cls(m.generators, m.detector, dev, m.metadata, checkpoint_dir, m.classifier, m.classifier_problem,
                   m.conditional, m.encoder, m.unavailable, m.landmarks)

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

    # The generators' banks, directions and slider labels: generator_extras.py.
    def bank(self, key: str):
        """Latent bank for inversion starts: `key` is "conditional" or a seed expression."""
        return self.extras.bank(key)

    def directions(self, key: str):
        """GANSpace directions of a generator, computed once."""
        return self.extras.directions(key)

    def direction_labels(self, key: str, count: int) -> list[str]:
        """What each of the first `count` directions of a generator was measured to do."""
        return self.extras.direction_labels(key, count)

    def warm_up(self, stop: threading.Event | None = None) -> None:
        """Build the default model's bank, directions and slider labels now (the UI calls
        this in a background thread at start-up; the seed model's are built on first use).
        `stop` ends it between steps."""
        key = "conditional" if self.default_model == "conditional" else next(iter(self.generators))
        self.extras.warm_up(key, self._mask, stop)

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
        settings = edit_settings(model, expression, self.expressions_of(model), steps=steps, restarts=restarts,
                                 strength=strength, blend_mode=blend_mode, seed=seed)
        report = progress_fn or (lambda fraction, message: None)
        photo = image if isinstance(image, Photo) else read_photo(image, name=name)
        report(0.0, "finding faces")
        detected = self.detector.detect(photo.rgb, name=photo.name)
        chosen = list(range(len(detected))) if faces is None else sorted(set(faces))
        if any(i < 0 or i >= len(detected) for i in chosen):
            raise ValueError(f"{photo.name} has {len(detected)} faces; face numbers must be 0-{len(detected) - 1}")
        edited = photo.rgb
        edits = []
        for order, index in enumerate(chosen):
            crop, alignment = align_face(photo.rgb, detected[index], size=CROP_SIZE)

            def step_progress(step: int, total: int, loss: float, order=order) -> None:
                report((order + step / max(total, 1)) / len(chosen) * 0.95,
                       f"face {order + 1} of {len(chosen)}: fitting ({step}/{total})")

            fit, source_label = self._fit(expression, crop, settings, step_progress)
            edit = FaceEdit(index, detected[index], alignment, crop, fit.z.detach().cpu(), to_uint8(fit.image),
                            float(fit.loss))
            if model == "conditional":
                edit.source_label = source_label
                edit.source = to_uint8(fit.image)
                edit.weights = expression_weights(expression, settings.strength)
                edit.generated = self._render_conditional(edit.z, target_label(edit.source_label, edit.weights))
                edit.source_points, edit.target_points = self._points(edit.source), self._points(edit.generated)
            edited = apply_face_edit(edited, edit, settings)
            edits.append(edit)
        self._read_expressions(edits, edited)
        report(1.0, "done")
        return EditResult(edited, photo.rgb, photo, expression, edits, settings)

    def _fit(self, expression: str, crop: np.ndarray, settings: EditSettings,
             progress: Callable) -> tuple[InversionResult, np.ndarray | None]:
        """Invert one aligned crop with the settings' steps, restarts and seed: into the
        expression's generator (seed model), or into the conditional generator at the
        face's own expression p_src, started from the encoder's guess. Returns the fit
        and p_src (None for the seed model)."""
        search = dict(steps=settings.steps, restarts=settings.restarts, seed=settings.seed, device=self.device,
                      mask=self._mask, progress_fn=progress)
        target = to_model_range(crop, self.device)
        if settings.model == "seed":
            fit = invert(self.generator(expression), target, init_bank=self.bank(expression), **search)
            return fit, None
        source_label = self.source_label(crop, target)
        start = None
        if self.encoder is not None:
            with torch.no_grad():
                start = self.encoder(target)[0]
        fit = invert(self.conditional, target, init_bank=self.bank("conditional"), start=start,
                     label=torch.from_numpy(source_label), **search)
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

    def _points(self, render: np.ndarray) -> np.ndarray | None:
        """The 68 landmarks [68, 2] of a 48x48 render, or None without the landmark model."""
        if self.landmarks is None:
            return None
        return predict_landmarks(self.landmarks, render[None])[0]

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
    def retarget(self, result: EditResult, zs: dict[int, torch.Tensor] | None = None,
                 weights: dict[int, np.ndarray] | None = None) -> list[FaceEdit]:
        """Each face of `result` with the faces in `zs` (face index -> z [1, nz])
        and, for the conditional model, `weights` (face index -> [K] expression
        weights, as in `target_label`) rendered anew (T and its landmarks), and
        every other face as it was edited: generator only, no new fit."""
        zs, weights = zs or {}, weights or {}
        faces = []
        for edit in result.faces:
            moved = dataclasses.replace(edit)
            if result.model == "conditional":
                if edit.index in zs or edit.index in weights:
                    moved.weights = np.asarray(weights.get(edit.index, edit.weights), np.float32)
                    z = zs.get(edit.index, edit.z)
                    moved.generated = self._render_conditional(z, target_label(edit.source_label, moved.weights))
                    moved.target_points = self._points(moved.generated)
            elif edit.index in zs:
                moved.generated = to_uint8(self.generator(result.expression)(
                    zs[edit.index].reshape(1, -1).to(self.device)))
            faces.append(moved)
        return faces

    def render(self, result: EditResult, zs: dict[int, torch.Tensor] | None = None,
               weights: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """The photo with the faces retargeted as in `retarget`, every face's change
        brought in again: generator and transfer only, no new fit."""
        image = result.original
        for moved in self.retarget(result, zs, weights):
            image = apply_face_edit(image, moved, result.settings)
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
