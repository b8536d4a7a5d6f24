"""z -> renders: the generator's faces for a fitted z, and the landmarks the flow
transfer moves the photo by.

The conditional model renders S = G(z, p_src) and T = G(z, y) from one z; the
sliders re-render T for new weights or a moved z without a new fit (`retarget`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from gan.landmarks import LandmarkRegressor, predict_landmarks
from gan.models import Generator

from .edits import EditResult, FaceEdit, target_label, to_uint8


@torch.no_grad()
def render_conditional(generator: torch.nn.Module, z: torch.Tensor, label: np.ndarray,
                       device: torch.device | str = "cpu") -> np.ndarray:
    """G(z, y) of the conditional generator: [48, 48] uint8."""
    y = torch.as_tensor(label, dtype=torch.float32).reshape(1, -1).to(device)
    return to_uint8(generator(z.reshape(1, -1).to(device), y))


@torch.no_grad()
def render_seed(generator: Generator, z: torch.Tensor, device: torch.device | str = "cpu") -> np.ndarray:
    """G(z) of one of the seed's per-expression generators: [48, 48] uint8."""
    return to_uint8(generator(z.reshape(1, -1).to(device)))


def render_points(landmarks: LandmarkRegressor | None, render: np.ndarray) -> np.ndarray | None:
    """The 68 landmarks [68, 2] of a 48x48 render, or None without the landmark model
    (the transfer then falls back to optical flow)."""
    if landmarks is None:
        return None
    return predict_landmarks(landmarks, render[None])[0]


def render_target(conditional: torch.nn.Module, landmarks: LandmarkRegressor | None, z: torch.Tensor,
                  source_label: np.ndarray, weights: np.ndarray,
                  device: torch.device | str = "cpu") -> tuple[np.ndarray, np.ndarray | None]:
    """T = G(z, y) with y = target_label(p_src, weights), and its landmarks (None without
    the landmark model): what an edit and every slider move render."""
    generated = render_conditional(conditional, z, target_label(source_label, weights), device)
    return generated, render_points(landmarks, generated)


def retarget(result: EditResult, *, conditional: torch.nn.Module | None, seed_generator: Generator | None,
             landmarks: LandmarkRegressor | None, device: torch.device | str = "cpu",
             zs: dict[int, torch.Tensor] | None = None,
             weights: dict[int, np.ndarray] | None = None) -> list[FaceEdit]:
    """Each face of `result` with the faces in `zs` (face index -> z [1, nz]) and,
    for the conditional model, `weights` (face index -> [K] expression weights, as
    in `target_label`) rendered anew (T and its landmarks), and every other face
    as it was edited. `seed_generator` is the edit's expression generator (seed model)."""
    zs, weights = zs or {}, weights or {}
    faces = []
    for edit in result.faces:
        moved = dataclasses.replace(edit)
        if result.model == "conditional":
            if edit.index in zs or edit.index in weights:
                moved.weights = np.asarray(weights.get(edit.index, edit.weights), np.float32)
                moved.generated, moved.target_points = render_target(
                    conditional, landmarks, zs.get(edit.index, edit.z), edit.source_label, moved.weights, device)
        elif edit.index in zs:
            moved.generated = render_seed(seed_generator, zs[edit.index], device)
        faces.append(moved)
    return faces
