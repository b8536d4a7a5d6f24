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

The stages live in their own modules, in the order the data flows: faces.py
(detect, align), readings.py (the classifier's reading, p_src), face_fit.py
(crop -> z), renders.py (z -> S, T and their landmarks), apply_edit.py (change
-> photo). Around them: model_loading.py reads the checkpoints, model_choice.py
says which models can edit, edits.py holds what an edit is (settings per model,
per-face records), generator_extras.py the latent banks and slider directions.

`Editor.load()` reads the models and the face detector once; `edit()` runs the
stages for one photo and keeps what the sliders need (per-face z, p_src,
alignment), and `render()` re-runs only the generator and the transfer for new
z's or expression weights. An Editor holds no per-request state, so one
instance serves concurrent requests; it remembers only the last photos' faces
and the last crops' fits (recent.py), which are the same for every request.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from gan.classifier import ExpressionClassifier
from gan.data import EXPRESSIONS
from gan.device import resolve_device
from gan.encoder import Encoder
from gan.landmarks import LandmarkRegressor
from gan.models import Generator

from . import readings, renders
from .apply_edit import apply_face_edit
from .blend import crop_face_mask
from .edits import (EditResult, EditSettings, ExpressionGuess, FaceEdit, count_faces, edit_settings, expression_weights,
                    to_uint8)
from .faces import Face, FaceDetector, align_face
from .face_fit import fit_face
from .generator_extras import GeneratorExtras
from .glasses import GlassesDetector
from .directions import LatentDirections
from .invert import InversionResult, LatentBank
from .locations import CHECKPOINTS
from .model_choice import ModelChoice
from .model_loading import MissingCheckpointsError, load_models, missing_message  # noqa: F401
from .photo import Photo, read_photo
from .recent import Recent, content_key

DEFAULT_CHECKPOINTS = CHECKPOINTS  # the shipped ones, in the checkout or the installed package
CROP_SIZE = readings.CROP_SIZE
ProgressFn = Callable[[float, str], None]


class Editor(ModelChoice):
    """The loaded models and detector, and the stages of an edit (module docstring).
    Which model may edit (models, default_model, generator): ModelChoice."""

    def __init__(self, generators: dict[str, Generator], detector: FaceDetector, device: torch.device,
                 metadata: dict[str, dict] | None = None, checkpoint_dir: Path | None = None,
                 classifier: ExpressionClassifier | None = None, classifier_problem: str | None = None,
                 conditional: torch.nn.Module | None = None, encoder: Encoder | None = None,
                 unavailable: dict[str, str] | None = None, landmarks: LandmarkRegressor | None = None,
                 glasses: GlassesDetector | None = None) -> None:
        if not generators and conditional is None:
            raise MissingCheckpointsError(missing_message(checkpoint_dir or DEFAULT_CHECKPOINTS))
        super().__init__(generators, conditional, unavailable)
        self.encoder = encoder  # E: crop -> z for the conditional generator (None: start from the bank)
        self.landmarks = landmarks  # the renders' 68 points, for the flow transfer (None: optical flow)
        self.glasses = glasses  # which faces wear glasses (None: all may, so no brow or lid moves)
        self.detector = detector
        self.device = device
        self.metadata = metadata or {}
        self.checkpoint_dir = checkpoint_dir
        self.classifier = classifier
        # Why there is no classifier (shown in the UI); editing works without one.
        self.classifier_problem = classifier_problem
        self.face_mask = torch.from_numpy(crop_face_mask(CROP_SIZE))[None, None].to(device)  # [1,1,48,48] in [0,1]
        self.extras = GeneratorExtras(conditional, self.generator, device, classifier, checkpoint_dir)
        # The last photos' faces and the last crops' fits (recent.py): another expression of
        # the same photo, or an edit right after the page's detection, skips that work.
        self.recent_faces: Recent = Recent(8)
        self.recent_fits: Recent = Recent(64)

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
                   m.conditional, m.encoder, m.unavailable, m.landmarks, m.glasses)

    # The generators' banks, directions and slider labels: generator_extras.py.
    def bank(self, key: str) -> LatentBank:
        """Latent bank for inversion starts: `key` is "conditional" or a seed expression."""
        return self.extras.bank(key)

    def directions(self, key: str) -> LatentDirections:
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
        self.extras.warm_up(key, self.face_mask, stop)

    def classify(self, crops: list[np.ndarray]) -> list[ExpressionGuess] | None:
        """The classifier's reading of aligned [48, 48] uint8 crops (None without a classifier)."""
        return readings.classify(self.classifier, crops)

    def face_expressions(self, image, faces: list[Face]) -> list[ExpressionGuess] | None:
        """The classifier's reading of each detected face of a photo."""
        photo = image if isinstance(image, Photo) else read_photo(image)
        return self.classify([align_face(photo.rgb, face, size=CROP_SIZE)[0] for face in faces])

    def detect(self, image, *, name: str | None = None) -> list[Face]:
        """The faces of a photo, left to right (NoFaceError when there are none); the last
        few photos' faces are remembered."""
        photo = image if isinstance(image, Photo) else read_photo(image, name=name)
        faces = self.recent_faces.get(content_key(photo.rgb),
                                      lambda: self.detector.detect(photo.rgb, name=photo.name))
        return list(faces)

    def forget(self) -> None:
        """Drop the remembered faces and fits (benchmarks that time the work itself)."""
        self.recent_faces.clear()
        self.recent_fits.clear()

    def edit(self, image, expression: str, *, faces: list[int] | None = None, seed: int = 0,
             steps: int | None = None, restarts: int | None = None, strength: float | None = None,
             blend_mode: str | None = None, model: str | None = None, progress_fn: ProgressFn | None = None,
             name: str | None = None, brows: str | None = None) -> EditResult:
        """Edit the chosen faces (all by default) of a photo to `expression`.

        `strength` is how far: 0 returns the photo unchanged, 1 is the full
        expression, up to 2 exaggerates it (the seed model stops at 1); None:
        DEFAULT_STRENGTH[model].
        `model` is "conditional" (default) or "seed"; `blend_mode` one of
        BLEND_MODES[model] (None: that model's default); `brows` one of BROW_CHOICES
        (None: "auto", the brows and eyelids move unless the face wears glasses)."""
        model = self.usable_model(model)
        settings = edit_settings(model, expression, self.expressions_of(model), steps=steps, restarts=restarts,
                                 strength=strength, blend_mode=blend_mode, seed=seed, brows=brows)
        report = progress_fn or (lambda fraction, message: None)
        photo = image if isinstance(image, Photo) else read_photo(image, name=name)
        report(0.0, "finding faces")
        detected = self.detect(photo)
        chosen = list(range(len(detected))) if faces is None else sorted(set(faces))
        if any(i < 0 or i >= len(detected) for i in chosen):
            raise ValueError(f"{photo.name} has {count_faces(len(detected))}; face numbers count from 0, "
                             f"so they are 0-{len(detected) - 1}" if len(detected) > 1 else
                             f"{photo.name} has 1 face; face numbers count from 0, so it is 0")
        edited = photo.rgb
        edits = []
        for order, index in enumerate(chosen):
            crop, alignment = align_face(photo.rgb, detected[index], size=CROP_SIZE)

            def step_progress(step: int, total: int, loss: float, order=order) -> None:
                report((order + step / max(total, 1)) / len(chosen) * 0.95,
                       f"face {order + 1} of {len(chosen)}: fitting ({step}/{total})")

            fit, source_label = self._fit(expression, crop, settings, step_progress)
            fitted = to_uint8(fit.image)
            edit = FaceEdit(index, detected[index], alignment, crop, fit.z.detach().cpu(), fitted, float(fit.loss))
            if model == "conditional":
                edit.source_label = source_label
                edit.source = fitted
                edit.weights = expression_weights(expression, settings.strength)
                edit.generated, edit.target_points = renders.render_target(
                    self.conditional, self.landmarks, edit.z, source_label, edit.weights, self.device)
                edit.source_points = renders.render_points(self.landmarks, edit.source)
                edit.glasses = self.glasses is None or self.glasses.wears_glasses(photo.rgb, detected[index])
            edited = apply_face_edit(edited, edit, settings)
            edits.append(edit)
        readings.read_before_after(self.classifier, edits, edited)
        report(1.0, "done")
        return EditResult(edited, photo.rgb, photo, expression, edits, settings)

    def _fit(self, expression: str, crop: np.ndarray, settings: EditSettings,
             progress: Callable) -> tuple[InversionResult, np.ndarray | None]:
        """crop -> z (face_fit.py): into the expression's generator (seed model), or into
        the conditional generator at the face's own expression p_src, whatever the target.
        Returns the fit and p_src (None for the seed model); the last crops' fits are
        remembered, so another expression of the same face costs no new fit."""
        search = dict(mask=self.face_mask, device=self.device, progress=progress)

        def fit() -> tuple[InversionResult, np.ndarray | None]:
            if settings.model == "seed":
                return fit_face(self.generator(expression), crop, settings, bank=self.bank(expression),
                                **search), None
            label = self.source_label(crop)
            return fit_face(self.conditional, crop, settings, bank=self.bank("conditional"), label=label,
                            encoder=self.encoder, **search), label

        target = expression if settings.model == "seed" else None  # the conditional fit does not depend on it
        key = content_key(crop, settings.model, target, settings.steps, settings.restarts, settings.seed)
        result, label = self.recent_fits.get(key, fit)
        # Copies: an edit keeps its z and may hand it to the sliders.
        return (InversionResult(result.z.clone(), result.image.clone(), result.loss, list(result.loss_history)),
                None if label is None else label.copy())

    def source_label(self, crop: np.ndarray) -> np.ndarray:
        """p_src [K]: the face's own expression (readings.source_label)."""
        return readings.source_label(self.classifier, self.encoder, crop, self.device)

    def read_edited(self, result: EditResult, image: np.ndarray) -> list[ExpressionGuess] | None:
        """The classifier's reading of each edited face as it shows in `image`
        (the edit itself, or a render with the sliders moved)."""
        return readings.read_edited(self.classifier, result, image)

    def retarget(self, result: EditResult, zs: dict[int, torch.Tensor] | None = None,
                 weights: dict[int, np.ndarray] | None = None) -> list[FaceEdit]:
        """The faces of `result` with new z's or expression weights rendered anew
        (renders.retarget): generator only, no new fit."""
        seed_generator = self.generator(result.expression) if result.model == "seed" else None
        return renders.retarget(result, conditional=self.conditional, seed_generator=seed_generator,
                                landmarks=self.landmarks, device=self.device, zs=zs, weights=weights)

    def render(self, result: EditResult, zs: dict[int, torch.Tensor] | None = None,
               weights: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """The photo with the faces retargeted as in `retarget`, every face's change
        brought in again: generator and transfer only, no new fit."""
        image = result.original
        for moved in self.retarget(result, zs, weights):
            image = apply_face_edit(image, moved, result.settings)
        return image

    def generate(self, expression: str, z: torch.Tensor, model: str | None = None) -> np.ndarray:
        """A face of `expression` from latent z [1, nz] (or [nz]): [48, 48] uint8."""
        if self.usable_model(model) == "conditional":
            return renders.render_conditional(self.conditional, z, expression_weights(expression, 1.0), self.device)
        return renders.render_seed(self.generator(expression), z, self.device)

    def random_z(self, expression: str, seed: int, truncation: float = 1.0) -> torch.Tensor:
        """z [1, nz] ~ N(0, I) from `seed`, scaled by `truncation` (the truncation trick: below 1
        the faces are more typical and cleaner, less varied)."""
        G = self.conditional if self.conditional is not None else self.generator(expression)
        return torch.randn(1, G.config.nz, generator=torch.Generator().manual_seed(seed)) * float(truncation)

