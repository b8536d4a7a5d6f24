"""The random tab's handlers: a face drawn from random z and moved along the generator's
directions (also the `random` API endpoint; its docstring is the endpoint's documentation),
and the labels of the sliders that move it (the tab's layout: random_tab.py)."""

from __future__ import annotations

import gradio as gr

from . import validate
from .directions import move
from .page_errors import bad_argument
from .page_images import enlarge
from .page_text import slider_labels
from .sliders import N_SLIDERS, SLIDER_RANGE

# The random tab's default truncation: the conditional generator's samples read as their expression
# in 84.0% with z x 0.7 against 73.7% at 1 (model card); benchmarks/truncation.py has the curve.
RANDOM_TRUNCATION = 0.7


def random_face(editor, expression: str, seed: float, *values: float):
    """A face drawn from random z (by the conditional generator, or the expression's own), moved along
    the generator's GANSpace directions; the same seed gives the same face in every expression.

    Parameters:
        expression: one of the expressions with a generator
        seed: seed of z ~ N(0, I)
        amount_1: distance along direction 1, in standard deviations (-3..3); likewise amount_2..amount_6
        truncation: z is scaled by this (0..1; default 0.7): lower draws more typical, cleaner faces,
            1 the model's full variety
    Returns:
        the 48x48 face, enlarged
    """
    truncation = values[N_SLIDERS] if len(values) > N_SLIDERS else None  # an older client sends none
    try:
        expression = validate.one_of("expression", expression, editor.expressions, editor.unavailable)
        seed = validate.seed_number(seed)
        amounts = validate.amounts(values[:N_SLIDERS], SLIDER_RANGE)
        truncation = RANDOM_TRUNCATION if truncation is None else validate.number(
            "truncation", truncation, *validate.TRUNCATION)
    except validate.ArgumentError as exc:
        raise bad_argument(exc) from None
    z = editor.random_z(expression, seed, truncation)  # [1, nz]
    if any(amounts):
        z = move(z, editor.directions(random_direction_key(editor, expression)), amounts)
    return enlarge(editor.generate(expression, z))


def random_direction_key(editor, expression: str) -> str:
    """Whose directions move a random face: the conditional generator's, or the expression's own."""
    return "conditional" if editor.default_model == "conditional" else expression


def random_slider_labels(editor, expression: str, only_if_ready: bool = False) -> list[gr.Slider]:
    """The random tab's direction sliders, labelled with what each was measured to do;
    `only_if_ready`: only if that was measured already (else the sliders stay as they are)."""
    try:
        expression = validate.one_of("expression", expression, editor.expressions, editor.unavailable)
    except validate.ArgumentError:
        return [gr.skip()] * N_SLIDERS
    key = random_direction_key(editor, expression)
    if only_if_ready and not editor.extras.direction_labels_ready(key, N_SLIDERS):
        return [gr.skip()] * N_SLIDERS
    labels = slider_labels(editor.direction_labels(key, N_SLIDERS), N_SLIDERS)
    return [gr.Slider(label=label) for label in labels]
