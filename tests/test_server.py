"""The web server under real use: bounded memory per session, every API argument checked,
its own files deleted at start-up and exit, SIGTERM, passwords and warnings, and a damaged
checkpoint that takes out only its own model. Real Editor, real photos."""

from __future__ import annotations

import gc
import io
import os
import shutil
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

import editor.__main__ as cli
from editor import validate
from editor.app import build_demo
from editor.handlers import edit_photo
from editor.random_handlers import random_face
from editor.result_handlers import explore, make_download, reset_sliders, show_face_amounts
from editor.pipeline import Editor, MissingCheckpointsError
from editor.scratch import LOCK_NAME, ProcessFolder, Scratch, remove_stale
from editor.session_store import SessionStore
from editor.sliders import N_VALUES

from .app_server import FAST, connect, serve
from .conftest import CHECKPOINTS, PHOTOS, requires

gradio_client = pytest.importorskip("gradio_client")
import gradio as gr  # noqa: E402

OBAMA = PHOTOS / "fr_obama.jpg"
OBAMA_SMALL = PHOTOS / "fr_obama_small.jpg"
TWO_PEOPLE = PHOTOS / "fr_two_people.jpg"
ZERO = [0.0] * 6
EDIT_DEFAULTS = dict(seed=0, steps=FAST["steps"], restarts=FAST["restarts"], strength=1.0, blend_mode="flow")


def edit_api(client, photo, faces=(), **overrides):
    args = {**EDIT_DEFAULTS, **overrides}
    return client.predict(gradio_client.handle_file(photo), args.pop("expression", "happy"), list(faces),
                          args["seed"], args["steps"], args["restarts"], args["strength"], args["blend_mode"],
                          args.get("model", "conditional"), api_name="/edit")


def no_progress(*args, **kwargs):
    pass


# ---------------------------------------------------------------- API arguments

@pytest.mark.parametrize("overrides, message", [
    ({"steps": 2000}, "steps must be a whole number from 5 to 500, got 2000"),
    ({"steps": 2.5}, "steps must be a whole number from 5 to 500, got 2.5"),
    ({"restarts": 17}, "restarts must be a whole number from 1 to 16, got 17"),
    ({"strength": 2.5}, "strength must be a number from 0 to 2, got 2.5"),
    ({"strength": 1.2, "model": "seed", "blend_mode": "alpha"}, "strength must be a number from 0 to 1, got 1.2"),
    ({"seed": 2**70}, "seed must be a whole number from 0 to 4294967295, got 1.18e+21"),
    ({"seed": -1}, "seed must be a whole number from 0 to 4294967295, got -1"),
    ({"blend_mode": "multiply"}, "blend_mode (for the conditional model) must be one of flow, difference, replace; "
                                 "got 'multiply'"),
    ({"blend_mode": "alpha"}, "blend_mode (for the conditional model) must be one of flow, difference, replace; "
                              "got 'alpha'"),
    ({"faces": ["x"]}, "each face number must be a whole number, got 'x'"),
    ({"faces": [0.5]}, "each face number must be a whole number, got 0.5"),
])
def test_edit_arguments_out_of_range_are_refused_with_the_range(overrides, message):
    defaults = {"faces": [], **EDIT_DEFAULTS}
    with pytest.raises(validate.ArgumentError) as info:
        validate.edit_options(**{**defaults, **overrides})
    assert str(info.value) == message


def test_edit_arguments_in_the_forms_clients_send():
    options = validate.edit_options(faces=["1", 0.0, "0"], seed="7", steps=30.0, restarts="4", strength="0.5",
                                    blend_mode="poisson", model="seed")
    assert options == {"faces": [0, 1], "seed": 7, "steps": 30, "restarts": 4, "strength": 0.5,
                       "blend_mode": "poisson", "model": "seed", "brows": None}
    assert validate.edit_options(faces=[], seed=None, steps=None, restarts=None, strength=None,
                                 blend_mode=None) == {"faces": None, "seed": 0, "steps": None, "restarts": None,
                                                      "strength": None, "blend_mode": None, "model": "conditional",
                                                      "brows": None}
    assert validate.edit_options(faces=None, seed=0, steps=None, restarts=None, strength=None, blend_mode=None,
                                 brows="still")["brows"] == "still"
    with pytest.raises(validate.ArgumentError, match="brows must be one of auto, move, still; got 'up'"):
        validate.edit_options(faces=None, seed=0, steps=None, restarts=None, strength=None, blend_mode=None,
                              brows="up")
    assert validate.face_numbers("2") == [2] and validate.face_numbers(None) is None
    with pytest.raises(validate.ArgumentError, match="amount_2 must be a number, got nan"):
        validate.amounts([0.0, float("nan")], 3.0)


