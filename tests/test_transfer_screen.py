"""The pure pieces of benchmarks/transfer_screen.py's variants."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from editor.edits import EditSettings

from .conftest import benchmark_module


@pytest.fixture(scope="module")
def screen():
    return benchmark_module("transfer_screen")


def _points(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(12, 36, (68, 2))


def test_registration_of_matching_points_is_no_flow(screen):
    points = _points()
    assert np.abs(screen.registration_flow(points, points)).max() < 1e-6


def test_registration_samples_the_render_where_the_photo_has_its_points(screen):
    photo = np.array([[24.0, 30.0]])  # one mouth point, the render's sits 2 px lower
    flow = screen.registration_flow(photo, photo + [0.0, 2.0])
    assert flow[30, 24, 1] > 1.0 and abs(flow[30, 24, 0]) < 0.1  # points down, towards the render's
    assert np.abs(flow[0]).max() < 0.2 and np.abs(flow[:, 0]).max() < 0.2  # the crop's border holds


def test_registration_moves_about_as_far_as_the_cap_at_most(screen):
    points = _points(1)
    flow = screen.registration_flow(points, points + 10.0, cap=3.0)
    # Each point's move is capped; the fit smooths rather than interpolates and is not capped
    # again (as screened), so between close points it may overshoot a little.
    assert np.hypot(flow[..., 0], flow[..., 1]).max() <= 3.0 * 1.1


def test_saliency_keeps_the_change_where_it_pushes_towards_the_target(screen):
    change = np.zeros((48, 48), np.float32)
    change[20:40, 8:40] = -20.0  # a darker lower face
    gradient = np.zeros_like(change)
    gradient[20:40, 8:24] = -1.0  # the classifier wants the left half darker ...
    gradient[20:40, 24:40] = 1.0  # ... and the right half lighter
    weight = screen.saliency_weight(gradient, change, floor=0.3, blur=0.5)
    assert weight.min() >= 0.3 - 1e-6 and weight.max() <= 1.0 + 1e-6
    assert weight[30, 14] > 0.9  # kept where it helps
    assert weight[30, 34] == pytest.approx(0.3, abs=0.05)  # the floor where it works against the target
    assert weight[5, 5] == pytest.approx(0.3)  # and where there is no change


def test_saliency_of_no_push_anywhere_is_the_floor(screen):
    weight = screen.saliency_weight(np.zeros((48, 48)), np.ones((48, 48)), floor=0.4)
    assert np.allclose(weight, 0.4)


def test_variant_names_and_strengths(screen):
    name, _, strength = screen.variant("saliency-judge@2.25")
    assert name == "saliency-judge@2.25" and strength == 2.25
    assert screen.variant("registered-0.7")[2] == screen.DEFAULT_STRENGTH["conditional"]
    with pytest.raises(SystemExit, match="unknown variant"):
        screen.variant("saliency-everyone")


def test_photos_are_a_first_end_slice(screen):
    assert screen.photo_range("120:200") == (120, 200)
    for bad in ("2", "5:3", "a:b", "-1:4", "3:3"):
        with pytest.raises(argparse.ArgumentTypeError, match="FIRST:END"):
            screen.photo_range(bad)


def test_the_report_says_when_where_and_how(screen):
    report = screen.report("0:40", {"default": []})
    assert report["photos"] == "0:40" and report["rows"] == {"default": []}
    assert report["date"] and screen.cpu_name() in report["machine"]
    assert report["command"].startswith("python benchmarks/transfer_screen.py")


def test_relative_variants_set_the_knee(screen):
    from types import SimpleNamespace
    rng = np.random.default_rng(2)
    face = rng.integers(60, 200, (48, 48)).astype(np.uint8)
    edit = SimpleNamespace(source=face, generated=np.clip(face.astype(int) + 20, 0, 255).astype(np.uint8),
                           aligned=face, source_points=None, target_points=None, glasses=False)
    settings = EditSettings()
    changes = {spec: screen.variant(spec)[1](None, None, edit, settings, 0)
               for spec in ("relative-none", "relative-0.4", "relative-1")}
    assert changes["relative-none"].level is None
    assert np.allclose(changes["relative-0.4"].level * 2.5, changes["relative-1"].level, rtol=1e-5)
    with pytest.raises(SystemExit, match="relative-KNEE"):
        screen.variant("relativity")


def test_cavity_variants_set_the_cavity_knee(screen):
    from types import SimpleNamespace
    source = np.full((48, 48), 170, np.uint8)
    target = source.copy()
    target[30:38, 20:28] = 10  # an opening mouth the render draws
    target[14:22, 11:19] = 10  # and a darkened eye socket
    edit = SimpleNamespace(source=source, generated=target, aligned=source, source_points=None, target_points=None, glasses=False)
    settings = EditSettings()
    changes = {spec: screen.variant(spec)[1](None, None, edit, settings, 0)
               for spec in ("cavity-none", "cavity-0.3", "cavity-0.6", "cavity-anywhere", "default")}
    assert changes["cavity-none"].cavity is None and changes["cavity-none"].level is not None
    assert np.allclose(changes["cavity-0.3"].cavity_level * 2, changes["cavity-0.6"].cavity_level, rtol=1e-5)
    assert np.array_equal(changes["cavity-0.6"].cavity_level, changes["default"].cavity_level)
    assert changes["default"].cavity[34, 24] > 0.5 and changes["default"].cavity[18, 15] == 0.0
    anywhere = changes["cavity-anywhere"]  # the old default: the eye socket gets the cavity too
    assert anywhere.cavity[34, 24] > 0.5 and anywhere.cavity[18, 15] > 0.5
    assert np.array_equal(anywhere.residual, changes["default"].residual)



def test_moustache_variant_keeps_a_dark_upper_lip_dark_and_stray_variants_set_the_shade(screen):
    from types import SimpleNamespace
    points = np.full((68, 2), 24.0)
    points[31:36] = np.c_[np.linspace(20, 28, 5), np.full(5, 30.0)]  # the nose's bottom
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    points[48:60] = np.c_[24 + 8 * np.cos(angles), 37 + 2 * np.sin(angles)]  # outer lips
    inner = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    points[60:68] = np.c_[24 + 5 * np.cos(inner), 37 + 0.5 * np.sin(inner)]  # inner lips
    photo = np.full((48, 48), 170, np.uint8)
    photo[31:34, 16:33] = 40  # a black moustache between the nose and the upper lip
    target = photo.copy()
    target[31:34, 16:33] = 170  # the target render has none: the change lightens it
    edit = SimpleNamespace(source=photo, generated=target, aligned=photo, source_points=points, target_points=points, glasses=False)
    settings = EditSettings()
    plain, default, kept = (screen.variant(spec)[1](None, None, edit, settings, 0)
                            for spec in ("moustache-none", "default", "moustache-0.5"))
    assert plain.residual[32, 24] > 50 and default.residual[32, 24] < 0.2 * plain.residual[32, 24]
    assert kept.residual[32, 24] < 5  # a higher LOW reaches lighter hair
    # Above the nose untouched, but for the share of the residual's mean taken off (transfer.SHIFT_REMOVED).
    assert np.allclose(plain.residual[:20] - plain.residual[0, 0], default.residual[:20] - default.residual[0, 0], atol=1e-4)
    none, deep = (screen.variant(spec)[1](None, None, edit, settings, 0) for spec in ("stray-none", "stray-1/45"))
    # Nothing darkens here: the shade, however deep, changes nothing.
    assert np.array_equal(none.residual, default.residual) and np.array_equal(deep.residual, default.residual)


def test_the_figures_mouth_crop_is_centred_between_the_mouth_corners_and_inside_the_photo():
    from types import SimpleNamespace
    figure = benchmark_module("transfer_figure")
    landmarks = np.array([[40, 50], [80, 50], [60, 70], [45, 90], [75, 90]], np.float32)
    face = SimpleNamespace(landmarks=landmarks, width=100.0)
    assert figure.mouth_box(face, (400, 300)) == (25, 55, 95, 125)  # 35 px each side of (60, 90)
    assert figure.mouth_box(face, (80, 100)) == (25, 55, 80, 100)  # clipped to a small photo
