"""The web UI: command line, named API endpoints through gradio_client, errors a person can cause,
and the time a slider move takes. Real Editor, real photos."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

import editor.__main__ as cli
from editor.handlers import edit_photo
from editor.random_handlers import RANDOM_TRUNCATION, random_face, random_slider_labels
from editor.result_handlers import (apply_strength, explore, page_face, prepare_explore, read_moved_faces, reset_sliders,
                                    make_download, show_closeup)
from editor.page_errors import in_page
from editor.page_images import CLOSEUP_GAP, CLOSEUP_HEIGHT, CLOSEUP_STACKED, closeup, closeup_boxes, write_display
from editor.directions import move
from editor.scratch import Scratch
from editor.session_store import SessionStore
from editor.page_text import slider_labels
from editor.sliders import N_SLIDERS
from gan.data import EXPRESSIONS

from .app_server import FAST, connect
from .conftest import CHECKPOINTS, PHOTOS, requires

gradio_client = pytest.importorskip("gradio_client")
OBAMA = PHOTOS / "fr_obama.jpg"
OBAMA_SMALL = PHOTOS / "fr_obama_small.jpg"
TWO_PEOPLE = PHOTOS / "fr_two_people.jpg"
ZERO = [0.0] * 6
SURPRISE = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]  # the expression weights an edit to surprise at strength 1 leaves


def pixels(path) -> np.ndarray:
    return np.asarray(PIL.Image.open(path).convert("RGB")).astype(np.int16)


# ---------------------------------------------------------------- command line

def test_ui_parser_defaults_and_auth():
    args = cli.build_ui_parser().parse_args([])
    assert (args.host, args.port, args.share, args.device, args.auth) == ("127.0.0.1", 7860, False, "auto", None)
    args = cli.build_ui_parser().parse_args(["--auth", "alice:s3cr:et", "--port", "8000"])
    assert args.auth == ("alice", "s3cr:et") and args.port == 8000
    with pytest.raises(SystemExit):
        cli.build_ui_parser().parse_args(["--auth", "no-colon"])


@pytest.mark.parametrize("flags, said", [(["--port", "99999"], "a port is 1-65535, got 99999"),
                                         (["--port", "0"], "a port is 1-65535"),
                                         (["--max-sessions", "0"], "--max-sessions: must be at least 1, got 0"),
                                         (["--max-sessions", "x"], "a count is a whole number, got 'x'")])
def test_ui_parser_refuses_a_port_or_session_count_out_of_range_in_one_line(flags, said, capsys):
    # They reached the server as a traceback and an abort (rc 134) before.
    with pytest.raises(SystemExit) as stopped:
        cli.build_ui_parser().parse_args(flags)
    assert stopped.value.code == 2 and said in capsys.readouterr().err


def test_the_start_up_hint_names_a_password_only_when_none_is_set():
    hint = cli.share_line(False, None)
    assert "--share" in hint and "--auth-file FILE or $EXPRESSION_EDITOR_AUTH" in hint and "--auth USER" not in hint
    assert "password" not in cli.share_line(False, None, True)


def test_share_flag_reaches_launch_and_address_is_printed(checkpoints, monkeypatch, capsys):
    import gradio as gr

    calls = {}

    def fake_launch(self, **kwargs):  # never open a tunnel or a port in this test
        calls.update(kwargs)
        return None, "http://127.0.0.1:7861/", "https://example.gradio.live" if kwargs["share"] else None

    monkeypatch.setattr(gr.Blocks, "launch", fake_launch)
    monkeypatch.setattr(gr.Blocks, "block_thread", lambda self: None)
    # No warm-up thread left running: one still building at interpreter exit aborts the process.
    monkeypatch.setattr("editor.pipeline.Editor.warm_up", lambda self, stop=None: None)
    assert cli.main(["--share", "--checkpoints", str(checkpoints), "--port", "7861", "--device", "cpu",
                     "--auth", "u:p"]) == 0
    assert calls["share"] is True
    assert (calls["server_name"], calls["server_port"], calls["auth"]) == ("127.0.0.1", 7861, ("u", "p"))
    assert calls["theme"] is not None and calls["css"]  # Gradio 6 styles the page at launch
    assert calls["quiet"] is True  # Gradio's own lines would say "set share=True in launch()"
    out = capsys.readouterr().out
    assert "http://127.0.0.1:7861/" in out and "https://example.gradio.live" in out

    calls.clear()
    assert cli.main(["--checkpoints", str(checkpoints), "--device", "cpu"]) == 0
    assert calls["share"] is False and calls["auth"] is None
    out = capsys.readouterr().out
    assert "--share" in out and "share=True" not in out  # how to get a public link, in this app's terms


def test_a_port_in_use_stops_the_warm_up_and_closes_the_page(checkpoints, monkeypatch, capsys):
    """It returned at once, with the warm-up thread still building and the demo open."""
    import threading

    import gradio as gr

    def port_taken(self, **kwargs):
        raise OSError(98, "Address already in use")

    stopped, closed = threading.Event(), []

    def warm_up(self, stop=None):
        stop.wait(60)  # builds until told to stop
        stopped.set()

    monkeypatch.setattr(gr.Blocks, "launch", port_taken)
    monkeypatch.setattr(gr.Blocks, "close", lambda self, *args, **kwargs: closed.append(True))
    monkeypatch.setattr("editor.pipeline.Editor.warm_up", warm_up)
    assert cli.main(["--checkpoints", str(checkpoints), "--device", "cpu", "--port", "7999"]) == 2
    assert "cannot serve on 127.0.0.1:7999" in capsys.readouterr().err
    assert stopped.is_set() and closed


def test_missing_checkpoints_say_how_to_train(tmp_path, capsys):
    assert cli.main(["--checkpoints", str(tmp_path), "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "python -m gan train" in err and str(tmp_path) in err


def test_edit_subcommand_goes_to_the_cli_editor(monkeypatch):
    import editor.cli_edit

    seen = []
    monkeypatch.setattr(editor.cli_edit, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["edit", "a.jpg", "--expression", "happy", "--output-dir", "out"]) == 0
    assert seen == [["a.jpg", "--expression", "happy", "--output-dir", "out"]]


# ---------------------------------------------------------------- API endpoints

def test_api_lists_the_named_endpoints(url):
    endpoints = connect(url).view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/edit", "/explore", "/random", "/download"} <= set(endpoints)
    names = {name: [p["parameter_name"] for p in endpoints[name]["parameters"]] for name in endpoints}
    # every parameter by its name (a client can pass them by keyword), none as param_N
    assert names["/edit"] == ["photo", "expression", "faces", "seed", "steps", "restarts", "strength", "blend_mode",
                              "model", "download_format", "brows"]
    amounts = [f"amount_{k}" for k in range(1, 7)]
    assert names["/random"] == ["expression", "seed", *amounts, "truncation"]
    assert names["/explore"] == ["face", *amounts, *(f"weight_{e}" for e in EXPRESSIONS)]
    assert names["/download"] == ["face", "download_format", *amounts, *(f"weight_{e}" for e in EXPRESSIONS)]


@requires(OBAMA)
def test_edit_then_explore_through_the_api(url):
    client = connect(url)
    (before, after), download, summary = client.predict(
        gradio_client.handle_file(OBAMA), "surprise", [], 0, FAST["steps"], FAST["restarts"], 1.0, "flow",
        "conditional", api_name="/edit")
    assert "surprise" in summary and "1 face" in summary
    if (CHECKPOINTS / "classifier.safetensors").exists():
        assert "reads as" in summary and " after" in summary
    original = PIL.Image.open(OBAMA)
    png = PIL.Image.open(download)
    assert png.format == "PNG" and png.size == original.size  # the download is full size
    assert pixels(before).shape == pixels(after).shape
    assert np.abs(pixels(before) - pixels(after)).max() > 30  # the face was redrawn

    (_, moved) = client.predict(0, 2.5, 0, 0, 0, 0, 0, *SURPRISE, api_name="/explore")
    assert np.abs(pixels(moved) - pixels(after)).mean() > 0.01  # the slider changed the photo...
    (_, back) = client.predict(0, *ZERO, *SURPRISE, api_name="/explore")
    assert np.array_equal(pixels(back), pixels(after))  # ...and the edit's own values give the edit back
    happier = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    (_, happy) = client.predict(0, *ZERO, *happier, api_name="/explore")
    assert np.abs(pixels(happy) - pixels(after)).mean() > 0.01  # an expression slider re-renders the face
    # Any face number reaches the handler (not only the page chooser's first 12), which counts from 0 too.
    with pytest.raises(gradio_client.exceptions.AppError,
                       match=r"face 13 was not edited; the edited faces are 0 \(face numbers count from 0"):
        client.predict(13, *ZERO, *SURPRISE, api_name="/explore")
    # the full-size photo of a slider move, as the page's download button gives it
    full = client.predict(face=0, download_format="JPEG", amount_1=2.5, **dict(zip(
        [f"weight_{e}" for e in EXPRESSIONS], SURPRISE)), api_name="/download")
    jpeg = PIL.Image.open(full)
    assert jpeg.format == "JPEG" and jpeg.size == original.size
    (_, shown) = client.predict(0, 2.5, 0, 0, 0, 0, 0, *SURPRISE, api_name="/explore")
    small = np.asarray(jpeg.convert("RGB").resize(pixels(shown).shape[1::-1], PIL.Image.BILINEAR), dtype=float)
    assert np.abs(small - pixels(shown)).mean() < 4  # the moved photo, not the edit
    assert np.abs(small - pixels(after)).mean() > np.abs(small - pixels(shown)).mean()
    with pytest.raises(gradio_client.exceptions.AppError, match="download_format must be one of PNG, JPEG"):
        client.predict(face=0, download_format="TIFF", api_name="/download")


def test_random_faces_are_reproducible_and_move_with_sliders(url, editor):
    client = connect(url)
    expression = editor.expressions[0]
    first = pixels(client.predict(expression, 7, *ZERO, api_name="/random"))
    again = pixels(client.predict(expression, 7, *ZERO, api_name="/random"))
    other = pixels(client.predict(expression, 8, *ZERO, api_name="/random"))
    moved = pixels(client.predict(expression, 7, 3.0, 0, 0, 0, 0, 0, api_name="/random"))
    assert first.shape[:2] == (192, 192)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first, moved)


def test_random_faces_truncation_defaults_to_the_tabs_and_pulls_to_the_mean_face(url, editor):
    client = connect(url)
    expression = editor.expressions[0]
    default = pixels(client.predict(expression, 7, *ZERO, api_name="/random"))  # an older client: no truncation
    assert np.array_equal(default, pixels(client.predict(expression, 7, *ZERO, RANDOM_TRUNCATION, api_name="/random")))
    full = pixels(client.predict(expression, 7, *ZERO, 1.0, api_name="/random"))
    assert not np.array_equal(default, full)
    mean_7, mean_8 = (pixels(client.predict(expression=expression, seed=s, truncation=0.0, api_name="/random"))
                      for s in (7, 8))  # by keyword, the amounts left at 0
    assert np.array_equal(mean_7, mean_8)  # truncation 0: every seed draws the mean face
    with pytest.raises(gradio_client.exceptions.AppError, match="truncation must be a number from 0 to 1"):
        client.predict(expression, 7, *ZERO, 1.5, api_name="/random")  # named, not Gradio's bare range check
    import gradio as gr

    with pytest.raises(gr.Error, match="truncation must be"):
        random_face(editor, expression, 7, *ZERO, -0.5)  # and the handler's, for any caller


def test_the_random_tabs_face_is_a_file_named_for_what_it_shows(editor, tmp_path):
    """Its download button saved every face as Gradio's "image.png"."""
    from editor.random_tab import random_face_file
    from editor.scratch import Scratch

    expression = editor.expressions[0]
    scratch = Scratch(parent=tmp_path)  # held: its folder goes with it
    path = random_face_file(editor, scratch, expression, 3, *ZERO, 0.7)
    assert Path(path).name == f"random_{expression}_seed3.png"
    assert np.array_equal(np.asarray(PIL.Image.open(path)), random_face(editor, expression, 3, *ZERO, 0.7))


