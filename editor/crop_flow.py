"""Flows in crop space: optical flow between two renders, and a crop warped by a flow.

The renders are 48x48 and soft; transfer.py measures the change between them in this frame
(the landmark flows of motion.py are the default; `expression_flow`, dense optical flow, is the
fallback without landmarks) before carrying it into the photo.
"""

from __future__ import annotations

import cv2
import numpy as np

from .blend import _as_grey255

FLOW_UPSCALE = 4  # DIS needs a few pixels of texture per patch: 48 px renders are upscaled 4x


def expression_flow(source: np.ndarray, target: np.ndarray, *, upscale: int = FLOW_UPSCALE) -> np.ndarray:
    """Backward flow [S, S, 2] float32 in crop pixels, such that
    target(x) ~ source(x + flow(x)). source, target: [S, S] uint8 or float in [-1, 1]."""
    s, t = (np.clip(_as_grey255(im), 0, 255).astype(np.uint8) for im in (source, target))
    size = s.shape[0]
    big = size * upscale
    s_big = cv2.resize(s, (big, big), interpolation=cv2.INTER_CUBIC)
    t_big = cv2.resize(t, (big, big), interpolation=cv2.INTER_CUBIC)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(t_big, s_big, None)  # t_big(x) ~ s_big(x + flow)
    flow = cv2.GaussianBlur(flow, (0, 0), upscale * 1.0)  # renders are soft: so is their motion
    return cv2.resize(flow, (size, size), interpolation=cv2.INTER_AREA) / upscale


def warp_crop(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """image [S, S] float sampled at x + flow(x) (bilinear, border replicated)."""
    size = image.shape[0]
    grid = np.arange(size, dtype=np.float32)
    map_x = grid[None, :] + flow[..., 0]
    map_y = grid[:, None] + flow[..., 1]
    return cv2.remap(image.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
