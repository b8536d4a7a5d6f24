"""What the page's controls do once an edit is shown: the sliders (expression weights,
GANSpace directions, the Strength slider), their reset, the faces close up, the
full-size download and the classifier's reading, all without a new fit. Each takes
the (shared, read-only) `Editor` and the visitor's `Session`; `explore` is also the
named API endpoint of that name, and its docstring is its documentation. The edit
itself and everything before it: handlers.py.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from gan.data import EXPRESSIONS

from . import validate
from .page_errors import bad_argument, refuse
from .page_images import DOWNLOAD_FORMATS, generator_views, on_white, write_closeup, write_display, write_download
from .page_text import EXPLORE_INTRO, download_name, moved_reading, slider_labels
from .scratch import Scratch
from .session_store import Session, SessionExpired
from .sliders import (N_SLIDERS, N_VALUES, chosen_face, direction_key, edit_values, render, render_with_sliders,
                      slider_values, values_with_sliders, with_strength)


def page_face(handler):
    """`handler(session, face, ...)` as the page's events run it: a `face` that was not edited
    means the first edited face. The page offers only edited faces, so any other number is the face
    chooser's value from before the edit that narrowed its choices, sent with the events that edit
    set off (with Gradio's own check of the value: "Value: 0 is not in the list of choices: [1]",
    when Face 2 alone was edited). API clients get handler itself, which refuses such a face."""
    def run(session: Session | None, face: int | None, *rest):
        if session is not None and face is not None and not any(f.index == face for f in session.edit.faces):
            face = None
        return handler(session, face, *rest)
    return run


def _mapped(session: Session | None):
    """The session's edit with its photo mapped in from disk; None when there is none or it expired."""
    if session is None:
        return None
    try:
        return session.result
    except SessionExpired:
        return None


def show(scratch: Scratch, session: Session, image) -> None:
    """`image` [H, W, 3] becomes what the page shows of the session's edit: the display-sized
    "after" and the faces' close-up (an edit, a slider move, the Strength slider, a reset)."""
    image = on_white(image, session.alpha)
    session.after = write_display(scratch, session.folder, image)
    session.closeup_after = write_closeup(scratch, session.folder, image, session.closeup_boxes)


def prepare_explore(editor, session: Session | None):
    """After an edit: the download button, the panel's words for the edit's model, the face
    chooser, the seven expression sliders at the edit's weights (conditional model), the
    direction sliders at 0 labelled with what they do, and the generator's view of each face
    (photo crop -> its own expression -> edited)."""
    if session is None or session.shown:  # no edit, or a refused one: the page stays as it is
        return [gr.skip()] * (6 + N_VALUES)
    session.shown = True
    result = session.edit
    labels = slider_labels(editor.direction_labels(direction_key(result), N_SLIDERS), N_SLIDERS)
    choices = [(f"Face {f.index + 1}", f.index) for f in result.faces]
    values = edit_values(result, choices[0][1])
    conditional = result.model == "conditional"
    sliders = [gr.Slider(value=0.0, label=label) for label in labels]
    weights = [gr.Slider(value=values[N_SLIDERS + k], visible=conditional) for k in range(len(EXPRESSIONS))]
    face = gr.Dropdown(choices=choices, value=choices[0][1], visible=len(choices) > 1)
    crops = generator_views(result)
    download = gr.Button(f"Download full-size {session.download_format}", visible=True)
    return download, gr.Column(visible=True), EXPLORE_INTRO[result.model], face, crops, "", *sliders, *weights


