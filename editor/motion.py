"""Where the model's face moved: from landmarks of the two renders to a smooth flow.

The generator's renders S (the face as it is) and T (with the new expression)
are 48x48 and soft, and dense optical flow between them finds almost nothing
(DIS: 0.05 crop pixels on average, README "Quality"). Their landmarks do move:
the mouth widens and its corners lift for happy, the jaw drops for surprise.
`landmark_flow` turns the motion of the mouth and jaw points into a dense,
smooth backward flow in crop space, which transfer.py maps into the photo, so
the photo's own lips and chin move as the model's did.

The mouth (48-67) and the lower jaw (4-12) move point by point. The other points
(eyes, brows, nose, upper jaw) and a ring on the crop's border hold still, which keeps
the warp local; eye and brow points of 48x48 renders are too noisy to move one by one
(tried: glasses and eyes bent), but each brow as a whole (a line fit through its five
points, relative to its eye) and each eyelid (its points' mean, relative to the eye's
corners) are not: `brow_flow` and `lid_flow`, fields of their own. Each point's move is capped, and the field is a
Gaussian radial-basis fit (smoothing, not exact interpolation), capped again,
and shrunk where it would fold (FOLD_FLOOR), so it stays smooth.
"""

from __future__ import annotations

import numpy as np
import torch

MOVING = np.r_[4:13, 48:68]  # iBUG 300-W: lower jaw and chin, outer and inner lips
HOLDING = np.setdiff1d(np.arange(68), MOVING)  # brows, eyes, nose, upper jaw: anchors
# Crop pixels: the reach of each point's move (the mouth is about 16 px wide). 5 until 2026-12-07:
# a broad smile edited to neutral or surprise pulled its mouth corners in 5 px with the cheeks beside
# them left behind, and the smile's folds bent into a pair of brackets round a pinched mouth
# (fr_obama, dev010). At 7 the cheeks go with the corners (the folds bend less; 9 looked more
# natural still but moved the lips less: both2 65.3% -> 61.8%); on 200 faces_dev photos both 79.6% ->
# 79.0%, both2 65.3% -> 65.7%, same 97.6% -> 98.1% (docs/transfer_screens.md).
SIGMA = 7.0
# Crop pixels: no point moves further than this. 3 until 2026-12-06 (late night); with the lips
# parted (parted_flow) a surprise's jaw drops 7-9 px in the renders, and 7 lets the photo's follow:
# both 70.7% -> 73.2%, both2 54.5% -> 58.2% on photos 120-199 with RIGID_TEETH and
# mouth_darkening.TEETH_DEPTH (docs/transfer_screens.md).
CAP = 7.0
# The least area a backward field may leave a pixel (the Jacobian determinant of x + flow(x)):
# below it the field is scaled down until it holds. At a cap of 7 one lip's field of 280 (20
# faces_dev photos x 7 targets x 2 lips) folded (determinant -0.09; the 1st percentile 0.08);
# at 3 the least was 0.26.
FOLD_FLOOR = 0.2
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
    return _flow_of(source, target, MOVING, size, sigma=sigma, cap=cap)


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


# Parting the lips: the upper lip moves with the points above the mouth's seam, the lower lip
# with those below, and the two flows meet along the moved inner lips (parted_flow).
UPPER_LIP = np.r_[49:54, 61:64]  # outer and inner upper lip, corners excluded
LOWER_LIP = np.r_[55:60, 65:68]
INNER_UPPER = np.array([60, 61, 62, 63, 64])  # left corner to right corner along the upper inner lip
INNER_LOWER = np.array([60, 67, 66, 65, 64])  # ... and along the lower one
SEAM_SOFTNESS = 0.5  # crop pixels: the meeting's width where the lips touch
SEAM_SPREAD = 2.0  # ... widening by this much per pixel beyond the mouth's corners, so the cheeks do not tear
# Teeth hang from the upper jaw: what the photo shows between its lips moves with the upper lip,
# and the lower lip slides down past it (the seam sits on the moved lower inner lip), leaving the
# opening below the teeth to the fill. False: the two flows blend linearly between the moved lips,
# which stretched a smile's teeth into a tall white oval when the mouth opened (the astronaut's
# angry, dev010, dev103).
RIGID_TEETH = True
LANDING_ITERATIONS = 8


