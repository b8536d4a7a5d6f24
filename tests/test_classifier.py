"""The expression classifier: model, checkpoint, augmentation, training loop
(learning, selection on PublicTest, exact resume) and the shipped checkpoint."""

from __future__ import annotations

import contextlib
import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan.__main__ import main as gan_main
from gan.checkpoint import CheckpointError, read_metadata
from gan.classifier import (ClassifierConfig, build_classifier, confusion_matrix, load_classifier, predict_proba,
                            save_classifier)
from gan.data import EXPRESSIONS, read_fer2013
from gan.data import to_model_range
import gan.train_classifier as train_classifier_module
from gan.image_augment import augment, degrade
from gan.train_classifier import ClassifierTrainConfig, learning_rate, train_classifier, train_epoch

from .conftest import CHECKPOINTS, FER_CSV, requires

SHIPPED = CHECKPOINTS / "classifier.safetensors"


def _write_toy_fer(path, per_class: dict[str, int], seed: int = 0) -> None:
    """A FER2013-format csv whose classes differ in brightness (learnable in a few steps)."""
    rng = np.random.default_rng(seed)
    lines = ["emotion,pixels,Usage"]
    for split, count in per_class.items():
        for i in range(count * len(EXPRESSIONS)):
            label = i % len(EXPRESSIONS)
            face = np.clip(20 + 32 * label + rng.normal(0, 8, (48, 48)), 0, 255).astype(np.uint8)
            lines.append(f"{label},{' '.join(map(str, face.ravel()))},{split}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def toy_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("toy") / "fer2013.csv"
    _write_toy_fer(path, {"Training": 24, "PublicTest": 6, "PrivateTest": 6})
    return path


def _config(csv, out, **overrides) -> ClassifierTrainConfig:
    values = dict(data=str(csv), out=str(out), epochs=3, batch_size=32, lr=0.02, warmup_epochs=0.5, command="test")
    return ClassifierTrainConfig(**{**values, **overrides})


def test_classifier_output_and_checkpoint_round_trip(tmp_path):
    model = build_classifier(seed=1).eval()
    x = torch.rand(5, 1, 48, 48) * 2 - 1
    with torch.no_grad():
        logits = model(x)
    assert logits.shape == (5, len(EXPRESSIONS))
    probs = predict_proba(model, x)
    assert probs.shape == (5, 7) and torch.allclose(probs.sum(1), torch.ones(5), atol=1e-5)
    # The flip average is what the mirror image gets too.
    assert torch.allclose(predict_proba(model, x.flip(3)), probs, atol=1e-5)
    save_classifier(tmp_path / "c.safetensors", model, {"note": "x"})
    loaded, meta = load_classifier(tmp_path / "c.safetensors")
    assert meta["kind"] == "classifier" and meta["labels"] == list(EXPRESSIONS) and meta["note"] == "x"
    assert loaded.config == model.config
    assert torch.allclose(predict_proba(loaded, x), probs)
    assert torch.equal(build_classifier(seed=1).features[0].weight, model.features[0].weight)


def test_corrupt_or_wrong_classifier_checkpoint_says_what_to_do(tmp_path):
    path = tmp_path / "c.safetensors"
    save_classifier(path, build_classifier(), {})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated.*Make it again"):
        load_classifier(path)
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_classifier(tmp_path / "missing.safetensors")
    from gan.checkpoint import save_generator
    from gan.models import ModelConfig, build_models

    save_generator(tmp_path / "g.safetensors", build_models(ModelConfig())[0], {})
    with pytest.raises(CheckpointError, match="not an expression classifier"):
        load_classifier(tmp_path / "g.safetensors")


def test_config_rejects_sizes_that_do_not_pool_evenly():
    with pytest.raises(ValueError, match="same length"):
        ClassifierConfig(widths=(8, 16), depths=(1,))
    with pytest.raises(ValueError, match="divisible"):
        ClassifierConfig(image_size=50)


def test_confusion_matrix_counts_true_by_predicted():
    matrix = confusion_matrix([0, 0, 1, 6], [0, 1, 1, 0])
    assert matrix.shape == (7, 7) and matrix.sum() == 4
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 1 and matrix[6, 0] == 1


def test_learning_rate_warms_up_then_decays_to_zero():
    peak, total, warm = 0.1, 1000, 100
    rates = [learning_rate(s, total, warm, peak) for s in range(total + 1)]
    assert math.isclose(rates[0], peak / 10) and math.isclose(rates[warm], peak)
    assert all(a <= b for a, b in zip(rates[:warm], rates[1:warm + 1]))
    assert all(a >= b for a, b in zip(rates[warm:], rates[warm + 1:]))
    assert rates[-1] == pytest.approx(0.0, abs=1e-12)


def test_augment_without_warping_only_mirrors_and_is_seeded():
    batch = torch.rand(64, 1, 48, 48)
    out = augment(batch, torch.Generator().manual_seed(0), rotate_degrees=0, scale=0, shift=0)
    same = (out - batch).abs().amax((1, 2, 3)) < 1e-5
    mirrored = (out - batch.flip(3)).abs().amax((1, 2, 3)) < 1e-5
    assert (same | mirrored).all() and same.any() and mirrored.any()
    a = augment(batch, torch.Generator().manual_seed(5), rotate_degrees=15, scale=0.15, shift=0.1)
    b = augment(batch, torch.Generator().manual_seed(5), rotate_degrees=15, scale=0.15, shift=0.1)
    assert torch.equal(a, b) and not torch.allclose(a, batch)
    assert a.shape == batch.shape and a.min() >= 0 and a.max() <= 1  # bilinear + border padding: no overshoot


def test_degrade_adds_noise_blur_and_contrast_changes_to_some_images():
    batch = torch.rand(256, 1, 48, 48) * 2 - 1
    assert torch.equal(degrade(batch, torch.Generator().manual_seed(0), noise=0, blur=0, contrast=0), batch)
    a = degrade(batch, torch.Generator().manual_seed(3), noise=20, blur=0.3, contrast=0.4)
    b = degrade(batch, torch.Generator().manual_seed(3), noise=20, blur=0.3, contrast=0.4)
    assert torch.equal(a, b) and a.shape == batch.shape and a.min() >= -1 and a.max() <= 1
    changed = (a - batch).abs().amax((1, 2, 3)) > 1e-6
    assert 0.3 < changed.float().mean() < 1.0  # some images keep their quality
    # Blur alone lowers the difference between neighbouring pixels of the images it touches.
    blurred = degrade(batch, torch.Generator().manual_seed(3), noise=0, blur=1.0, contrast=0)
    assert (blurred.diff(dim=3).abs().mean() < 0.5 * batch.diff(dim=3).abs().mean())


@pytest.mark.parametrize("balance, least, most", [(0.0, 0.0, 0.2), (1.0, 0.35, 0.65)])
def test_class_balance_sets_the_share_of_a_rare_class_in_an_epoch(monkeypatch, tmp_path, balance, least, most):
    drawn, draw = [], train_classifier_module.balanced_order

    def spy(labels, power, generator):
        order = draw(labels, power, generator)
        drawn.append(labels[order])
        return order

    monkeypatch.setattr(train_classifier_module, "balanced_order", spy)
    labels = torch.tensor([0] * 180 + [1] * 20)  # a class of 10%, like disgust against the rest
    images = torch.randint(0, 256, (200, 1, 48, 48), dtype=torch.uint8)
    model = build_classifier(ClassifierConfig(), seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    config = _config("unused.csv", tmp_path, batch_size=50, class_balance=balance)
    train_epoch(model, opt, images, labels, config, 0, contextlib.nullcontext())
    share = (drawn[0] == 1).float().mean().item()
    assert least <= share <= most


def test_training_learns_selects_on_publictest_and_reports_privatetest(toy_csv, tmp_path):
    reports = []
    result = train_classifier(_config(toy_csv, tmp_path / "run", epochs=6), progress_fn=reports.append)
    assert result.finished and len(reports) == 6
    assert result.best_epoch == 1 + int(np.argmax([r.public_accuracy for r in reports]))
    assert result.public_accuracy == pytest.approx(max(r.public_accuracy for r in reports))
    assert result.private_accuracy > 0.5  # chance is 1/7; brightness separates the toy classes
    meta = read_metadata(tmp_path / "run" / "classifier.safetensors")
    assert meta["kind"] == "classifier" and meta["best_epoch"] == result.best_epoch
    assert meta["selection"] == "best PublicTest accuracy"
    assert np.array(meta["private_test"]["confusion"]).sum() == 6 * len(EXPRESSIONS)
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in lines] == [1, 2, 3, 4, 5, 6]
    assert (tmp_path / "run" / "confusion_private.png").stat().st_size > 1000


def test_stopped_run_resumes_to_the_same_weights(toy_csv, tmp_path):
    train_classifier(_config(toy_csv, tmp_path / "whole"))
    stop = []
    first = train_classifier(_config(toy_csv, tmp_path / "parts"), progress_fn=stop.append,
                             abort_fn=lambda: bool(stop))
    assert not first.finished and first.epochs_done == 1 and first.private_accuracy is None
    second = train_classifier(_config(toy_csv, tmp_path / "parts"))
    assert second.finished
    whole = load_file(tmp_path / "whole" / "classifier.safetensors")
    parts = load_file(tmp_path / "parts" / "classifier.safetensors")
    assert whole.keys() == parts.keys() and all(torch.equal(whole[k], parts[k]) for k in whole)
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "parts" / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3]
    # the model card can tell the two sittings from one (run_history)
    sittings = lambda run: [(h["command"], h["from_epoch"], h["to_epoch"])  # noqa: E731
                            for h in read_metadata(tmp_path / run / "classifier.safetensors")["history"]]
    assert sittings("whole") == [("test", 0, 3)] and sittings("parts") == [("test", 0, 1), ("test", 1, 3)]


