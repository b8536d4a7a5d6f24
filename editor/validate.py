"""Checks on what a client of the web API sends, before any work is done.

The page's controls only produce values in their ranges, but the named API
endpoints (`/edit`, `/explore`, `/random`) take whatever a client sends: "0" for
a face number, 30.0 for a count, 2**70 for a seed, 2000 inversion steps (which
would hold the single edit slot for a minute). Each check returns the value in
the type the editor wants or raises `ArgumentError`, whose message names the
argument, the allowed range and what was sent. The ranges are the page's: the
app builds its sliders from the same constants.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from .edits import BLEND_MODES, BROW_CHOICES, DEFAULT_STRENGTH, MAX_STRENGTH

STEPS = (5, 500)  # inversion steps per restart
RESTARTS = (1, 16)  # inversion restarts
STRENGTH = (0.0, MAX_STRENGTH["conditional"])  # how strong the expression is (past 1: exaggerated)
SEED = (0, 2**32 - 1)
TRUNCATION = (0.0, 1.0)  # z scaled towards the mean face: 0 draws only it, 1 the model's full variety
MAX_FACE_NUMBER = 9_999  # a bound on what a face number can be at all; each photo's count is checked later


class ArgumentError(ValueError):
    """An argument out of range or of the wrong kind; the message says which and what is allowed."""


def whole_number(name: str, value: object, low: int, high: int) -> int:
    """`value` (an int, a float without a fraction, or a string of either) as an int in [low, high]."""
    number = _as_number(name, value, "a whole number")
    if not low <= number <= high:
        raise ArgumentError(f"{name} must be a whole number from {low} to {high}, got {_shown(value)}")
    if not number.is_integer():
        raise ArgumentError(f"{name} must be a whole number, got {value!r}")
    return int(number)


def number(name: str, value: object, low: float, high: float) -> float:
    """`value` (a number, or a string of one) as a float in [low, high]."""
    result = _as_number(name, value, "a number")
    if not low <= result <= high:
        raise ArgumentError(f"{name} must be a number from {low:g} to {high:g}, got {_shown(value)}")
    return float(result)


def one_of(name: str, value: object, choices: Iterable[str], unavailable: Mapping[str, str] | None = None) -> str:
    """`value`, one of `choices`; one that is not but is in `unavailable` (a model whose
    checkpoint is missing or damaged) is refused with the reason given there."""
    choices = list(choices)
    if isinstance(value, str) and value in choices:
        return value
    if isinstance(value, str) and unavailable and value in unavailable:
        raise ArgumentError(f"the {value} model is unavailable: {unavailable[value]}")
    raise ArgumentError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def face_numbers(value: object) -> list[int] | None:
    """0-based face numbers, left to right: a list (or one) of whole numbers, as numbers or
    strings ("0", the form the API page shows). None or empty means every face: returns None."""
    if value is None or value == "" or (isinstance(value, (list, tuple)) and not value):
        return None
    items = value if isinstance(value, (list, tuple)) else [value]
    faces = [whole_number("each face number", item, 0, MAX_FACE_NUMBER) for item in items]
    return sorted(set(faces))


def face_number(value: object) -> int:
    return whole_number("face", value, 0, MAX_FACE_NUMBER)


def seed_number(value: object) -> int:
    return 0 if value is None else whole_number("seed", value, *SEED)


def amounts(values: Iterable[object], limit: float) -> list[float]:
    """Slider amounts amount_1, amount_2, ... each in [-limit, limit]; None counts as 0."""
    return [number(f"amount_{k}", 0.0 if v is None else v, -limit, limit) for k, v in enumerate(values, 1)]


def model_defaults(model: str, page_model: str, strength: object, blend_mode: object) -> tuple[object, object]:
    """`strength` and `blend_mode` as `edit_options` takes them for `model`: a client that names only
    the model gets the page's values for the rest (gradio_client fills them in), which are
    `page_model`'s defaults; for another model they mean that model's own defaults (None), so
    model="seed" alone is not refused for the conditional model's strength 1.75 and "flow"."""
    if model == page_model:
        return strength, blend_mode
    if strength == DEFAULT_STRENGTH[page_model] and strength != DEFAULT_STRENGTH[model]:
        strength = None
    if blend_mode == BLEND_MODES[page_model][0] and blend_mode not in BLEND_MODES[model]:
        blend_mode = None
    return strength, blend_mode


def edit_options(*, faces: object, seed: object, steps: object, restarts: object, strength: object,
                 blend_mode: object, model: str = "conditional", brows: object = None) -> dict:
    """The keyword arguments of `Editor.edit` for what an /edit request sent. None (or a
    missing value) means the default; anything else must be in the page's range."""
    return {
        "faces": face_numbers(faces),
        "seed": seed_number(seed),
        "steps": None if steps is None else whole_number("steps", steps, *STEPS),
        "restarts": None if restarts is None else whole_number("restarts", restarts, *RESTARTS),
        "strength": None if strength is None else number("strength", strength, STRENGTH[0],
                                                        MAX_STRENGTH[model]),
        "blend_mode": None if blend_mode is None else one_of(f"blend_mode (for the {model} model)", blend_mode,
                                                             BLEND_MODES[model]),
        "model": model,
        "brows": None if brows is None or brows == "" else one_of("brows", brows, BROW_CHOICES),
    }


def _as_number(name: str, value: object, kind: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ArgumentError(f"{name} must be {kind}, got {value!r}")
    if isinstance(value, int):
        return float(value) if abs(value) < 2**53 else math.copysign(math.inf, value)  # 2**70: out of range
    try:
        result = float(value)
    except ValueError:
        raise ArgumentError(f"{name} must be {kind}, got {value!r}") from None
    if math.isnan(result):
        raise ArgumentError(f"{name} must be {kind}, got {value!r}")
    return result


def _shown(value: object) -> str:
    """A value for a message: huge integers as powers of ten, not 22 digits."""
    if isinstance(value, int) and abs(value) >= 10**12:
        return f"{value:.3g}"
    return repr(value) if isinstance(value, str) else f"{value}"