def parted_flow(source: np.ndarray, target: np.ndarray, size: int = 48, *, sigma: float = SIGMA,
                cap: float = CAP, rigid: bool = RIGID_TEETH) -> tuple[np.ndarray, np.ndarray]:
    """A flow like landmark_flow's whose upper and lower lip move apart (or together) as
    separate pieces, and where it puts the photo's inner lips: ([size, size, 2] float32,
    [8, 2] float32 in the order of landmarks 60-67).

    landmark_flow's one smooth field cannot part touching lips: their inner points sit a
    fraction of a pixel apart with opposite moves, which its smoothing averages away, so the
    outer lips move and the closed lips between them are stretched into a blurred band. Here
    each lip has its own field (the other lip's points left out), used above the moved upper
    inner lip and below the moved lower one; between them, where a parted mouth shows what the
    photo does not have, the two blend (mouth_opening.py fills it), or, `rigid`
    (RIGID_TEETH), the upper lip's field reaches down to the moved lower lip."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    upper = _flow_of(source, target, np.setdiff1d(MOVING, LOWER_LIP), size, sigma=sigma, cap=cap)
    lower = _flow_of(source, target, np.setdiff1d(MOVING, UPPER_LIP), size, sigma=sigma, cap=cap)
    top = landing(source[INNER_UPPER], upper)
    bottom = landing(source[INNER_LOWER], lower)
    weight = seam_weight(top, bottom, size, rigid=rigid)[..., None]
    flow = weight * upper + (1.0 - weight) * lower
    lips = np.concatenate([top, bottom[3:0:-1]])  # 60, 61, 62, 63, 64, 65, 66, 67
    return flow.astype(np.float32), lips.astype(np.float32)


def _flow_of(source: np.ndarray, target: np.ndarray, moving: np.ndarray, size: int, *, sigma: float,
             cap: float) -> np.ndarray:
    """The capped backward flow that moves the `moving` points and holds HOLDING still."""
    move = capped(target[moving] - source[moving], cap)
    # Backward flow: known where each moving point lands (source + move), pointing back.
    flow = smooth_flow(source[moving] + move, -move, source[HOLDING], size, sigma=sigma)
    return unfolded(capped(flow, cap)).astype(np.float32)


def capped(vectors: np.ndarray, cap: float) -> np.ndarray:
    """`vectors` [..., 2] each shortened to at most `cap` (their direction kept)."""
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors * np.minimum(1.0, cap / np.maximum(length, 1e-9))


def _moving_alone(source: np.ndarray, moving: np.ndarray, move: np.ndarray, size: int, sigma: float) -> np.ndarray:
    """The unfolded backward flow [size, size, 2] float32 that moves the landmarks `moving` of
    `source` by `move` [N, 2] and holds every other landmark and the crop's border still."""
    held = np.setdiff1d(np.arange(len(source)), moving)
    return unfolded(smooth_flow(source[moving] + move, -move, source[held], size, sigma=sigma)).astype(np.float32)


# The brows move as the renders' did relative to their eye (surprise and fear raise them, sad lifts
# their inner ends, angry lowers and draws them in), as a whole: each brow's five points are too
# noisy at 48x48 to move one by one (glasses bent, README "Quality"), so each brow gets a line
# fit of its points' vertical moves (a shift and a tilt) and their mean horizontal move, less its
# eye's mean move (the renders' whole upper face shifts by 1-2 crop pixels between expressions,
# and the eyes hold still). At most BROW_CAP crop pixels, reaching BROW_SIGMA crop pixels (the
# brow sits 4-6 px above its eye, which holds the glasses' rims below it).
LEFT_BROW, RIGHT_BROW = np.arange(17, 22), np.arange(22, 27)
LEFT_EYE, RIGHT_EYE = np.arange(36, 42), np.arange(42, 48)
BROWS = np.r_[LEFT_BROW, RIGHT_BROW]
BROW_CAP = 3.0
BROW_SIGMA = 3.5


