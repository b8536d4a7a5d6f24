"""The page's words are a photographer's: controls are named for what they do, the two random
seeds are told apart, and the machine-learning term stays in each control's help text."""

from __future__ import annotations

import numpy as np
import pytest

from editor.edits import EditSettings
from editor.page_text import EXPLORE_INTRO, RANDOM_INTRO, example_label

JARGON = ["Seed", "Inversion steps", "Restarts", "Truncation", "GANSpace", "reconstruction loss", "latent"]
# label -> the technical term its help text keeps, for ML readers
PLAIN = {"Fit effort (steps)": "inversion steps", "Fresh starts": "inversion restarts",
         "Variation number": "random seed", "Random face number": "random seed", "Face variety": "truncation"}


@pytest.fixture(scope="module")
def controls(editor) -> dict[str, dict]:
    from editor.app import build_demo

    configs = [block.get_config() for block in build_demo(editor).blocks.values()]
    return {config["label"]: config for config in configs if isinstance(config.get("label"), str)}


def test_controls_are_named_in_plain_words_with_the_technical_term_in_their_help(controls):
    assert not [label for label in controls if any(word in label for word in JARGON)]
    for label, term in PLAIN.items():
        assert term in controls[label]["info"], label


def test_the_explanations_keep_ganspace_only_as_an_aside():
    for text in [*EXPLORE_INTRO.values(), RANDOM_INTRO]:
        assert "latent" not in text and "main ways" in text
        assert "GANSpace" not in text or "For machine-learning readers: GANSpace" in text


def test_the_edit_summary_says_what_the_loss_means(editor):
    from types import SimpleNamespace

    from editor.page_text import edit_summary

    face = SimpleNamespace(index=0, before=None, after=None, loss=0.0821, source_points=None, glasses=True)
    result = SimpleNamespace(expression="sad", faces=[face], photo=SimpleNamespace(notes=[]), settings=EditSettings())
    line = edit_summary(editor, result).splitlines()[1]
    assert line == "- Face 1: match error 0.082 (lower: closer to the photo's face; reconstruction loss)"
    # With landmarks (the conditional model) a face with glasses is told why its brows stayed.
    face.source_points = np.zeros((68, 2))
    assert edit_summary(editor, result).splitlines()[1].endswith("; brows and eyelids kept still (maybe glasses: "
                                                                 "their frames would bend; to move them anyway, "
                                                                 "set *Brows and eyelids* to move)")
    for brows in ("move", "still"):  # the visitor's own choice: nothing to explain
        result.settings = EditSettings(brows=brows)
        assert "glasses" not in edit_summary(editor, result)
    result.settings = EditSettings()
    face.glasses = False
    assert "glasses" not in edit_summary(editor, result)


def test_the_edit_summary_names_the_target_only_where_the_face_does_not_read_as_it(editor):
    from types import SimpleNamespace

    from editor.edits import ExpressionGuess
    from editor.page_text import edit_summary

    def guess(top: str, p: float, **others: float) -> ExpressionGuess:
        return ExpressionGuess(top, p, {top: p, **others})

    landed = SimpleNamespace(index=0, before=guess("happy", 0.85), after=guess("surprise", 0.63), loss=0.05,
                             source_points=None, glasses=True)
    short = SimpleNamespace(index=1, before=guess("happy", 0.85), after=guess("happy", 0.6, surprise=0.2), loss=0.05,
                            source_points=None, glasses=True)
    result = SimpleNamespace(expression="surprise", faces=[landed, short], photo=SimpleNamespace(notes=[]),
                             settings=EditSettings())
    title, first, second = edit_summary(editor, result).splitlines()[:3]
    assert title == "**surprise**: edited 2 faces."  # not "2 face(s)"
    assert first.startswith("- Face 1: reads as **happy 85%** before, **surprise 63%** after; match error")
    assert second.startswith("- Face 2: reads as **happy 85%** before, **happy 60%** after (surprise itself: 20%); ")
    result.faces = [landed]
    assert edit_summary(editor, result).startswith("**surprise**: edited 1 face.\n")


def test_example_photos_are_named_for_what_they_show():
    assert example_label("/x/astronaut.jpg") == "Example photo: astronaut Eileen Collins"
    assert example_label("/x/grace_hopper.jpg") == "Example photo: Grace Hopper"
    assert example_label("/x/my_dog.png") == "Example photo: my dog"


def test_the_page_and_the_batch_cli_count_faces_alike():
    from editor.edits import count_faces

    assert [count_faces(n) for n in (1, 2, 3)] == ["1 face", "2 faces", "3 faces"]  # never "face(s)" or "one face"