def test_a_page_load_never_starts_measuring_the_random_tabs_labels(editor, monkeypatch):
    import gradio as gr

    from editor.generator_extras import GeneratorExtras

    fresh = GeneratorExtras(editor.conditional, editor.generator, editor.device, editor.classifier, None)
    monkeypatch.setattr(editor, "extras", fresh)  # nothing measured yet, as right after start-up
    monkeypatch.setattr(fresh, "direction_labels", lambda *a: pytest.fail("a page load measured the directions"))
    assert random_slider_labels(editor, editor.expressions[0], only_if_ready=True) == [gr.skip()] * N_SLIDERS


def test_random_tab_direction_sliders_say_what_they_do(editor):
    labels = [slider.label for slider in random_slider_labels(editor, editor.expressions[0])]
    assert len(labels) == N_SLIDERS
    assert all(re.fullmatch(rf"Direction {k + 1}: .+", label) for k, label in enumerate(labels)), labels
    assert labels == slider_labels(editor.direction_labels("conditional", N_SLIDERS), N_SLIDERS)  # the edit tab's
    ready = [slider.label for slider in random_slider_labels(editor, editor.expressions[0], only_if_ready=True)]
    assert ready == labels  # measured once: a page load shows them too


@requires(OBAMA_SMALL)
def test_bad_upload_gives_a_readable_error_and_the_server_keeps_serving(url, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("these are my notes, not a photo\n")
    client = connect(url)
    with pytest.raises(gradio_client.exceptions.AppError) as info:
        client.predict(gradio_client.handle_file(notes), "happy", [], 0, FAST["steps"], FAST["restarts"], 1.0,
                       "flow", "conditional", api_name="/edit")
    message = str(info.value)
    assert "notes.txt" in message and "image" in message

    (before, after), download, summary = client.predict(
        gradio_client.handle_file(OBAMA_SMALL), "happy", [], 0, FAST["steps"], FAST["restarts"], 1.0, "flow",
        "conditional", api_name="/edit")
    assert "1 face" in summary and PIL.Image.open(download).size == PIL.Image.open(OBAMA_SMALL).size


def test_photo_without_a_face_says_what_to_try(url, tmp_path):
    wall = tmp_path / "wall.png"
    PIL.Image.new("RGB", (320, 240), (128, 120, 110)).save(wall)
    with pytest.raises(gradio_client.exceptions.AppError, match="no face"):
        connect(url).predict(gradio_client.handle_file(wall), "happy", [], 0, FAST["steps"], FAST["restarts"], 1.0,
                             "flow", "conditional", api_name="/edit")


def test_explore_before_any_edit_is_explained(url):
    with pytest.raises(gradio_client.exceptions.AppError, match="Edit a photo first"):
        connect(url).predict(0, 1.0, 0, 0, 0, 0, 0, *SURPRISE, api_name="/explore")


@requires(TWO_PEOPLE)
def test_only_the_chosen_face_is_edited(url):
    client = connect(url)
    gallery, readings, choices = client.predict(gradio_client.handle_file(TWO_PEOPLE), api_name="/detect")
    assert len(gallery) == 2 and [value for _, value in choices["choices"]] == [0, 1]
    # Each face is captioned with what the expression classifier reads in it, e.g. "Face 1: happy 83%".
    captions = [item["caption"] for item in gallery]
    assert [c.split(":")[0] for c in captions] == ["Face 1", "Face 2"]
    if (CHECKPOINTS / "classifier.safetensors").exists():
        assert all(c.endswith("%") and c.split()[2] in EXPRESSIONS for c in captions), captions
        assert readings == " · ".join(captions)  # also in full below the gallery
    assert choices["value"] == [0, 1]  # every face ticked by default
    (before, after), _, summary = client.predict(
        gradio_client.handle_file(TWO_PEOPLE), "happy", [1], 0, FAST["steps"], FAST["restarts"], 1.0, "flow",
        "conditional", api_name="/edit")
    assert "1 face" in summary and "Face 2" in summary and "Face 1:" not in summary
    changed = np.abs(pixels(before) - pixels(after)).max(axis=2) > 20  # [H, W]
    columns = np.flatnonzero(changed.any(axis=0))
    assert columns.min() > changed.shape[1] // 3  # the left person is untouched
    with pytest.raises(gradio_client.exceptions.AppError, match="not edited"):
        client.predict(0, 1.0, 0, 0, 0, 0, 0, *SURPRISE, api_name="/explore")


# ---------------------------------------------------------------- sliders reuse the fit

@requires(OBAMA)
def test_the_pages_events_take_a_face_that_was_not_edited_as_the_first_edited_one():
    """The chooser's value from before an edit narrowed it (Face 1, when only Face 2 was edited)
    reaches the handler as the first edited face; an edited face and no face pass as they are."""
    from types import SimpleNamespace

    session = SimpleNamespace(edit=SimpleNamespace(faces=[SimpleNamespace(index=1), SimpleNamespace(index=3)]))
    seen = page_face(lambda session, face, *rest: (face, rest))
    assert seen(session, 0, "x") == (None, ("x",))
    assert seen(session, 3) == (3, ())
    assert seen(session, None) == (None, ())
    assert seen(None, 0) == (0, ())  # no edit: the handler explains that itself


def test_a_slider_move_renders_without_a_new_fit(editor, monkeypatch):
    """One slider move = move z + editor.render + a display JPEG: no inversion, no detection.
    (How fast that is, is measured by benchmarks/edit_latency.py's "slider" stage.)"""
    result = editor.edit(str(OBAMA), "surprise", **FAST)
    store = SessionStore(Scratch())  # the session's photo lives in the store's folder
    scratch, session = store.scratch, store.add(result)

    def no_work(*args, **kwargs):
        raise AssertionError("a slider move must not invert or detect again")

    monkeypatch.setattr("editor.face_fit.invert", no_work)
    monkeypatch.setattr(editor.detector, "detect", no_work)
    (_, first), _ = explore(editor, scratch, session, 0, 0.5)
    (_, second), _ = explore(editor, scratch, session, 0, -1.5, 0.5)
    assert not np.array_equal(np.asarray(PIL.Image.open(first)), np.asarray(PIL.Image.open(second)))


def test_closeup_boxes_frame_each_face_with_a_margin_inside_the_photo():
    assert closeup_boxes([], (100, 100)) == []
    assert closeup_boxes([(40, 50, 60, 80)], (200, 200)) == [(25, 35, 75, 95)]  # 0.5 x 30 px around the face
    assert closeup_boxes([(5, 5, 25, 25), (150, 20, 170, 40)], (180, 60)) == [(0, 0, 35, 35), (140, 10, 180, 50)]


def test_closeup_stacks_a_few_faces_and_enlarges_only_so_far():
    image = np.random.default_rng(0).integers(0, 256, (400, 600, 3), dtype=np.uint8)
    one = closeup(image, [(0, 0, 300, 200)])
    assert one.shape == (CLOSEUP_HEIGHT, CLOSEUP_HEIGHT * 3 // 2, 3)
    assert closeup(image, [(10, 10, 40, 30)]).shape == (80, 120, 3)  # 4x at most
    assert np.array_equal(closeup(image, [(0, 0, 100, 100)], height=100), image[:100, :100])  # 1x: the pixels
    # Two faces one above the other, each centred, so the divider (in the middle) crosses both:
    # side by side it sat in the gap between them, one face all before and the other all after.
    two = closeup(image, [(0, 0, 100, 100), (300, 100, 350, 200)], height=200 + CLOSEUP_GAP)
    assert two.shape == (200 + CLOSEUP_GAP, 100, 3)  # 100 px high each, the narrow face 50 px wide
    assert (two[100:100 + CLOSEUP_GAP] == 255).all()
    assert (two[100 + CLOSEUP_GAP:, :25] == 255).all() and (two[100 + CLOSEUP_GAP:, 75:] == 255).all()
    assert not (two[100 + CLOSEUP_GAP:, 25:75] == 255).all()
    column = closeup(image, [(0, 0, 100, 100)] * CLOSEUP_STACKED, height=300)  # 3: still one column
    assert column.shape[:2] == (3 * 95 + 2 * CLOSEUP_GAP, 95)
    wide = closeup(image, [(0, 0, 600, 100)] * 3, height=400, max_width=1000)
    assert wide.shape[1] <= 1000
    # a group of 20 faces: rows of larger faces (3 rows of 7, 7 and 6: 181 px high each), not one strip of 72 px
    group = closeup(image, [(0, 0, 100, 100)] * 20, height=560, max_width=1600)
    assert group.shape == (3 * 181 + 2 * CLOSEUP_GAP, 7 * 181 + 6 * CLOSEUP_GAP, 3)
    margin = (181 + CLOSEUP_GAP) // 2  # the last row of 6, centred: half a tile of white each side
    assert (group[181:181 + CLOSEUP_GAP] == 255).all()
    assert (group[-181:, :margin] == 255).all() and (group[-181:, -margin:] == 255).all()


@requires(OBAMA)
def test_the_faces_close_up_follow_the_edit_and_the_sliders(editor):
    store = SessionStore(Scratch())
    fast = dict(steps=FAST["steps"], restarts=FAST["restarts"])
    (_, _), _, _, session = edit_photo(editor, store, str(OBAMA), "surprise", [], 0, strength=1.75,
                                       blend_mode="flow", progress=lambda *a, **k: None, **fast)
    shown = show_closeup(session)
    before, after = (pixels(p) for p in shown["value"])  # a gr.update
    face = session.edit.faces[0].face.box
    [(left, top, right, bottom)] = session.closeup_boxes
    assert left <= face[0] and top <= face[1] and right >= face[2] and bottom >= face[3]
    assert before.shape == after.shape and before.shape[0] == min(CLOSEUP_HEIGHT, 4 * (bottom - top))
    original = pixels(OBAMA)[top:bottom, left:right]
    assert abs(before.shape[1] / before.shape[0] - original.shape[1] / original.shape[0]) < 0.02
    assert np.abs(before - np.asarray(PIL.Image.fromarray(original.astype(np.uint8)).resize(
        before.shape[1::-1], PIL.Image.Resampling.LANCZOS)).astype(np.int16)).mean() < 3  # the photo's own pixels
    assert np.abs(before - after).mean() > 0.5  # the face changed
    explore(editor, store.scratch, session, 0, 1.5)
    moved = pixels(show_closeup(session)["value"][1])
    assert np.abs(moved - after).mean() > 0.2  # the close-up follows the slider
    reset_sliders(editor, store.scratch, session, 0)
    assert np.abs(pixels(show_closeup(session)["value"][1]) - after).mean() < 1.0  # back to the edit (JPEG)
    assert show_closeup(None)["visible"] is False


@requires(OBAMA_SMALL)
def test_the_strength_slider_after_an_edit_re_renders_without_a_new_fit(editor, monkeypatch):
    store = SessionStore(Scratch())
    fast = dict(steps=FAST["steps"], restarts=FAST["restarts"])
    (before, edited), _, _, session = edit_photo(editor, store, str(OBAMA_SMALL), "surprise", [], 0, strength=1.75,
                                                 blend_mode="flow", progress=lambda *a, **k: None, **fast)
    import gradio as gr

    seed = store.add(editor.edit(str(OBAMA_SMALL), "surprise", model="seed", **fast))
    with pytest.raises(gr.Error, match="this one used the seed model, whose strength takes effect when you press Edit"):
        apply_strength(editor, store.scratch, seed, None, 0.5)
    # The page's choices changed since the edit: Strength says so rather than redraw the edit shown.
    with pytest.raises(gr.Error, match=r"redraws the edit shown \(surprise\); press Edit to make the face sad"):
        apply_strength(editor, store.scratch, session, None, 0.5, "sad", "conditional")
    with pytest.raises(gr.Error, match="The edit shown used the conditional model; press Edit to edit with the seed"):
        apply_strength(editor, store.scratch, session, None, 0.5, "surprise", "seed")
    # A face ticked since (Face 2 of a photo whose Face 1 alone was edited): it would not be redrawn.
    with pytest.raises(gr.Error, match="redraws the faces of the edit shown; press Edit to edit Face 2 too"):
        apply_strength(editor, store.scratch, session, None, 0.5, "surprise", "conditional", [0, 1])
    assert apply_strength(None, store.scratch, None, None, 0.5) == [gr.skip()] * 15  # no edit yet: press Edit
    # Each of those is titled with the way on, not "Error" (the page showed "Error:" in red beside a
    # slider the visitor had only moved, as if something had broken).
    for call in [(seed, None, 0.5), (session, None, 0.5, "sad", "conditional"),
                 (session, None, 0.5, "surprise", "seed"), (session, None, 0.5, "surprise", "conditional", [0, 1])]:
        with pytest.raises(gr.Error) as refused:
            apply_strength(editor, store.scratch, *call)
        assert refused.value.title == "Press Edit" and "press Edit" in refused.value.message
    # The edited expression's own slider under Explore moves Strength too; the others do not.
    from editor.result_handlers import strength_of_weights

    weights = [0.0] * len(EXPRESSIONS)
    weights[EXPRESSIONS.index("surprise")], weights[EXPRESSIONS.index("happy")] = 0.6, 2.0
    assert strength_of_weights(session, *weights) == 0.6
    assert strength_of_weights(seed, *weights) == gr.skip() and strength_of_weights(None, *weights) == gr.skip()
    # The seed model has nothing to mix: an API client's weights are refused, not ignored without a word.
    with pytest.raises(gr.Error, match="weight_happy mixes expressions, which only the conditional model can"):
        explore(editor, store.scratch, seed, None, *[0.0] * N_SLIDERS, *weights)
    (_, unmoved), _ = explore(editor, store.scratch, seed, None, *[0.0] * N_SLIDERS, *[0.0] * len(EXPRESSIONS))
    # The explore panel's words are the edit's model's: the seed model has no expression sliders to mix.
    seed_panel, conditional_panel = (prepare_explore(editor, s)[2] for s in (seed, session))
    assert "nothing to mix" in seed_panel and "expression sliders mix" in conditional_panel
    monkeypatch.setattr("editor.face_fit.invert", lambda *a, **k: pytest.fail("a strength move must not fit again"))
    (_, after), _, *values = apply_strength(editor, store.scratch, session, None, 0.0)
    assert values[6 + EXPRESSIONS.index("surprise")] == 0.0  # the surprise slider follows
    assert np.array_equal(pixels(after), pixels(before))  # strength 0: the photo as it was
    (_, after), _, *values = apply_strength(editor, store.scratch, session, None, 1.0)
    at_one = editor.edit(str(OBAMA_SMALL), "surprise", strength=1.0, **fast)  # the remembered fit, strength 1
    assert np.array_equal(pixels(after), pixels(write_display(store.scratch, session.folder, at_one.image)))
    assert not np.array_equal(pixels(after), pixels(edited)) and values[6 + EXPRESSIONS.index("surprise")] == 1.0
    # Choosing a face shows its sliders, and Strength at its weight of the edit's expression.
    from editor.result_handlers import show_face_amounts

    face = session.edit.faces[0].index
    session.amounts[face][6 + EXPRESSIONS.index("surprise")] = 0.4
    assert show_face_amounts(session, face)[-1] == 0.4


@requires(OBAMA_SMALL)
def test_a_photo_file_the_browser_cannot_show_is_opened_as_a_png_of_the_same_pixels(tmp_path):
    import gradio as gr

    from editor.handlers import open_photo_file
    from editor.photo import read_photo

    scratch = Scratch()
    exif = PIL.Image.Exif()
    exif[0x010F] = "Apple"
    heic = tmp_path / "IMG_0001.HEIC"
    rgba = PIL.Image.open(OBAMA_SMALL).convert("RGBA")
    rgba.putpixel((0, 0), (10, 20, 30, 0))  # a transparent corner stays transparent
    rgba.save(heic, "HEIF", quality=90, exif=exif)
    opened = open_photo_file(scratch, {"path": str(heic), "orig_name": heic.name})
    assert Path(opened).name == "IMG_0001.png"  # the visitor's name, so the download is IMG_0001_happy.png
    png, decoded = PIL.Image.open(opened), read_photo(heic)
    assert png.format == "PNG" and png.mode == "RGBA" and png.getexif()[0x010F] == "Apple"
    assert np.array_equal(np.asarray(png)[..., :3], decoded.rgb) and np.asarray(png)[0, 0, 3] == 0
    # A photo the browser shows goes to the photo box as it is.
    assert open_photo_file(scratch, {"path": str(OBAMA_SMALL), "orig_name": "me.jpg"}) == str(OBAMA_SMALL)
    fake = tmp_path / "notes.heic"
    fake.write_text("not a photo")
    with pytest.raises(gr.Error, match="notes.heic is not an image we can read"):
        open_photo_file(scratch, {"path": str(fake), "orig_name": fake.name})


@requires(OBAMA_SMALL)
def test_a_heic_dropped_into_the_photo_box_is_swapped_for_its_png_and_nothing_else_is(tmp_path):
    import gradio as gr

    from editor.handlers import detect_faces, shown_in_browser

    scratch = Scratch()
    heic = tmp_path / "IMG_0003.HEIC"
    PIL.Image.open(OBAMA_SMALL).save(heic, "HEIF", quality=90)
    dropped = {"path": str(heic), "orig_name": heic.name}
    shown, message = shown_in_browser(scratch, dropped)
    assert Path(shown).name == "IMG_0003.png" and PIL.Image.open(shown).size == PIL.Image.open(OBAMA_SMALL).size
    assert message == gr.skip()
    # the dropped HEIC is not detected (its PNG, on its way into the box, is): one detection
    assert detect_faces(None, dropped) == (gr.skip(),) * 3
    fake = tmp_path / "notes.heic"
    fake.write_text("not a photo")
    # a JPEG stays; an unreadable file stays too, for the face detection's message; no file, nothing
    for payload in ({"path": str(OBAMA_SMALL), "orig_name": "me.jpg"}, {"path": str(fake)}, None):
        assert shown_in_browser(scratch, payload) == (gr.skip(), gr.skip())
    # a damaged TIFF (its header reads, its pixels do not) is not detected: the swap says what is wrong
    tiff = tmp_path / "scan.tif"
    PIL.Image.open(OBAMA_SMALL).save(tiff, "TIFF")
    tiff.write_bytes(tiff.read_bytes()[:-5000])
    shown, message = shown_in_browser(scratch, {"path": str(tiff)})
    assert shown == gr.skip() and "scan.tif is damaged or incomplete" in message
    detect = in_page(partial(detect_faces, None), 3)
    assert detect({"path": str(tiff)}) == (gr.skip(),) * 4  # the swap's notice stays


def test_the_boxs_second_change_for_a_photo_whose_faces_are_being_found_waits_and_finds_none():
    import copy
    import threading

    import gradio as gr

    from editor.handlers import ShownPhoto, once_per_photo

    entered, release, calls = threading.Event(), threading.Event(), []

    def detect(photo):  # holds the first detection until the second change has come in
        calls.append(None if photo is None else photo["path"])
        entered.set()
        release.wait()
        return "faces", "note"

    run = once_per_photo(detect, 2)
    shown = copy.deepcopy(ShownPhoto())  # as Gradio makes each session's (a fresh lock, no file)
    photo = {"path": "/tmp/IMG_0001.png"}
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("first", run(photo, shown)))
    second = threading.Thread(target=lambda: results.setdefault("second", run(dict(photo), shown)))
    first.start()
    entered.wait()
    second.start()  # the box's second change for the same file, while the first is detecting
    release.set()
    first.join()
    second.join()
    assert calls[:1] == ["/tmp/IMG_0001.png"] and len(calls) == 1 and results["first"] == ("faces", "note")
    assert results["second"] == (gr.skip(),) * 2 and shown.path == "/tmp/IMG_0001.png"
    assert run({"path": "/tmp/other.png"}, shown) == ("faces", "note") and shown.path == "/tmp/other.png"
    assert run(None, shown) == ("faces", "note") and shown.path is None  # a cleared box is not a photo


@requires(OBAMA_SMALL)
def test_the_downloads_keep_the_cameras_exif_without_gps_and_say_srgb(editor, tmp_path):
    exif = PIL.Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS R5"
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)
    upload = tmp_path / "camera.jpg"
    PIL.Image.open(OBAMA_SMALL).save(upload, exif=exif, quality=95)
    store = SessionStore(Scratch())
    _, download, _, session = edit_photo(editor, store, str(upload), "happy", [], 0, strength=1.75, blend_mode="flow",
                                         progress=lambda *a, **k: None, steps=FAST["steps"], restarts=FAST["restarts"])
    moved = make_download(editor, store.scratch, session, 0, "PNG", 1.0)  # the page's, after a slider move
    for path in (download, moved):
        saved = PIL.Image.open(path)
        tags = saved.getexif()
        assert (tags[0x010F], tags[0x0110]) == ("Canon", "EOS R5") and 0x8825 not in tags
        assert "icc_profile" in saved.info


