"""The explore sliders' values, and the photo redrawn at them; no Gradio (app.py wires them).

Each edited face has N_VALUES slider values: N_SLIDERS distances along the generator's
GANSpace directions (in standard deviations of z), then one weight per expression
(the conditional model mixes expressions; the seed model ignores them). A visitor's
moves are kept per face in `Session.amounts`, so switching faces keeps each face
where it was left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from gan.data import EXPRESSIONS

from . import validate
from .directions import move

if TYPE_CHECKING:
    from .edits import EditResult
    from .pipeline import Editor
    from .session_store import Session

N_SLIDERS = 6  # GANSpace directions offered as sliders
N_VALUES = N_SLIDERS + len(EXPRESSIONS)  # slider values per face: the directions, then the seven expression weights
# The values' names, in the API and in its messages: the directions' amounts, then the weights.
AMOUNT_NAMES = [f"amount_{k + 1}" for k in range(N_SLIDERS)]
WEIGHT_NAMES = [f"weight_{name}" for name in EXPRESSIONS]
MAX_WEIGHT = validate.STRENGTH[1]  # an expression weight goes as far as the strength
SLIDER_RANGE = 3.0  # in standard deviations of z along each direction


def direction_key(result: EditResult) -> str:
    """Which generator's directions move a result's faces."""
    return "conditional" if result.model == "conditional" else result.expression


def edit_values(result: EditResult, face: int) -> list[float]:
    """A face's slider values right after the edit: directions at 0, its expression weights."""
    edit = next(f for f in result.faces if f.index == face)
    weights = edit.weights if edit.weights is not None else np.zeros(len(EXPRESSIONS), np.float32)
    return [0.0] * N_SLIDERS + [round(float(w), 3) for w in weights]


def slider_values(values: Sequence[float | None], result: EditResult, face: int) -> list[float]:
    """All N_VALUES slider values of a face, checked: the direction amounts (-3..3; missing: 0),
    then the seven expression weights (0..MAX_WEIGHT; missing: as the edit left them).
    An API client may send fewer values than the page does; `validate.ArgumentError` if one is out of range."""
    values = list(values)
    amounts = validate.amounts([*values[:N_SLIDERS], *[0.0] * (N_SLIDERS - len(values[:N_SLIDERS]))], SLIDER_RANGE)
    given = values[N_SLIDERS:]
    weights = edit_values(result, face)[N_SLIDERS:]
    for k, name in enumerate(WEIGHT_NAMES):
        if k < len(given) and given[k] is not None:
            weights[k] = validate.number(name, given[k], 0.0, MAX_WEIGHT)
            if result.model != "conditional" and weights[k] != 0:
                # The seed model has one generator per expression: nothing to mix, so a weight would
                # be ignored without a word.
                raise validate.ArgumentError(
                    f"{name} mixes expressions, which only the conditional model can; this edit used the "
                    f"seed model's {result.expression} generator. Edit again with model \"conditional\" to "
                    "mix expressions, or leave the weights out")
    return amounts + weights


def with_strength(result: EditResult, values_by_face: dict[int, list[float]],
                  strength: float) -> dict[int, list[float]]:
    """Every edited face's slider values with the edit's expression weighted `strength` (the
    Strength slider moved after an edit, conditional model): directions and the other
    expressions' weights stay as the visitor left them."""
    target = N_SLIDERS + EXPRESSIONS.index(result.expression)
    moved = {}
    for face in result.faces:
        values = list(values_by_face.get(face.index, edit_values(result, face.index)))
        values[target] = round(float(strength), 3)
        moved[face.index] = values
    return moved


def render(editor: Editor, result: EditResult, values_by_face: dict[int, list[float]]) -> np.ndarray:
    """The photo with each face in `values_by_face` at its slider values (amounts, then weights)."""
    edited = {f.index: f for f in result.faces}
    directions = editor.directions(direction_key(result))
    zs, weights = {}, {}
    for index, values in values_by_face.items():
        if index not in edited:
            continue
        amounts = values[:N_SLIDERS]
        if any(amounts):  # no move: the edit's own z, so the sliders at rest give the edit back exactly
            zs[index] = move(edited[index].z, directions, amounts)
        if result.model == "conditional":
            weights[index] = np.asarray(values[N_SLIDERS:], np.float32)
    return editor.render(result, zs, weights)


def render_with_sliders(editor: Editor, session: Session, result: EditResult, face: int | None,
                        values: Sequence[float | None]) -> np.ndarray:
    """The photo with `face` at these slider values and every other face as last moved
    (`result`: the session's edit, with its photo). Nothing is stored: the download and
    the classifier's reading ask with the values they saw, so they never race the sliders."""
    return render(editor, result, values_with_sliders(session, result, face, values))


def values_with_sliders(session: Session, result: EditResult, face: int | None,
                        values: Sequence[float | None]) -> dict[int, list[float]]:
    """Each edited face's slider values: `face` at `values`, every other face as last moved.
    ValueError, with a message for the visitor, if `face` was not edited."""
    face = chosen_face(result, None if face is None else int(face))
    return {**session.amounts, face: slider_values(values, result, face)}


def chosen_face(result: EditResult, face: int | None) -> int:
    """The edited face the sliders move: `face`, or the first edited one when None.
    ValueError, with a message for the visitor, if that face was not edited."""
    edited = [f.index for f in result.faces]
    if face is None:
        return edited[0]
    if face not in edited:
        # Only an API client can name one (the page offers the edited faces): in its numbers, from 0.
        raise ValueError(f"face {face} was not edited; the edited faces are {', '.join(map(str, edited))} "
                         "(face numbers count from 0, as in /edit)")
    return face