@requires(OBAMA_SMALL)
def test_the_server_refuses_bad_arguments_before_any_work(url, editor, monkeypatch):
    client = connect(url)
    started = []  # the editor is never asked: the arguments are refused first
    monkeypatch.setattr(editor, "edit", lambda *args, **kwargs: started.append(args))
    with pytest.raises(gradio_client.exceptions.AppError, match="steps must be a whole number from 5 to 500"):
        edit_api(client, OBAMA_SMALL, steps=2000, restarts=16)
    with pytest.raises(gradio_client.exceptions.AppError, match="seed must be a whole number from 0 to 4294967295"):
        edit_api(client, OBAMA_SMALL, seed=2**70)
    with pytest.raises(gradio_client.exceptions.AppError, match="expression must be one of"):
        edit_api(client, OBAMA_SMALL, expression="smug")
    assert started == []  # refused at once, not after 2000 x 16 steps
    with pytest.raises(gradio_client.exceptions.AppError, match="4294967295"):
        client.predict("happy", 2**70, *ZERO, api_name="/random")


@requires(TWO_PEOPLE)
def test_faces_as_strings_or_floats_and_empty_means_every_face(url):
    client = connect(url)
    client.predict(gradio_client.handle_file(TWO_PEOPLE), api_name="/detect")
    _, _, summary = edit_api(client, TWO_PEOPLE, faces=[])  # after a detect, as documented: every face
    assert "edited 2 faces" in summary
    _, _, summary = edit_api(client, TWO_PEOPLE, faces=["1"])  # the form the API page shows
    assert "edited 1 face." in summary and "Face 2" in summary and "Face 1:" not in summary
    _, _, summary = edit_api(client, TWO_PEOPLE, faces=[0.0])
    assert "edited 1 face." in summary and "Face 1" in summary and "Face 2:" not in summary
    with pytest.raises(gradio_client.exceptions.AppError, match="has 2 faces; face numbers count from 0, so they are 0-1"):
        edit_api(client, TWO_PEOPLE, faces=["5"])


# ---------------------------------------------------------------- what the server accepts

@requires(OBAMA)
def test_a_9_megapixel_bmp_of_27_mb_is_accepted(url, tmp_path):
    photo = tmp_path / "scan.bmp"
    PIL.Image.open(OBAMA).resize((2688, 3358)).save(photo)
    assert photo.stat().st_size > 25 * 2**20  # over the old upload cap
    gallery, _, _ = connect(url).predict(gradio_client.handle_file(photo), api_name="/detect")
    assert len(gallery) == 1


@requires(OBAMA_SMALL)
def test_an_iphone_heic_photo_is_edited_with_its_camera_exif(url, tmp_path):
    exif = PIL.Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 15"
    photo = tmp_path / "IMG_0001.HEIC"
    PIL.Image.open(OBAMA_SMALL).save(photo, "HEIF", quality=90, exif=exif.tobytes())
    (before, after), download, summary = edit_api(connect(url), photo)
    assert "edited 1 face" in summary
    saved = PIL.Image.open(download)
    assert saved.size == PIL.Image.open(OBAMA_SMALL).size and saved.getexif()[0x0110] == "iPhone 15"
    assert Path(download).name == "IMG_0001_happy.png"


@requires(OBAMA_SMALL)
def test_a_multi_page_tiff_edit_says_only_page_1_was_read(url, tmp_path):
    first = PIL.Image.open(OBAMA_SMALL).convert("RGB")
    photo = tmp_path / "pages.tif"
    first.save(photo, save_all=True, append_images=[first.transpose(PIL.Image.Transpose.FLIP_LEFT_RIGHT)])
    _, _, summary = edit_api(connect(url), photo)
    assert "pages.tif has 2 pages; only page 1 is read and edited" in summary


