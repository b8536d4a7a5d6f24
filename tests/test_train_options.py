"""What a training run does with the options a person gives it: --expression all with --limit,
and a resume with another learning rate or other data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gan.__main__ import main as gan_main
from gan.checkpoint import read_metadata
from gan.train import TrainConfig, train

from .conftest import DATA_DIR, REPO, face_folder, fer_sample, requires, stopped_by_signal


def _config(data: Path, out: Path, **overrides) -> TrainConfig:
    base = TrainConfig(data=str(data), out=str(out), batch_size=8, limit=32, epochs=1, ngf=8, ndf=8,
                       sample_count=8, checkpoint_minutes=0, command="test")
    return replace(base, **overrides)


def test_expression_all_keeps_to_the_limit_for_every_expression(tmp_path):
    # FER2013's first disgust face is its 300th row: 320 rows hold all seven.
    every_expression = fer_sample(tmp_path, 320)
    out = tmp_path / "runs"
    assert gan_main(["train", "--data", str(every_expression), "--out", str(out), "--expression", "all", "--limit", "6",
                     "--batch-size", "4", "--epochs", "1", "--ngf", "8", "--ndf", "8"]) == 0
    images = {run.name: read_metadata(run / "generator.safetensors")["images"] for run in out.iterdir()}
    assert len(images) == 7 and max(images.values()) <= 6, images  # happy alone has ~50 of the 200 rows


def test_a_resume_with_another_learning_rate_uses_it(small_fer, tmp_path):
    steps = iter(range(100))
    train(_config(small_fer, tmp_path), abort_fn=lambda: next(steps) >= 2)  # stopped mid-epoch, at lr 2e-4
    result = train(_config(small_fer, tmp_path, epochs=2, lr=1e-3, lr_d=4e-3, beta1=0.0))
    state = read_metadata(result.run_dir / "state.safetensors")
    assert [(g["lr"], g["betas"]) for g in state["opt_g"]["param_groups"]] == [(1e-3, [0.0, 0.999])]
    assert [(g["lr"], g["betas"]) for g in state["opt_d"]["param_groups"]] == [(4e-3, [0.0, 0.999])]


def test_a_resume_on_other_data_is_refused_with_the_way_out(small_fer, tmp_path):
    steps = iter(range(100))
    train(_config(small_fer, tmp_path), abort_fn=lambda: next(steps) >= 2)
    (tmp_path / "other").mkdir()
    other = fer_sample(tmp_path / "other", 120)
    with pytest.raises(ValueError, match="was trained on other data .*pass the same --data.*--fresh"):
        train(_config(other, tmp_path))
    assert train(_config(other, tmp_path), fresh=True).finished  # --fresh starts over on it


def test_the_retraining_commands_find_the_shipped_checkpoints_from_any_directory(tmp_path, monkeypatch):
    from gan.train_change import ChangeTuneConfig
    from gan.train_encoder import EncoderTrainConfig

    monkeypatch.chdir(tmp_path)  # not the checkout: "checkpoints/..." named nothing here
    for config in (ChangeTuneConfig(data="x", teacher="t"), EncoderTrainConfig(data="x")):
        for path in (config.generator, config.classifier):
            assert Path(path).is_absolute() and Path(path).is_file(), path


@pytest.mark.parametrize("flag", ["--batch-size", "--limit", "--epochs", "--nz", "--ngf", "--ndf"])
def test_a_count_of_zero_is_refused_in_words(small_fer, tmp_path, flag, capsys):
    assert gan_main(["train", "--data", str(small_fer), "--out", str(tmp_path / "runs"), flag, "0"]) == 2
    assert f"{flag} must be at least" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing written, not even the --out folder


@pytest.mark.parametrize("command", ["train-classifier", "train-encoder", "train-change", "train-landmarks"])
@pytest.mark.parametrize("flag", ["--batch-size", "--limit", "--epochs"])
def test_the_other_trainers_refuse_a_count_of_zero_before_reading_anything(tmp_path, command, flag, capsys):
    # --batch-size 0 was a ZeroDivisionError traceback after the data was read; train-classifier
    # --epochs 0 wrote the untrained classifier as its result.
    args = [command, "--data", str(tmp_path / "not-read.csv"), "--out", str(tmp_path / "run"), flag, "0"]
    assert gan_main(args + (["--teacher", "t"] if command == "train-change" else [])) == 2
    assert f"{flag} must be at least" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_fresh_leaves_nothing_of_the_old_run(small_fer, tmp_path):
    old = train(_config(small_fer, tmp_path, epochs=2))
    assert (old.run_dir / "samples" / "epoch_002.png").exists()
    steps = iter(range(100))
    train(_config(small_fer, tmp_path), fresh=True, abort_fn=lambda: next(steps) >= 1)  # stopped in epoch 1
    left = {p.name for p in old.run_dir.iterdir()}
    assert "generator.safetensors" not in left and "loss.png" not in left, left
    assert not (old.run_dir / "samples" / "epoch_002.png").exists()


@pytest.mark.parametrize("flags", [["--image-size", "32"], ["--image-size", "64", "--channels", "3"],
                                   ["--expression", "all", "--image-size", "64"],
                                   ["--expression", "all", "--channels", "3"]])
def test_a_shape_fer2013_does_not_have_is_refused_not_recorded(small_fer, tmp_path, flags, capsys):
    assert gan_main(["train", "--data", str(small_fer), "--out", str(tmp_path), *flags]) == 2
    assert "read as 48x48 greyscale images; leave out --image-size/--channels" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing trained at another shape than recorded


def test_an_expression_in_capitals_is_that_expression_and_a_missing_data_path_is_named(small_fer, tmp_path, capsys):
    assert _config(small_fer, tmp_path, expression="Happy").run_name() == "happy"
    with pytest.raises(ValueError, match="--expression must be one of angry, .* or all, got 'smug'"):
        _config(small_fer, tmp_path, expression="smug")
    assert gan_main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "runs")]) == 2
    assert "nowhere: no such file or folder" in capsys.readouterr().err


def test_a_data_path_without_a_name_trains_into_a_folder_inside_out_and_fresh_clears_only_that(tmp_path,
                                                                                                monkeypatch):
    """`--data ..` named the run "" (Path("..").name cut at its first dot), so the run went into --out
    itself and --fresh deleted whatever run's generator.safetensors, config.json and samples/ were there."""
    faces = face_folder(tmp_path / "faces", {f"train/{e}": 2 for e in ("happy", "sad")})  # a FER2013 folder
    out = tmp_path / "runs"
    (out / "samples").mkdir(parents=True)
    (out / "generator.safetensors").write_bytes(b"a run of its own")
    monkeypatch.chdir(faces / "train")
    assert gan_main(["train", "--data", "..", "--out", str(out), "--fresh", "--batch-size", "4", "--epochs", "1",
                     "--ngf", "8", "--ndf", "8", "--sample-count", "4"]) == 0
    assert (out / "generator.safetensors").read_bytes() == b"a run of its own" and (out / "samples").is_dir()
    assert (out / "faces" / "generator.safetensors").is_file()  # the run is named for the folder ".." is
    for data in (".", "/", ".hidden.csv", "x/fer2013.csv.gz"):
        name = _config(Path(data), out).run_name()
        assert name and (out / name).resolve().parent == out.resolve(), (data, name)
    assert _config(Path("/"), out).run_name() == "data"


