"""End-to-end edits of real photos with the shipped generators."""

from __future__ import annotations

import dataclasses
import re
import shutil

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from editor import face_fit, readings
from editor.cli_edit import main as edit_main
from editor.output_names import output_paths, without_earlier_outputs
from editor.faces import NoFaceError, align_face
from editor.photo import PhotoError
from editor.photo_output import save_photo
from editor.pipeline import Editor, MissingCheckpointsError
from gan.data import EXPRESSIONS

from .conftest import CHECKPOINTS, PHOTOS, benchmark_module, photo_with_a_bystander, requires, torch_threads
from .test_photo import png_claiming

OBAMA = PHOTOS / "fr_obama.jpg"
TWO = PHOTOS / "fr_two_people.jpg"


@pytest.fixture(scope="module")
def editor() -> Editor:
    torch.set_num_threads(1)  # MTCNN is 10x slower with two threads on a busy 2-core machine
    return Editor.load(CHECKPOINTS, device="cpu")


def _face_region(result, index: int, margin: float = 0.35) -> np.ndarray:
    """A boolean mask of the face's box grown by `margin` of its size."""
    x1, y1, x2, y2 = result.faces[index].face.box
    w, h = x2 - x1, y2 - y1
    mask = np.zeros(result.original.shape[:2], bool)
    mask[max(0, int(y1 - margin * h)):int(y2 + margin * h), max(0, int(x1 - margin * w)):int(x2 + margin * w)] = True
    return mask


@requires(OBAMA)
def test_edit_changes_the_face_and_nothing_else(editor):
    progress = []
    result = editor.edit(OBAMA, "surprise", progress_fn=lambda f, m: progress.append(f))
    assert result.image.shape == result.original.shape == (1137, 910, 3)
    assert result.image.dtype == np.uint8
    assert len(result.faces) == 1 and progress[0] == 0.0 and progress[-1] == 1.0
    changed = np.any(result.image != result.original, axis=2)
    face = _face_region(result, 0)
    assert changed[_face_region(result, 0, margin=0.0)].mean() > 0.3  # the face did change
    assert not changed[~face].any()  # nothing outside it did
    inside = np.abs(result.image.astype(int) - result.original.astype(int))[changed]
    assert inside.mean() > 2
    edit = result.faces[0]
    assert edit.z.shape == (1, 100) and edit.aligned.shape == edit.generated.shape == (48, 48)
    assert np.isfinite(edit.loss)


@requires(OBAMA)
def test_edit_is_deterministic_for_a_seed(editor):
    a = editor.edit(OBAMA, "happy", seed=3)
    editor.forget()  # fitted again, not remembered
    b = editor.edit(OBAMA, "happy", seed=3)
    assert np.array_equal(a.image, b.image)
    assert torch.equal(a.faces[0].z, b.faces[0].z)


@requires(OBAMA)
def test_the_same_edit_with_one_thread_or_two(editor):
    """The fit runs in float32 (folded_generator.FIT_DTYPE): in bfloat16 the sums' other order with
    another thread count grew along the fit's steps into another z and a visibly other edit."""
    edits = []
    for count in (1, 2):
        with torch_threads(count):
            editor.forget()
            edits.append(editor.edit(OBAMA, "angry", seed=0))
    one, two = edits
    assert (one.faces[0].z - two.faces[0].z).abs().max() < 1e-3
    assert np.abs(one.image.astype(int) - two.image.astype(int)).max() <= 2


@requires(TWO)
def test_two_faces_all_by_default_or_the_chosen_one(editor):
    both = editor.edit(TWO, "sad")
    assert [f.index for f in both.faces] == [0, 1]
    right_only = editor.edit(TWO, "sad", faces=[1])
    changed = np.any(right_only.image != right_only.original, axis=2)
    assert changed[_face_region(right_only, 0)].any()  # (faces[0] is now the right face)
    left = editor.detect(TWO)[0]
    x1, y1, x2, y2 = map(int, left.box)
    assert not changed[y1:y2, x1:x2].any()
    with pytest.raises(ValueError, match="has 2 faces"):
        editor.edit(TWO, "sad", faces=[5])


@requires(OBAMA)
def test_render_regenerates_without_inversion(editor):
    result = editor.edit(OBAMA, "neutral")
    same = editor.render(result, {0: result.faces[0].z})
    assert np.abs(same.astype(int) - result.image.astype(int)).max() <= 3
    moved = editor.render(result, {0: result.faces[0].z + 2.0 * torch.randn(1, 100, generator=torch.Generator().manual_seed(0))})
    changed = np.any(moved != result.image, axis=2)
    assert changed.any() and not changed[~_face_region(result, 0)].any()


@requires(OBAMA)
def test_exif_orientation_is_kept(editor, tmp_path):
    image = Image.open(OBAMA)
    rotated = image.transpose(Image.Transpose.ROTATE_270)  # stored sideways...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...and tagged "rotate 90 CW to display", so it displays upright
    path = tmp_path / "sideways.jpg"
    rotated.save(path, exif=exif)
    result = editor.edit(path, "happy")
    assert result.image.shape[:2] == (image.height, image.width)
    assert len(result.faces) == 1