def explore(editor, scratch: Scratch, session: Session | None, face: int | None, *values: float):
    """Re-render one edited face with other expression weights and moved along the generator's
    GANSpace directions (no new inversion).

    Parameters:
        face: 0-based face number (as in /edit); empty for the first edited face
        amount_1: distance along direction 1, in standard deviations (-3..3); likewise amount_2..amount_6
        weight_angry: how far towards angry, 0-2 (conditional model; a seed-model edit refuses any weight but
            0); likewise weight_disgust, weight_fear,
            weight_happy, weight_sad, weight_surprise, weight_neutral; null: as the /edit left them (its
            target at its strength, the others 0). A weight a client leaves out is the page's starting
            0, so pass the edit's target weight (its strength) to keep its expression
    Returns:
        (original, edited) display-sized images
    """
    if session is None:
        raise refuse("Edit a photo first; the sliders move the faces of the last edit.")
    try:
        result = session.result
        face = chosen_face(result, None if face is None else validate.face_number(face))
        session.amounts[face] = slider_values(values, result, face)
    except SessionExpired as exc:  # e.g. evicted by newer edits: the message says to press Edit again
        raise refuse(str(exc)) from None
    except validate.ArgumentError as exc:
        raise bad_argument(exc) from None
    except ValueError as exc:  # a face that was not edited
        raise refuse(str(exc)) from None
    show(scratch, session, render(editor, result, session.amounts))  # with no moves, the edit itself
    return (session.before, session.after), session


def show_closeup(session: Session | None):
    """The edited faces close up, before and as the page shows them now (page only: it follows
    every change of the before/after view); hidden without an edit."""
    # gr.update, not gr.ImageSlider(value=...): a component built here would copy both files at once.
    if session is None or not session.closeup_before or not session.closeup_after:
        return gr.update(value=None, visible=False)
    return gr.update(value=(session.closeup_before, session.closeup_after), visible=True)


# The title of Strength's notice when the page's choices no longer describe the edit shown: the
# slider did nothing, and the way on is the Edit button, not a mistake to correct ("Error:" in red
# beside a slider the visitor had only moved read as if something had broken).
PRESS_EDIT = "Press Edit"


def apply_strength(editor, scratch: Scratch, session: Session | None, face: int | None, strength: float,
                   expression: str | None = None, model: str | None = None, ticked: list | None = None):
    """After an edit (conditional model), the Strength slider re-renders every edited face with
    the edit's expression at that strength, without a new fit; page only. Before an edit it waits
    for the Edit button; so it does for a seed-model edit (whose strength blends a pasted face),
    and when the page's expression, model or ticked faces (`expression`, `model`, `ticked`: as chosen
    now; no face ticked means every face) are not the shown edit's, since the slider would otherwise
    redraw an edit the choices no longer describe: a notice says which and to press Edit."""
    if session is None or not session.edit.faces:
        return [gr.skip()] * (2 + N_VALUES)
    edit = session.edit
    if edit.model != "conditional":
        raise refuse("Strength redraws edits of the conditional model; this one used the seed model, whose "
                     "strength takes effect when you press Edit.", PRESS_EDIT)
    if model is not None and model != edit.model:
        raise refuse(f"The edit shown used the {edit.model} model; press Edit to edit with the {model} model "
                     "at this strength.", PRESS_EDIT)
    if expression is not None and expression != edit.expression:
        raise refuse(f"Strength redraws the edit shown ({edit.expression}); press Edit to make the face "
                     f"{expression} at this strength.", PRESS_EDIT)
    added = _ticked_not_edited(ticked, edit)
    if added:
        raise refuse(f"Strength redraws the faces of the edit shown; press Edit to edit "
                     f"{' and '.join(f'Face {i + 1}' for i in added)} too.", PRESS_EDIT)
    try:
        result = session.result
        strength = validate.number("strength", strength, *validate.STRENGTH)
    except SessionExpired as exc:
        raise refuse(str(exc)) from None
    except validate.ArgumentError as exc:
        raise bad_argument(exc) from None
    session.amounts.update(with_strength(result, session.amounts, strength))
    show(scratch, session, render(editor, result, session.amounts))
    shown = chosen_face(result, None if face is None else int(face))
    return (session.before, session.after), session, *session.amounts[shown]


def _ticked_not_edited(ticked: list | None, edit) -> list[int]:
    """The ticked faces (0-based; the page's checkbox values) the shown edit did not edit."""
    try:
        chosen = sorted({int(i) for i in ticked or []})
    except (TypeError, ValueError):
        return []  # not the page's values: nothing to say about them
    edited = {f.index for f in edit.faces}
    return [i for i in chosen if i not in edited]


