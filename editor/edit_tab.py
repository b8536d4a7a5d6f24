"""The "Edit a photo" tab's layout: its controls, placed and labelled, returned by name.

What they do is wired in app.py (`_wire_edit_tab`), as random_tab.py lays out and wires the
random-faces tab.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

import gradio as gr

from gan.data import EXPRESSIONS

from . import validate
from .edits import BLEND_MODES, BROW_CHOICES, DEFAULT_INVERSION, DEFAULT_STRENGTH, MAX_STRENGTH
from .page_images import DOWNLOAD_FORMATS, example_photos
from .page_parts import NO_RESET, default_expression, direction_slider
from .page_text import (BLEND_INFO, EXPLORE_INTRO, RESTARTS_INFO, RESTARTS_LABEL, STEPS_INFO, STEPS_LABEL,
                        STRENGTH_INFO, VARIATION_INFO, VARIATION_LABEL, face_choices)
from .scratch import FILE_MAX_AGE
from .session_store import SessionStore
from .sliders import MAX_WEIGHT, N_SLIDERS

if TYPE_CHECKING:
    from .pipeline import Editor

MAX_FACES = 12  # face choices an API client may name without running detection first
RESULT_BOX, CLOSEUP_BOX = 520, 420  # heights of the before/after and close-up boxes, in CSS pixels


def lay_out_edit_tab(editor: Editor, store: SessionStore) -> SimpleNamespace:
    """The edit tab's controls, laid out; returned by name for app.py's wiring."""
    expressions = list(editor.expressions)
    # This visitor's Session; its files go with it.
    session = gr.State(None, time_to_live=FILE_MAX_AGE, delete_callback=store.drop)
    with gr.Row(equal_height=False):
        with gr.Column(scale=2):
            photo = gr.Image(label="Photo", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                             height=320, elem_id="photo")
            # Any file, typed or not (the photo box drops a .heic a browser knows no type for; and
            # with file_types the browser's own check would name a wrong file in a pop-up of Gradio's
            # words): open_photo_file says in the notice what is wrong.
            open_file = gr.UploadButton("Open a photo file (any format, e.g. an iPhone's HEIC)", size="sm",
                                        elem_id="open-file")
            photo_notice = gr.HTML(elem_id="photo-notice", elem_classes="notice")
            examples = example_photos()
            if examples:
                gr.Examples(examples=[[p] for p in examples], inputs=[photo], label="Example photos",
                            elem_id="example-photos")
            faces_found = gr.Gallery(label="Faces found", columns=4, height=210, allow_preview=False,
                                     fit_columns=False, object_fit="contain", interactive=False,
                                     elem_id="faces-found")
            faces_read = gr.Markdown(elem_id="faces-read")  # what the classifier reads in each face
            faces = gr.CheckboxGroup(face_choices(MAX_FACES), value=[], label="Faces to edit", visible=False,
                                     info="none ticked: every face", elem_id="faces")
            expression = gr.Radio(expressions, value=default_expression(editor, "surprise"), label="Expression",
                                  elem_id="expression")
            # The default model's range (the seed model's stops at 1: a page without the conditional
            # model offered 0-2 and refused anything past 1 until the Model choice changed).
            strength = gr.Slider(validate.STRENGTH[0], MAX_STRENGTH[editor.default_model],
                                 value=DEFAULT_STRENGTH[editor.default_model], step=0.05,
                                 label="Strength", info=STRENGTH_INFO[editor.default_model],
                                 elem_id="strength", **NO_RESET)
            edit_button = gr.Button("Edit", variant="primary", elem_id="edit-button")
            edit_notice = gr.HTML(elem_id="edit-notice", elem_classes="notice")
            with gr.Accordion("Advanced settings", open=False):
                # Here, not beside Edit: a third of the column squeezed its help into a ten-line
                # ribbon, and a photographer rarely needs another fit of the same face.
                seed = gr.Number(0, label=VARIATION_LABEL, info=VARIATION_INFO, precision=0,
                                 minimum=validate.SEED[0], maximum=validate.SEED[1], elem_id="variation")
                default_steps, default_restarts = DEFAULT_INVERSION[editor.default_model]
                steps = gr.Slider(*validate.STEPS, value=default_steps, step=5, label=STEPS_LABEL,
                                  info=STEPS_INFO, elem_id="steps")
                restarts = gr.Slider(*validate.RESTARTS, value=default_restarts, step=1, label=RESTARTS_LABEL,
                                     info=RESTARTS_INFO, elem_id="restarts")
                model = gr.Radio(list(editor.models), value=editor.default_model, label="Model",
                                 info="conditional: one generator for every expression, and only the "
                                      "change reaches your photo; seed: the seed paper's per-expression "
                                      "generators, whose face is blended in", elem_id="model")
                blend_mode = gr.Radio(list(BLEND_MODES[editor.default_model]),
                                      value=BLEND_MODES[editor.default_model][0], label="Blend mode",
                                      info=BLEND_INFO[editor.default_model], elem_id="blend-mode")
                brows = gr.Radio(list(BROW_CHOICES), value=BROW_CHOICES[0], label="Brows and eyelids",
                                 info="auto: they move with the expression unless the face wears glasses "
                                      "(a frame would bend with them); move: always; still: never",
                                 elem_id="brows")
                download_format = gr.Radio(list(DOWNLOAD_FORMATS), value="PNG", label="Download as",
                                           info="PNG: lossless; JPEG (quality 95): a tenth of the time to write "
                                                "and a fifth of the size, for large photos",
                                           elem_id="download-format")
        with gr.Column(scale=3):
            # max_height no taller than the box (Gradio's default is 500 px): a taller image overflowed
            # the 420 px close-up, its top cut off, and Gradio placed the "after" half 40 px above the
            # "before" half, so the divider joined two different parts of the faces.
            result = gr.ImageSlider(label="Before / after", type="filepath", height=RESULT_BOX, max_height=RESULT_BOX,
                                    buttons=["fullscreen"], interactive=False, elem_id="result")
            summary = gr.Markdown(elem_id="summary")
            # A plain button: the full-size photo is written when asked for (make_download), then
            # the browser saves it from the hidden file box (a DownloadButton's file must exist first).
            download = gr.Button("Download full-size photo", visible=False, elem_id="download")
            download_file = gr.File(visible="hidden", interactive=False, elem_id="download-file")
            download_notice = gr.HTML(elem_id="download-notice", elem_classes="notice")
            closeup = gr.ImageSlider(label="Close-up of the edited faces", type="filepath",
                                     height=CLOSEUP_BOX, max_height=CLOSEUP_BOX, buttons=["fullscreen"],
                                     interactive=False, visible=False, elem_id="closeup")
            with gr.Column(visible=False) as explore_panel:
                explore_intro = gr.Markdown(EXPLORE_INTRO[editor.default_model])
                explore_face = gr.Dropdown(face_choices(MAX_FACES), value=0, label="Face to move", visible=False)
                weight_sliders = [gr.Slider(0.0, MAX_WEIGHT, value=0.0, step=0.05, label=name.capitalize(),
                                            elem_id=f"weight-{name}", **NO_RESET) for name in EXPRESSIONS]
                sliders = [direction_slider(label=f"Direction {k + 1}", elem_id=f"direction-{k + 1}")
                           for k in range(N_SLIDERS)] + weight_sliders
                reading = gr.Markdown(elem_id="reading")
                sliders_notice = gr.HTML(elem_id="sliders-notice", elem_classes="notice")
                reset = gr.Button("Reset sliders")
                with gr.Accordion("What the generator saw", open=False):
                    crops = gr.Gallery(columns=4, height=240, object_fit="contain", fit_columns=False,
                                       show_label=False, elem_id="crops")
    return SimpleNamespace(
        session=session, photo=photo, open_file=open_file, photo_notice=photo_notice, faces_found=faces_found,
        faces_read=faces_read, faces=faces, expression=expression, strength=strength, seed=seed,
        edit_button=edit_button, edit_notice=edit_notice, steps=steps, restarts=restarts, model=model, blend_mode=blend_mode, brows=brows,
        download_format=download_format, result=result,
        summary=summary, download=download, download_file=download_file, download_notice=download_notice,
        closeup=closeup, explore_panel=explore_panel, explore_intro=explore_intro, explore_face=explore_face,
        sliders=sliders, reading=reading, sliders_notice=sliders_notice, reset=reset, crops=crops)
