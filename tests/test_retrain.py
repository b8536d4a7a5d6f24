"""scripts/retrain_editor.py: the editor's whole model chain, retrained in one command, runs
end to end (one epoch per step on a few real faces), resumes without redoing finished steps,
and stops at a bad step with a message that names it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from gan.checkpoint import load_generator, read_metadata
from gan.conditional import ConditionalGenerator
from gan.encoder import load_encoder
from scripts.retrain_editor import main as retrain

from .conftest import CHECKPOINTS, FER_CSV

pytestmark = pytest.mark.skipif(not (CHECKPOINTS / "classifier.safetensors").exists(), reason="no shipped classifier")


def fer_splits_sample(folder: Path, per_split: dict[str, int]) -> Path:
    """The first rows of each split of the real FER2013 csv, as a small csv (the classifiers
    need PublicTest and PrivateTest rows too)."""
    if not FER_CSV.exists():
        pytest.skip(f"{FER_CSV} not present")
    wanted = dict(per_split)
    with gzip.open(FER_CSV, "rt") as src:
        lines = [next(src)]
        for line in src:
            split = line.rstrip().rsplit(",", 1)[-1]
            if wanted.get(split, 0) > 0:
                lines.append(line)
                wanted[split] -= 1
            if not any(wanted.values()):
                break
    path = folder / "fer2013.csv"
    path.write_text("".join(lines))
    return path


def test_the_chain_runs_end_to_end_and_resumes(tmp_path, capsys):
    # more test faces than --limit: a quick chain's teachers measure only --limit of each split
    data = fer_splits_sample(tmp_path, {"Training": 160, "PublicTest": 100, "PrivateTest": 100})
    out = tmp_path / "runs"
    args = ["--data", str(data), "--out", str(out), "--quick", "--limit", "96", "--device", "cpu"]
    assert retrain(args) == 0
    average, meta = load_generator(out / "conditional_average.safetensors")
    assert isinstance(average, ConditionalGenerator)
    ingredients = meta["averaged_from"]
    assert [Path(i["path"]).parent.name for i in ingredients] == ["change", "change_balanced"]
    assert [round(i["weight"], 2) for i in ingredients] == [0.35, 0.65]
    assert "class-balance" in ingredients[1]["teacher_command"]  # the second stage's teacher is the balanced one
    load_encoder(out / "encoder" / "encoder.safetensors")
    config = json.loads((out / "conditional" / "config.json").read_text())
    assert config["lambda_ac"] == 3 and config["epochs"] == 2  # the second phase resumed the first
    for teacher in ("teacher", "teacher_balanced"):
        meta = read_metadata(out / teacher / "classifier.safetensors")
        assert meta["public_test"]["images"] == meta["private_test"]["images"] == 96, teacher
    # the GAN's two phases are two sittings of its history, kept by each change stage and the average
    phases = ingredients[0]["from_history"]
    assert [(h["from_epoch"], h["to_epoch"]) for h in phases] == [(0, 1), (1, 2)]
    assert "--lambda-ac 3" in phases[1]["command"] and "--lambda-ac" not in phases[0]["command"]
    assert [(h["from_epoch"], h["to_epoch"]) for h in ingredients[1]["history"]] == [(0, 1)]
    # a folder the editor loads as it is: the retrained generator and encoder, the shipped rest
    from editor.pipeline import Editor

    editor = Editor.load(out / "checkpoints", device="cpu")
    assert (out / "checkpoints" / "encoder.safetensors").is_file()
    assert editor.classifier is not None and editor.landmarks is not None
    said = capsys.readouterr()
    assert f"--checkpoints {out / 'checkpoints'}" in said.out
    assert "a --quick check" in said.out and "not how good its models are" in said.out
    # A check run's encoder (96 faces, a minute) may guess no better than the mean z: the editor
    # then starts from the latent bank and says why.
    assert editor.encoder is not None or "or for too short a time" in said.err
    files = sorted(p for p in out.rglob("*.safetensors") if p.parent.name != "checkpoints")
    before = {p: p.read_bytes() for p in files}
    assert retrain(args) == 0  # every step finished: nothing is trained again
    assert {p: p.read_bytes() for p in files} == before


def test_a_step_that_fails_is_named_and_stops_the_chain(tmp_path, capsys):
    out = tmp_path / "runs"
    code = retrain(["--data", str(tmp_path / "missing.csv"), "--out", str(out), "--quick", "--device", "cpu"])
    assert code != 0
    err = capsys.readouterr().err
    assert "missing.csv" in err and "step 1 (conditional GAN, first phase) stopped" in err
    assert not (out / "encoder").exists()  # nothing after it ran


def test_a_quick_run_is_never_shipped(tmp_path, capsys):
    """--quick is a one-epoch check; with --ship it would replace checkpoints/ with it."""
    with pytest.raises(SystemExit) as stopped:
        retrain(["--data", str(tmp_path / "fer.csv"), "--out", str(tmp_path / "runs"), "--quick", "--ship"])
    assert stopped.value.code == 2
    assert "drop --ship" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # refused before any step ran


def test_data_a_later_step_needs_is_checked_before_step_1(tmp_path, capsys):
    """The README's image folder with train/ alone: the teacher (step 4) would need test/ an hour in."""
    from PIL import Image

    (tmp_path / "faces" / "train" / "happy").mkdir(parents=True)
    Image.new("L", (48, 48)).save(tmp_path / "faces" / "train" / "happy" / "a.png")
    out = tmp_path / "runs"
    assert retrain(["--data", str(tmp_path / "faces"), "--out", str(out), "--quick", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "has no test/ images" in err and f"{tmp_path / 'faces' / 'test'}/<expression>/" in err
    assert "checked before step 1" in err and not out.exists()
    part = fer_splits_sample(tmp_path, {"Training": 4})  # a csv of Training rows alone
    assert retrain(["--data", str(part), "--out", str(out), "--quick", "--device", "cpu"]) == 2
    assert "no PublicTest, PrivateTest rows" in capsys.readouterr().err and not out.exists()


def test_quick_limits_the_teachers_test_faces_and_a_real_run_measures_all():
    """--limit cut only Training: a quick chain's two teachers still measured all 7,178 test faces."""
    from scripts.retrain_editor import parse_args, steps

    def test_limits(argv: list[str]) -> dict[str, str | None]:
        return {what: command[command.index("--test-limit") + 1] if "--test-limit" in command else None
                for what, command in steps(parse_args(["--data", "fer.csv", *argv]))}

    quick = test_limits(["--quick", "--limit", "64"])
    assert {what for what, limit in quick.items() if limit} == {"teacher classifier", "class-balanced teacher"}
    assert set(quick.values()) == {"64", None}
    assert not any(test_limits([]).values())


def test_fresh_starts_every_run_folder_over_but_not_the_gans_second_phase(tmp_path):
    from scripts.retrain_editor import parse_args, steps

    chain = steps(parse_args(["--data", "fer.csv", "--out", str(tmp_path), "--fresh"]))
    fresh = [what for what, command in chain if "--fresh" in command]
    assert len(fresh) == 6 and not any("second phase" in what or "average" in what for what in fresh)
    assert not any("--fresh" in command for _, command in steps(parse_args(["--data", "fer.csv"])))
