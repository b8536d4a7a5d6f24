"""The landmark regressor (gan/landmarks.py): model, checkpoint, augmentation, training
loop with resume, and the shipped checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gan.__main__ import main as gan_main
from gan.checkpoint import CheckpointError, load_tensors, read_metadata, save_tensors
from gan.classifier import build_classifier, save_classifier
from gan.landmarks import LandmarkRegressor, load_landmarks, predict_landmarks, save_landmarks
from gan.train_landmarks import LandmarkTrainConfig, augment, nme, train_landmarks

from .conftest import CHECKPOINTS, stopped_by_signal

SHIPPED = CHECKPOINTS / "landmarks.safetensors"


def _dot_faces(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Faces [n, 48, 48] uint8, each with a bright blob somewhere, and 68 "landmarks" around it
    (point 0 on the blob's centre)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(14, 34, (n, 2))
    ys, xs = np.mgrid[0:48, 0:48]
    faces = np.stack([40 + 200 * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / 18) for cx, cy in centres])
    offsets = rng.uniform(-6, 6, (68, 2))
    offsets[0] = 0.0
    return faces.astype(np.uint8), (centres[:, None, :] + offsets).astype(np.float32)


def _toy_run(tmp_path, n_train: int = 96, n_public: int = 32):
    """A FER2013-format csv of dot faces and its teacher labels file."""
    train, train_points = _dot_faces(n_train, 0)
    public, public_points = _dot_faces(n_public, 1)
    lines = ["emotion,pixels,Usage"]
    lines += [f"{i % 7},{' '.join(map(str, f.ravel()))},Training" for i, f in enumerate(train)]
    lines += [f"{i % 7},{' '.join(map(str, f.ravel()))},PublicTest" for i, f in enumerate(public)]
    csv = tmp_path / "fer2013.csv"
    csv.write_text("\n".join(lines) + "\n")
    teacher = tmp_path / "teacher.safetensors"
    save_tensors(teacher, {"Training": torch.from_numpy(train_points), "PublicTest": torch.from_numpy(public_points)},
                 {"kind": "landmark_labels"})
    return csv, teacher


def test_predictions_start_at_the_mean_shape_and_survive_a_round_trip(tmp_path):
    model = LandmarkRegressor()
    model.mean_shape.copy_(torch.rand(68, 2) * 40 + 4)
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    points = predict_landmarks(model, faces)
    assert points.shape == (3, 68, 2) and points.dtype == np.float32
    assert np.allclose(points, model.mean_shape.numpy(), atol=1e-5)  # the head starts at zero
    torch.nn.init.normal_(model.head.weight, std=1e-3)
    path = tmp_path / "landmarks.safetensors"
    save_landmarks(path, model, {"public_test_nme": 0.1})
    loaded, meta = load_landmarks(path)
    assert meta["kind"] == "landmarks" and meta["public_test_nme"] == 0.1
    assert np.allclose(predict_landmarks(loaded, faces), predict_landmarks(model, faces), atol=1e-5)
    as_float = torch.from_numpy(faces).float().div(127.5).sub(1)[:, None]  # [-1, 1] input answers the same
    assert np.allclose(predict_landmarks(loaded, as_float), predict_landmarks(loaded, faces), atol=1e-5)


def test_another_kind_of_checkpoint_is_refused(tmp_path):
    path = tmp_path / "classifier.safetensors"
    save_classifier(path, build_classifier(), {})
    with pytest.raises(CheckpointError, match="not a landmark regressor"):
        load_landmarks(path)


def test_augmentation_moves_the_points_with_the_face():
    faces, points = _dot_faces(16, 2)
    images = torch.from_numpy(faces).float().div(127.5).sub(1)[:, None]
    centres = torch.from_numpy(points[:, :1])  # the dot's centre
    config = LandmarkTrainConfig(data="-", rotate_degrees=15, scale=0.1, shift=0.1)
    moved, moved_points = augment(images, centres, torch.Generator().manual_seed(0), config)
    for image, point in zip(moved[:, 0], moved_points[:, 0]):
        y, x = np.unravel_index(int(image.argmax()), image.shape)
        assert abs(x - float(point[0])) <= 1.0 and abs(y - float(point[1])) <= 1.0


def test_training_learns_writes_its_run_and_resumes(tmp_path):
    csv, teacher = _toy_run(tmp_path)
    out = tmp_path / "run"
    config = dict(data=str(csv), out=str(out), teacher=str(teacher), batch_size=32, lr=3e-3, command="test")
    train_landmarks(LandmarkTrainConfig(**config, epochs=1))
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1] and (out / "state.safetensors").exists()
    final = train_landmarks(LandmarkTrainConfig(**config, epochs=4)).path  # resumes at epoch 2
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    meta = read_metadata(final)
    assert meta["epochs"] == 4 and meta["public_test_nme"] < meta["mean_shape_nme"]  # it learned where the dot is
    assert [(h["from_epoch"], h["to_epoch"]) for h in meta["history"]] == [(0, 1), (1, 4)]  # two sittings


def test_a_teacher_file_for_other_faces_is_refused(tmp_path):
    csv, _ = _toy_run(tmp_path)
    short = tmp_path / "short.safetensors"
    save_tensors(short, {"Training": torch.zeros(5, 68, 2), "PublicTest": torch.zeros(5, 68, 2)},
                 {"kind": "landmark_labels"})
    with pytest.raises(ValueError, match="needs landmarks for 96 Training"):
        train_landmarks(LandmarkTrainConfig(data=str(csv), out=str(tmp_path / "run"), teacher=str(short)))


def test_cli_trains_the_regressor(tmp_path, capsys):
    csv, teacher = _toy_run(tmp_path)
    out = tmp_path / "cli"
    assert gan_main(["train-landmarks", "--data", str(csv), "--teacher", str(teacher), "--out", str(out),
                     "--epochs", "1", "--batch-size", "32"]) == 0
    assert "PublicTest NME" in capsys.readouterr().out and (out / "landmarks.safetensors").exists()


def test_test_limit_measures_the_first_publictest_faces_and_says_so(tmp_path, capsys):
    csv, teacher = _toy_run(tmp_path)
    out = tmp_path / "cli"
    assert gan_main(["train-landmarks", "--data", str(csv), "--teacher", str(teacher), "--out", str(out),
                     "--epochs", "1", "--batch-size", "32", "--test-limit", "8"]) == 0
    captured = capsys.readouterr()
    assert "first 8 PublicTest faces only" in captured.out and "first 8 PublicTest faces only" in captured.err
    meta = read_metadata(out / "landmarks.safetensors")
    assert meta["public_test_faces"] == 8 and meta["config"]["test_limit"] == 8
    # A resume measures on the same faces, or is refused: the NMEs so far were measured on those.
    assert gan_main(["train-landmarks", "--data", str(csv), "--teacher", str(teacher), "--out", str(out),
                     "--epochs", "2", "--batch-size", "32"]) != 0
    assert "test_limit" in capsys.readouterr().err
    with pytest.raises(ValueError, match="--test-limit must be at least 1"):
        LandmarkTrainConfig(data="-", test_limit=0)


def test_nme_is_the_point_error_over_the_eye_distance():
    truth = np.zeros((1, 68, 2))
    truth[0, 45, 0] = 20.0  # outer eye corners 20 px apart
    assert nme(truth + 2.0 * np.array([1.0, 0.0]), truth) == pytest.approx(0.1)


@pytest.mark.skipif(not SHIPPED.exists(), reason="no shipped landmark regressor")
def test_shipped_regressor_finds_the_mouth_of_a_fer_face_below_the_eyes():
    model, meta = load_landmarks(SHIPPED)
    assert meta["public_test_nme"] < meta["mean_shape_nme"] / 2
    from .conftest import FER_CSV

    if not FER_CSV.exists():
        pytest.skip(f"{FER_CSV} not present")
    from gan.data import read_fer2013

    faces = read_fer2013(FER_CSV, split="PublicTest").images[:64, 0].numpy()
    points = predict_landmarks(model, faces)
    eyes_y, mouth_y = points[:, 36:48, 1].mean(1), points[:, 48:68, 1].mean(1)
    assert (mouth_y - eyes_y > 10).all()  # a face's geometry, every time


def test_ctrl_c_stops_after_the_step_with_the_shells_exit_code_and_resumes(tmp_path):
    """SIGINT (Ctrl-C) stops train-landmarks as it stops the other trainers: no traceback, exit
    status 128 + 2, the last finished epoch kept, and the same command carries on from there."""
    import signal

    csv, teacher = _toy_run(tmp_path)
    code, err = stopped_by_signal(["train-landmarks", "--data", str(csv), "--teacher", str(teacher),
                                   "--out", str(tmp_path / "run"), "--epochs", "1000", "--batch-size", "32"],
                                  signal.SIGINT, "epoch 1/1000")
    assert code == 128 + signal.SIGINT, err
    assert "Traceback" not in err and "(SIGINT)" in err and "run the same command again to resume" in err
    done = read_metadata(tmp_path / "run" / "state.safetensors")["epoch"]
    resumed = train_landmarks(LandmarkTrainConfig(data=str(csv), teacher=str(teacher), out=str(tmp_path / "run"),
                                                  batch_size=32, epochs=done + 1, command="test"))
    assert resumed.finished and read_metadata(resumed.path)["epochs"] == done + 1


def test_missing_publictest_or_teacher_is_refused_before_the_run_is_touched(tmp_path, capsys):
    csv, teacher = _toy_run(tmp_path)
    out = tmp_path / "run"
    flags = ["--out", str(out), "--epochs", "1", "--batch-size", "32"]
    assert gan_main(["train-landmarks", "--data", str(csv), "--teacher", str(teacher), *flags]) == 0
    before = (out / "landmarks.safetensors").read_bytes()
    training_only = tmp_path / "training_only.csv"
    training_only.write_text("".join(line for line in csv.read_text().splitlines(keepends=True)
                                     if "PublicTest" not in line))
    assert gan_main(["train-landmarks", "--data", str(training_only), "--teacher", str(teacher), *flags,
                     "--fresh"]) == 2
    err = capsys.readouterr().err
    assert "no images in split PublicTest; train-landmarks needs" in err and "--split" not in err
    assert gan_main(["train-landmarks", "--data", str(csv), "--teacher", str(tmp_path / "labels.safetensors"),
                     *flags, "--fresh"]) == 2
    assert "labels.safetensors: no such landmark labels file" in capsys.readouterr().err
    assert (out / "landmarks.safetensors").read_bytes() == before  # --fresh removed nothing


def test_fewer_epochs_than_done_leave_the_regressor_alone(tmp_path):
    csv, teacher = _toy_run(tmp_path)
    config = dict(data=str(csv), out=str(tmp_path / "run"), teacher=str(teacher), batch_size=32, command="test")
    final = train_landmarks(LandmarkTrainConfig(**config, epochs=2)).path
    before = final.read_bytes()
    with pytest.raises(ValueError, match="has already trained 2 epochs, more than --epochs 1; pass --epochs 2"):
        train_landmarks(LandmarkTrainConfig(**config, epochs=1))
    assert final.read_bytes() == before


def test_a_resume_on_other_data_is_refused_before_dlib_relabels_it(tmp_path, monkeypatch):
    """Without --teacher the run caches dlib's labels of its data. Resuming that run on other data
    ran dlib over the new data (minutes on FER2013; without dlib: 'needs dlib') and replaced the
    run's cache before the refusal, so going back to the run's own data ran dlib again."""
    import gan.train_landmarks as train_module

    (tmp_path / "a").mkdir()
    first_csv, teacher = _toy_run(tmp_path / "a")
    labels = {split: tensor.numpy() for split, tensor in load_tensors(teacher)[0].items()}
    runs = []

    def fake_dlib(faces):
        runs.append(len(faces))
        return labels["Training" if len(faces) == len(labels["Training"]) else "PublicTest"][: len(faces)]

    monkeypatch.setattr(train_module, "dlib_landmarks", fake_dlib)
    out = tmp_path / "run"
    train_landmarks(LandmarkTrainConfig(data=str(first_csv), out=str(out), batch_size=32, epochs=1, command="test"))
    assert len(runs) == 2  # Training and PublicTest, cached in the run
    cache = (out / "teacher.safetensors").read_bytes()
    other = tmp_path / "other.csv"
    other.write_text(first_csv.read_text().replace("\n0,", "\n1,", 1))  # one row's emotion: other data
    with pytest.raises(ValueError, match="was trained on other data"):
        train_landmarks(LandmarkTrainConfig(data=str(other), out=str(out), batch_size=32, epochs=2, command="test"))
    assert len(runs) == 2 and (out / "teacher.safetensors").read_bytes() == cache
