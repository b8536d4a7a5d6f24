"""The web UI: `build_demo(editor)` lays out the page and wires the event
handlers to it (`handlers.py`: until an edit is shown; `result_handlers.py`: the shown
edit's sliders, close-up and download): the edit tab's layout in `edit_tab.py` and its
wiring here, the random-faces tab in `random_tab.py`, what both use in `page_parts.py`. With those and `page_errors.py`, the
only modules that import Gradio; `page_browser.py` holds what runs in the browser (the CSS
and the JavaScript of events that need no server).

The handlers take the (shared, read-only) `Editor` first and keep per-visitor
state in `gr.State`, so one process serves many visitors. That state is a small
`Session` whose photo lies on disk, and only so many are kept
(`session_store.py`). What the page shows comes from Gradio-free modules:
`page_images.py` (display-sized photos, enlarged faces), `page_text.py`
(captions, summaries) and `sliders.py` (slider values and the photo redrawn at
them). Launching belongs to `python -m editor` (see `__main__.py`); Gradio 6
takes the theme and CSS there, from `launch_options()`.

Named API endpoints (see the page's "Use via API" link):
- `/edit`    photo, expression, faces, seed, steps, restarts, strength, blend_mode, model, download_format, brows
             -> (before, after) images, the full-size photo (PNG or JPEG), a summary
- `/explore` face, amount_1..amount_6, weight_angry..weight_neutral -> (before, after) after moving
             that face's z along the GANSpace directions and to those expression weights (call `/edit`
             first, same client)
- `/download` face, download_format, amount_1..amount_6, weight_angry..weight_neutral -> the full-size
             photo as the sliders show it (PNG or JPEG)
- `/random`  expression, seed, amount_1..amount_6, truncation -> a generated 48x48 face, enlarged

The endpoints raise a visitor's mistake (bad file, no face) as `gr.Error`, which
an API client receives as an error. The page runs the same handlers through
`page_errors.in_page`, which writes the message once beside the control it is about instead.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import gradio as gr

from gan.data import EXPRESSIONS

from .handlers import (ShownPhoto, detect_faces, edit_photo, once_per_photo, open_photo_file, same_photo,
                       shown_in_browser)
from .result_handlers import (apply_strength, edit_strength, explore, make_download, page_face, prepare_explore,
                              read_moved_faces, reset_sliders, show_closeup, show_face_amounts, strength_of_weights)
from .page_errors import in_page
from .page_browser import CSS, SAVE_FILE, SHOW_RESULT, accessible_controls, cleared
from .page_parts import api_summary, named_values
from .page_images import example_photos
from .page_text import BLEND_INFO, INTRO, STRENGTH_INFO, TITLE, example_label
from .edits import BLEND_MODES, DEFAULT_INVERSION, DEFAULT_STRENGTH, MAX_STRENGTH
from .model_loading import summarised
from .photo import MAX_FILE_BYTES
from .edit_tab import lay_out_edit_tab
from .random_tab import lay_out_random_tab, wire_random_tab
from .scratch import FILE_MAX_AGE, Scratch
from .session_store import MAX_SESSIONS, Session, SessionStore
from .sliders import AMOUNT_NAMES, N_SLIDERS, N_VALUES, WEIGHT_NAMES

if TYPE_CHECKING:
    from .pipeline import Editor


def launch_options() -> dict:
    """The keyword arguments for `demo.launch()` that style the page (Gradio 6 takes them there)."""
    return {"theme": gr.themes.Soft(primary_hue="indigo"), "css": CSS, "max_file_size": MAX_FILE_BYTES}


# ---------------------------------------------------------------- the page

def build_demo(editor: Editor, *, max_sessions: int = MAX_SESSIONS) -> gr.Blocks:
    """The whole page for a loaded `Editor`; call `.queue()`/`.launch()` on the result.

    At most `max_sessions` visitors' edits are kept for the sliders (see `session_store`)."""
    # In Gradio's cache folder, the files we write are served in place, not copied into it.
    scratch = Scratch(parent=Path(gr.utils.get_upload_folder()))
    store = SessionStore(scratch, max_sessions=max_sessions)
    with gr.Blocks(title=TITLE, delete_cache=(FILE_MAX_AGE // 4, FILE_MAX_AGE),
                   analytics_enabled=analytics_enabled()) as demo:
        demo.scratch = scratch  # the folder lives as long as the demo
        demo.sessions = store
        gr.Markdown(f"# {TITLE}\n{INTRO}", elem_id="intro")
        _model_notes(editor)
        with gr.Tab("Edit a photo"):
            page = lay_out_edit_tab(editor, store)
        random_tab = lay_out_random_tab(editor)
        _wire_edit_tab(page, editor, store, scratch)
        wire_random_tab(random_tab, editor, demo, scratch)
        # Names for the example buttons and keys for the before/after dividers (Gradio gives neither).
        demo.load(None, js=accessible_controls([example_label(p) for p in example_photos()]),
                  api_visibility="private", queue=False)
    return demo


def _model_notes(editor) -> None:
    """Which models or expressions cannot be used, and how to restore them."""
    told = summarised(editor.unavailable, EXPRESSIONS, editor.checkpoint_dir, editor.conditional is not None)
    if told:  # damaged or missing checkpoints: the rest of the app works
        gr.Markdown("\n".join(f"- The **{name}** model is unavailable: {problem}"
                              for name, problem in told.items()), elem_id="unavailable")
    missing = [e for e in EXPRESSIONS if e not in editor.expressions and e not in editor.unavailable]
    if missing:
        gr.Markdown(f"Not available (no trained generator): {', '.join(missing)}. "
                    "Train them with `python -m gan train --expression all` (see README).")



def _wire_edit_tab(page: SimpleNamespace, editor, store: SessionStore, scratch: Scratch) -> None:
    """The edit tab's events (a visitor's mistakes as notices, see in_page) and the named API
    endpoints, which run the same handlers."""
    sliders, session = page.sliders, page.session
    notices = [page.photo_notice, page.edit_notice, page.sliders_notice, page.download_notice]
    clear_notices = cleared(len(notices))  # in the browser, at once: a new action, so older notices go
    detect_outputs = [page.faces_found, page.faces_read, page.faces]
    edit_inputs = [page.photo, page.expression, page.faces, page.seed, page.steps, page.restarts, page.strength,
                   page.blend_mode, page.model, page.download_format, page.brows, session]  # session: the edit it replaces
    edit_outputs = [page.result, page.download_file, page.summary, session]
    moved = [session, page.explore_face, *sliders]  # the explore endpoint's inputs, and what follows a move
    explore_outputs = [page.result, session]
    private = dict(api_visibility="private")
    quiet = dict(api_visibility="private", show_progress="hidden")

    page.edit_button.click(None, None, notices, js=clear_notices, **quiet)
    page.edit_button.click(None, None, None, js=SHOW_RESULT, **quiet)
    edit_event = page.edit_button.click(
        in_page(partial(edit_photo, editor, store, full_size=False), len(edit_outputs)), edit_inputs,
        [*edit_outputs, page.edit_notice],
        show_progress_on=[page.result, page.summary], concurrency_id="edit", concurrency_limit=1, preprocess=False,
        # A second press while an edit runs (another expression chosen meanwhile) runs after it; Gradio's
        # default for a click ("once") dropped it silently, and the page showed the first expression's edit.
        trigger_mode="always_last", **private)
    edit_event.success(partial(prepare_explore, editor), session,
                       [page.download, page.explore_panel, page.explore_intro, page.explore_face, page.crops,
                        page.reading, *sliders],
                       **private)

    forgotten = [page.result, page.summary, page.download, page.download_file, page.closeup, page.explore_panel,
                 page.crops, page.reading, session, page.faces_found, page.faces_read, page.faces, *sliders]

    shown = gr.State(ShownPhoto())  # the file whose faces the page shows, per session (see once_per_photo)

    def forget_previous_photo(previous: Session | None, photo, shown_photo: ShownPhoto):
        """A new photo, or none: nothing of the previous one's faces, edit, sliders or download
        stays, and its session's files go. (The same file again is not a new photo.)"""
        if same_photo(photo, shown_photo.path):
            return {component: gr.skip() for component in forgotten}
        store.drop(previous)
        return {page.result: None, page.summary: "", page.download: gr.Button(visible=False), page.download_file: None,
                page.closeup: gr.update(value=None, visible=False),
                page.explore_panel: gr.Column(visible=False), page.crops: [], page.reading: "", session: None,
                page.faces_found: [], page.faces_read: "", page.faces: gr.CheckboxGroup(value=[], visible=False),
                **{slider: 0.0 for slider in sliders}}

    # A file from the "Open a photo file" button goes into the photo box, as it is or as a PNG.
    page.open_file.upload(None, None, notices, js=clear_notices, **quiet)
    page.open_file.upload(in_page(partial(open_photo_file, scratch), 1), page.open_file,
                          [page.photo, page.photo_notice], concurrency_limit=2, preprocess=False, **private)
    # A photo dropped into the box in a format the browser cannot show (a HEIC labelled image/heic)
    # is swapped for its PNG, as the button gives it, so the box shows the photo being edited.
    # Its faces are found when the PNG arrives (detected once: the dropped file is left alone).
    page.photo.upload(partial(shown_in_browser, scratch), page.photo, [page.photo, page.photo_notice],
                      concurrency_limit=2, preprocess=False, **quiet)
    # Cleared at once, without queueing; an edit of the previous photo still running is cancelled.
    page.photo.change(None, None, notices, js=clear_notices, **quiet)
    page.photo.change(forget_previous_photo, [session, page.photo, shown], forgotten, queue=False,
                      cancels=[edit_event], preprocess=False, **quiet)
    page.photo.change(once_per_photo(in_page(partial(detect_faces, editor), len(detect_outputs)),
                                     len(detect_outputs) + 1),
                      [page.photo, shown], [*detect_outputs, page.photo_notice],
                      show_progress_on=[page.faces_found], concurrency_limit=2, preprocess=False, **private)
    others = [page.photo_notice, page.edit_notice, page.download_notice]  # notices a slider move clears
    gr.on([s.input for s in sliders], None, None, others, js=cleared(len(others)), **quiet)
    # Events that take the face chooser run with page_face and without Gradio's check of its value
    # (preprocess=False): an edit's events may carry the chooser's value from before the edit.
    gr.on([s.input for s in sliders], in_page(page_face(partial(explore, editor, scratch)), len(explore_outputs)),
          moved, [*explore_outputs, page.sliders_notice], trigger_mode="always_last",
          concurrency_id="render", concurrency_limit=2, preprocess=False, **quiet)
    gr.on([s.change for s in sliders], page_face(partial(read_moved_faces, editor)), moved, page.reading,
          trigger_mode="always_last", concurrency_id="reading", concurrency_limit=1, preprocess=False, **quiet)
    # After an edit, the Strength slider moves the edit's expression weight of every face (no new fit).
    page.strength.input(None, None, others, js=cleared(len(others)), **quiet)
    page.strength.input(in_page(page_face(partial(apply_strength, editor, scratch)), 2 + N_VALUES),
                        [session, page.explore_face, page.strength, page.expression, page.model, page.faces],
                        [page.result, session, *sliders, page.edit_notice], trigger_mode="always_last",
                        concurrency_id="render", concurrency_limit=2, preprocess=False, **quiet)
    page.reset.click(in_page(page_face(partial(reset_sliders, editor, scratch)), 2 + N_VALUES),
                     [session, page.explore_face], [page.result, session, *sliders, page.sliders_notice],
                     preprocess=False, **quiet)
    page.reset.click(edit_strength, session, page.strength, queue=False, **quiet)
    weights = sliders[N_SLIDERS:]  # and the edited expression's own slider moves Strength with it
    gr.on([w.input for w in weights], strength_of_weights, [session, *weights], page.strength, queue=False, **quiet)
    # The full-size photo, written when asked for; then the browser saves it (SAVE_FILE).
    # (At once in the browser: the notices, and the last file, so a refusal saves nothing.)
    page.download.click(None, None, [*notices, page.download_file], js=cleared(len(notices), files=1), **quiet)
    page.download.click(in_page(page_face(partial(make_download, editor, scratch)), 1),
                        [session, page.explore_face, page.download_format, *sliders],
                        [page.download_file, page.download_notice], show_progress_on=[page.download],
                        concurrency_id="render", concurrency_limit=2, preprocess=False, **private
                        ).success(None, page.download_file, None, js=SAVE_FILE, **quiet)
    page.download_format.change(lambda fmt: gr.Button(f"Download full-size {fmt}"), page.download_format,
                                page.download, queue=False, **quiet)
    # Whatever changed the before/after view (an edit, a slider, a reset, a new photo), the close-up follows.
    page.result.change(show_closeup, session, page.closeup, queue=False, **quiet)
    # The blend modes, the strength's range and the inversion's defaults are the chosen model's.
    page.model.change(lambda m: (gr.Radio(choices=list(BLEND_MODES[m]), value=BLEND_MODES[m][0], info=BLEND_INFO[m]),
                                 gr.Slider(maximum=MAX_STRENGTH[m], value=DEFAULT_STRENGTH[m], info=STRENGTH_INFO[m]),
                                 gr.Slider(value=DEFAULT_INVERSION[m][0]), gr.Slider(value=DEFAULT_INVERSION[m][1])),
                      page.model, [page.blend_mode, page.strength, page.steps, page.restarts], **quiet)
    page.explore_face.change(show_face_amounts, [session, page.explore_face], [*sliders, page.strength],
                             preprocess=False, **quiet)

    # The named API endpoints: the same handlers, with no control of the page to start them (no
    # trigger), raising a visitor's mistake for the client.
    gr.on([], partial(detect_faces, editor), page.photo, detect_outputs, api_name="detect",
          api_visibility="undocumented", concurrency_limit=2, preprocess=False)
    gr.on([], partial(edit_photo, editor, store), edit_inputs, edit_outputs, api_name="edit",
          api_description=api_summary(edit_photo), concurrency_id="edit", concurrency_limit=1, preprocess=False)
    gr.on([], named_values(partial(explore, editor, scratch), [*AMOUNT_NAMES, *WEIGHT_NAMES]), moved,
          explore_outputs, api_name="explore", api_description=api_summary(explore), show_progress="hidden",
          concurrency_id="render", concurrency_limit=2, preprocess=False)  # explore checks every value itself:
    # Gradio's own check would hold `face` to the chooser's first edit_tab.MAX_FACES and name no argument.
    gr.on([], named_values(partial(make_download, editor, scratch), [*AMOUNT_NAMES, *WEIGHT_NAMES]),
          [session, page.explore_face, page.download_format, *sliders], page.download_file, api_name="download",
          api_description=api_summary(make_download), show_progress="hidden", concurrency_id="render",
          concurrency_limit=2, preprocess=False)


def analytics_enabled() -> bool:
    """Gradio's usage reports are off (an offline tool); GRADIO_ANALYTICS_ENABLED=True turns them on."""
    return os.environ.get("GRADIO_ANALYTICS_ENABLED", "").strip().lower() in ("1", "true", "yes")
