"""The words the page shows: face names, what the classifier reads, an edit's summary,
file names; no Gradio (app.py places them). Faces are numbered from 1, left to
right, everywhere a person reads them; the API counts them from 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .edits import DEFAULT_STRENGTH, count_faces
from .face_choice import FaceChoice

if TYPE_CHECKING:
    from .edits import EditResult, ExpressionGuess
    from .pipeline import Editor

# Each model's help texts: the page swaps them when the Model choice (or the edit's model) changes.
STRENGTH_INFO = {
    "conditional": "0: unchanged; 1: the model's full expression, often faint on a photo; past 1 pushed further "
                   f"({DEFAULT_STRENGTH['conditional']:g}, the default, shows best on photos by our measures); "
                   "after an edit, the weight of the edited expression (its slider under Explore nearby faces follows)",
    "seed": "0: unchanged; 1 (the default and the most): the expression generator's face blended in fully",
}
BLEND_INFO = {
    "conditional": "flow: your photo's own pixels move; difference: only brightness changes; replace: the "
                   "generated face is pasted",
    "seed": "alpha: the generated face's brightness mixed in under a soft mask; poisson: the same, cloned "
            "seamlessly into the photo's lighting",
}
EXPLORE_INTRO = {
    "conditional": "### Explore nearby faces\nThe expression sliders mix the seven expressions; the direction "
                   "sliders move the face along the main ways the model's faces differ from one another, each "
                   "named by what it was measured to do. (For machine-learning readers: GANSpace directions.)",
    "seed": "### Explore nearby faces\nThe direction sliders move the face along the main ways its expression "
            "model's faces differ from one another, each named by its share of those differences, largest "
            "first. (The seed model's generators each draw one expression: there is nothing to mix. For "
            "machine-learning readers: GANSpace directions.)",
}

# Controls named in a photographer's words; the machine-learning term is kept in the help text
# (info=) for those who know it. The two seeds are named for what they pick: a face, or a fit.
STEPS_LABEL = "Fit effort (steps)"
STEPS_INFO = ("how long the model works at matching your face: more is closer to the photo, but slower "
              "(inversion steps per start)")
RESTARTS_LABEL = "Fresh starts"
RESTARTS_INFO = "separate attempts at matching your face; the best one is kept (inversion restarts)"
VARIATION_LABEL = "Variation number"
VARIATION_INFO = ("another number gives a slightly different match of the face; the same number, the same "
                  "result (the random seed of the latent search)")
FACE_NUMBER_LABEL = "Random face number"
FACE_NUMBER_INFO = ("the same number draws the same face in every expression; leave it blank for a new random "
                    "face, whose number then shows here (the random seed of z)")
VARIETY_LABEL = "Face variety"
VARIETY_INFO = ("lower: more typical, cleaner faces; 0: always the average face; 1: the model's full variety "
                "(truncation: z is scaled by this)")
RANDOM_INTRO = ("Faces the model invents from a random number; the direction sliders move them along the main "
                "ways its faces differ, as in the editor.")

TITLE = "Expression editor"
INTRO = ("Upload a photo, pick an expression and press **Edit**: a GAN trained on FER2013 renders each face as "
         "it is and with that expression, and your photo's own pixels are moved and shaded by the difference, "
         "so the person stays themselves. Then use the sliders to mix expressions and explore nearby faces.")


# What each example photo shows, for its button's accessible name (a file name says little).
EXAMPLE_NAMES = {"astronaut": "astronaut Eileen Collins", "grace_hopper": "Grace Hopper",
                 "fr_obama": "portrait", "fr_two_people": "two people"}


def example_label(path: str | Path) -> str:
    """ "Example photo: Grace Hopper": the accessible name of an example photo's button."""
    stem = Path(path).stem
    return f"Example photo: {EXAMPLE_NAMES.get(stem, stem.replace('_', ' '))}"