# ---------------------------------------------------------------- sessions

@requires(OBAMA)
def test_a_session_keeps_no_photo_in_memory(editor, tmp_path):
    """Memory held per session: the old Session kept the original and the edited photo
    (and the photo as shown) in RAM for an hour; now the photo is on disk."""
    photo = tmp_path / "big.png"
    PIL.Image.open(OBAMA).resize((1820, 2274)).save(photo)  # 4 MP: 12 MB per RGB copy
    store = SessionStore(Scratch())
    payload = {"path": str(photo), "orig_name": "big.png"}
    edit_photo(editor, store, payload, "happy", [], progress=no_progress, **EDIT_DEFAULTS)  # warm caches
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        (_, after), download, _, session = edit_photo(editor, store, payload, "happy", [], progress=no_progress,
                                                      **EDIT_DEFAULTS)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 2e6, f"a session holds {held / 1e6:.1f} MB"
    # ...and the photo is all there: the sliders at 0 give back the edit exactly.
    shown = editor.render(session.result, {})
    assert np.array_equal(np.asarray(PIL.Image.open(download).convert("RGB")), shown)
    assert Path(download).is_relative_to(session.folder)


@requires(OBAMA_SMALL)
def test_an_upload_is_decoded_once_for_its_detection_and_edits_and_anew_when_it_changes(editor, tmp_path,
                                                                                       monkeypatch):
    import editor.handlers as handlers
    from editor.handlers import detect_faces

    decoded = []
    real = handlers.read_photo
    monkeypatch.setattr(handlers, "read_photo", lambda *a, **k: decoded.append(a[0]) or real(*a, **k))
    upload = tmp_path / "upload.jpg"
    shutil.copy(OBAMA_SMALL, upload)
    payload = {"path": str(upload), "orig_name": "me.jpg"}
    store = SessionStore(Scratch())
    detect_faces(editor, payload)
    _, first, _, _ = edit_photo(editor, store, payload, "happy", [], progress=no_progress, **EDIT_DEFAULTS)
    edit_photo(editor, store, payload, "sad", [], progress=no_progress, **EDIT_DEFAULTS)
    assert len(decoded) == 1  # the page's detection, an edit and another expression: one decode
    assert Path(first).name == "me_happy.png"  # the visitor's own file name still names the download
    PIL.Image.open(OBAMA_SMALL).transpose(PIL.Image.Transpose.FLIP_LEFT_RIGHT).save(upload, quality=90)
    os.utime(upload, ns=(time.time_ns(), time.time_ns() + 10**9))  # a new file at the same path
    (_, after), _, _, _ = edit_photo(editor, store, payload, "happy", [], progress=no_progress, **EDIT_DEFAULTS)
    assert len(decoded) == 2
    shown = np.asarray(PIL.Image.open(after).convert("L"), float)
    flipped = np.asarray(PIL.Image.open(upload).convert("L").resize(shown.shape[::-1]), float)
    assert np.abs(shown - flipped).mean() < 10  # the edit is of the new photo


@requires(OBAMA_SMALL)
def test_sessions_are_bounded_and_an_ended_one_says_to_edit_again(editor):
    result = editor.edit(str(OBAMA_SMALL), "happy", **FAST)
    store = SessionStore(Scratch(), max_sessions=2)
    first, second, third = (store.add(result) for _ in range(3))
    assert len(store) == 2 and not first.folder.exists()  # the oldest went, with its files
    with pytest.raises(gr.Error, match=r"This edit has expired \(the server keeps the 2 most recently used edits\); "
                                       "press Edit"):
        explore(editor, store.scratch, first, 0, 1.0)
    explore(editor, store.scratch, second, 0, 1.0)  # used: now the newest
    store.add(result)
    assert third.expired_because is not None and second.expired_because is None
    store.drop(second)  # what Gradio calls when the visitor's state is deleted
    assert not second.folder.exists() and len(store) == 1