@requires(OBAMA_SMALL)
def test_the_downloads_of_a_transparent_photo_keep_its_alpha_or_go_over_white(editor, tmp_path):
    rgba = PIL.Image.open(OBAMA_SMALL).convert("RGBA")
    alpha = np.full((rgba.height, rgba.width), 255, np.uint8)
    alpha[:, :40] = 0  # the left edge is transparent (and black under it)
    rgba.putalpha(PIL.Image.fromarray(alpha))
    rgba = PIL.Image.fromarray(np.where(alpha[..., None] == 0, 0, np.asarray(rgba)).astype(np.uint8), "RGBA")
    upload = tmp_path / "cutout.png"
    rgba.save(upload)
    store = SessionStore(Scratch())
    shown, download, _, session = edit_photo(editor, store, str(upload), "happy", [], 0, strength=1.75,
                                             blend_mode="flow", progress=lambda *a, **k: None, steps=FAST["steps"],
                                             restarts=FAST["restarts"])
    # the before/after view shows the photo as the photo box does: over white where it is transparent
    for view in (*shown, *explore(editor, store.scratch, session, 0, 1.0)[0]):
        edge = 30 * PIL.Image.open(view).width // rgba.width
        assert pixels(view)[:, :edge].min() > 240, view
    moved = make_download(editor, store.scratch, session, 0, "PNG", 1.0)  # the page's, after a slider move
    for path in (download, moved):  # the API's and the page's
        saved = PIL.Image.open(path)
        assert saved.mode == "RGBA" and np.array_equal(np.asarray(saved)[..., 3], alpha)
    flat = np.asarray(PIL.Image.open(make_download(editor, store.scratch, session, 0, "JPEG", 1.0)))
    assert flat[:, :30].min() > 240  # over white, not the black the alpha hid


