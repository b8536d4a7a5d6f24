"""How soft a photo's edges are (editor/edge_blur.py), and the fill's edge matched to them
(mouth_opening.MATCH_FOCUS)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.edge_blur import edge_blur


def _steps(size: int = 160) -> np.ndarray:
    """A grey test card of sharp steps: squares of 60 and 190 grey levels, 20 pixels a side,
    with a little noise (flat skin's, which must not count as edges)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:size, :size]
    card = np.where(((x // 20) + (y // 20)) % 2 == 0, 60.0, 190.0)
    return (card + rng.normal(0, 1.0, card.shape)).astype(np.float32)


@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.0])
def test_the_blur_of_blurred_steps_is_found(sigma):
    blurred = cv2.GaussianBlur(_steps(), (0, 0), sigma)
    assert edge_blur(blurred) == pytest.approx(sigma, rel=0.25)


def test_sharp_steps_read_sharp_and_blur_grows_the_estimate():
    sharp = edge_blur(_steps())
    assert sharp is not None and sharp < 0.8
    estimates = [edge_blur(cv2.GaussianBlur(_steps(), (0, 0), s)) for s in (1.0, 1.5, 2.0, 2.5)]
    assert estimates == sorted(estimates)


def test_no_edges_no_estimate():
    rng = np.random.default_rng(1)
    flat = (128 + rng.normal(0, 0.5, (80, 80))).astype(np.float32)  # noise under MIN_CONTRAST
    assert edge_blur(flat) is None
    assert edge_blur(np.zeros((4, 40), np.float32)) is None


def test_the_fills_edge_is_as_soft_as_the_photos_edges():
    from editor.mouth_opening import MouthOpening, fill_opening
    scale = 8.0
    to_photo = np.array([[scale, 0.0, 0.0], [0.0, scale, 0.0]])
    polygon = np.array([[18, 36], [21, 34], [24, 34], [27, 34], [30, 36], [27, 38], [24, 38], [21, 38]], np.float32)
    own = np.array([[18, 36], [21, 35.95], [24, 35.95], [27, 35.95], [30, 36], [27, 36.05], [24, 36.05],
                    [21, 36.05]], np.float32)
    opening = MouthOpening(polygon, own, np.full((48, 48), 40.0, np.float32))  # a dark opening on skin
    side = 48 * 8
    grid = np.arange(side, dtype=np.float32)
    maps = (np.repeat(grid[None], side, 0), np.repeat(grid[:, None], side, 1))  # no motion
    sample = (maps[0] / scale, maps[1] / scale)

    def edge_width(photo: np.ndarray, match: bool) -> int:
        region = np.repeat(photo[..., None], 3, axis=2).astype(np.float32)
        region[30 * 8:42 * 8, 16 * 8:32 * 8] = 150.0  # flat skin where the opening is drawn
        chosen = MouthOpening(**{**opening.__dict__, "match_focus": match})
        out = fill_opening(region.copy(), region, region, chosen, to_photo, (0, 0, side, side), maps, sample)
        column = out[int(30.5 * 8):int(35 * 8), 24 * 8, 0]  # down across the opening's upper edge
        return int(np.sum((column < 145) & (column > 45)))  # pixels part way from skin to the fill

    # The photo round the mouth: the test card's steps, sharp, or blurred by 3 of its pixels (7 here).
    sharp, soft = _steps(), cv2.GaussianBlur(_steps(), (0, 0), 3.0)
    sharp, soft = (cv2.resize(c, (side, side), interpolation=cv2.INTER_NEAREST) for c in (sharp, soft))
    assert edge_width(sharp, True) <= 2  # a sharp photo: the edge a pixel or two wide, as drawn
    assert edge_width(soft, False) <= 2
    assert edge_width(soft, True) >= 6  # a soft photo: the fill's edge as soft as its own
