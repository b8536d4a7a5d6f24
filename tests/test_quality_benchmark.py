"""The pieces of benchmarks/quality.py that turn edits into numbers."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from editor.blend import crop_face_mask

from .conftest import REPO


@pytest.fixture(scope="module")
def quality():
    spec = importlib.util.spec_from_file_location("quality", REPO / "benchmarks" / "quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_crop_blend_changes_the_face_and_not_the_corners(quality):
    rng = np.random.default_rng(0)
    face = rng.integers(60, 200, (48, 48), dtype=np.uint8)
    generated = np.full((48, 48), 128, np.uint8)
    generated[20:30, 10:38] = 250  # a bright band across the face
    blended = quality.blend_in_crop(face, generated)
    mask = crop_face_mask(48)
    assert blended.shape == (48, 48) and blended.dtype == np.uint8
    assert np.array_equal(blended[mask == 0], face[mask == 0])
    centre = mask > 0.99
    assert np.abs(blended.astype(int) - face)[centre].mean() > 10
    # The band shows through (luminance matched to the face, so brighter than its surroundings).
    assert blended[22:28, 16:32].mean() > blended[36:42, 16:32].mean() + 20


def test_edit_measures_count_hits_and_change(quality):
    before = np.zeros((4, 48, 48), np.uint8)
    after = before.copy()
    after[:2] = 10  # two faces changed by 10 grey levels everywhere
    probs = np.zeros((4, 7))
    probs[[0, 1, 2], 3] = 0.9  # three read as happy
    probs[3, 6] = 0.9
    measures = quality.edit_measures(before, after, probs, target=3, mask=crop_face_mask(48))
    assert measures["hit_rate"] == 0.75 and measures["n"] == 4
    assert measures["p_target"] == pytest.approx(0.675)
    assert measures["abs_change"] == pytest.approx(5.0)
    assert measures["read_as"]["happy"] == 0.75 and measures["read_as"]["neutral"] == 0.25
    assert sum(measures["read_as"].values()) == pytest.approx(1.0)
    unchanged = quality.edit_measures(before, before, probs, target=6, mask=None)
    assert unchanged["abs_change"] == 0 and unchanged["ssim"] == pytest.approx(1.0) and unchanged["hit_rate"] == 0.25


def test_markdown_shows_where_the_edits_go(quality):
    """The report's tables: one row per target plus the do-nothing row, target share in bold."""
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (7, 48, 48), dtype=np.uint8)
    probs = np.eye(7)  # face i reads as expression i
    mask = crop_face_mask(48)
    expressions = quality.EXPRESSIONS
    edits = {e: quality.edit_measures(faces, faces, np.eye(7)[[t] * 7], t, mask)
             for t, e in enumerate(expressions)}  # every edit lands
    baseline = {e: quality.edit_measures(faces, faces, probs, t, mask) for t, e in enumerate(expressions)}
    point = {"psnr": 18.0, "ssim": 0.4, "edit_hit_rate": 0.25, "edit_ssim": 0.5}
    report = {
        "meta": {"date": "2026-11-24", "machine": "test", "command": "python benchmarks/quality.py", "minutes": 1,
                 "classifier_private": 0.7, "samples": 10, "curve_faces": 7, "faces": 7, "photo_faces": 7,
                 "photos": 1},
        "fidelity": {e: {"share": 0.5, "diversity": 70.0, "real_diversity": 70.0} for e in expressions},
        "inversion": {e: {"psnr": 18.0, "ssim": 0.4} for e in expressions},
        "inversion_curve": {e: {s: point for s in quality.CURVE_STEPS} for e in expressions},
        "edits": {"fer": edits, "photos": edits}, "baseline": {"fer": baseline, "photos": baseline},
    }
    text = quality.markdown(report)
    assert "| happy | 0.0% | 0.0% | 0.0% | **100.0%** | 0.0% | 0.0% | 0.0% |" in text
    assert "| do nothing | 14.3% | 14.3% |" in text
    assert "| **mean** | 100.0% (14.3%) |" in text
