"""The web UI: `build_demo(editor)` lays out the page and wires the event
handlers (`handlers.py`) to it; with that module and `page_errors.py`, the only ones that
import Gradio.

The handlers take the (shared, read-only) `Editor` first and keep per-visitor
state in `gr.State`, so one process serves many visitors. That state is a small
`Session` whose photo lies on disk, and only so many are kept
(`session_store.py`). What the page shows comes from Gradio-free modules:
`page_images.py` (display-sized photos, enlarged faces), `page_text.py`
(captions, summaries) and `sliders.py` (slider values and the photo redrawn at
them). Launching belongs to `python -m editor` (see `__main__.py`); Gradio 6
takes the theme and CSS there, from `launch_options()`.

Named API endpoints (see the page's "Use via API" link):
- `/edit`    photo, expression, faces, seed, steps, restarts, strength, blend_mode
             -> (before, after) images, full-size PNG, a summary
- `/explore` face, amount_1..amount_6 -> (before, after) after moving that face's z
             along the expression's GANSpace directions (call `/edit` first, same client)
- `/random`  expression, seed, amount_1..amount_6 -> a generated 48x48 face, enlarged

The endpoints raise a visitor's mistake (bad file, no face) as `gr.Error`, which
an API client receives as an error. The page runs the same handlers through
`page_errors.in_page`, which writes the message once beside the control it is about instead.
"""

from __future__ import annotations

import inspect
import os
from functools import partial
from pathlib import Path

import gradio as gr

from gan.data import EXPRESSIONS

from . import validate
from .handlers import (detect_faces, edit_photo, explore, prepare_explore, random_face, read_moved_faces,
                       reset_sliders, save_download, show_face_amounts, touch_session)
from .page_errors import in_page
from .page_images import FACE_SIDE, example_photos
from .page_text import INTRO, TITLE, face_choices
from .edits import BLEND_MODES, DEFAULT_INVERSION, DEFAULT_STRENGTH, MAX_STRENGTH
from .photo import MAX_FILE_BYTES
from .scratch import FILE_MAX_AGE, Scratch
from .session_store import MAX_SESSIONS, Session, SessionStore
from .sliders import MAX_WEIGHT, N_SLIDERS, N_VALUES, SLIDER_RANGE

MAX_FACES = 12  # face choices an API client may name without running detection first

CSS = """
.gradio-container { max-width: 1280px !important; margin: auto; }
#intro { margin-bottom: 0.5rem; }
/* "Faces found": the thumbnails start below the gallery's label, and each caption shows in full below its face */
#faces-found .grid-wrap { padding-top: 2.6rem; }
#faces-found .thumbnail-item { aspect-ratio: auto; height: auto; display: flex; flex-direction: column; overflow: visible; }
#faces-found .thumbnail-item img { aspect-ratio: 1; height: auto; }
#faces-found .caption-label { position: static; max-width: none; white-space: normal; overflow: visible; opacity: 1;
  border: none; background: none; text-align: center; padding: 2px 0 0; font-size: var(--text-sm); line-height: 1.2; }
/* a mistake, shown once beside its control until the next action; no room taken without one */
.notice:not(:has(p)) { display: none; }
.notice p { margin: 0; padding: 0.5rem 0.75rem; border-radius: var(--radius-md); color: var(--error-text-color);
  background: var(--error-background-fill); border: 1px solid var(--error-border-color); }
"""


def launch_options() -> dict:
    """The keyword arguments for `demo.launch()` that style the page (Gradio 6 takes them there)."""
    return {"theme": gr.themes.Soft(primary_hue="indigo"), "css": CSS, "max_file_size": MAX_FILE_BYTES}


# ---------------------------------------------------------------- the page