def test_resuming_with_other_data_order_is_refused(toy_csv, tmp_path):
    stop = []
    train_classifier(_config(toy_csv, tmp_path / "run"), progress_fn=stop.append, abort_fn=lambda: bool(stop))
    with pytest.raises(ValueError, match="different seed.*--fresh"):
        train_classifier(_config(toy_csv, tmp_path / "run", seed=1))
    assert train_classifier(_config(toy_csv, tmp_path / "run", seed=1, epochs=1), fresh=True).finished


def test_cli_trains_a_classifier(toy_csv, tmp_path, capsys):
    code = gan_main(["train-classifier", "--data", str(toy_csv), "--out", str(tmp_path / "cli"), "--epochs", "1",
                     "--batch-size", "32", "--lr", "0.02"])
    assert code == 0
    out = capsys.readouterr().out
    assert "PublicTest" in out and "PrivateTest" in out
    assert load_classifier(tmp_path / "cli" / "classifier.safetensors")[1]["epochs"] == 1


def test_cli_reports_a_malformed_row(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("emotion,pixels,Usage\n9,1 2 3,Training\n")
    assert gan_main(["train-classifier", "--data", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert "line 2" in capsys.readouterr().err


@requires(SHIPPED)
def test_shipped_classifier_metadata():
    meta = read_metadata(SHIPPED)
    assert meta["kind"] == "classifier" and meta["labels"] == list(EXPRESSIONS)
    assert meta["selection"] == "best PublicTest accuracy" and len(meta["dataset_sha256"]) == 64
    for split in ("public_test", "private_test"):
        matrix = np.array(meta[split]["confusion"])
        assert matrix.shape == (7, 7) and matrix.sum() == meta[split]["images"] == 3589
        assert meta[split]["accuracy"] == pytest.approx(np.trace(matrix) / matrix.sum())


@requires(SHIPPED)
@requires(FER_CSV)
def test_shipped_classifier_reads_privatetest_faces():
    """Re-measure on real held-out faces: the accuracy the model card states is what the file does."""
    model, meta = load_classifier(SHIPPED)
    data = read_fer2013(FER_CSV, split="PrivateTest")
    predictions = predict_proba(model, to_model_range(data.images)).argmax(1)
    accuracy = (predictions == data.labels).float().mean().item()
    assert accuracy == pytest.approx(meta["private_test"]["accuracy"], abs=0.002)
    assert accuracy > 0.6


def test_a_csv_without_a_test_split_is_refused_before_training(toy_csv, tmp_path, capsys):
    """PrivateTest (or PublicTest) missing: said at once, in the command's own words (it has no
    --split or --expression), instead of after the last epoch with nothing written."""
    lines = toy_csv.read_text().splitlines(keepends=True)
    for split in ("PrivateTest", "PublicTest"):
        csv = tmp_path / f"no_{split}.csv"
        csv.write_text("".join(line for line in lines if not line.rstrip().endswith(split)))
        out = tmp_path / split
        assert gan_main(["train-classifier", "--data", str(csv), "--out", str(out), "--epochs", "1"]) == 2
        err = capsys.readouterr().err
        assert f"no images in split {split}; train-classifier needs all three FER2013 splits" in err
        assert "--split" not in err and not out.exists()


def test_ctrl_c_stops_within_the_epoch_and_the_resume_redoes_it(toy_csv, tmp_path):
    calls = []
    abort = lambda: calls.append(1) or len(calls) >= 3  # noqa: E731  (stop before the 3rd of 5 steps)
    stopped = train_classifier(_config(toy_csv, tmp_path / "run", epochs=1), abort_fn=abort)
    assert not stopped.finished and stopped.epochs_done == 0 and len(calls) == 3
    assert not (tmp_path / "run" / "state.safetensors").exists()  # the part-epoch is not kept
    assert train_classifier(_config(toy_csv, tmp_path / "run", epochs=1)).finished


def test_a_resume_compares_the_datas_content_not_its_path(toy_csv, tmp_path, monkeypatch):
    csv = tmp_path / "fer2013.csv"
    csv.write_bytes(toy_csv.read_bytes())
    stop = []
    train_classifier(_config(csv, tmp_path / "run"), progress_fn=stop.append, abort_fn=lambda: bool(stop))
    monkeypatch.chdir(tmp_path)
    stop.clear()
    resumed = train_classifier(_config("./fer2013.csv", "run"), progress_fn=stop.append, abort_fn=lambda: bool(stop))
    assert resumed.epochs_done == 2  # the same file, spelled otherwise, resumed
    _write_toy_fer(csv, {"Training": 24, "PublicTest": 6, "PrivateTest": 6}, seed=1)  # other data, same path
    with pytest.raises(ValueError, match="trained on other data than fer2013.csv .*--fresh"):
        train_classifier(_config("fer2013.csv", "run"))


def test_fewer_epochs_than_done_and_a_fresh_typo_leave_the_classifier_alone(toy_csv, tmp_path, capsys):
    flags = ["--out", str(tmp_path / "run"), "--batch-size", "32", "--lr", "0.02"]
    assert gan_main(["train-classifier", "--data", str(toy_csv), *flags, "--epochs", "2"]) == 0
    final = tmp_path / "run" / "classifier.safetensors"
    before = final.read_bytes()
    assert gan_main(["train-classifier", "--data", str(toy_csv), *flags, "--epochs", "1"]) == 2
    assert "has already trained 2 epochs, more than --epochs 1" in capsys.readouterr().err
    assert gan_main(["train-classifier", "--data", str(toy_csv) + "x", *flags, "--epochs", "1", "--fresh"]) == 2
    assert final.read_bytes() == before and (tmp_path / "run" / "state.safetensors").exists()


def test_class_balance_outside_0_to_1_is_refused():
    with pytest.raises(ValueError, match="--class-balance must be between 0 .* and 1 .*got 5"):
        ClassifierTrainConfig(data="x", class_balance=5)


def test_a_missing_classifier_names_its_own_command_and_git_only_for_the_shipped_folder(tmp_path):
    from gan.encoder import load_encoder
    from gan.shipped import SHIPPED_CHECKPOINTS

    with pytest.raises(CheckpointError, match="train-classifier") as mine:
        load_classifier(tmp_path / "teacher.safetensors")
    assert "git checkout" not in str(mine.value)
    with pytest.raises(CheckpointError, match="python -m gan train-encoder"):
        load_encoder(tmp_path / "encoder.safetensors")
    with pytest.raises(CheckpointError, match="train-classifier.*git checkout -- "):
        load_classifier(SHIPPED_CHECKPOINTS / "no_such_classifier.safetensors")


def test_limit_help_says_the_test_splits_are_still_measured_in_full(capsys):
    """--limit 256 cut only Training: a 'smoke test' still measured all 7,178 PublicTest and
    PrivateTest faces (2 of its 2.5 minutes on a CPU), which the help ('use only the first N
    images') did not say."""
    import re

    for command in ("train-classifier", "train-landmarks"):
        with pytest.raises(SystemExit):
            gan_main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        limit = re.search(r"--limit LIMIT (.*?)\(default", text).group(1)
        assert "Training" in limit and "PublicTest is still measured in full" in limit, (command, limit)


def test_test_limit_cuts_the_faces_measured_and_says_their_accuracy_is_a_smoke_check(toy_csv, tmp_path, monkeypatch,
                                                                                  capsys):
    """retrain_editor.py --quick's teachers: --limit cut Training only, and all 7,178 test faces were
    measured. --test-limit N measures N faces of each test split; without it every face is."""
    measured = []
    real_evaluate = train_classifier_module.evaluate
    monkeypatch.setattr(train_classifier_module, "evaluate",
                        lambda model, data, **kw: measured.append(len(data)) or real_evaluate(model, data, **kw))
    flags = ["--data", str(toy_csv), "--epochs", "2", "--batch-size", "32", "--lr", "0.02"]
    assert gan_main(["train-classifier", *flags, "--out", str(tmp_path / "quick"), "--test-limit", "10"]) == 0
    assert measured == [10, 10, 10, 10]  # PublicTest after each epoch, then both splits at the end
    said = capsys.readouterr()
    assert "first 10 faces of each test split only (--test-limit): a smoke check" in said.out
    assert "note: PublicTest and PrivateTest measured on the first 10 faces" in said.err
    meta = read_metadata(tmp_path / "quick" / "classifier.safetensors")
    assert meta["public_test"]["images"] == meta["private_test"]["images"] == 10 and "smoke check" in meta["smoke_check"]
    measured.clear()
    assert gan_main(["train-classifier", *flags, "--out", str(tmp_path / "real")]) == 0
    assert measured == [6 * len(EXPRESSIONS)] * 4  # a real run measures every test face
    meta = read_metadata(tmp_path / "real" / "classifier.safetensors")
    assert "smoke_check" not in meta and "smoke check" not in capsys.readouterr().out
    with pytest.raises(ValueError, match="different test_limit"):  # its best epoch was chosen on other faces
        train_classifier(_config(toy_csv, tmp_path / "quick", epochs=3, test_limit=20))


def test_an_image_folders_test_split_is_read_and_warned_about_once(tmp_path, capsys):
    """An image folder's test/ serves as PublicTest and PrivateTest. It was read twice, so each of
    its warnings ('no images for angry, ...') came twice, like two problems."""
    from .conftest import face_folder

    data = face_folder(tmp_path / "faces", {"train/happy": 8, "train/sad": 8, "test/happy": 2, "test/sad": 2})
    result = train_classifier(_config(data, tmp_path / "run", epochs=1, batch_size=8))
    assert result.finished
    err = capsys.readouterr().err
    assert err.count(f"{data / 'test'}: no images for") == 1, err
    assert err.count(f"{data / 'train'}: no images for") == 1, err


def test_ctrl_c_after_the_last_step_finishes_the_run_and_still_exits_as_stopped(toy_csv, tmp_path, monkeypatch, capsys,
                                                                                     keep_signal_handlers):
    """Ctrl-C while the finished classifier was measured on PrivateTest said 'stopping after this
    step', then wrote classifier.safetensors and exited 0, so scripts/retrain_editor.py went on to
    its next step (minutes; hours in the real run) as if no Ctrl-C had come. The run is kept, and
    the exit status is the stopped one (130)."""
    import os
    import signal

    real_evaluate = train_classifier_module.evaluate
    calls = []

    def evaluate_then_ctrl_c(model, data, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # epoch 1's PublicTest, then the final measurement: Ctrl-C arrives here
            os.kill(os.getpid(), signal.SIGINT)
        return real_evaluate(model, data, **kwargs)

    monkeypatch.setattr(train_classifier_module, "evaluate", evaluate_then_ctrl_c)
    code = gan_main(["train-classifier", "--data", str(toy_csv), "--out", str(tmp_path / "run"), "--epochs", "1",
                     "--batch-size", "32", "--lr", "0.02"])
    err = capsys.readouterr().err
    assert code == 128 + signal.SIGINT, err
    assert "had finished its last step when SIGINT came" in err
    assert (tmp_path / "run" / "classifier.safetensors").exists()
