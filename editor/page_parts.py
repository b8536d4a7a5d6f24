"""Gradio pieces both tabs of the page use (app.py, random_tab.py)."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Callable

import gradio as gr

from .sliders import SLIDER_RANGE

if TYPE_CHECKING:
    from .pipeline import Editor


def named_values(handler: Callable[..., Any], names: list[str]) -> Callable[..., Any]:
    """`handler` (a function or partial ending in *values) with those values named, for the API
    page and for clients that pass them by keyword: Gradio takes parameter names from the
    signature, and *values would show as param_2, param_3, ... Calls pass straight through."""
    signature = inspect.signature(handler)
    fixed = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    named = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None) for name in names]

    def call(*args):
        return handler(*args)

    call.__signature__ = signature.replace(parameters=fixed + named)
    call.__doc__ = getattr(handler, "func", handler).__doc__  # a partial's own __doc__ is partial's
    return call


def default_expression(editor: Editor, preferred: str = "happy") -> str:
    """The expression a tab starts on: `preferred` where the editor has it. The edit tab prefers
    surprise: most photos already smile (faces_dev reads happy in 67% as they are), so a first
    edit to happy would change little, and surprise lands most often (README "Quality")."""
    expressions = list(editor.expressions)
    return preferred if preferred in expressions else expressions[0]


# Gradio's own per-slider reset button (↺) sets the number without an `input` event, and the
# page redraws on `input` only (a `change` would also fire for every value the page sets itself):
# the picture stayed where the slider was and the download followed the number. The page's own
# "Reset sliders" button resets them all; the ↺ is hidden on every slider that redraws.
NO_RESET: dict = {"buttons": []}


def direction_slider(**kwargs) -> gr.Slider:
    """A slider along one GANSpace direction, centred on the face as it is."""
    return gr.Slider(minimum=-SLIDER_RANGE, maximum=SLIDER_RANGE, step=0.05, value=0.0, **NO_RESET, **kwargs)


def api_summary(fn: Callable[..., Any]) -> str:
    """A handler's docstring, for the API page."""
    return inspect.cleandoc(fn.__doc__ or "")
