"""The pieces of benchmarks/quality.py that turn edited photos into numbers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gan.data import EXPRESSIONS

from .conftest import FER_CSV, benchmark_module, requires


@pytest.fixture(scope="module")
def quality():
    return benchmark_module("quality")


def test_box_overlap(quality):
    assert quality.box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == pytest.approx(1.0)
    assert quality.box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(1 / 3)
    assert quality.box_iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0


def test_sharpness_falls_when_the_face_is_blurred(quality):
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, (120, 120, 3), dtype=np.uint8)
    blurred = cv2.GaussianBlur(photo, (0, 0), 2.0)
    box = (10, 10, 110, 110)
    assert quality.sharpness(blurred, box) < 0.2 * quality.sharpness(photo, box)


def test_summary_counts_hits_same_person_and_both(quality):
    rows = []
    for target in EXPRESSIONS:
        # Two faces per target: one lands and keeps the person, one does neither.
        # The second judge disagrees on both: both2 counts only its hit on the same person, none here.
        rows.append({"set": "dev", "method": "conditional/flow", "strength": 1.0, "target": target, "hit": True, "hit2": False,
                     "same": True, "distance": 0.3, "sharpness": 1.0, "motion": 4.0})
        rows.append({"set": "dev", "method": "conditional/flow", "strength": 1.0, "target": target, "hit": False, "hit2": True,
                     "same": False, "distance": 0.8, "sharpness": 0.5, "motion": 2.0})
    rows.append({"set": "dev", "photo": "wall.jpg", "method": "no face found"})  # skipped, not counted
    summary = quality.summarise(rows)
    mean = summary["dev"]["conditional/flow@1"]["mean"]
    assert mean["hit"] == 0.5 and mean["same"] == 0.5 and mean["both"] == 0.5
    assert mean["hit2"] == 0.5 and mean["both2"] == 0.0
    assert summary["dev"]["conditional/flow@1"]["happy"]["n"] == 2
    table = quality.markdown({"meta": {"date": "today", "machine": "cpu", "command": "x", "minutes": 1.0},
                              "summary": summary})
    assert "| conditional/flow @ 1 | 50.0% | 50.0% | 50.0% | 50.0% | 0.0% | 0.75 | 3.0% |" in table
    assert "| conditional/flow @ 1 | 50.0% | " + " | ".join(["50%"] * len(EXPRESSIONS)) + " |" in table  # the judge's own table


def test_feature_motion_is_the_mean_move_of_brows_eyes_and_mouth_in_eye_distances():
    identity = benchmark_module("identity")  # dlib is imported only by IdentityModel, not needed here
    rng = np.random.default_rng(0)
    before = rng.uniform(0, 100, (68, 2))
    before[36], before[45] = (20.0, 40.0), (70.0, 40.0)  # outer eye corners 50 px apart
    assert identity.feature_motion(before, before) == 0.0
    after = before.copy()
    after[48:68, 1] += 5.0  # the whole mouth (20 of the 42 points) drops by 10% of the eye distance
    after[0:17] += 30.0  # the jaw line is not an expression point
    assert identity.feature_motion(before, after) == pytest.approx(10.0 * 20 / 42)


@requires(FER_CSV)
def test_the_second_judge_reads_fer_faces_as_its_authors_reported():
    """The mini-Xception port (benchmarks/expression_judge.py) reproduces its published
    accuracy (66% on FER2013's test data; 65.6% over all 3,589 PrivateTest faces with
    this port): a wrong weight layout or padding would read far worse."""
    from benchmarks.expression_judge import ExpressionJudge
    from gan.data import read_fer2013

    judge = ExpressionJudge()
    assert judge.classes == EXPRESSIONS
    data = read_fer2013(FER_CSV, split="PrivateTest")
    images, labels = data.images[:600, 0].numpy(), data.labels[:600].numpy()
    probs = judge.read(images)
    assert probs.shape == (600, len(EXPRESSIONS)) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert (probs.argmax(1) == labels).mean() > 0.6


def test_outputs_stay_in_the_repo_only_without_out(quality, tmp_path):
    """Without --out, the README's table and figure; with --out, everything goes there
    (the figure too), unless --examples names the figure."""
    assert quality.output_paths(None, None) == (quality.RESULTS, quality.EXAMPLES)
    assert quality.output_paths(tmp_path, None) == (tmp_path, tmp_path / "edits_faces_dev.png")
    assert quality.output_paths(tmp_path, tmp_path / "x.png") == (tmp_path, tmp_path / "x.png")
    assert quality.output_paths(None, tmp_path / "x.png") == (quality.RESULTS, tmp_path / "x.png")


def _refused(quality, argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as stopped:
        quality.parse_args(argv)
    assert stopped.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_bad_arguments_are_refused_before_any_model_loads(quality, tmp_path, capsys):
    checkpoints = ["--checkpoints", str(tmp_path)]
    folders = ["--data", str(tmp_path), *checkpoints]  # folders that exist wherever the tests run
    assert "--data: /nonexistent: no such folder" in _refused(quality, ["--data", "/nonexistent", *checkpoints],
                                                              capsys)
    assert "--compare-faces: must be a whole number >= 0" in _refused(quality, [*folders, "--compare-faces", "-1"],
                                                                      capsys)
    assert "unrecognized arguments: --seed-faces" in _refused(quality, [*folders, "--seed-faces", "40"], capsys)
    # a data folder without FER2013: say so now, not after the faces_dev edits
    (tmp_path / "faces_dev").mkdir()
    message = _refused(quality, ["--data", str(tmp_path), *checkpoints], capsys)
    assert "fer2013.csv.gz" in message and "--fer-faces 0" in message
    args = quality.parse_args(["--data", str(tmp_path), *checkpoints, "--fer-faces", "0", "--out", str(tmp_path)])
    assert args.examples == tmp_path / "edits_faces_dev.png"


def test_a_missing_dlib_is_said_before_the_editor_loads(quality, monkeypatch):
    def no_dlib():
        raise ValueError("benchmarks/identity.py needs dlib and its models: pip install '.[bench]'")

    monkeypatch.setattr(quality, "IdentityModel", no_dlib)
    with pytest.raises(SystemExit, match=r"needs dlib .* pip install"):
        quality.load_judges()


def test_the_usage_names_only_options_that_exist(quality):
    """The docstring is the --help text: every --option in it must be one the parser takes,
    with the parser's defaults."""
    import re

    parser = quality.build_parser()
    known = {option for action in parser._actions for option in action.option_strings}
    assert set(re.findall(r"--[a-z][a-z-]+", quality.__doc__)) <= known
    assert "--fer-faces 100" in quality.__doc__ and parser.get_default("fer_faces") == 100