def test_train_change_warns_when_its_teacher_is_the_judging_classifier(tmp_path, capsys):
    from gan.checkpoint import CheckpointError
    from gan.train_change import ChangeTuneConfig, train_change

    from .conftest import CHECKPOINTS

    judge = str(CHECKPOINTS / "classifier.safetensors")
    config = ChangeTuneConfig(data=str(tmp_path / "none.csv"), teacher=judge, classifier=judge,
                              generator=str(tmp_path / "missing.safetensors"), out=str(tmp_path / "run"))
    with pytest.raises(CheckpointError):  # stops at the missing generator, after the check
        train_change(config)
    assert "is the classifier the benchmarks judge edits with" in capsys.readouterr().err


def test_sigterm_stops_training_with_its_own_exit_code_and_a_resumable_state(small_fer, tmp_path):
    """`kill` (SIGTERM) stops a run as Ctrl-C does, saving its state, and the exit status is the
    shell's 128 + 15, so a scheduler can tell a stopped run from one that failed (2) or Ctrl-C (130)."""
    import signal

    code, err = stopped_by_signal(["train", "--data", str(small_fer), "--out", str(tmp_path), "--epochs", "1000",
                                   "--batch-size", "8", "--limit", "64", "--ngf", "8", "--ndf", "8"],
                                  signal.SIGTERM, "epoch 1/1000")
    assert code == 128 + signal.SIGTERM, err
    assert "(SIGTERM)" in err and "run the same command again to resume" in err
    assert (tmp_path / "fer2013" / "state.safetensors").exists()


