"""Gradio pieces both tabs of the page use (app.py, random_tab.py)."""

from __future__ import annotations

import inspect

import gradio as gr

from .sliders import SLIDER_RANGE


def default_expression(editor) -> str:
    """The expression a tab starts on: happy where the editor has it."""
    expressions = list(editor.expressions)
    return "happy" if "happy" in expressions else expressions[0]


def direction_slider(**kwargs) -> gr.Slider:
    """A slider along one GANSpace direction, centred on the face as it is."""
    return gr.Slider(minimum=-SLIDER_RANGE, maximum=SLIDER_RANGE, step=0.05, value=0.0, **kwargs)


def api_summary(fn) -> str:
    """A handler's docstring, for the API page."""
    return inspect.cleandoc(fn.__doc__ or "")