def brow_moves(source: np.ndarray, target: np.ndarray, *, cap: float = BROW_CAP) -> np.ndarray:
    """[10, 2]: how each brow point (17-26) moves, each brow as a whole relative to its eye (a
    line fit of the vertical moves, the mean horizontal one), capped at `cap` crop pixels."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    moves = []
    for brow, eye in ((LEFT_BROW, LEFT_EYE), (RIGHT_BROW, RIGHT_EYE)):
        relative = (target[brow] - source[brow]) - (target[eye] - source[eye]).mean(axis=0)
        x = source[brow, 0] - source[brow, 0].mean()
        spread = float(np.dot(x, x))  # least squares on centred x; 0 where the points stack up
        slope = float(np.dot(x, relative[:, 1])) / spread if spread > 1e-6 else 0.0
        shift = float(relative[:, 1].mean())
        moves.append(np.stack([np.full(len(brow), relative[:, 0].mean()), slope * x + shift], axis=-1))
    return capped(np.concatenate(moves), cap)


def brow_flow(source: np.ndarray, target: np.ndarray, size: int = 48, *, cap: float = BROW_CAP,
              sigma: float = BROW_SIGMA) -> np.ndarray:
    """Backward flow [size, size, 2] float32 that moves the brows as brow_moves says and holds
    every other landmark (eyes, nose, jaw, mouth) and the crop's border still."""
    source = np.asarray(source, np.float64)
    return _moving_alone(source, BROWS, brow_moves(source, target, cap=cap), size, sigma)


# The eyelids, likewise: the renders open their eyes 2.2 crop pixels wider for surprise and 1.2 for
# fear and narrow them 0.45 for happy (photos 120-199, every 8th; both eyes agree, r 0.99), while
# an eye's opening is some 1.7 pixels. Each eye's upper lid (points 37-38, 43-44) and lower lid
# (40-41, 46-47) move by their mean vertical move less the eye corners' (which hold still), at
# most LID_CAP (a warp only stretches what the photo shows: an iris stretched further turns
# oval), never closing the eye, over LID_SIGMA crop pixels.
LIDS = np.array([37, 38, 40, 41, 43, 44, 46, 47])
LID_CAP = 1.0
LID_SIGMA = 2.0
MIN_OPENING = 0.3  # crop pixels the lids stay apart