@requires(OBAMA_SMALL)
def test_the_download_comes_in_the_format_asked_for(editor):
    import gradio as gr

    store = SessionStore(Scratch())
    edit = partial(edit_photo, editor, store, str(OBAMA_SMALL), "happy", [], 0, strength=1.75, blend_mode="flow",
                   progress=lambda *a, **k: None, steps=FAST["steps"], restarts=FAST["restarts"])
    _, png, _, session = edit()  # the default: lossless
    assert png.endswith("fr_obama_small_happy.png") and PIL.Image.open(png).format == "PNG"
    _, jpeg, _, session = edit(download_format="JPEG")
    assert jpeg.endswith("fr_obama_small_happy.jpg") and PIL.Image.open(jpeg).format == "JPEG"
    assert np.abs(pixels(jpeg).astype(int) - pixels(png).astype(int)).mean() < 2  # the same photo, at quality 95
    assert prepare_explore(editor, session)[0].value == "Download full-size JPEG"
    # The page asks at download time, in the format chosen then.
    assert PIL.Image.open(make_download(editor, store.scratch, session, 0, "JPEG", 1.0)).format == "JPEG"
    assert PIL.Image.open(make_download(editor, store.scratch, session, 0, "PNG", 1.0)).format == "PNG"
    with pytest.raises(gr.Error, match="download_format must be one of PNG, JPEG"):
        edit(download_format="TIFF")
    with pytest.raises(gr.Error, match="download_format must be one of PNG, JPEG"):
        make_download(editor, store.scratch, session, 0, "TIFF")


