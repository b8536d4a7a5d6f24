"""The glasses test (editor/glasses.py, editor/hog.py): features, its checkpoint, its answers on
real faces, its place in the pipeline, and its training script and benchmark."""

from __future__ import annotations

import dataclasses
import zipfile

import numpy as np
import pytest

from editor.faces import FaceDetector, template
from editor.glasses import BAND, GlassesDetector, band_features, eye_band, load_glasses, save_glasses
from editor.hog import BINS, hog, hog_length
from editor.photo import read_photo
from gan.checkpoint import CheckpointError
from tests.conftest import CELEBA_ZIP, CHECKPOINTS, DATA_DIR, PHOTOS, benchmark_module, requires

SHIPPED = CHECKPOINTS / "glasses.safetensors"
FACES_DEV = DATA_DIR / "faces_dev"
FEATURES = hog_length(BAND[3] - BAND[1], BAND[2] - BAND[0])


def test_hog_puts_an_edge_in_the_bin_of_its_gradient_and_ignores_brightness():
    assert hog(np.zeros((48, 88))).shape == (FEATURES,) == (1800,)
    assert hog_length(15, 40) == 0 and hog(np.zeros((15, 40))).shape == (0,)  # not two cells high
    stripes = np.zeros((48, 88), np.float32)
    stripes[::8] = 200.0  # horizontal lines: vertical gradients, orientation 90 degrees
    per_bin = hog(stripes).reshape(-1, BINS).sum(axis=0)
    assert per_bin.argmax() == 4 and per_bin[4] > 3 * np.delete(per_bin, 4).max()  # bins centred at 10, 30, ... 170
    columns = np.zeros((48, 88), np.float32)
    columns[:, ::8] = 200.0  # vertical lines: horizontal gradients, 0 or 180 degrees
    per_bin = hog(columns).reshape(-1, BINS).sum(axis=0)
    assert set(np.argsort(per_bin)[-2:].tolist()) == {0, 8}  # split between the bins at 10 and 170
    noise = np.random.default_rng(0).uniform(0, 100, (48, 88)).astype(np.float32)
    assert np.allclose(hog(noise), hog(noise * 2.0 + 30.0), atol=1e-5)  # contrast and brightness: normalised


def test_a_saved_detector_loads_back_and_damaged_ones_say_how_to_restore(tmp_path):
    rng = np.random.default_rng(1)
    detector = GlassesDetector(rng.normal(size=FEATURES).astype(np.float32), 0.25, threshold=-1.0)
    path = tmp_path / "glasses.safetensors"
    save_glasses(path, detector, {"note": "test"})
    loaded, metadata = load_glasses(path)
    assert np.array_equal(loaded.weights, detector.weights) and loaded.bias == 0.25 and loaded.threshold == -1.0
    assert metadata["note"] == "test" and metadata["band"] == list(BAND)
    path.write_bytes(path.read_bytes()[:200])  # truncated
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_glasses(path)
    with pytest.raises(CheckpointError, match="no such checkpoint.*train_glasses.py"):
        load_glasses(tmp_path / "missing.safetensors")
    with pytest.raises(CheckpointError, match="not a glasses detector"):
        load_glasses(CHECKPOINTS / "landmarks.safetensors")
    with pytest.raises(ValueError, match="1800 features"):
        GlassesDetector(np.zeros(10, np.float32), 0.0)


@requires(SHIPPED, PHOTOS / "fr_obama.jpg", FACES_DEV)
def test_the_shipped_detector_tells_frames_from_bare_faces_as_its_card_says():
    glasses, metadata = load_glasses(SHIPPED)
    detector = FaceDetector(weights=CHECKPOINTS / "mtcnn.safetensors")
    accuracy = benchmark_module("glasses_accuracy")
    measured = accuracy.measure(glasses, detector, FACES_DEV, accuracy.faces_dev_glasses())
    assert measured["rows"] == metadata["faces_dev"]["rows"]  # the numbers it shipped with, reproduced
    (shipped,) = [row for row in measured["rows"] if row["threshold"] == glasses.threshold]
    assert shipped["missed"] <= 3 and shipped["flagged"] <= 20  # of 50 frames and 150 bare faces it never saw
    photo = read_photo(PHOTOS / "fr_obama.jpg")
    assert not glasses.wears_glasses(photo.rgb, detector.detect(photo.rgb)[0])  # the old bridge test said yes


