"""The page's second tab: faces the generators draw from random latent vectors, moved by the
same direction sliders as the editor's; its handler is also the `random` API endpoint."""

from __future__ import annotations

import secrets
from functools import partial
from types import SimpleNamespace

import gradio as gr

from . import validate
from .random_handlers import RANDOM_TRUNCATION, random_face, random_slider_labels
from .page_errors import in_page, refuse
from .page_images import FACE_SIDE
from .page_parts import NO_RESET, api_summary, default_expression, direction_slider, named_values
from .page_text import FACE_NUMBER_INFO, FACE_NUMBER_LABEL, RANDOM_INTRO, VARIETY_INFO, VARIETY_LABEL
from .scratch import Scratch
from .sliders import AMOUNT_NAMES, N_SLIDERS


def lay_out_random_tab(editor) -> SimpleNamespace:
    """The random-faces tab and its controls, laid out (the tab itself too: opening it labels the sliders)."""
    with gr.Tab("Random faces") as tab:
        gr.Markdown(RANDOM_INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1):
                expression = gr.Radio(list(editor.expressions), value=default_expression(editor), label="Expression")
                with gr.Row():
                    seed = gr.Number(0, label=FACE_NUMBER_LABEL, info=FACE_NUMBER_INFO, precision=0,
                                     minimum=validate.SEED[0], maximum=validate.SEED[1], elem_id="random-seed")
                    new_face = gr.Button("New face", elem_id="random-new-face")
                notice = gr.HTML(elem_id="random-notice", elem_classes="notice")
                truncation = gr.Slider(*validate.TRUNCATION, value=RANDOM_TRUNCATION, step=0.05, label=VARIETY_LABEL,
                                       info=VARIETY_INFO, elem_id="truncation", **NO_RESET)
                sliders = [direction_slider(label=f"Direction {k + 1}", elem_id=f"random-direction-{k + 1}")
                           for k in range(N_SLIDERS)]
                reset = gr.Button("Reset sliders")
            with gr.Column(scale=1, elem_id="random-face-column"):  # first on a phone (page_browser.CSS)
                image = gr.Image(label="Generated face", format="png", height=FACE_SIDE + 40,
                                 buttons=["download"], interactive=False, elem_id="random-face")
        return SimpleNamespace(tab=tab, expression=expression, seed=seed, new_face=new_face, truncation=truncation,
                               sliders=sliders, reset=reset, image=image, notice=notice)


def wire_random_tab(tab: SimpleNamespace, editor, demo: gr.Blocks, scratch: Scratch) -> None:
    """A new face on load, on a new expression or seed, and on every slider move (the `random` endpoint);
    the direction sliders say what they do (measured once per generator, as the editor's)."""
    inputs = [tab.expression, tab.seed, *tab.sliders, tab.truncation]
    # On load only if the labels are measured already (the app's warm-up does it at start), so a
    # page load never starts that work; opening the tab or choosing an expression measures them.
    gr.on([demo.load], partial(random_slider_labels, editor, only_if_ready=True), tab.expression, tab.sliders,
          api_visibility="private", show_progress="hidden")
    gr.on([tab.tab.select, tab.expression.change], partial(random_slider_labels, editor), tab.expression,
          tab.sliders, api_visibility="private", show_progress="hidden")
    # In the page a mistake (a number out of range) goes into the notice beside the number box and
    # stays until the next good face; the `random` endpoint, with no control to start it, raises it.
    # A blank box draws a fresh number and puts it in the box (which draws that face once more: the same).
    endpoint = named_values(partial(random_face, editor), [*AMOUNT_NAMES, "truncation"])
    drawn = in_page(named_values(partial(shown_random_face, editor, scratch), [*AMOUNT_NAMES, "truncation"]), 2)
    shown = [tab.image, tab.seed, tab.notice]
    gr.on([demo.load, tab.expression.change, tab.seed.change, tab.truncation.input,
           *[s.input for s in tab.sliders]],
          drawn, inputs, shown, api_visibility="private", trigger_mode="always_last",
          show_progress="hidden", concurrency_id="render", concurrency_limit=2, preprocess=False)
    gr.on([], endpoint, inputs, tab.image,
          api_name="random", api_description=api_summary(random_face), show_progress="hidden",
          concurrency_id="render", concurrency_limit=2,
          preprocess=False)  # random_face checks each value and names it (Gradio's check names none)
    tab.new_face.click(next_seed, tab.seed, tab.seed, api_visibility="private", preprocess=False)
    tab.reset.click(lambda *a: [0.0] * N_SLIDERS, None, tab.sliders, api_visibility="private").then(
        drawn, inputs, shown, api_visibility="private", preprocess=False)


def shown_random_face(editor, scratch: Scratch, expression: str, seed: object, *values: float) -> tuple[str, object]:
    """The face the page shows for its number box (see `face_number`), as `random_face_file`, and
    the number to put in the box: the one drawn for a blank box, so that face can be had again;
    otherwise the box is left as the visitor typed it."""
    number, fresh = face_number(seed)
    return random_face_file(editor, scratch, expression, number, *values), number if fresh else gr.skip()


def face_number(value: object) -> tuple[int, bool]:
    """The seed the random tab's number box asks for, and whether it was drawn just now. A blank box
    (or -1, image generators' usual "random") draws a fresh one: it used to draw face 0 every time,
    without a word. Anything else must be a seed in range, and the message uses the box's name
    (the API's message names its `seed` argument, validate.seed_number)."""
    blank = value is None or (isinstance(value, str) and not value.strip())
    try:
        number = -1 if blank else validate.whole_number("seed", value, -1, validate.SEED[1])
    except validate.ArgumentError:
        shown = repr(value) if isinstance(value, str) else f"{value}"
        raise refuse(f"{FACE_NUMBER_LABEL} must be a whole number from {validate.SEED[0]} to {validate.SEED[1]}, "
                     f"or blank for a new random face; got {shown}", "Invalid number") from None
    if number == -1:
        return secrets.randbelow(validate.SEED[1] + 1), True
    return number, False


def random_face_file(editor, scratch: Scratch, expression: str, seed: object, *values: float) -> str:
    """`random_face` as the page shows it: a PNG named for what it is (random_happy_seed3.png), so
    the image's download button saves it under that name, not Gradio's "image.png"."""
    face = random_face(editor, expression, seed, *values)  # checks every value first
    return scratch.write(face, f"random_{expression}_seed{validate.seed_number(seed)}.png")


def next_seed(seed: object) -> int:
    """The seed after `seed` for "New face"; 0 after one that is not a seed (out of range, not a
    number), so the button always leads back to a face."""
    try:
        return (validate.seed_number(seed) + 1) % (validate.SEED[1] + 1)
    except validate.ArgumentError:
        return 0
