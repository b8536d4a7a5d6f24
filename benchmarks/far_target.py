"""A strength past the model's domain carried on as a change, not as the label: tried, not kept.

The strength a sets the target label y = (1 - a) p_src + a onehot (editor/edits.target_label). Up
to a = 1 that mixes expressions the generator was trained on; past it (the default 1.75) p_src is
subtracted and y leaves the simplex, where the 48 px renders break up: wrinkles of noise, white
streaks, mouths in pieces. The transfer low-passes most of it, not what the mouth's fill shows
(dev080's surprise: a white wedge; dev000's angry: a white "butterfly" of teeth).

The idea screened here (benchmarks/transfer_screen.py's renderat-AT and farpixels-AT variants;
docs/transfer_screens.md, "A strength carried on from a render at 1"): render T at a total of AT
and carry its change on by k = total / AT, as one extrapolates a morph: T's landmarks k times as
far from S's (or where the label puts them: farpixels), T's pixels moved there by a smooth field
through the landmarks, and their difference from S, moved alike, added k - 1 times more. The mouths
came out cleaner, the expressions weaker and the faces less like themselves: both 78.7% -> 70.9%
(AT 1) and 74.1% (AT 1.25) on all 200 faces_dev photos, same 98.1% -> 95.1%; not kept.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.crop_flow import warp_crop
from editor.motion import smooth_flow

# The largest label total rendered; beyond it the change is scaled (None: the label is, as shipped).
RENDER_AT: float | None = 1.0
# Crop pixels: the difference carried on is low-passed first (0: as it is).
LOWPASS = 0.0


def render_share(total: float, render_at: float | None = RENDER_AT) -> float:
    """The share of the weights to render (1: all of them) for a label total `total`."""
    if render_at is None or total <= render_at:
        return 1.0
    return render_at / total


def far_target(source: np.ndarray, source_points: np.ndarray, near: np.ndarray, near_points: np.ndarray,
               scale: float, *, lowpass: float = LOWPASS,
               far_points: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The target `scale` (>= 1) times as far from S as the render `near` is: S `source` and T
    `near` ([48, 48] uint8) with their landmarks ([68, 2]) -> ([48, 48] uint8, [68, 2] float32).
    `far_points`: where the far target's landmarks go (None: `scale` times as far as T's)."""
    source_points = np.asarray(source_points, np.float64)
    near_points = np.asarray(near_points, np.float64)
    if far_points is None:
        far_points = source_points + scale * (near_points - source_points)
    far_points = np.asarray(far_points, np.float64)
    if scale == 1.0:
        return np.asarray(near, np.uint8), far_points.astype(np.float32)
    size = np.asarray(near).shape[0]
    none = np.empty((0, 2))
    # Backward fields: each output pixel at the far landmarks samples where the renders have them.
    moved_near = warp_crop(np.asarray(near, np.float32), smooth_flow(far_points, near_points - far_points, none, size))
    moved_source = warp_crop(np.asarray(source, np.float32),
                             smooth_flow(far_points, source_points - far_points, none, size))
    difference = moved_near - moved_source
    if lowpass > 0:
        difference = cv2.GaussianBlur(difference, (0, 0), lowpass)
    far = np.clip(moved_near + (scale - 1.0) * difference, 0, 255).round().astype(np.uint8)
    return far, far_points.astype(np.float32)