@requires(OBAMA_SMALL)
def test_the_page_writes_the_full_size_photo_only_when_asked_and_as_the_sliders_are(editor):
    import gradio as gr

    store = SessionStore(Scratch())
    pair, download, _, session = edit_photo(editor, store, str(OBAMA_SMALL), "happy", [], 0, strength=1.75,
                                            blend_mode="flow", progress=lambda *a, **k: None, full_size=False,
                                            steps=FAST["steps"], restarts=FAST["restarts"])
    assert download is None and not list(session.folder.rglob("*.png"))  # the edit writes none
    result = session.result
    png = make_download(editor, store.scratch, session, 0, "PNG")  # as edited
    assert np.array_equal(pixels(png), editor.render(result, {}))
    explore(editor, store.scratch, session, 0, 1.5, -1.0)  # a slider move writes none either
    assert list(session.folder.rglob("*.png")) == [Path(png)]
    moved = make_download(editor, store.scratch, session, 0, "PNG", 1.5, -1.0)
    shown = editor.render(result, {0: move(result.faces[0].z, editor.directions("conditional"), [1.5, -1.0])},
                          {0: result.faces[0].weights})
    assert moved != png and np.array_equal(pixels(moved), shown)
    assert make_download(editor, store.scratch, session, 0, "PNG", 1.5, -1.0) == moved  # asked again: no new file
    with pytest.raises(gr.Error, match="Edit a photo first"):
        make_download(editor, store.scratch, None, 0, "PNG")
    with pytest.raises(gr.Error, match="face 1 was not edited"):
        make_download(editor, store.scratch, session, 1, "PNG")