def test_the_eye_band_is_the_crops_band_of_the_face():
    from editor.faces import Face

    photo = np.zeros((480, 480, 3), np.uint8)
    marks = ((template(96) + 0.5) * 5 - 0.5).astype(np.float32)  # a face framed as the 96 px crop x 5
    photo[int(marks[0, 1]) - 5:int(marks[0, 1]) + 5] = 255  # a bright bar across the eyes' row
    band = eye_band(photo, Face((0.0, 0.0, 480.0, 480.0), 0.99, marks))
    assert band.shape == (BAND[3] - BAND[1], BAND[2] - BAND[0]) and band.dtype == np.uint8
    eyes_row = round(template(96)[0, 1]) - BAND[1]
    assert band[eyes_row].mean() > 200 and band[0].mean() < 10 and band[-1].mean() < 10
    assert band_features(band).shape == (FEATURES,)


@requires(SHIPPED, PHOTOS / "fr_obama_small.jpg")
def test_the_editor_decides_glasses_per_face_and_without_a_detector_holds_brows(tmp_path, capsys):
    import shutil

    from editor.pipeline import Editor

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in ("conditional", "encoder", "landmarks", "classifier", "mtcnn", "glasses"):
        shutil.copy(CHECKPOINTS / f"{name}.safetensors", folder)
    photo = read_photo(PHOTOS / "fr_obama_small.jpg")
    editor = Editor.load(folder, device="cpu", expressions=())
    assert editor.glasses is not None
    (face,) = editor.edit(photo, "surprise", steps=2, restarts=1).faces
    assert face.glasses is False
    (folder / "glasses.safetensors").write_bytes(b"not a checkpoint")
    editor = Editor.load(folder, device="cpu", expressions=())
    assert editor.glasses is None and "brows and eyelids hold still on every face" in capsys.readouterr().err
    (face,) = editor.edit(photo, "surprise", steps=2, restarts=1).faces
    assert face.glasses is True


def test_the_benchmark_counts_missed_frames_and_flagged_bare_faces():
    accuracy = benchmark_module("glasses_accuracy")
    labelled = accuracy.faces_dev_glasses()
    assert len(labelled) == 50 and "000" in labelled
    scores = {"000": 2.0, "011": -1.5, "001": -0.5, "002": -3.0}  # two framed, two bare
    assert accuracy.counts(scores, labelled, -1.0) == {"threshold": -1.0, "frames": 2, "missed": 1,
                                                       "bare": 2, "flagged": 1}
    assert accuracy.roc_auc(scores, labelled) == 0.75  # 000 above both bare, 011 above one


@requires(CELEBA_ZIP)
def test_the_training_script_reads_its_labels_and_fits_real_faces(tmp_path):
    import importlib.util

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("train_glasses", REPO / "scripts" / "train_glasses.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    labels = train.celeba_labels()
    assert len(labels) > 3900 and 200 < sum(labels.values()) < 300
    assert labels["000053"] is True and labels["000001"] is False
    chosen = {n: labels[n] for n in ("000053", "000093", "000102", "000001", "000002", "000003")}
    small = tmp_path / "celeba.zip"
    with zipfile.ZipFile(CELEBA_ZIP) as source, zipfile.ZipFile(small, "w") as target:
        for n in chosen:
            target.writestr(f"img_align_celeba/{n}.jpg", source.read(f"img_align_celeba/{n}.jpg"))
        target.writestr("img_align_celeba/999999.jpg", b"not a jpeg")  # unreadable: left out, not a crash
    features, targets = train.celeba_features(small, {**chosen, "999999": True}, FaceDetector(
        weights=CHECKPOINTS / "mtcnn.safetensors"))
    assert features.shape == (6, FEATURES) and targets.tolist() == list(chosen.values())
    fitted = dataclasses.replace(train.fit(features, targets, 1.0), threshold=-1.0)
    scores = features @ fitted.weights + fitted.bias
    assert (scores[targets] > 0).all() and (scores[~targets] < 0).all()  # it separates what it saw
    out = tmp_path / "glasses.safetensors"
    save_glasses(out, fitted, {"data": {"faces": 6}})
    assert load_glasses(out)[0].threshold == -1.0


def test_the_held_out_celeba_labels_are_apart_from_the_training_ones():
    accuracy = benchmark_module("glasses_accuracy")
    training, held = accuracy.celeba_labels(), accuracy.celeba_labels(section="celeba_heldout")
    assert not set(training) & set(held)  # the test never saw these faces
    assert len(held) == 994 and sum(held.values()) == 63  # 1,000 less 6 unsure
    assert held["004015"] is True and held["004001"] is False and "004004" not in held