def test_bad_inputs_get_clear_messages(editor, tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    with pytest.raises(PhotoError, match="notes.jpg"):
        editor.edit(text, "happy")
    import skimage.data

    with pytest.raises(NoFaceError, match="coffee"):
        editor.edit(skimage.data.coffee(), "happy", name="coffee.png")
    with pytest.raises(ValueError, match="unknown expression"):
        editor.edit(OBAMA, "smug")


@requires(TWO)
@requires(CHECKPOINTS / "classifier.safetensors")
def test_edit_reads_each_face_expression_before_and_after(editor):
    result = editor.edit(TWO, "happy", steps=10, restarts=1)
    assert len(result.faces) == 2
    for edit in result.faces:
        for guess in (edit.before, edit.after):
            assert guess.expression in EXPRESSIONS and set(guess.probabilities) == set(EXPRESSIONS)
            assert sum(guess.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
            assert guess.probability == max(guess.probabilities.values())
        assert edit.before.probabilities != edit.after.probabilities  # "after" is read from the edited photo
    readings = editor.face_expressions(TWO, [edit.face for edit in result.faces])
    assert readings == [edit.before for edit in result.faces]


@requires(OBAMA)
def test_without_a_classifier_the_editor_still_edits_and_says_why(tmp_path, capsys):
    for name in [f"{e}.safetensors" for e in ("happy",)] + ["mtcnn.safetensors"]:
        shutil.copy(CHECKPOINTS / name, tmp_path)
    (tmp_path / "classifier.safetensors").write_bytes(b"not a checkpoint")
    editor = Editor.load(tmp_path, device="cpu", expressions=("happy",))
    assert editor.classifier is None and "classifier.safetensors" in editor.classifier_problem
    assert "classifier.safetensors" in capsys.readouterr().err
    result = editor.edit(OBAMA, "happy", steps=2, restarts=1)
    assert result.faces[0].before is None and result.faces[0].after is None
    assert editor.face_expressions(OBAMA, [result.faces[0].face]) is None


@requires(OBAMA)
def test_the_faces_own_expression_falls_back_to_the_encoder_then_neutral(editor):
    """p_src, the expression the conditional fit is made at: the classifier's reading,
    without a classifier the encoder's expression head, without either neutral."""
    crop = np.array(Image.open(OBAMA).convert("L").resize((48, 48)))
    read = readings.source_label(editor.classifier, editor.encoder, crop)
    guessed = readings.source_label(None, editor.encoder, crop)
    neutral = readings.source_label(None, None, crop)
    for p in (read, guessed, neutral):
        assert p.shape == (len(EXPRESSIONS),) and p.dtype == np.float32 and abs(float(p.sum()) - 1) < 1e-5
    assert not np.allclose(read, guessed)  # two different models
    assert EXPRESSIONS[int(np.argmax(neutral))] == "neutral" and neutral.max() == 1.0
    assert readings.classify(None, [crop]) is None and readings.classify(editor.classifier, []) == []


@requires(OBAMA)
def test_an_encoder_of_another_generator_is_left_out_and_the_edit_goes_on(tmp_path, capsys):
    """Your own conditional generator (here with a 64-long z) beside the shipped encoder (100):
    the editor starts without the encoder, says why and how to make one, and still edits."""
    from gan.checkpoint import save_generator
    from gan.conditional import build_conditional_models
    from gan.models import ModelConfig

    for name in ("mtcnn.safetensors", "encoder.safetensors"):
        shutil.copy(CHECKPOINTS / name, tmp_path)
    G, _ = build_conditional_models(ModelConfig(nz=64, ngf=8, ndf=8, n_classes=len(EXPRESSIONS)), seed=0)
    save_generator(tmp_path / "conditional.safetensors", G.eval(), {"epochs": 1})
    editor = Editor.load(tmp_path, device="cpu", expressions=())
    assert editor.encoder is None
    err = capsys.readouterr().err
    assert "encoder.safetensors does not belong to" in err and "its nz is 100, the generator's 64" in err
    assert "python -m gan train-encoder" in err
    assert editor.edit(OBAMA, "happy", steps=2, restarts=1).faces


def test_an_encoder_of_another_generator_of_the_same_shape_is_caught_by_what_it_draws():
    """A retrained conditional generator of the shipped shape beside the shipped encoder: the
    shapes agree, so only redrawing the generator's own samples from the encoder's z's tells."""
    from editor.model_loading import encoder_misfit
    from gan.checkpoint import load_generator
    from gan.conditional import build_conditional_models
    from gan.encoder import load_encoder
    from gan.models import ModelConfig

    encoder, _ = load_encoder(CHECKPOINTS / "encoder.safetensors")
    shipped, _ = load_generator(CHECKPOINTS / "conditional.safetensors")
    assert encoder_misfit(encoder, shipped) is None
    other, _ = load_generator(CHECKPOINTS / "conditional.safetensors")
    with torch.no_grad():  # the same faces, but each z coordinate now does another one's job
        first = other.main[0].weight
        first[:other.config.nz] = first[:other.config.nz].roll(50, dims=0).clone()
    assert "it was trained for another generator" in encoder_misfit(encoder, other)
    # A generator whose samples barely differ (an untrained one; a few minutes' training collapses
    # to nearly one face) cannot tell a fitting encoder from another: it is let be.
    untrained, _ = build_conditional_models(ModelConfig(n_classes=len(EXPRESSIONS)), seed=1)
    assert encoder_misfit(encoder, untrained.eval()) is None


def test_checkpoints_that_are_no_folder_or_the_wrong_kind_are_named(tmp_path):
    from editor.model_loading import MissingCheckpointsError, summarised

    for given, said in ((tmp_path / "nowhere", "no such folder"),
                        (CHECKPOINTS / "conditional.safetensors", "is a file")):
        with pytest.raises(MissingCheckpointsError, match=f"--checkpoints .*{said}; give the folder that holds "
                                                          "conditional.safetensors"):
            Editor.load(given, device="cpu")
    # A conditional generator saved under an expression's name is refused as it loads, not mid-edit.
    for name in ("conditional.safetensors", "mtcnn.safetensors"):
        shutil.copy(CHECKPOINTS / name, tmp_path)
    shutil.copy(CHECKPOINTS / "conditional.safetensors", tmp_path / "happy.safetensors")
    editor = Editor.load(tmp_path, device="cpu", expressions=("happy",))
    assert "a conditional generator (every expression in one)" in editor.unavailable["happy"]
    # A damaged conditional model says which model takes over.
    told = summarised({"conditional": "damaged"}, ("happy",), tmp_path, False)
    assert told == {"conditional": "damaged (without it, the seed model is the default)"}


def test_a_folder_with_only_the_conditional_model_says_once_that_the_seed_model_is_missing(tmp_path, capsys):
    """A retrained conditional model in a folder of its own: one line for the seed model, not
    seven, in the terminal and on the page; the edit uses the conditional model."""
    from editor.model_loading import summarised

    for name in ("conditional.safetensors", "encoder.safetensors", "mtcnn.safetensors"):
        shutil.copy(CHECKPOINTS / name, tmp_path)
    editor = Editor.load(tmp_path, device="cpu")
    said = [line for line in capsys.readouterr().err.splitlines() if "seed" in line or "angry" in line]
    assert said == [f"warning: the seed model is unavailable: none of its 7 <expression>.safetensors files is "
                    f"in {tmp_path} (the conditional model, the default, is used)"]
    told = summarised(editor.unavailable, EXPRESSIONS, tmp_path, True)
    assert list(told) == ["seed"] and len(editor.unavailable) == len(EXPRESSIONS)
    (tmp_path / "happy.safetensors").write_bytes(b"damaged")  # one seed file there, damaged: each named
    assert "happy" in summarised({**editor.unavailable, "happy": "damaged"}, EXPRESSIONS, tmp_path, True)


def test_cli_a_missing_seed_generator_is_named_not_the_whole_seed_model(tmp_path, capsys):
    """`edit --model seed --expression happy` without happy.safetensors says so; sad still edits."""
    folder = tmp_path / "checkpoints"
    shutil.copytree(CHECKPOINTS, folder)
    (folder / "happy.safetensors").unlink()
    small, out = PHOTOS / "fr_obama_small.jpg", tmp_path / "out"
    flags = ["--checkpoints", str(folder), "--model", "seed", "--output-dir", str(out), "--device", "cpu", "--steps", "5"]
    assert edit_main([str(small), "--expression", "happy", *flags]) == 1
    err = capsys.readouterr().err
    assert "the happy model is unavailable" in err and "happy.safetensors: no such checkpoint" in err, err
    assert "none of its" not in err and "not available" not in err
    assert edit_main([str(small), "--expression", "sad", *flags]) == 0 and (out / "fr_obama_small.png").exists()


def test_a_missing_conditional_model_says_the_command_that_trains_one(tmp_path):
    for name in ("mtcnn.safetensors", "happy.safetensors"):
        shutil.copy(CHECKPOINTS / name, tmp_path)
    editor = Editor.load(tmp_path, device="cpu", expressions=("happy",))
    # Plain `python -m gan train` trains the seed model, not this one.
    assert "Train one with `python -m gan train --model conditional`" in editor.unavailable["conditional"]


def test_missing_or_corrupt_checkpoints_say_how_to_fix(tmp_path):
    with pytest.raises(MissingCheckpointsError, match="python -m gan train"):
        Editor.load(tmp_path, device="cpu")
    shutil.copy(CHECKPOINTS / "mtcnn.safetensors", tmp_path)
    (tmp_path / "happy.safetensors").write_bytes(b"garbage")
    with pytest.raises(MissingCheckpointsError, match="happy.safetensors: the checkpoint is corrupt"):
        Editor.load(tmp_path, device="cpu", expressions=("happy",))


@requires(OBAMA)
def test_cli_edits_photos_and_carries_on_past_a_bad_one(tmp_path, capsys):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    small = PHOTOS / "fr_obama_small.jpg"
    code = edit_main([str(small), str(bad), str(OBAMA), "--expression", "surprise",
                      "--output-dir", str(tmp_path / "out"), "--device", "cpu"])
    assert code == 1
    err = capsys.readouterr().err
    assert "broken.png: skipped" in err and "1 of 3 photos failed" in err
    for source in (small, OBAMA):
        out = cv2.imread(str(tmp_path / "out" / f"{source.stem}.png"))
        assert out is not None and out.shape[:2] == Image.open(source).size[::-1]


def test_cli_brows_flag_reaches_the_edit(editor, tmp_path, monkeypatch):
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: editor)
    asked = []
    real_edit = Editor.edit
    monkeypatch.setattr(Editor, "edit", lambda self, *a, **k: asked.append(k["brows"]) or real_edit(self, *a, **k))
    fast = ["--expression", "surprise", "--device", "cpu", "--steps", "5", "--restarts", "1"]
    for flags in ([], ["--brows", "still"]):
        assert edit_main([str(PHOTOS / "fr_obama_small.jpg"), "--output-dir", str(tmp_path / "out"), *fast, *flags]) == 0
    assert asked == [None, "still"]


@requires(TWO)
def test_cli_edits_every_face_unless_told_which(editor, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: editor)  # loaded once for the four runs
    group = photo_with_a_bystander(tmp_path)  # two people and a tiny face between them
    fast = ["--expression", "happy", "--device", "cpu", "--steps", "5", "--restarts", "1"]
    for faces, edited in ((None, 3), ("main", 2), ("3", 1)):
        out = tmp_path / f"out-{faces}"
        assert edit_main([str(group), "--output-dir", str(out), *fast, *(["--faces", faces] if faces else [])]) == 0
        said = capsys.readouterr()
        assert f"{edited} faces" in said.out or (edited == 1 and "1 face," in said.out)
        # every face by default, but the one the page would not tick is named, with the way out
        noted = re.search(r"note: face 2 is edited too, though small: \d+ px wide.*--faces main", said.err)
        assert bool(noted) == (faces is None), said.err
    assert edit_main([str(group), "--output-dir", str(tmp_path / "bad"), "--faces", "1,4", *fast]) == 1
    assert "has 3 faces; --faces counts them from 1 to 3" in capsys.readouterr().err


@requires(PHOTOS / "fr_obama_small.jpg")
def test_cli_writes_one_photo_per_expression_from_one_fit(editor, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: editor)
    small = PHOTOS / "fr_obama_small.jpg"
    fits = []
    real = face_fit.invert
    monkeypatch.setattr("editor.face_fit.invert", lambda *a, **k: fits.append(1) or real(*a, **k))
    editor.forget()
    fast = ["--device", "cpu", "--steps", "5", "--restarts", "1", "--output-dir", str(tmp_path)]
    assert edit_main([str(small), "--expression", "happy,sad", *fast]) == 0
    happy, sad = (np.asarray(Image.open(tmp_path / f"fr_obama_small_{e}.png")) for e in ("happy", "sad"))
    assert happy.shape == sad.shape and not np.array_equal(happy, sad) and len(fits) == 1
    assert edit_main([str(small), "--expression", "all", *fast]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.png")) == sorted(f"fr_obama_small_{e}.png" for e in EXPRESSIONS)
    assert len(fits) == 1  # seven photos, still one fit
    with pytest.raises(SystemExit):
        edit_main([str(small), "--expression", "happy,smug", *fast])
    assert "unknown expression smug" in capsys.readouterr().err


@requires(PHOTOS / "fr_obama_small.jpg")
def test_cli_writes_the_format_asked_for(editor, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: editor)
    small = PHOTOS / "fr_obama_small.jpg"
    fast = ["--device", "cpu", "--steps", "5", "--restarts", "1", "--expression", "happy"]
    sizes = {}
    for fmt, quality in (("png", "95"), ("jpg", "95"), ("jpg", "40"), ("webp", "90")):
        out = tmp_path / f"{fmt}{quality}"
        assert edit_main([str(small), *fast, "--output-dir", str(out), "--format", fmt, "--quality", quality]) == 0
        saved = Image.open(out / f"fr_obama_small.{fmt}")
        assert saved.format == {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}[fmt]
        assert saved.size == Image.open(small).size
        sizes[fmt, quality] = (out / f"fr_obama_small.{fmt}").stat().st_size
    assert sizes["jpg", "40"] < sizes["jpg", "95"]  # the quality reaches the encoder
    for bad in ("0", "101", "high"):
        with pytest.raises(SystemExit):
            edit_main([str(small), *fast, "--output-dir", str(tmp_path), "--quality", bad])
    assert "quality must be a whole number from 1 to 100" in capsys.readouterr().err


@requires(PHOTOS / "fr_obama_small.jpg")
def test_cli_a_file_it_cannot_write_fails_that_photo_and_a_folder_it_may_not_write_stops_first(
        editor, tmp_path, capsys, monkeypatch):
    from editor import photo_output as photo_module

    small = PHOTOS / "fr_obama_small.jpg"
    fast = ["--device", "cpu", "--steps", "5", "--restarts", "1", "--expression", "happy"]
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: editor)

    def disk_full(image, path, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(photo_module, "save_photo", disk_full)  # cli_edit imports it when it runs
    assert edit_main([str(small), str(OBAMA), *fast, "--output-dir", str(tmp_path)]) == 1  # a traceback before
    err = capsys.readouterr().err
    assert f"cannot write {tmp_path / 'fr_obama_small.png'} (No space left on device)" in err
    assert "2 of 2 photos failed" in err
    monkeypatch.setattr("os.access", lambda path, mode: False)  # root may write anywhere: say it may not
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: pytest.fail("loaded the models"))
    assert edit_main([str(small), *fast, "--output-dir", str(tmp_path)]) == 2
    assert f"--output-dir {tmp_path}: you may not write there" in capsys.readouterr().err


def _names(plan) -> list[list[str]]:
    return [[str(path.name) for path in outputs.values()] for outputs in plan]


def test_output_names_never_repeat_in_a_run_nor_hit_an_input(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "x.jpg").touch()
    same_stem = [tmp_path / f"obama.{suffix}" for suffix in ("jpg", "webp", "TIFF", "bmp")]
    assert _names(output_paths(same_stem, ["happy"], out, "png")) == [
        ["obama_jpg.png"], ["obama_webp.png"], ["obama_tiff.png"], ["obama_bmp.png"]]
    assert _names(output_paths([a / "x.jpg", b / "x.jpg"], ["happy"], out, "png")) == [
        ["x_jpg.png"], ["x_jpg_2.png"]]  # the same suffix too: numbered in the order given
    assert _names(output_paths([a / "x.jpg", b / "X.jpg"], ["happy", "sad"], out, "jpg")) == [
        ["x_jpg_happy.jpg", "x_jpg_sad.jpg"], ["X_jpg_happy_2.jpg", "X_jpg_sad_2.jpg"]]  # case-blind folders
    # An output that would be its own input, or another input, takes the page's download name.
    own = [out / "astronaut.png", out / "astronaut_sad.png"]
    own[0].touch()
    assert _names(output_paths(own[:1], ["sad"], out, "png")) == [["astronaut_sad.png"]]
    own[1].touch()
    assert _names(output_paths(own, ["sad"], out, "png")) == [["astronaut_sad_2.png"], ["astronaut_sad_sad.png"]]
    # ... unless it is an earlier run's edit of another photo given now (its EXIF says the editor wrote
    # it): then it is no photo to edit.
    assert without_earlier_outputs(own, out) == own  # empty files named so: photos, kept
    save_photo(Image.new("RGB", (8, 8)), own[1])  # as `edit` writes it
    save_photo(Image.new("RGB", (8, 8)), out / "astronaut_png_happy_2.webp")
    assert without_earlier_outputs(own, out) == own[:1]
    assert without_earlier_outputs([out / "astronaut.png", out / "astronaut_png_happy_2.webp"], out) == own[:1]
    # A photo someone named like an edit is edited, and the edit of the other is not written over it.
    anna = [out / "anna.jpg", out / "anna_sad.jpg"]
    Image.new("RGB", (8, 8)).save(anna[0])
    Image.new("RGB", (8, 8), (200, 150, 120)).save(anna[1])
    assert without_earlier_outputs(anna, out) == anna
    # An edit named without its expression (one expression asked for: obama.jpg -> obama.png) is one too.
    plain = [out / "obama.jpg", out / "obama.png"]
    Image.new("RGB", (8, 8)).save(plain[0])
    save_photo(Image.new("RGB", (8, 8)), plain[1])
    assert without_earlier_outputs(plain, out) == plain[:1]
    assert _names(output_paths(anna, ["sad"], out, "jpg")) == [["anna_sad_2.jpg"], ["anna_sad_sad.jpg"]]
    elsewhere = [a / "x.jpg", a / "x_sad.png"]  # not in the output folder: a photo like any other
    assert without_earlier_outputs(elsewhere, out) == elsewhere
    assert without_earlier_outputs([out / "astronaut_sad.png"], out) == [out / "astronaut_sad.png"]  # alone
    (out / "busy.png").mkdir()  # a folder in the way is passed over; an earlier run's file is not
    save_photo(Image.new("RGB", (8, 8)), out / "done.png")  # as `edit` writes it
    assert _names(output_paths([a / "busy.jpg", a / "done.jpg"], ["happy"], out, "png")) == [
        ["busy_2.png"], ["done.png"]]


def test_output_names_pass_over_a_photo_in_the_output_folder_that_the_editor_did_not_write(tmp_path):
    """`edit trip/anna.jpg --output-dir photos` where photos/ holds the person's own anna.png: the
    edit was written over it (any file there that was no input counted as an earlier run's output)."""
    out, trip = tmp_path / "photos", tmp_path / "trip"
    out.mkdir()
    trip.mkdir()
    Image.new("RGB", (8, 8)).save(trip / "anna.jpg")
    Image.new("RGB", (8, 8), (200, 150, 120)).save(out / "anna.png")  # someone's photo, not an edit
    (out / "ben.png").write_bytes(b"not even an image")  # nor is this one of ours
    save_photo(Image.new("RGB", (8, 8)), out / "anna_2.png")  # an earlier run's edit: overwritten
    assert _names(output_paths([trip / "anna.jpg", trip / "ben.jpg"], ["happy"], out, "png")) == [
        ["anna_2.png"], ["ben_2.png"]]
    assert _names(output_paths([trip / "anna.jpg"], ["happy", "sad"], out, "png")) == [
        ["anna_happy.png", "anna_sad.png"]]


@requires(PHOTOS / "fr_obama_small.jpg")
def test_cli_keeps_the_inputs_and_gives_photos_of_one_name_their_own_outputs(editor, tmp_path, capsys,
                                                                               monkeypatch):
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: editor)
    fast = ["--device", "cpu", "--steps", "5", "--restarts", "1"]
    small = Image.open(PHOTOS / "fr_obama_small.jpg")
    folder = tmp_path / "ow"
    folder.mkdir()
    photo = folder / "astronaut.png"
    small.save(photo)
    original = photo.read_bytes()
    for _ in range(2):  # and a second run overwrites the first's output, also when a glob picks it up
        photos = sorted(map(str, folder.glob("*.png")))  # `edit ow/*.png --output-dir ow`
        assert edit_main([*photos, "--expression", "sad", "--output-dir", str(folder), *fast]) == 0
        assert photo.read_bytes() == original
        out, err = capsys.readouterr()
        assert f"-> {folder / 'astronaut_sad.png'}:" in out and out.count(" -> ") == 1
    assert "astronaut_sad.png: note: not edited: it is an earlier run's edit of astronaut.png" in err
    assert sorted(p.name for p in folder.iterdir()) == ["astronaut.png", "astronaut_sad.png"]

    # The same pixels in four formats (lossless: one fit serves them all) and a second x.png.
    same = [tmp_path / f"obama.{suffix}" for suffix in ("png", "webp", "tiff", "bmp")]
    for path in same:
        small.save(path, **({"lossless": True} if path.suffix == ".webp" else {}))
    (tmp_path / "b").mkdir()
    shutil.copy(same[0], tmp_path / "b" / "obama.png")
    out = tmp_path / "out"
    assert edit_main([*map(str, same), str(tmp_path / "b" / "obama.png"), str(same[0]), "--expression", "happy",
                      "--output-dir", str(out), *fast]) == 0
    names = ["obama_png.png", "obama_webp.png", "obama_tiff.png", "obama_bmp.png", "obama_png_2.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    said = capsys.readouterr()
    assert all(f"-> {out / name}:" in said.out for name in names)
    assert f"{same[0]}: note: given more than once; edited once" in said.err


def test_cli_refuses_a_file_as_output_dir_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: pytest.fail("loaded the models"))
    taken = tmp_path / "obama.jpg"
    taken.write_bytes(b"not a folder")
    assert edit_main([str(taken), "--expression", "sad", "--output-dir", str(taken)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: --output-dir {taken} is a file; give a folder (it is created if missing)\n"
    assert taken.read_bytes() == b"not a folder"


@pytest.mark.parametrize("flags, said", [
    (["--strength", "2.5"], "--strength must be a number from 0 to 2, got 2.5"),
    (["--model", "seed", "--strength", "1.5"], "--strength must be a number from 0 to 1, got 1.5"),
    (["--restarts", "0"], "--restarts must be a whole number from 1 to 16"),
    (["--steps", "0"], "--steps must be a whole number from 5 to 500"),
    (["--seed", "-1"], "--seed must be a whole number from 0 to 4294967295"),
    (["--blend-mode", "alpha"], "--blend-mode (for the conditional model) must be one of flow, difference, replace"),
])
def test_cli_a_setting_out_of_range_is_one_usage_error_before_any_work(tmp_path, capsys, monkeypatch, flags, said):
    """Not "skipped" for every photo and "10 of 10 photos failed": the run is refused at once,
    in the ranges the web API keeps."""
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: pytest.fail("loaded the models"))
    photos = [str(tmp_path / f"{n}.jpg") for n in range(3)]
    assert edit_main([*photos, "--expression", "sad", "--output-dir", str(tmp_path / "out"), *flags]) == 2
    assert capsys.readouterr().err.startswith(f"error: {said}")
    assert not (tmp_path / "out").exists()


def test_cli_says_what_is_wrong_with_a_photo_in_its_own_words(tmp_path, capsys, monkeypatch, recwarn):
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: object())  # no photo gets as far as editing
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_claiming(7_500, 6_000))  # 45 MP: over the 40 MP limit, under PIL's own (2x)
    assert edit_main([str(bomb), str(tmp_path), "--expression", "sad", "--output-dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{bomb}: skipped: bomb.png is too large (7500x6000 pixels")
    assert err[1].endswith("is a folder, not a photo; choose a photo file (JPEG, PNG, WebP, HEIC, AVIF, TIFF, "
                           "BMP or GIF)")
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


# ---------------------------------------------------------------- the conditional model (the default)

@requires(OBAMA)
def test_the_default_edit_uses_the_conditional_model_and_keeps_the_photo(editor):
    assert editor.default_model == "conditional" and editor.encoder is not None
    result = editor.edit(OBAMA, "surprise")
    edit = result.faces[0]
    assert result.model == "conditional" and result.settings.blend_mode == "flow"
    assert edit.source_label.shape == (7,) and abs(float(edit.source_label.sum()) - 1) < 1e-4
    assert edit.source.shape == edit.generated.shape == (48, 48)
    changed = np.any(result.image != result.original, axis=2)
    assert changed.any() and not changed[~_face_region(result, 0)].any()
    # The motion comes from the renders' landmarks: surprise drops the model's jaw, so the
    # mouth and chin points move, and the photo's lower face moves with them.
    assert editor.landmarks is not None and edit.source_points.shape == edit.target_points.shape == (68, 2)
    lower = np.r_[4:13, 48:68]
    assert np.abs(edit.target_points[lower] - edit.source_points[lower]).mean() > 0.3  # crop pixels
    without = dataclasses.replace(result, faces=[dataclasses.replace(edit, source_points=None)])
    assert not np.array_equal(editor.render(without, weights={0: edit.weights}), result.image)  # optical flow


@requires(OBAMA)
def test_strength_zero_returns_the_photo_unchanged(editor):
    result = editor.edit(OBAMA, "angry", strength=0.0)
    assert np.array_equal(result.image, result.original)
    seed = editor.edit(OBAMA, "angry", strength=0.0, model="seed")
    assert np.array_equal(seed.image, seed.original)


@requires(OBAMA)
def test_strength_scales_the_change(editor):
    weak = editor.edit(OBAMA, "surprise", strength=0.5)
    full = editor.render(weak, weights={0: np.eye(7, dtype=np.float32)[5]})
    strong = editor.render(weak, weights={0: 1.5 * np.eye(7, dtype=np.float32)[5]})
    change = [np.abs(im.astype(int) - weak.original.astype(int)).sum() for im in (weak.image, full, strong)]
    assert change[0] < change[1] < change[2]


@requires(OBAMA)
def test_render_with_the_edits_own_weights_reproduces_it(editor):
    result = editor.edit(OBAMA, "sad")
    assert np.array_equal(editor.render(result, weights={0: result.faces[0].weights}), result.image)
    happier = editor.render(result, weights={0: np.eye(7, dtype=np.float32)[3]})
    assert not np.array_equal(happier, result.image)


def test_arguments_out_of_range_are_refused(editor):
    with pytest.raises(ValueError, match="strength must be between 0 and 2.0"):
        editor.edit(OBAMA, "happy", strength=2.5)
    with pytest.raises(ValueError, match="between 0 and 1.0 for the seed model"):
        editor.edit(OBAMA, "happy", strength=1.2, model="seed")
    with pytest.raises(ValueError, match="does not apply to the conditional model"):
        editor.edit(OBAMA, "happy", blend_mode="poisson")
    with pytest.raises(ValueError, match="model 'nope' is not available"):
        editor.edit(OBAMA, "happy", model="nope")


@requires(PHOTOS / "fr_obama_small.jpg")
def test_cli_passes_strength_and_model_through(editor, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Editor, "load", lambda *args, **kwargs: editor)
    small = PHOTOS / "fr_obama_small.jpg"
    fast = ["--expression", "surprise", "--device", "cpu", "--steps", "5", "--restarts", "1"]
    assert edit_main([str(small), "--output-dir", str(tmp_path / "zero"), "--strength", "0", *fast]) == 0
    unchanged = np.asarray(Image.open(tmp_path / "zero" / "fr_obama_small.png").convert("RGB"))
    assert np.array_equal(unchanged, np.asarray(Image.open(small).convert("RGB")))
    assert edit_main([str(small), "--output-dir", str(tmp_path / "seed"), "--model", "seed", "--strength", "1.2",
                      *fast]) == 2
    assert "--strength must be a number from 0 to 1, got 1.2" in capsys.readouterr().err
    assert edit_main([str(small), "--output-dir", str(tmp_path / "seed"), "--model", "seed", *fast]) == 0


@requires(OBAMA)
def test_retarget_renders_only_the_named_faces_and_the_loss_stages_follow_the_edit(editor):
    stages = benchmark_module("expression_loss")
    result = editor.edit(OBAMA, "happy")
    [kept] = editor.retarget(result)  # no weights: the face as it was edited
    assert np.array_equal(kept.generated, result.faces[0].generated)
    # Weights of zero: T is S, and every stage that adds the change is the photo's own crop.
    [still] = editor.retarget(result, weights={0: np.zeros(7, np.float32)})
    assert np.array_equal(still.generated, still.source)
    crops = stages.stage_crops(result.original, still, result.settings)
    for stage in ("crop + (T - S)", "crop + low-passed (T - S)", "motion only", "edited"):
        assert np.array_equal(crops[stage], crops["nothing"]), stage
    # A new target: the "edited" stage is the rendered photo's face, cropped as for the edit.
    surprise = {0: 1.5 * np.eye(7, dtype=np.float32)[EXPRESSIONS.index("surprise")]}
    [moved] = editor.retarget(result, weights=surprise)
    crops = stages.stage_crops(result.original, moved, result.settings)
    assert not np.array_equal(crops["T"], crops["S"])
    rendered = editor.render(result, weights=surprise)
    assert np.array_equal(crops["edited"], align_face(rendered, moved.face, size=48)[0])


def test_edit_settings_fill_each_models_defaults_and_refuse_what_does_not_apply():
    from editor.edits import DEFAULT_INVERSION, DEFAULT_STRENGTH, edit_settings

    conditional = edit_settings("conditional", "happy", EXPRESSIONS)
    assert (conditional.steps, conditional.restarts) == DEFAULT_INVERSION["conditional"]
    assert conditional.strength == DEFAULT_STRENGTH["conditional"] and conditional.blend_mode == "flow"
    seed = edit_settings("seed", "sad", ("sad",), strength=0.5, steps=7, seed=3)
    assert (seed.blend_mode, seed.strength, seed.steps, seed.seed, seed.model) == ("alpha", 0.5, 7, 3, "seed")
    with pytest.raises(ValueError, match="does not apply to the seed model; choose one of alpha, poisson"):
        edit_settings("seed", "sad", ("sad",), blend_mode="flow")
    with pytest.raises(ValueError, match="strength must be between 0 and 1.0 for the seed model"):
        edit_settings("seed", "sad", ("sad",), strength=1.2)
    with pytest.raises(ValueError, match="unknown expression 'happy'; choose one of sad"):
        edit_settings("seed", "happy", ("sad",))
    assert conditional.brows == "auto" and edit_settings("conditional", "happy", EXPRESSIONS, brows="move").brows == "move"
    with pytest.raises(ValueError, match="unknown brows choice 'up'; choose one of auto, move, still"):
        edit_settings("conditional", "happy", EXPRESSIONS, brows="up")


def test_the_brows_choice_decides_whether_brows_and_lids_move_whatever_the_glasses_test_said():
    from types import SimpleNamespace

    from editor.apply_edit import conditional_change
    from editor.edits import EditSettings, holds_brows
    from tests.test_mouth_opening import _closed_mouth_face

    assert [holds_brows(choice, glasses) for choice in ("auto", "move", "still") for glasses in (True, False)] == \
        [True, False, False, False, True, True]
    source = _closed_mouth_face()
    target = source.copy()
    target[17:27, 1] -= 2.0  # surprise: the brows rise
    face = np.full((48, 48), 128, np.uint8)
    edit = SimpleNamespace(source=face, generated=face, aligned=face, source_points=source, target_points=target,
                           glasses=True)
    moved = {choice: float(np.abs(conditional_change(edit, EditSettings(brows=choice)).flow).max())
             for choice in ("auto", "move", "still")}
    assert moved["auto"] < 1e-3 and moved["still"] < 1e-3 and moved["move"] > 1.0
    edit.glasses = False
    assert np.abs(conditional_change(edit, EditSettings()).flow).max() > 1.0


@requires(OBAMA)
def test_another_expression_of_the_same_photo_reuses_its_faces_and_fit(editor, monkeypatch):
    """Detection and the fit are remembered by the photo's and the crop's pixels: a second expression
    costs no MTCNN pass and no inversion, and gives exactly what a cold edit gives."""
    editor.forget()
    editor.edit(str(OBAMA), "happy", steps=10, restarts=1)

    def no_work(*args, **kwargs):
        raise AssertionError("the same photo and settings must not be detected or fitted again")

    with monkeypatch.context() as patch:
        patch.setattr(editor.detector, "detect", no_work)
        patch.setattr("editor.face_fit.invert", no_work)
        warm = editor.edit(str(OBAMA), "surprise", steps=10, restarts=1)
    editor.forget()
    cold = editor.edit(str(OBAMA), "surprise", steps=10, restarts=1)
    assert np.array_equal(warm.image, cold.image) and torch.equal(warm.faces[0].z, cold.faces[0].z)
    warm.faces[0].z.add_(1.0)  # an edit's z is its own: changing it leaves the remembered fit alone
    again = editor.edit(str(OBAMA), "surprise", steps=10, restarts=1)
    assert np.array_equal(again.image, cold.image)

    with monkeypatch.context() as patch:  # other settings, another photo: a new fit
        calls = []
        real = face_fit.invert
        patch.setattr("editor.face_fit.invert", lambda *a, **k: calls.append(k["seed"]) or real(*a, **k))
        editor.edit(str(OBAMA), "surprise", steps=10, restarts=1, seed=1)
        flipped = np.ascontiguousarray(np.asarray(Image.open(OBAMA).convert("RGB"))[:, ::-1])
        editor.edit(flipped, "surprise", steps=10, restarts=1, seed=1)
    assert calls == [1, 1]


def test_recent_keeps_the_last_results_and_not_failures():
    from editor.recent import Recent, content_key

    recent = Recent(2)
    computed = []

    def compute(value):
        return lambda: computed.append(value) or value

    a, b, c = (content_key(np.full((4, 4), v, np.uint8)) for v in (1, 2, 3))
    assert content_key(np.full((4, 4), 1, np.uint8)) == a != content_key(np.full((2, 8), 1, np.uint8))
    assert [recent.get(k, compute(v)) for k, v in ((a, 1), (b, 2), (a, 9), (c, 3), (b, 4))] == [1, 2, 1, 3, 4]
    assert computed == [1, 2, 3, 4]  # a was kept (used again), b went when c came
    with pytest.raises(ZeroDivisionError):
        recent.get("bad", lambda: 1 / 0)
    assert "bad" not in recent._items and len(recent) == 2


def test_cli_a_device_that_is_not_here_is_one_line(tmp_path, capsys):
    photo = tmp_path / "me.png"
    Image.new("RGB", (64, 64)).save(photo)
    assert edit_main([str(photo), "--expression", "sad", "--device", "gpu", "--output-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --device 'gpu' is not a device; use one of auto, cpu") and "Traceback" not in err