@requires(OBAMA_SMALL)
def test_expression_reading_follows_the_sliders(editor):
    result = editor.edit(str(OBAMA_SMALL), "happy", **FAST)
    store = SessionStore(Scratch())
    session = store.add(result)
    if editor.classifier is None:
        assert not isinstance(read_moved_faces(editor, session, 0, 2.0), str)  # nothing to read with
        return
    at_rest = read_moved_faces(editor, session, 0, *ZERO)
    assert at_rest == f"Reads now: Face 1 **{result.faces[0].after}**"  # the edit as it came back
    moved = [read_moved_faces(editor, session, 0, amount, -amount) for amount in (-3.0, 3.0)]
    assert all(m.startswith("Reads now: Face 1 **") and m.endswith("%**") for m in moved)
    assert len({at_rest, *moved}) > 1  # moving the face far changes what the classifier reads


@requires(OBAMA_SMALL)
def test_api_passes_strength_and_model_through(url):
    client = connect(url)
    photo = gradio_client.handle_file(OBAMA_SMALL)
    (before, after), _, _ = client.predict(photo, "surprise", [], 0, FAST["steps"], FAST["restarts"], 0.0, "flow",
                                           "conditional", api_name="/edit")
    assert np.array_equal(pixels(before), pixels(after))  # strength 0: the photo as it was
    (_, seed_after), _, summary = client.predict(photo, "surprise", [], 0, FAST["steps"], FAST["restarts"], 1.0,
                                                 "alpha", "seed", api_name="/edit")
    assert "1 face" in summary and not np.array_equal(pixels(before), pixels(seed_after))
    with pytest.raises(gradio_client.exceptions.AppError, match="from 0 to 1, got 1.2"):
        client.predict(photo, "surprise", [], 0, FAST["steps"], FAST["restarts"], 1.2, "alpha", "seed",
                       api_name="/edit")
    # Naming only the model: the page's strength 1.75 and "flow", which the client fills in, mean the
    # seed model's own defaults (1 and "alpha"), so the call is not refused and edits as they would.
    (_, by_name), _, _ = client.predict(photo=photo, expression="surprise", steps=FAST["steps"],
                                        restarts=FAST["restarts"], model="seed", api_name="/edit")
    assert np.array_equal(pixels(by_name), pixels(seed_after))