@requires(OBAMA_SMALL)
def test_the_least_recently_used_edit_goes_first_and_a_download_counts_as_a_use(editor):
    result = editor.edit(str(OBAMA_SMALL), "happy", **FAST)
    store = SessionStore(Scratch(), max_sessions=2)
    first, second = store.add(result), store.add(result)
    make_download(editor, store.scratch, first, 0, "JPEG")  # the visitor came back for the full-size photo
    third = store.add(result)
    assert first.expired_because is None and second.expired_because is not None
    assert len(show_face_amounts(second, 0)) == N_VALUES + 1  # an expired edit's sliders (and Strength) still show...
    with pytest.raises(gr.Error, match="This edit has expired .*press Edit"):
        reset_sliders(editor, store.scratch, second, 0)  # ...but a reset says why it cannot redraw
    with pytest.raises(gr.Error, match="This edit has expired .*press Edit"):
        make_download(editor, store.scratch, second, 0, "PNG")  # nor can its full-size photo be written
    show_face_amounts(first, 0)  # choosing a face counts as a use too
    store.add(result)
    assert first.expired_because is None and third.expired_because is not None


@requires(OBAMA_SMALL)
def test_an_evicted_edit_keeps_its_download_link_and_its_sliders_say_to_edit_again(editor):
    """A slow visitor whose edit made way for others' (--max-sessions): the download button
    their page shows still gives the PNG (Gradio answered 403 once its file was deleted), and
    the next slider move says in the page what happened and what to do."""
    import httpx

    with serve(build_demo(editor, max_sessions=1)) as address:
        slow = gradio_client.Client(address, verbose=False, download_files=False)
        _, download, _ = edit_api(slow, OBAMA_SMALL)
        edit_api(connect(address), OBAMA_SMALL)  # another visitor's edit: the slow one's is evicted
        response = httpx.get(download["url"], timeout=30)
        assert response.status_code == 200
        png = PIL.Image.open(io.BytesIO(response.content))
        assert png.format == "PNG" and png.size == PIL.Image.open(OBAMA_SMALL).size
        with pytest.raises(gradio_client.exceptions.AppError,
                           match=r"This edit has expired \(the server keeps only the most recently used edit\); "
                                 "press Edit to edit the photo again"):
            slow.predict(0, 1.0, 0, 0, 0, 0, 0, api_name="/explore")
    assert not list(Path(download["path"]).parent.parent.glob("*.npy"))  # its photo did go



def test_an_evicted_edit_keeps_the_close_up_its_page_shows():
    """The edited faces' close-up is on the visitor's page as the before/after pair is; an eviction
    (--max-sessions) kept the pair's images but deleted the close-up's, which the page still showed."""
    from editor.edits import EditResult
    from editor.photo import Photo

    pixels = np.zeros((8, 8, 3), np.uint8)
    result = EditResult(pixels, pixels, Photo(pixels, None, "p.png"), "happy", [])
    store = SessionStore(Scratch(), max_sessions=1)
    first = store.add(result)
    write = partial(store.scratch.write, pixels, folder=first.folder)
    first.before, first.after = write("original.jpg"), write("edited.jpg")
    first.closeup_before, first.closeup_after = write("original.jpg"), write("faces.jpg")
    store.add(result)  # another visitor's edit: the first one's goes
    assert first.expired_because is not None and not (first.folder / "original.npy").exists()
    for shown in (first.before, first.after, first.closeup_before, first.closeup_after):
        assert Path(shown).is_file(), shown

def test_a_visitors_new_edit_replaces_their_previous_one_and_evicts_no_one_else():
    """Each expression a visitor tried on one photo kept its own session (120 MB of disk at 40 MP)
    until the limit or the hour, and one visitor's --max-sessions tries evicted everyone else's."""
    from editor.edits import EditResult
    from editor.photo import Photo

    pixels = np.zeros((8, 8, 3), np.uint8)
    result = EditResult(pixels, pixels, Photo(pixels, None, "p.png"), "happy", [])
    store = SessionStore(Scratch(), max_sessions=2)
    other = store.add(result)  # another visitor's live edit
    mine = store.add(result)
    mine.before = store.scratch.write(pixels, "original.jpg", folder=mine.folder)
    tries = [mine]
    for _ in range(3):
        tries.append(store.add(result, replacing=tries[-1]))
    assert len(store) == 2 and other.expired_because is None
    for old in tries[:-1]:
        assert "you edited the photo again" in old.expired_because
        assert not (old.folder / "original.npy").exists()
    assert Path(mine.before).is_file()  # the page may still show it until the new edit arrives
    assert (tries[-1].folder / "original.npy").is_file()


