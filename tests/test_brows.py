"""The brows move as the renders' did, each as a whole relative to its eye (editor/motion.brow_flow),
unless the face wears glasses (editor/glasses.py, tests/test_glasses.py), whose rims would bend with them."""

from __future__ import annotations

import numpy as np

from editor.motion import BROW_CAP, BROWS, brow_flow, brow_moves, landing
from editor.transfer import face_change
from tests.test_mouth_opening import _closed_mouth_face


def test_a_brow_moves_as_a_whole_relative_to_its_eye():
    source = _closed_mouth_face()
    target = source.copy()
    target[17:48, 1] -= 2.0  # the render's whole upper face higher: brows and eyes alike
    assert np.abs(brow_moves(source, target)).max() < 1e-9
    target[17:27, 1] -= 1.5  # now the brows rise 1.5 more than the eyes
    target[[17, 26], 1] += 0.4  # and one point each is off the line (a noisy landmark)
    moves = brow_moves(source, target)
    assert np.allclose(moves[:, 0], 0.0)
    assert np.all(moves[:, 1] < -1.0) and np.all(moves[:, 1] > -1.7)  # the line, not the noisy point
    # Sad: the inner ends (21, 22) rise, the outer ones (17, 26) less: the fit keeps the tilt.
    sad = source.copy()
    sad[17:22, 1] -= np.linspace(0.0, 2.0, 5)
    sad[22:27, 1] -= np.linspace(2.0, 0.0, 5)
    tilted = brow_moves(source, sad)
    assert tilted[4, 1] < tilted[0, 1] - 1.5 and tilted[5, 1] < tilted[9, 1] - 1.5
    far = source.copy()
    far[17:27, 1] -= 10.0
    assert np.linalg.norm(brow_moves(source, far), axis=1).max() <= BROW_CAP + 1e-9


def test_the_brow_flow_moves_the_brows_and_holds_the_rest():
    source = _closed_mouth_face()
    target = source.copy()
    target[17:27, 1] -= 2.0  # surprise: the brows up, the eyes where they were
    flow = brow_flow(source, target)
    landed = landing(source[BROWS], flow)
    assert np.allclose(landed[:, 1] - source[BROWS, 1], -2.0, atol=0.6)
    held = np.r_[36:48, 48:68, 4:13]  # eyes, mouth, chin: still
    values = np.array([flow[int(round(y)), int(round(x))] for x, y in source[held]])
    assert np.abs(values).max() < 0.3
    # face_change adds it to the mouth's motion, unless told not to.
    render = np.full((48, 48), 128, np.uint8)
    moving = face_change(render, render, render, points=(source, target))
    still = face_change(render, render, render, points=(source, target), move_brows=False)
    assert np.abs(still.flow).max() < 1e-3 and np.abs(moving.flow).max() > 1.0


def test_the_lids_open_and_close_as_the_renders_did_but_never_cross():
    from editor.motion import LID_CAP, LIDS, MIN_OPENING, lid_flow, lid_moves
    source = _closed_mouth_face()
    source[[37, 38, 43, 44], 1] = 18.0  # upper lids
    source[[40, 41, 46, 47], 1] = 20.0  # lower lids: eyes 2 px open, corners at 19
    wide = source.copy()
    wide[36:48, 1] -= 1.0  # the render's whole eye region higher: no lid moves
    assert np.abs(lid_moves(source, wide)).max() < 1e-9
    wide[[37, 38, 43, 44], 1] -= 0.6  # surprise: upper lids up 0.6, lower lids down 0.3
    wide[[40, 41, 46, 47], 1] += 0.3
    moves = lid_moves(source, wide)
    assert np.allclose(moves[:, 0], 0.0)
    assert np.allclose(moves[:, 1], [-0.6, -0.6, 0.3, 0.3] * 2)
    far = source.copy()
    far[[37, 38, 43, 44], 1] -= 5.0
    assert np.allclose(lid_moves(source, far)[[0, 1, 4, 5], 1], -LID_CAP)
    shut = source.copy()
    shut[[37, 38, 43, 44], 1] += 0.9  # happy squints past closed: both lids 0.9 towards each other
    shut[[40, 41, 46, 47], 1] -= 0.9
    closed = lid_moves(source, shut)
    gap = 2.0 + closed[2, 1] - closed[0, 1]
    assert abs(gap - MIN_OPENING) < 1e-9
    flow = lid_flow(source, wide)
    landed = landing(source[LIDS], flow)
    assert np.allclose(landed[:, 1] - source[LIDS, 1], moves[:, 1], atol=0.25)
    corners = np.array([flow[19, int(round(x))] for x in source[[36, 39, 42, 45], 0]])
    assert np.abs(corners).max() < 0.2