# ---------------------------------------------------------------- how the page shows mistakes and faces

def test_in_page_shows_a_mistake_in_its_notice_and_leaves_the_outputs_as_they_are():
    from editor.page_errors import in_page, refuse

    def handler(ok: bool):
        if not ok:
            raise refuse("Upload a photo first.")
        return "image", "summary"

    run = in_page(handler, outputs=2)
    image, summary, notice = run(False)
    assert image is summary and not isinstance(image, str)  # gr.skip(): the outputs stay as they are
    assert "Upload a photo first." in notice and 'role="alert"' in notice
    assert run(True) == ("image", "summary", "")  # success empties the notice
    one = in_page(lambda: "/tmp/me_happy.png", outputs=1)  # one output: returned as itself, not a tuple
    assert one() == ("/tmp/me_happy.png", "")


def test_faces_note_says_which_faces_are_not_ticked_and_why():
    from editor.page_text import faces_note
    from editor.face_choice import FaceChoice

    note = faces_note([None, None], FaceChoice([0], {1: "small: 21 px wide, 13% of the largest face"}))
    assert note == ("Not ticked: Face 2 (small: 21 px wide, 13% of the largest face). "
                    "Tick a face under **Faces to edit** to edit it too.")
    assert faces_note([None], FaceChoice([0], {})) == ""