@requires(OBAMA_SMALL)
def test_the_edit_handler_passes_the_brows_choice_and_refuses_an_unknown_one(editor):
    store = SessionStore(Scratch())
    (_, moved), _, _, session = edit_photo(editor, store, str(OBAMA_SMALL), "surprise", [], progress=no_progress,
                                           brows="move", **EDIT_DEFAULTS)
    assert session.edit.settings.brows == "move"
    (_, still), _, _, session = edit_photo(editor, store, str(OBAMA_SMALL), "surprise", [], progress=no_progress,
                                           brows="still", previous=session, **EDIT_DEFAULTS)
    assert session.edit.settings.brows == "still"
    assert not np.array_equal(np.asarray(PIL.Image.open(moved)), np.asarray(PIL.Image.open(still)))  # brows moved
    with pytest.raises(gr.Error, match="brows must be one of auto, move, still; got 'up'"):
        edit_photo(editor, store, str(OBAMA_SMALL), "surprise", [], progress=no_progress, brows="up",
                   **EDIT_DEFAULTS)


@requires(OBAMA_SMALL)
def test_the_edit_handler_ends_the_visitors_previous_edit_only_when_the_new_one_is_made(editor):
    store = SessionStore(Scratch())
    _, first_download, _, first = edit_photo(editor, store, str(OBAMA_SMALL), "happy", [], progress=no_progress,
                                             **EDIT_DEFAULTS)
    with pytest.raises(gr.Error, match="expression must be one of"):  # refused: the page keeps its edit
        edit_photo(editor, store, str(OBAMA_SMALL), "smug", [], previous=first, progress=no_progress,
                   **EDIT_DEFAULTS)
    assert first.expired_because is None
    (_, after), _, _, second = edit_photo(editor, store, str(OBAMA_SMALL), "sad", [], previous=first,
                                          progress=no_progress, **EDIT_DEFAULTS)
    assert len(store) == 1 and first.expired_because is not None and second.expired_because is None
    assert not (first.folder / "original.npy").exists()  # the previous try's photo is off the disk
    assert Path(first_download).is_file() and Path(after).is_file()  # what a page or client links to stays
    with pytest.raises(gr.Error, match="This edit has expired .*press Edit"):
        explore(editor, store.scratch, first, 0, 1.0)


@requires(OBAMA_SMALL)
def test_a_visitor_trying_expressions_on_the_page_does_not_evict_another_visitors_edit(editor):
    """Through the server: the edit endpoint gets the visitor's session, so their tries replace it."""
    with serve(build_demo(editor, max_sessions=2)) as address:
        other, visitor = connect(address), connect(address)
        edit_api(other, OBAMA_SMALL)
        edit_api(visitor, OBAMA_SMALL)
        edit_api(visitor, OBAMA_SMALL, expression="sad")  # a third session evicted the other visitor's edit
        other.predict(0, 1.0, 0, 0, 0, 0, 0, api_name="/explore")  # which is still live
        visitor.predict(0, 1.0, 0, 0, 0, 0, 0, api_name="/explore")  # and so is the visitor's newest


# ---------------------------------------------------------------- damaged checkpoints