def test_fresh_with_a_mistyped_data_path_removes_nothing(small_fer, tmp_path, capsys):
    old = train(_config(small_fer, tmp_path))
    before = {p.name for p in old.run_dir.iterdir()}
    args = ["train", "--data", str(small_fer) + "x", "--out", str(tmp_path), "--limit", "32", "--fresh"]
    assert gan_main(args) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert {p.name for p in old.run_dir.iterdir()} == before and "generator.safetensors" in before


def test_a_deleted_config_json_leaves_the_resume_checks_to_the_states_record(small_fer, tmp_path):
    steps = iter(range(100))
    run = train(_config(small_fer, tmp_path), abort_fn=lambda: next(steps) >= 2).run_dir  # stopped mid-epoch
    (run / "config.json").unlink()  # as the message for a damaged one allows
    with pytest.raises(ValueError, match=r"holds a run with different batch_size \(it has 8, this command 4\); .*--fresh"):
        train(_config(small_fer, tmp_path, batch_size=4))
    assert train(_config(small_fer, tmp_path)).finished  # the same options resume


@pytest.mark.parametrize("value", ["5", "-0.5"])
def test_a_class_balance_outside_0_to_1_is_refused(small_fer, tmp_path, value, capsys):
    args = ["train", "--model", "conditional", "--data", str(small_fer), "--out", str(tmp_path)]
    assert gan_main([*args, "--class-balance", value]) == 2
    assert "--class-balance must be between 0 (classes as in the data) and 1" in capsys.readouterr().err


@pytest.mark.parametrize("name, said", [("out", "the name has no extension"), ("grid.txt", ".txt is not an image")])
def test_sample_without_an_image_extension_says_to_use_png(tmp_path, name, said, capsys):
    from .conftest import CHECKPOINTS

    args = ["sample", "--checkpoint", str(CHECKPOINTS / "happy.safetensors"), "-o", str(tmp_path / name)]
    assert gan_main(args) == 2
    err = capsys.readouterr().err
    assert said in err and "name the file with .png" in err and not (tmp_path / name).exists()


def test_held_out_images_added_to_an_image_folder_leave_its_training_run_resumable(tmp_path):
    """The tester's retrain: train/ alone, then test/ added for the teacher; the GAN run resumes."""
    data = face_folder(tmp_path / "faces", {"train/happy": 8, "train/sad": 8})
    config = _config(data, tmp_path / "runs", model="conditional", limit=None)
    assert train(config).epochs_done == 1
    face_folder(data, {"test/happy": 2})
    assert train(replace(config, epochs=2)).epochs_done == 2  # not "trained on other data"
    face_folder(data, {"train/angry": 2})
    with pytest.raises(ValueError, match="trained on other data"):  # its own split's images still count
        train(replace(config, epochs=3))