def build_demo(editor, *, max_sessions: int = MAX_SESSIONS) -> gr.Blocks:
    """The whole page for a loaded `Editor`; call `.queue()`/`.launch()` on the result.

    At most `max_sessions` visitors' edits are kept for the sliders (see `session_store`)."""
    # In Gradio's cache folder, the files we write are served in place, not copied into it.
    scratch = Scratch(parent=Path(gr.utils.get_upload_folder()))
    store = SessionStore(scratch, max_sessions=max_sessions)
    expressions = list(editor.expressions)
    default_expression = "happy" if "happy" in expressions else expressions[0]
    direction_slider = partial(gr.Slider, minimum=-SLIDER_RANGE, maximum=SLIDER_RANGE, step=0.05, value=0.0)

    with gr.Blocks(title=TITLE, delete_cache=(FILE_MAX_AGE // 4, FILE_MAX_AGE),
                   analytics_enabled=analytics_enabled()) as demo:
        demo.scratch = scratch  # the folder lives as long as the demo
        demo.sessions = store
        gr.Markdown(f"# {TITLE}\n{INTRO}", elem_id="intro")
        if editor.unavailable:  # damaged or missing checkpoints: the rest of the app works
            gr.Markdown("\n".join(f"- The **{name}** model is unavailable: {problem}"
                                  for name, problem in editor.unavailable.items()), elem_id="unavailable")
        missing = [e for e in EXPRESSIONS if e not in expressions and e not in editor.unavailable]
        if missing:
            gr.Markdown(f"Not available (no trained generator): {', '.join(missing)}. "
                        "Train them with `python -m gan train --expression all` (see README).")

        with gr.Tab("Edit a photo"):
            # This visitor's Session; its files go with it.
            session = gr.State(None, time_to_live=FILE_MAX_AGE, delete_callback=store.drop)
            with gr.Row(equal_height=False):
                with gr.Column(scale=2):
                    photo = gr.Image(label="Photo", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                     height=320, elem_id="photo")
                    photo_notice = gr.HTML(elem_id="photo-notice", elem_classes="notice")
                    examples = example_photos()
                    if examples:
                        gr.Examples(examples=[[p] for p in examples], inputs=[photo], label="Example photos")
                    faces_found = gr.Gallery(label="Faces found", columns=4, height=210, allow_preview=False,
                                             fit_columns=False, object_fit="contain", interactive=False,
                                             elem_id="faces-found")
                    faces_read = gr.Markdown(elem_id="faces-read")  # what the classifier reads in each face
                    faces = gr.CheckboxGroup(face_choices(MAX_FACES), value=[], label="Faces to edit", visible=False,
                                             info="none ticked: every face", elem_id="faces")
                    expression = gr.Radio(expressions, value=default_expression, label="Expression",
                                          elem_id="expression")
                    strength = gr.Slider(*validate.STRENGTH, value=DEFAULT_STRENGTH[editor.default_model], step=0.05,
                                         label="Strength",
                                         info="0: unchanged; 1: the full expression; past 1: exaggerated",
                                         elem_id="strength")
                    with gr.Row():
                        seed = gr.Number(0, label="Seed", precision=0, minimum=validate.SEED[0],
                                         maximum=validate.SEED[1], scale=1)
                        edit_button = gr.Button("Edit", variant="primary", scale=2, elem_id="edit-button")
                    edit_notice = gr.HTML(elem_id="edit-notice", elem_classes="notice")
                    with gr.Accordion("Advanced settings", open=False):
                        default_steps, default_restarts = DEFAULT_INVERSION[editor.default_model]
                        steps = gr.Slider(*validate.STEPS, value=default_steps, step=5, label="Inversion steps",
                                          info="more: closer to the photo's face, slower", elem_id="steps")
                        restarts = gr.Slider(*validate.RESTARTS, value=default_restarts, step=1, label="Restarts",
                                             info="independent searches; the best is kept", elem_id="restarts")
                        model = gr.Radio(list(editor.models), value=editor.default_model, label="Model",
                                         info="conditional: one generator for every expression, and only the "
                                              "change reaches your photo; seed: the seed paper's per-expression "
                                              "generators, whose face is blended in", elem_id="model")
                        blend_mode = gr.Radio(list(BLEND_MODES[editor.default_model]),
                                              value=BLEND_MODES[editor.default_model][0], label="Blend mode",
                                              info="flow: your photo's own pixels move; difference: only "
                                                   "brightness changes; replace: the generated face is pasted",
                                              elem_id="blend-mode")
                with gr.Column(scale=3):
                    result = gr.ImageSlider(label="Before / after", type="filepath", height=520,
                                            buttons=["fullscreen"], interactive=False, elem_id="result")
                    summary = gr.Markdown(elem_id="summary")
                    download = gr.DownloadButton("Download full-size PNG", visible=False, elem_id="download")
                    with gr.Column(visible=False) as explore_panel:
                        gr.Markdown("### Explore nearby faces\nThe expression sliders mix the seven "
                                    "expressions; the direction sliders move the face along the generator's main "
                                    "directions of variation (GANSpace), each named by what it was measured to do.")
                        explore_face = gr.Dropdown(face_choices(MAX_FACES), value=0, label="Face to move",
                                                   visible=False)
                        weight_sliders = [gr.Slider(0.0, MAX_WEIGHT, value=0.0, step=0.05, label=name.capitalize(),
                                                    elem_id=f"weight-{name}") for name in EXPRESSIONS]
                        sliders = [direction_slider(label=f"Direction {k + 1}", elem_id=f"direction-{k + 1}")
                                   for k in range(N_SLIDERS)] + weight_sliders
                        reading = gr.Markdown(elem_id="reading")
                        sliders_notice = gr.HTML(elem_id="sliders-notice", elem_classes="notice")
                        reset = gr.Button("Reset sliders")
                        with gr.Accordion("What the generator saw", open=False):
                            crops = gr.Gallery(columns=4, height=240, object_fit="contain", fit_columns=False,
                                               show_label=False, elem_id="crops")

        with gr.Tab("Random faces"):
            gr.Markdown("Faces the generators draw from random latent vectors; the sliders move along the "
                        "same directions as in the editor.")
            with gr.Row(equal_height=False):
                with gr.Column(scale=1):
                    random_expression = gr.Radio(expressions, value=default_expression, label="Expression")
                    with gr.Row():
                        random_seed = gr.Number(0, label="Seed", precision=0, minimum=validate.SEED[0],
                                                maximum=validate.SEED[1])
                        new_face = gr.Button("New face")
                    random_sliders = [direction_slider(label=f"Direction {k + 1}") for k in range(N_SLIDERS)]
                    random_reset = gr.Button("Reset sliders")
                with gr.Column(scale=1):
                    random_image = gr.Image(label="Generated face", format="png", height=FACE_SIDE + 40,
                                            buttons=["download"], interactive=False, elem_id="random-face")

        # -- edit tab: the page's events (errors as notices, see in_page) ...
        notices = [photo_notice, edit_notice, sliders_notice]
        clear_notices = "() => ['', '', '']"  # in the browser, at once: a new action, so older notices go
        detect_outputs = [faces_found, faces_read, faces]
        edit_inputs = [photo, expression, faces, seed, steps, restarts, strength, blend_mode, model]
        edit_outputs = [result, download, summary, session]
        explore_inputs, explore_outputs = [session, explore_face, *sliders], [result, session]
        edit_button.click(None, None, notices, js=clear_notices, api_visibility="private", show_progress="hidden")
        edit_event = edit_button.click(
            in_page(partial(edit_photo, editor, store), len(edit_outputs)), edit_inputs,
            [*edit_outputs, edit_notice], api_visibility="private", show_progress_on=[result, summary],
            concurrency_id="edit", concurrency_limit=1, preprocess=False)
        edit_event.success(partial(prepare_explore, editor), session,
                           [download, explore_panel, explore_face, crops, reading, *sliders],
                           api_visibility="private")

        def forget_previous_photo(previous: Session | None):
            """A new photo, or none: nothing of the previous one's faces, edit, sliders or download
            stays, and its session's files go."""
            store.drop(previous)
            return {result: None, summary: "", download: gr.DownloadButton(value=None, visible=False),
                    explore_panel: gr.Column(visible=False), crops: [], reading: "", session: None,
                    faces_found: [], faces_read: "", faces: gr.CheckboxGroup(value=[], visible=False),
                    **{slider: 0.0 for slider in sliders}}

        # Cleared at once, without queueing; an edit of the previous photo still running is cancelled.
        photo.change(None, None, notices, js=clear_notices, api_visibility="private", show_progress="hidden")
        photo.change(forget_previous_photo, session,
                     [result, summary, download, explore_panel, crops, reading, session, faces_found, faces_read,
                      faces, *sliders], queue=False, api_visibility="private", show_progress="hidden",
                     cancels=[edit_event])
        photo.change(in_page(partial(detect_faces, editor), len(detect_outputs)), photo,
                     [*detect_outputs, photo_notice], api_visibility="private", show_progress_on=[faces_found],
                     concurrency_limit=2, preprocess=False)
        gr.on([s.input for s in sliders], None, None, [photo_notice, edit_notice], js="() => ['', '']",
              api_visibility="private", show_progress="hidden")
        gr.on([s.input for s in sliders], in_page(partial(explore, editor, scratch), len(explore_outputs)),
              explore_inputs, [*explore_outputs, sliders_notice], api_visibility="private",
              trigger_mode="always_last", show_progress="hidden", concurrency_id="render", concurrency_limit=2)
        gr.on([s.change for s in sliders], partial(save_download, editor, scratch), [session, explore_face, *sliders],
              download, api_visibility="private", trigger_mode="multiple", show_progress="hidden",
              concurrency_limit=None)  # requests mostly sleep (debounce)
        gr.on([s.change for s in sliders], partial(read_moved_faces, editor), [session, explore_face, *sliders],
              reading, api_visibility="private", trigger_mode="always_last", show_progress="hidden",
              concurrency_id="reading", concurrency_limit=1)
        reset.click(in_page(partial(reset_sliders, editor, scratch), 2 + N_VALUES), [session, explore_face],
                    [result, session, *sliders, sliders_notice], api_visibility="private", show_progress="hidden")
        download.click(touch_session, session, None, queue=False, api_visibility="private", show_progress="hidden")
        # The blend modes, the strength's range and the inversion's defaults are the chosen model's.
        model.change(lambda m: (gr.Radio(choices=list(BLEND_MODES[m]), value=BLEND_MODES[m][0]),
                                gr.Slider(maximum=MAX_STRENGTH[m], value=DEFAULT_STRENGTH[m]),
                                gr.Slider(value=DEFAULT_INVERSION[m][0]), gr.Slider(value=DEFAULT_INVERSION[m][1])),
                     model, [blend_mode, strength, steps, restarts], api_visibility="private",
                     show_progress="hidden")
        explore_face.change(show_face_amounts, [session, explore_face], sliders, api_visibility="private",
                            show_progress="hidden")

        # ... and the named API endpoints: the same handlers, with no control of the page to start
        # them (no trigger), raising a visitor's mistake for the client.
        gr.on([], partial(detect_faces, editor), photo, detect_outputs, api_name="detect",
              api_visibility="undocumented", concurrency_limit=2, preprocess=False)
        gr.on([], partial(edit_photo, editor, store), edit_inputs, edit_outputs, api_name="edit",
              api_description=_summary(edit_photo), concurrency_id="edit", concurrency_limit=1, preprocess=False)
        gr.on([], partial(explore, editor, scratch), explore_inputs, explore_outputs, api_name="explore",
              api_description=_summary(explore), show_progress="hidden", concurrency_id="render",
              concurrency_limit=2)

        # -- random tab
        random_inputs = [random_expression, random_seed, *random_sliders]
        gr.on([demo.load, random_expression.change, random_seed.change, *[s.input for s in random_sliders]],
              partial(random_face, editor), random_inputs, random_image, api_name="random",
              api_description=_summary(random_face), trigger_mode="always_last", show_progress="hidden",
              concurrency_id="render", concurrency_limit=2)
        new_face.click(lambda s: (int(s or 0) + 1) % (validate.SEED[1] + 1), random_seed, random_seed,
                       api_visibility="private")
        random_reset.click(lambda *a: [0.0] * N_SLIDERS, None, random_sliders, api_visibility="private").then(
            partial(random_face, editor), random_inputs, random_image, api_visibility="private")
    return demo


def analytics_enabled() -> bool:
    """Gradio's usage reports are off (an offline tool); GRADIO_ANALYTICS_ENABLED=True turns them on."""
    return os.environ.get("GRADIO_ANALYTICS_ENABLED", "").strip().lower() in ("1", "true", "yes")


def _summary(fn) -> str:
    """A handler's docstring, for the API page."""
    return inspect.cleandoc(fn.__doc__ or "")
