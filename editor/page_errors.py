"""How a visitor's mistake reaches the page: as a message, once, beside the
control it is about, never as a traceback in the server log.

A handler raises `refuse(...)` (a `gr.Error`) for a mistake the visitor can fix;
an API client receives it as an error, and the page runs the handler through
`in_page`, which writes it into that control's notice instead of a pop-up.
"""

from __future__ import annotations

import html
from functools import wraps
from typing import Any, Callable

import gradio as gr

from . import validate
from .faces import NoFaceError
from .photo import PhotoError

USER_ERRORS = (PhotoError, NoFaceError, ValueError)  # messages written for people; shown in the page


def refuse(message: str, title: str = "Error") -> gr.Error:
    """A message for the visitor; the server log gets no traceback for a mistake they can fix."""
    return gr.Error(message, title=title, print_exception=False)


def user_error(exc: Exception) -> gr.Error:
    return refuse(str(exc), "Cannot use this photo" if isinstance(exc, (PhotoError, NoFaceError)) else "Error")


def bad_argument(exc: validate.ArgumentError) -> gr.Error:
    """An API argument out of range or of the wrong kind (the page's own controls never send one)."""
    return refuse(str(exc), "Invalid argument")


def notice(error: gr.Error | None) -> str:
    """The HTML of a page notice: the error's title and message, or nothing."""
    if error is None:
        return ""
    return (f'<p role="alert"><strong>{html.escape(error.title)}:</strong> '
            f"{html.escape(str(error.message))}</p>")


def in_page(fn: Callable[..., Any], outputs: int) -> Callable[..., Any]:
    """`fn` as the page runs it, with one more output: the notice beside the control that started
    it. A mistake the visitor can fix (a `gr.Error`) leaves the outputs as they are and goes into
    that notice, once, where it stays until the visitor's next action (which clears every notice,
    see `build_demo`); success empties it. Raised, it would be a pop-up that vanishes and leaves an
    empty "Error" badge on each output. `fn` returns a tuple of its `outputs`, or, when there is
    one, that output itself; when it skips them all, the notice is left as it is too."""
    @wraps(fn)  # Gradio reads fn's signature through this (e.g. its gr.Progress argument)
    def run(*args, **kwargs):
        try:
            result = tuple(fn(*args, **kwargs) if outputs > 1 else [fn(*args, **kwargs)])
            untouched = all(_skipped(value) for value in result)
            return (*result, gr.skip() if untouched else notice(None))
        except gr.Error as exc:
            return (*[gr.skip()] * outputs, notice(exc))

    return run


def _skipped(value: object) -> bool:
    """Whether an output is `gr.skip()` (a dict, {"__type__": "update"}; outputs may be arrays)."""
    return isinstance(value, dict) and value == gr.skip()