def lid_moves(source: np.ndarray, target: np.ndarray, *, cap: float = LID_CAP) -> np.ndarray:
    """[8, 2]: how each eyelid point (LIDS' order) moves: vertically, each lid by its points' mean
    move less its eye corners', capped at `cap`, the eye kept at least MIN_OPENING open."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    dy = target[:, 1] - source[:, 1]
    moves = []
    for eye in (36, 42):  # each eye's first corner; then upper lid, other corner, lower lid
        corners, upper, lower = [eye, eye + 3], [eye + 1, eye + 2], [eye + 4, eye + 5]
        still = dy[corners].mean()
        up, down = (float(np.clip(dy[lid].mean() - still, -cap, cap)) for lid in (upper, lower))
        opening = source[lower, 1].mean() - source[upper, 1].mean()
        closing = opening + down - up - MIN_OPENING  # < 0: the lids would cross
        if closing < 0 and down - up < 0:
            shrink = max(opening - MIN_OPENING, 0.0) / (up - down)
            up, down = up * shrink, down * shrink
        moves += [up, up, down, down]
    return np.stack([np.zeros(8), np.array(moves)], axis=-1)


def lid_flow(source: np.ndarray, target: np.ndarray, size: int = 48, *, cap: float = LID_CAP,
             sigma: float = LID_SIGMA, moves: np.ndarray | None = None) -> np.ndarray:
    """Backward flow [size, size, 2] float32 that moves the eyelids as lid_moves says and holds
    every other landmark (eye corners, brows, nose, mouth, jaw) and the crop's border still.
    `moves`: lid_moves(source, target, cap=cap) where the caller has it already (transfer's
    eyeball hold uses the same)."""
    source = np.asarray(source, np.float64)
    if moves is None:
        moves = lid_moves(source, target, cap=cap)
    return _moving_alone(source, LIDS, moves, size, sigma)


def least_area(flow: np.ndarray) -> float:
    """The smallest Jacobian determinant of x -> x + flow(x) over the field [S, S, 2]
    (central differences): 1 where it does not stretch, 0 where it squeezes to a line, < 0 folded."""
    dx_dy, dx_dx = np.gradient(flow[..., 0].astype(np.float64))
    dy_dy, dy_dx = np.gradient(flow[..., 1].astype(np.float64))
    return float(((1.0 + dx_dx) * (1.0 + dy_dy) - dx_dy * dy_dx).min())


def unfolded(flow: np.ndarray, floor: float = FOLD_FLOOR, steps: int = 12) -> np.ndarray:
    """`flow` scaled down by the least factor that keeps least_area at `floor` or above (bisection;
    the identity, scale 0, has area 1); unchanged where it already does."""
    if least_area(flow) >= floor:
        return flow
    low, high = 0.0, 1.0  # low holds, high does not
    for _ in range(steps):
        middle = (low + high) / 2
        low, high = (middle, high) if least_area(flow * middle) >= floor else (low, middle)
    return flow * low


def seam_weight(top: np.ndarray, bottom: np.ndarray, size: int = 48, *, rigid: bool = RIGID_TEETH) -> np.ndarray:
    """[size, size] float32 in [0, 1]: 1 above the curve `top` ([5, 2], corner to corner), 0 below
    `bottom`, linear between (`rigid`: 1 down to a SEAM_SOFTNESS-wide step onto `bottom`); where the
    curves cross (closing lips), a SEAM_SOFTNESS-wide step at their middle; beyond the corners the
    step widens by SEAM_SPREAD per pixel."""
    top, bottom = np.asarray(top, np.float64), np.asarray(bottom, np.float64)
    xs = np.arange(size, dtype=np.float64)
    left = (top[0] + bottom[0]) / 2
    right = (top[-1] + bottom[-1]) / 2
    inside = np.clip(xs, left[0], right[0]) if left[0] < right[0] else np.full(size, (left[0] + right[0]) / 2)
    upper_y = y_along(top, inside)
    lower_y = y_along(bottom, inside)
    beyond = np.maximum(xs - inside, inside - xs) if left[0] < right[0] else np.abs(xs - inside)
    centre = (upper_y + lower_y) / 2
    width = np.maximum(lower_y - upper_y, 0.0) + SEAM_SOFTNESS + SEAM_SPREAD * beyond
    if rigid:  # the upper lip's field down to the lower lip, where the lips are apart
        centre = np.maximum(lower_y - SEAM_SOFTNESS / 2, centre)
        width = SEAM_SOFTNESS + SEAM_SPREAD * beyond
    ys = np.arange(size, dtype=np.float64)[:, None]
    return np.clip(0.5 + (centre[None, :] - ys) / width[None, :], 0.0, 1.0).astype(np.float32)


def y_along(curve: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The curve's y at each of `xs` (piecewise linear in x through its points [n, 2] sorted by x;
    held level beyond its ends): a lip's, a lid's or a seam's height at given columns."""
    order = np.argsort(curve[:, 0], kind="stable")
    return np.interp(xs, curve[order, 0], curve[order, 1])


def landing(points: np.ndarray, flow: np.ndarray, iterations: int = LANDING_ITERATIONS) -> np.ndarray:
    """Where a backward-warped image, out(x) = image(x + flow(x)), shows the image's `points`
    [N, 2]: the x with x + flow(x) = point, by fixed-point steps (the flow is smooth and small)."""
    points = np.asarray(points, np.float64)
    x = points.copy()
    for _ in range(iterations):
        moved = np.stack([_bilinear(flow[..., i], x) for i in (0, 1)], axis=-1)
        x = points - moved
    return x


def _bilinear(field: np.ndarray, at: np.ndarray) -> np.ndarray:
    """`field` [S, S] at the points `at` [N, 2] (x, y), bilinear in float64 (cv2.remap's weights
    are 1/32 steps), clamped to the border."""
    size = field.shape[0]
    x = np.clip(at[:, 0], 0, size - 1)
    y = np.clip(at[:, 1], 0, size - 1)
    x0, y0 = np.minimum(np.floor(x).astype(int), size - 2), np.minimum(np.floor(y).astype(int), size - 2)
    fx, fy = x - x0, y - y0
    f = field.astype(np.float64)
    return ((1 - fx) * (1 - fy) * f[y0, x0] + fx * (1 - fy) * f[y0, x0 + 1]
            + (1 - fx) * fy * f[y0 + 1, x0] + fx * fy * f[y0 + 1, x0 + 1])