def face_choices(count: int) -> list[tuple[str, int]]:
    """(label, 0-based index) pairs for a face chooser: "Face 1", "Face 2", ..."""
    return [(f"Face {i + 1}", i) for i in range(count)]


def face_caption(index: int, reading: ExpressionGuess | None) -> str:
    """ "Face 1: neutral 64%" (the classifier's reading), or "Face 1" without a classifier."""
    return f"Face {index + 1}" if reading is None else f"Face {index + 1}: {reading}"


def faces_note(readings: Sequence, choice: FaceChoice) -> str:
    """Below the gallery: what the classifier reads in each face, and which faces are not ticked, and why."""
    parts = []
    if readings and readings[0] is not None:
        parts.append(" · ".join(face_caption(i, r) for i, r in enumerate(readings)))
    if choice.left_out:
        why = "; ".join(f"Face {i + 1} ({reason})" for i, reason in choice.left_out.items())
        parts.append(f"Not ticked: {why}. Tick a face under **Faces to edit** to edit it too.")
    return "\n\n".join(parts)


def photo_stem(result: EditResult) -> str:
    """The visitor's file name without its extension ("photo" when there is none), for download names."""
    name = getattr(getattr(result, "photo", None), "name", None) or "photo"
    return Path(str(name)).stem or "photo"


def download_name(result: EditResult) -> str:
    """The full-size download's name without its suffix: the visitor's own file name and the
    expression, e.g. "me_happy" (.png or .jpg: page_images.write_download)."""
    return f"{photo_stem(result)}_{result.expression}"


# How far the model's best match of a face is from the photo's face (the fit's loss), in the summary.
FIT_ERROR = "match error {:.3f} (lower: closer to the photo's face; reconstruction loss)"
# Why a face's brows and eyelids did not move (editor/glasses.py, whose test also fires on some bare
# faces: 13 of faces_dev's 150): said, so it is not taken for a fault.
HELD_STILL = ("; brows and eyelids kept still (maybe glasses: their frames would bend; to move them "
              "anyway, set *Brows and eyelids* to move)")


def edit_summary(editor: Editor, result: EditResult) -> str:
    """What was done, and what the expression classifier reads before and after each face."""
    lines = [f"**{result.expression}**: edited {count_faces(len(result.faces))}."]
    # Held still is said only where the glasses test decided (brows "auto"), not where the visitor
    # chose "still", and only for the flow transfer, the one that moves them.
    auto = result.settings.brows == "auto" and result.settings.blend_mode == "flow"
    for f in result.faces:
        line = f"- Face {f.index + 1}: "
        if f.before is not None and f.after is not None:
            line += f"reads as **{f.before}** before, **{f.after}** after"
            if f.after.expression != result.expression:  # how far it got, where it does not read so yet
                line += f" ({result.expression} itself: {f.after.probabilities.get(result.expression, 0.0):.0%})"
            line += "; "
        held = HELD_STILL if auto and f.source_points is not None and f.glasses else ""  # landmarks: the conditional model's
        lines.append(line + FIT_ERROR.format(f.loss) + held)
    if editor.classifier is None and editor.classifier_problem:
        lines.append(f"\n_{editor.classifier_problem}_")
    lines += [f"\n_{note}_" for note in result.photo.notes]  # e.g. only page 1 of a TIFF was read
    return "\n".join(lines)


def slider_labels(labels: Sequence[str], count: int) -> list[str]:
    """The direction sliders' labels: "Direction 1: <what it was measured to do>", or just the number."""
    return [f"Direction {k + 1}: {labels[k]}" if k < len(labels) else f"Direction {k + 1}" for k in range(count)]


def moved_reading(result: EditResult, readings: Sequence) -> str:
    """What the classifier reads in each edited face with the sliders as they are."""
    return "Reads now: " + ", ".join(f"Face {f.index + 1} **{r}**" for f, r in zip(result.faces, readings))
