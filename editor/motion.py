"""Where the model's face moved: from landmarks of the two renders to a smooth flow.

The generator's renders S (the face as it is) and T (with the new expression)
are 48x48 and soft, and dense optical flow between them finds almost nothing
(DIS: 0.05 crop pixels on average, README "Quality"). Their landmarks do move:
the mouth widens and its corners lift for happy, the jaw drops for surprise.
`landmark_flow` turns the motion of the mouth and jaw points into a dense,
smooth backward flow in crop space, which transfer.py maps into the photo, so
the photo's own lips and chin move as the model's did.

Only the mouth (48-67) and the lower jaw (4-12) move. The other points (eyes,
brows, nose, upper jaw) and a ring on the crop's border hold still, which keeps
the warp local; eye and brow points of 48x48 renders are too noisy to move
(tried: glasses and eyes bent). Each point's move is capped, and the field is a
Gaussian radial-basis fit (smoothing, not exact interpolation), capped again,
so it stays smooth: with moves of at most 3 px and a reach of 5 px it cannot fold.
"""

from __future__ import annotations

import numpy as np
import torch

MOVING = np.r_[4:13, 48:68]  # iBUG 300-W: lower jaw and chin, outer and inner lips
HOLDING = np.setdiff1d(np.arange(68), MOVING)  # brows, eyes, nose, upper jaw: anchors
SIGMA = 5.0  # crop pixels: the reach of each point's move (the mouth is about 16 px wide)
CAP = 3.0  # crop pixels: no point moves further than this
# Smoothing, not exact interpolation: a mouth point next to a still nose point would
# otherwise make the field overshoot (to 6-10 px, p95, for moves capped at 3 px).
RIDGE = 0.2


def _border(size: int, per_side: int = 9) -> np.ndarray:
    edge = np.linspace(0.0, size - 1.0, per_side)
    top_bottom = [(x, y) for x in edge for y in (0.0, size - 1.0)]
    left_right = [(x, y) for y in edge[1:-1] for x in (0.0, size - 1.0)]
    return np.array(top_bottom + left_right)


def landmark_flow(source: np.ndarray, target: np.ndarray, size: int = 48, *, sigma: float = SIGMA,
                  cap: float = CAP) -> np.ndarray:
    """Backward flow [size, size, 2] float32 in crop pixels, such that a face
    warped with it, out(x) = face(x + flow(x)), moves its mouth and jaw from
    the `source` landmarks [68, 2] to the `target` ones."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    move = target[MOVING] - source[MOVING]
    length = np.linalg.norm(move, axis=1, keepdims=True)
    move *= np.minimum(1.0, cap / np.maximum(length, 1e-9))
    # Backward flow: known where each moving point lands (source + move), pointing back.
    flow = smooth_flow(source[MOVING] + move, -move, source[HOLDING], size, sigma=sigma)
    length = np.hypot(flow[..., 0], flow[..., 1])[..., None]
    return (flow * np.minimum(1.0, cap / np.maximum(length, 1e-9))).astype(np.float32)


def smooth_flow(at: np.ndarray, values: np.ndarray, held: np.ndarray, size: int = 48, *,
                sigma: float = SIGMA) -> np.ndarray:
    """A smooth field [size, size, 2] float32 that takes `values` [N, 2] at the points `at`
    [N, 2] and 0 at the points `held` [M, 2] and on a ring around the crop's border: a
    Gaussian radial-basis fit of reach `sigma`, smoothed by RIDGE (not exact)."""
    points = np.concatenate([np.asarray(at, np.float64), np.asarray(held, np.float64).reshape(-1, 2), _border(size)])
    values = np.concatenate([np.asarray(values, np.float64), np.zeros((len(points) - len(values), 2))])
    # The linear algebra runs in torch, on its thread pool: numpy's OpenBLAS keeps a second pool of
    # threads spinning after each call, which slowed the next face detection by half (measured:
    # MTCNN 150 ms against 92 ms on the 2-core CPU, benchmarks/edit_latency.py).
    points_t, values_t = torch.from_numpy(points), torch.from_numpy(values)
    kernel = torch.exp(-torch.cdist(points_t, points_t).square() / (2 * sigma ** 2))
    weights = torch.linalg.solve(kernel + RIDGE * torch.eye(len(points), dtype=torch.float64), values_t)
    axis = torch.arange(size, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
    basis = torch.exp(-torch.cdist(grid, points_t).square() / (2 * sigma ** 2))
    return (basis @ weights).reshape(size, size, 2).numpy().astype(np.float32)
