"""The random-faces tab's number box: a blank box draws a fresh face and shows its number, so the
face can be had again (it drew face 0 every time, without a word); a number it cannot use is
named in words a person reads, beside the box."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image
import pytest

from editor.random_handlers import random_face
from editor.random_tab import face_number, shown_random_face
from editor.scratch import Scratch

ZERO = [0.0] * 6


@pytest.mark.parametrize("blank", [None, "", "  ", -1, "-1", -1.0])
def test_a_blank_box_or_minus_one_draws_a_fresh_face_number(blank):
    drawn = {face_number(blank) for _ in range(3)}
    assert all(fresh and 0 <= number <= 2**32 - 1 for number, fresh in drawn)
    assert len(drawn) == 3  # not face 0 every time (a repeat: one chance in 2**32)


@pytest.mark.parametrize("typed", [0, 7, "7", 7.0, 2**32 - 1])
def test_a_number_typed_is_the_face_drawn(typed):
    assert face_number(typed) == (int(typed), False)


@pytest.mark.parametrize("typed, shown", [(-5, "-5"), (2.5, "2.5"), ("abc", "'abc'"), (2**32, "4294967296"),
                                          (True, "True")])
def test_a_number_the_box_cannot_use_is_named_with_what_to_type(typed, shown):
    with pytest.raises(gr.Error) as refused:
        face_number(typed)
    assert refused.value.message == ("Random face number must be a whole number from 0 to 4294967295, "
                                     f"or blank for a new random face; got {shown}")


def test_the_page_shows_the_number_it_drew_and_the_face_is_that_numbers(editor, tmp_path):
    expression = editor.expressions[0]
    scratch = Scratch(parent=tmp_path)  # held: its folder goes with it
    path, shown = shown_random_face(editor, scratch, expression, None, *ZERO, 0.7)
    assert isinstance(shown, int)  # the box gets the number drawn
    assert Path(path).name == f"random_{expression}_seed{shown}.png"
    again = random_face(editor, expression, shown, *ZERO, 0.7)  # typing that number draws that face again
    assert np.array_equal(np.asarray(PIL.Image.open(path)), again)
    path, shown = shown_random_face(editor, scratch, expression, 3, *ZERO, 0.7)
    assert shown == gr.skip() and Path(path).name == f"random_{expression}_seed3.png"  # the box as typed