def _checkpoints_with(tmp_path: Path, damaged: str, expressions=("happy", "sad")) -> Path:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for name in [*(f"{e}.safetensors" for e in expressions), "mtcnn.safetensors", "classifier.safetensors"]:
        (folder / name).symlink_to(CHECKPOINTS / name)
    target = folder / damaged
    data = (CHECKPOINTS / damaged).read_bytes()
    target.unlink()
    target.write_bytes(data[: len(data) // 2])  # truncated, as a broken download or copy leaves it
    return folder


@pytest.mark.skipif(not (CHECKPOINTS / "happy.safetensors").exists(), reason="no shipped generators")
def test_one_damaged_generator_takes_out_only_its_model(tmp_path, capsys):
    folder = _checkpoints_with(tmp_path, "happy.safetensors")
    loaded = Editor.load(folder, device="cpu", expressions=("happy", "sad"))
    assert loaded.expressions == ("sad",)
    problem = loaded.unavailable["happy"]
    assert "happy.safetensors" in problem and "Make it again" in problem  # a folder of one's own: no git
    assert "happy.safetensors" in capsys.readouterr().err  # said at start-up too
    demo = build_demo(loaded)
    assert "The **happy** model is unavailable" in str(demo.config)  # said on the page
    assert loaded.default_model == "seed"  # no conditional model here: the Strength slider is the seed's
    (strength,) = [b for b in demo.blocks.values() if b.get_config().get("label") == "Strength"]
    assert (strength.minimum, strength.maximum, strength.value) == (0.0, 1.0, 1.0)  # it offered up to 2
    with pytest.raises(gr.Error, match="the happy model is unavailable: .*Make it again"):
        edit_photo(loaded, SessionStore(Scratch()), str(OBAMA_SMALL), "happy", [], progress=no_progress,
                   **EDIT_DEFAULTS)
    with pytest.raises(gr.Error, match="the happy model is unavailable"):
        random_face(loaded, "happy", 0, *ZERO)
    assert random_face(loaded, "sad", 0, *ZERO).shape[:2] == (192, 192)  # the rest works


@pytest.mark.skipif(not (CHECKPOINTS / "sad.safetensors").exists(), reason="no shipped generators")
def test_a_generator_of_another_shape_takes_out_only_its_model(tmp_path, capsys):
    from gan.checkpoint import save_generator
    from gan.models import ModelConfig, build_models

    folder = _checkpoints_with(tmp_path, "happy.safetensors")
    G, _ = build_models(ModelConfig(image_size=64, channels=3, ngf=8, ndf=8), seed=0)  # trained on a photo folder
    save_generator(folder / "happy.safetensors", G, {"expression": "happy"})
    loaded = Editor.load(folder, device="cpu", expressions=("happy", "sad"))
    assert loaded.expressions == ("sad",)  # not a crash at the first edit
    assert "a 64x64 generator with 3 channel(s); the editor needs 48x48 greyscale" in loaded.unavailable["happy"]


def test_a_damaged_face_detector_gives_a_message_not_a_traceback(tmp_path, capsys):
    folder = _checkpoints_with(tmp_path, "mtcnn.safetensors", expressions=("sad",))
    with pytest.raises(MissingCheckpointsError, match=r"mtcnn\.safetensors: the face detector's weights are corrupt"):
        Editor.load(folder, device="cpu", expressions=("sad",))
    assert cli.main(["--checkpoints", str(folder), "--device", "cpu"]) == 2
    assert "error: " in capsys.readouterr().err
    (folder / "mtcnn.safetensors").unlink()
    assert cli.main(["edit", str(OBAMA_SMALL), "--expression", "sad", "--output-dir", str(tmp_path / "out"),
                     "--checkpoints", str(folder), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "mtcnn.safetensors: the face detector's weights are missing" in err and "Traceback" not in err
    assert f"cp {CHECKPOINTS / 'mtcnn.safetensors'} {folder / 'mtcnn.safetensors'}" in err  # not git, for one's own


# ---------------------------------------------------------------- start-up, passwords, exit

def test_remove_stale_deletes_only_the_folders_of_ended_processes(tmp_path):
    live = ProcessFolder(tmp_path)  # this process's, locked
    ended = tmp_path / "999999-ended123"
    ended.mkdir()
    (ended / LOCK_NAME).touch()  # nobody holds its lock: its process is gone
    (ended / "upload.jpg").write_bytes(b"x")
    starting = tmp_path / "999998-starting"
    starting.mkdir()  # no lock yet: a process still starting, left alone for a minute
    died_starting = tmp_path / "999997-died1234"
    died_starting.mkdir()
    os.utime(died_starting, (time.time() - 3600,) * 2)
    assert sorted(remove_stale(tmp_path)) == sorted([ended, died_starting])
    assert live.path.exists() and starting.exists()
    live.remove()
    assert not live.path.exists()


def test_remove_stale_leaves_folders_that_are_not_ours_and_those_of_running_processes(tmp_path):
    """<temp>/expression-editor may be something else, e.g. a checkout of this project."""
    checkout = [tmp_path / name for name in (".git", "editor", "tests", "2024-notes")]
    starting = tmp_path / f"{os.getpid()}-starting"  # no lock file yet, but its process runs
    for folder in [*checkout, starting]:
        folder.mkdir()
        (folder / "keep.txt").write_text("mine")
        os.utime(folder, (time.time() - 3600,) * 2)
    assert remove_stale(tmp_path) == []
    assert all((folder / "keep.txt").exists() for folder in [*checkout, starting])


def test_each_user_has_their_own_scratch_root(monkeypatch, tmp_path):
    """One <temp>/expression-editor for all users was made with the first one's permissions: a
    second user's server stopped at start-up with a PermissionError on a shared /tmp."""
    import editor.scratch as scratch_module

    monkeypatch.setattr(scratch_module.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(scratch_module.os, "getuid", lambda: 1000, raising=False)
    first = scratch_module.scratch_root()
    monkeypatch.setattr(scratch_module.os, "getuid", lambda: 1001, raising=False)
    assert first == tmp_path / "expression-editor-1000" != scratch_module.scratch_root()


def test_remove_stale_skips_a_folder_another_server_removes_first(tmp_path, monkeypatch):
    """Two servers starting at once: the folder one sees without a lock file may be gone before
    the other reads its age; that is no reason to stop starting."""
    gone = tmp_path / "999996-gone1234"
    gone.mkdir()
    real_stat = Path.stat
    looks = []

    def vanishing(self, *args, **kwargs):
        if self == gone and kwargs.get("follow_symlinks", True):  # is_dir's and the age's, not lstat's
            looks.append(self)
            if len(looks) == 2:  # is_dir's look found it; gone by the age check's
                shutil.rmtree(gone, ignore_errors=True)
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", vanishing)
    assert remove_stale(tmp_path) == [] and len(looks) == 2


def test_a_new_scratch_deletes_the_scratch_folders_of_ended_processes(tmp_path):
    """build_demo outside `python -m editor` (tests, a notebook) puts its Scratch in Gradio's
    shared cache or <temp>; a killed process's folder there is deleted by the next one."""
    ended = tmp_path / "expression-editor-999999-abcd1234"
    ended.mkdir()
    (ended / LOCK_NAME).touch()  # nobody holds its lock
    (ended / "edited.png").write_bytes(b"x")
    unrelated = tmp_path / "expression-editor-notes"  # not a name Scratch makes
    unrelated.mkdir()
    live = Scratch(parent=tmp_path)
    assert live.dir.name.startswith(f"expression-editor-{os.getpid()}-")
    second = Scratch(parent=tmp_path)  # this process's first Scratch is running: it stays
    assert not ended.exists() and unrelated.exists() and live.dir.exists() and second.dir.exists()
    folder = live.dir
    del live
    gc.collect()
    assert not folder.exists()  # deleted with its demo


def test_exposure_warnings_and_passwords(tmp_path, monkeypatch):
    assert cli.exposure_warning("127.0.0.1", False, None) is None
    assert cli.exposure_warning("localhost", False, None) is None
    assert "--share puts the editor on a public" in cli.exposure_warning("127.0.0.1", True, None)
    assert "--host 0.0.0.0 serves the editor to other machines" in cli.exposure_warning("0.0.0.0", False, None)
    assert cli.exposure_warning("0.0.0.0", True, ("u", "p")) is None
    parse = cli.build_ui_parser().parse_args
    secret = tmp_path / "auth.txt"
    secret.write_text("alice:s3cr:et\n")
    monkeypatch.setenv(cli.AUTH_ENV, "bob:env-pass")
    assert cli.resolve_auth(parse(["--auth-file", str(secret)])) == ("alice", "s3cr:et")
    assert cli.resolve_auth(parse([])) == ("bob", "env-pass")
    assert cli.resolve_auth(parse(["--auth", "carol:arg"])) == ("carol", "arg")
    secret.write_text("no colon\n")
    with pytest.raises(ValueError, match=f"--auth-file {secret}: expected USER:PASS"):
        cli.resolve_auth(parse(["--auth-file", str(secret)]))
    secret.write_bytes("jos\u00e9:contrase\u00f1a\n".encode("latin-1"))  # saved by an editor in Latin-1
    with pytest.raises(ValueError, match=f"--auth-file {secret}: cannot read it as text .*save it as UTF-8"):
        cli.resolve_auth(parse(["--auth-file", str(secret)]))  # it said only "'utf-8' codec can't decode ..."


def test_start_up_warns_cleans_and_exit_deletes_the_servers_files(editor, tmp_path, monkeypatch, capsys):
    """`python -m editor` in-process with launch faked: the warning, the password from the
    environment, analytics off, and its own folder deleted at start-up (a crashed run's) and exit."""
    import editor.scratch as scratch_module

    calls = {}

    def fake_launch(self, **kwargs):
        calls.update(kwargs, analytics=self.analytics_enabled, scratch=Path(self.scratch.dir))
        return None, "http://0.0.0.0:7861/", None

    monkeypatch.setattr(gr.Blocks, "launch", fake_launch)
    monkeypatch.setattr(gr.Blocks, "block_thread", lambda self: None)
    monkeypatch.setattr(Editor, "load", classmethod(lambda cls, *a, **k: editor))
    monkeypatch.setattr(editor, "warm_up", lambda stop=None: None)  # no torch thread left running at exit
    monkeypatch.setattr(scratch_module, "scratch_root", lambda: tmp_path)
    crashed = tmp_path / "12345-crashed1"
    crashed.mkdir()
    (crashed / LOCK_NAME).touch()
    monkeypatch.delenv(cli.AUTH_ENV, raising=False)
    monkeypatch.delenv("GRADIO_ANALYTICS_ENABLED", raising=False)

    assert cli.main(["--host", "0.0.0.0", "--port", "7861"]) == 0
    err = capsys.readouterr()
    assert "warning: --host 0.0.0.0 serves the editor to other machines" in err.err
    assert "deleted the files of 1 earlier run(s)" in err.out
    assert calls["auth"] is None and calls["analytics"] is False
    assert calls["scratch"].is_relative_to(tmp_path)  # Gradio's cache and ours, in the process's folder
    assert list(tmp_path.iterdir()) == [] and "GRADIO_TEMP_DIR" not in os.environ  # all deleted at exit

    monkeypatch.setenv(cli.AUTH_ENV, "alice:from-env")
    assert cli.main(["--share"]) == 0
    assert calls["auth"] == ("alice", "from-env") and "warning" not in capsys.readouterr().err


@pytest.mark.slow
@requires(OBAMA_SMALL)
def test_the_server_under_load_then_sigterm_leaves_nothing_behind(tmp_path):
    """benchmarks/server_load.py and its server_process.py: a real `python -m editor` process, two
    clients, then SIGTERM: it exits like Ctrl-C and deletes its uploads, pages and sessions."""
    from benchmarks import server_load as bench
    from benchmarks import server_process

    crashed = tmp_path / "tmp" / f"expression-editor-{os.getuid()}" / "4242-crashed1"  # scratch_root's
    crashed.mkdir(parents=True)
    (crashed / LOCK_NAME).touch()  # its lock, held by nobody now
    shutil.copy(OBAMA_SMALL, crashed / "upload.jpg")  # left by a SIGKILLed run
    # One session per client: with fewer, a faster client's edit can evict a slower one's
    # session, and its files, before it downloads them (a 403 that depends on timing).
    server = server_process.start_server(tmp_path / "tmp", args=["--max-sessions", "2"],
                                env={"OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"})
    try:
        assert not crashed.exists()
        load = bench.run_load(server.url, server.pid, clients=2, edits=1, photo=OBAMA_SMALL, **FAST)
        assert load["errors"] == 0, load["error_messages"]
        assert load["p50_ms"] > 0 and load["rss_after_mb"] > 0
        assert any((tmp_path / "tmp").rglob("*.npy"))  # the sessions' photos, while it runs
    finally:
        stopped = server_process.stop_server(server)
    assert stopped == {"exit_code": 0, "files_left": []}, server.log.read_text()[-2000:]