def test_the_edit_tab_starts_on_surprise_since_most_photos_already_smile(editor):
    from editor.app import build_demo

    radios = [block for block in build_demo(editor).blocks.values() if block.get_config().get("label") == "Expression"]
    assert [radio.value for radio in radios] == ["surprise", "happy"]  # the edit tab; the random tab


def test_sliders_that_redraw_have_no_reset_button_and_a_second_edit_press_is_kept(editor):
    """Gradio's per-slider reset set the number without redrawing (the picture, the number and the
    download disagreed); a second Edit press during an edit was dropped without a word."""
    from editor.app import build_demo

    demo = build_demo(editor)
    sliders = {block.get_config().get("label"): block.get_config() for block in demo.blocks.values()
               if block.get_config().get("name") == "slider"}
    redrawing = ["Strength", "Face variety", *(e.capitalize() for e in EXPRESSIONS),
                 *(label for label in sliders if label.startswith("Direction"))]
    assert len(redrawing) >= 2 + len(EXPRESSIONS) + 6
    shown = {label: sliders[label].get("buttons") for label in redrawing}
    assert all(buttons == [] for buttons in shown.values()), shown
    edit_button = next(id_ for id_, block in demo.blocks.items() if block.get_config().get("elem_id") == "edit-button")
    edits = [d for d in demo.config["dependencies"] if [edit_button, "click"] in [list(t) for t in d["targets"]]
             and d.get("backend_fn")]
    assert edits and all(d["trigger_mode"] == "always_last" for d in edits)


def test_the_before_after_views_show_the_whole_image_with_both_halves_aligned(editor):
    """An ImageSlider's image may be max_height tall (Gradio's default: 500 px) whatever the box's
    height: in the 420 px close-up the faces' tops were cut off and Gradio drew the "after" half
    40 px above the "before" half, so the divider joined two different parts of the faces."""
    from editor.app import build_demo

    configs = {block.get_config().get("elem_id"): block.get_config() for block in build_demo(editor).blocks.values()}
    for view in ("result", "closeup"):
        assert configs[view]["max_height"] <= configs[view]["height"], view