def make_download(editor, scratch: Scratch, session: Session | None, face: int | None, download_format: str | None,
                  *amounts: float) -> str:
    """The full-size edited photo with one face's sliders where they are now (every other face as
    last moved), in PNG or JPEG with the original's EXIF, written when asked for: an edit or a
    slider move writes none (a 24 MP PNG takes 1.15 s), and asking again for the same photo in the
    same format gives the file already written. The slider values come with the request, so it
    never races the image updates.

    Parameters:
        face: 0-based face number (as in /edit); empty for the first edited face
        download_format: PNG or JPEG
        amount_1: distance along direction 1 (-3..3), likewise amount_2..amount_6, and weight_angry ..
            weight_neutral (0-2): as for /explore; pass the values of the last /explore to get its photo
    Returns:
        the full-size photo file
    """
    if session is None or not session.edit.faces:
        raise refuse("Edit a photo first; then its full-size photo can be downloaded.")
    try:
        download_format = validate.one_of("download_format", download_format or "PNG", DOWNLOAD_FORMATS)
        face = None if face is None else validate.face_number(face)
    except validate.ArgumentError as exc:
        raise bad_argument(exc) from None
    try:
        result = session.result
        values = values_with_sliders(session, result, face, amounts)
    except (SessionExpired, ValueError) as exc:
        raise refuse(str(exc)) from None
    key = (download_format, repr(sorted((k, list(v)) for k, v in values.items())))
    with session.lock:  # two quick clicks write one file
        if session.download and session.download_key == key and Path(session.download).is_file():
            return session.download
        image = render(editor, result, values)
        session.download = write_download(scratch, session.folder, image, download_name(session.edit),
                                          download_format, session.edit.photo.exif, result.photo.alpha)
        session.download_key = key
    return session.download


def read_moved_faces(editor, session: Session | None, face: int | None, *amounts: float):
    """What the expression classifier reads in each edited face with the sliders as they are."""
    result = _mapped(session)
    if result is None or not result.faces or editor.classifier is None:
        return gr.skip()
    return moved_reading(result, editor.read_edited(result, render_with_sliders(editor, session, result, face,
                                                                                amounts)))


def reset_sliders(editor, scratch: Scratch, session: Session | None, face: int | None = None):
    """Every face back to the edit's result; the sliders to the edit's values."""
    if session is None or not session.edit.faces:
        return [gr.skip()] * (2 + N_VALUES)
    try:
        result = session.result
    except SessionExpired as exc:
        raise refuse(str(exc)) from None
    session.amounts.clear()
    show(scratch, session, editor.render(result, {}))
    face = result.faces[0].index if face is None else int(face)
    return (session.before, session.after), session, *edit_values(session.edit, face)


def strength_of_weights(session: Session | None, *weights: float):
    """The Strength slider at the edited expression's weight, as the visitor moved its slider under
    Explore (the two are one value: moving Strength moves that slider, apply_strength)."""
    if session is None or session.edit.model != "conditional" or len(weights) != len(EXPRESSIONS):
        return gr.skip()
    return weights[EXPRESSIONS.index(session.edit.expression)]


def edit_strength(session: Session | None):
    """The Strength slider back at the strength the edit was made with (a reset)."""
    return gr.skip() if session is None else session.edit.settings.strength


def show_face_amounts(session: Session | None, face: int | None):
    """The sliders show the chosen face's own values, and Strength its weight of the edit's
    expression (a conditional-model edit: the two are one value, see strength_of_weights)."""
    if session is None or face is None or not any(f.index == face for f in session.edit.faces):
        return [gr.skip()] * (N_VALUES + 1)
    session.touch()
    values = list(session.amounts.get(face, edit_values(session.edit, face)))
    return [*values, strength_of_weights(session, *values[N_SLIDERS:])]