def test_conditional_training_on_expression_folders_without_train_names_the_layout(tmp_path, capsys):
    data = face_folder(tmp_path / "flat", {"happy": 2, "sad": 2})
    assert gan_main(["train", "--model", "conditional", "--data", str(data), "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "holds expression folders (happy, sad) directly" in err and f"{data / 'train'}/<expression>/" in err
    assert "images in flat has" not in err


def test_an_output_path_that_cannot_be_written_is_one_line_not_a_traceback(small_fer, tmp_path, capsys):
    from .conftest import CHECKPOINTS

    in_the_way = tmp_path / "a_file"
    in_the_way.write_text("")
    checkpoint = str(CHECKPOINTS / "happy.safetensors")
    for args in (["train", "--data", str(small_fer), "--out", str(in_the_way), "--limit", "16"],
                 ["sample", "--checkpoint", checkpoint, "-o", str(in_the_way / "grid.png")],
                 ["export", checkpoint, "-o", str(in_the_way / "x.safetensors")]):
        assert gan_main(args) == 2, args  # they raised NotADirectoryError / FileExistsError
        assert f"error: {in_the_way}: " in capsys.readouterr().err
    assert gan_main(["sample", "--checkpoint", checkpoint, "-o", str(tmp_path)]) == 2
    assert f"-o {tmp_path} is a folder; name the file to write in it" in capsys.readouterr().err


def test_a_folder_given_as_checkpoint_and_an_unknown_dataset_are_named(small_fer, tmp_path, capsys):
    from .conftest import CHECKPOINTS

    assert gan_main(["sample", "--checkpoint", str(CHECKPOINTS)]) == 2
    err = capsys.readouterr().err
    assert f"{CHECKPOINTS} is a folder; give the checkpoint file in it" in err and "no such checkpoint" not in err
    assert gan_main(["train", "--data", str(small_fer), "--dataset", "bogus", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--dataset bogus: unknown; choose auto, fer2013, celeba, folder" in err and "--expression" not in err


def test_expression_all_refuses_data_without_one_of_the_expressions(small_fer, tmp_path, capsys):
    # It trained that expression's model on no images at all: NaN losses, an untrained generator.
    lines = small_fer.read_text().splitlines()
    no_disgust = tmp_path / "fer2013.csv"
    no_disgust.write_text("\n".join([lines[0], *(row for row in lines[1:] if not row.startswith("1,"))]) + "\n")
    args = ["train", "--data", str(no_disgust), "--expression", "all", "--out", str(tmp_path / "runs"), "--epochs", "1"]
    assert gan_main(args) == 2
    err = capsys.readouterr().err
    assert "no disgust images in split Training" in err and "--expression NAME" in err
    assert not (tmp_path / "runs" / "angry").exists()  # refused before any model trained


def test_a_resume_with_changed_hyperparameters_says_which_and_from_what(small_fer, tmp_path, capsys):
    """Resuming with another --lr (or --lambda-ac, as the shipped conditional run was) is allowed,
    but it used to be silent: leaving out a flag the first command had (--lambda-ac 3) quietly
    went on with the default. The resume now names each changed option, old -> new."""
    steps = iter(range(100))
    train(_config(small_fer, tmp_path), abort_fn=lambda: next(steps) >= 2)  # stopped mid-epoch
    capsys.readouterr()
    train(_config(small_fer, tmp_path, lr=1e-3, device="cpu", epochs=2))
    err = capsys.readouterr().err
    assert "lr 0.0002 -> 0.001" in err and "resum" in err, err
    assert "device" not in err and "epochs" not in err and "command" not in err, err  # not hyperparameters
    train(_config(small_fer, tmp_path, lr=1e-3, epochs=3))  # the same options again: nothing to say
    assert "->" not in capsys.readouterr().err


def test_interleave_reports_each_epoch_against_the_epochs_asked_for(tmp_path, capsys):
    """--interleave trains to epoch 1, then 2, ...; its epoch lines said 'epoch 1/1' for --epochs 2,
    as if one epoch were all that was asked."""
    every_expression = fer_sample(tmp_path, 320)
    assert gan_main(["train", "--data", str(every_expression), "--out", str(tmp_path / "runs"), "--expression", "all",
                     "--interleave", "--limit", "4", "--batch-size", "4", "--epochs", "2", "--ngf", "8", "--ndf", "8",
                     "--sample-count", "4"]) == 0
    out = capsys.readouterr().out
    assert out.count("epoch 1/2 ") == 7 and out.count("epoch 2/2 ") == 7 and "epoch 1/1 " not in out, out


@requires(DATA_DIR / "fer2013.csv.gz", DATA_DIR / "fer2013new.csv")
def test_the_readmes_training_commands_name_data_that_is_there():
    """README's FER+ example read '--data fer2013.csv --ferplus fer2013new.csv', files that are in
    no folder the README names: run from the checkout as written, it stopped at 'no such file'.
    Every `python -m gan` line's --data and --ferplus is a path from the checkout's root."""
    import re
    import shlex

    text = (REPO / "README.md").read_text().replace("\\\n", " ")
    commands = [line for line in text.splitlines() if line.lstrip().startswith("python -m gan ")]
    named = [(flag, path) for line in commands for flag, path in re.findall(r"(--data|--ferplus) (\S+)",
                                                                            " ".join(shlex.split(line)))]
    assert len(named) >= 8, named
    missing = [f"{flag} {path}" for flag, path in named if not (REPO / path).exists()]
    assert not missing, missing


@pytest.mark.parametrize("command", ["train-classifier", "train-landmarks", "train-encoder", "train-change"])
def test_the_trainers_help_names_the_image_folder_their_data_may_be(command, capsys):
    """Every trainer reads DIR/train/<expression>/ as well as the csv, but four of them said
    '--data FER2013 csv/csv.gz' only, so a person with their own photos would convert them."""
    import re

    with pytest.raises(SystemExit):
        gan_main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    options = text.split("options:", 1)[1]
    assert "DIR/train/<expression>/" in re.search(r"--data DATA (.*?) --", options).group(1)


@pytest.mark.parametrize("command", ["export", "average"])
def test_the_output_flag_of_export_and_average_says_what_it_writes(command, capsys):
    with pytest.raises(SystemExit):
        gan_main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--output OUTPUT the" in text and ".safetensors" in text.split("--output OUTPUT", 1)[1], text


def test_ctrl_c_at_a_models_last_epoch_end_stops_before_the_next_model(tmp_path, monkeypatch, capsys,
                                                                       keep_signal_handlers):
    """Ctrl-C while the last epoch's files were written finished that model, and the command (or
    a caller such as scripts/retrain_editor.py) went on as if no Ctrl-C had come. It now stops
    there with the stopped exit status, the finished model kept."""
    import os
    import signal

    import gan.train as train_module

    real_write = train_module._write_epoch

    def write_then_ctrl_c(*args, **kwargs):
        real_write(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(train_module, "_write_epoch", write_then_ctrl_c)
    every_expression = fer_sample(tmp_path, 320)
    out = tmp_path / "runs"
    code = gan_main(["train", "--data", str(every_expression), "--out", str(out), "--expression", "all",
                     "--limit", "4", "--batch-size", "4", "--epochs", "1", "--ngf", "8", "--ndf", "8",
                     "--sample-count", "4"])
    err = capsys.readouterr().err
    assert code == 128 + signal.SIGINT, err
    assert "had finished its last step when SIGINT came" in err
    assert [p.name for p in out.iterdir()] == ["angry"] and (out / "angry" / "generator.safetensors").exists()


def test_running_a_finished_run_again_says_there_is_nothing_to_do(small_fer, tmp_path, capsys):
    """The same command again after a run had finished printed '<run>: 1 epochs, 1 s, 0 images/s',
    as if training had stalled; it now says the run is done and how to train it further."""
    args = ["train", "--data", str(small_fer), "--out", str(tmp_path), "--epochs", "1", "--limit", "16",
            "--batch-size", "8", "--ngf", "8", "--ndf", "8", "--sample-count", "4"]
    assert gan_main(args) == 0
    assert "images/s" in capsys.readouterr().out
    assert gan_main(args) == 0
    out = capsys.readouterr().out
    assert "already trained 1 epochs" in out and "raise --epochs" in out and "images/s" not in out, out
