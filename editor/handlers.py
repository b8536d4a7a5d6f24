"""What the page's controls do until an edit is shown: a photo's faces found, the edit
itself (the event handlers `app.build_demo` wires; what the controls do with a shown edit,
its sliders, close-up and download: result_handlers.py; a random face: random_handlers.py).

Each takes the (shared, read-only) `Editor` first and the visitor's `Session`
(kept in `gr.State`, see `session_store.py`) where it needs one, checks every
argument a client sends against the page's ranges before any work
(`validate.py`), and raises a visitor's mistake (bad file, no face) as
`gr.Error`, which an API client receives as an error; the page runs the same
handlers through `page_errors.in_page`, which writes the message once beside
the control it is about instead. The docstrings of the named endpoints (`edit`
here, `random` in random_handlers.py, `explore` in result_handlers.py) are their API documentation.
"""

from __future__ import annotations

import os
import threading
import warnings
from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image

from . import memory, validate
from .face_choice import main_faces
from .page_errors import USER_ERRORS, bad_argument, notice, refuse, user_error
from .page_images import (DOWNLOAD_FORMATS, closeup_boxes, display_size, face_thumbnail, on_white, write_closeup,
                          write_download)
from .page_text import download_name, edit_summary, face_caption, face_choices, faces_note
from .photo import Photo, read_photo
from .photo_output import output_metadata
from .recent import Recent
from .scratch import Scratch
from .result_handlers import show
from .session_store import Session, SessionStore


# The last upload, decoded: the page's face detection and the Edit after it (and each other
# expression tried) read the same file; a 24 MP JPEG takes 0.29 s to decode (README). One entry,
# so a 40 MP photo's 120 MB are held once at most.
_recent_uploads = Recent(1)
# What an image or file input of an event with preprocess=False passes: Gradio's FileData as a dict
# (the uploaded copy's path and the visitor's file name), a path, or None.
Upload = dict | str | None


def read_upload(payload: Upload) -> Photo | None:
    """The photo behind an image input of an event with `preprocess=False`, or None.

    Those events skip Gradio's own decoding, whose failures reach the page as a bare
    "Error"; `read_photo` names the file and says what is wrong with it instead."""
    if payload is None:
        return None
    path, name = _path_and_name(payload)
    try:
        stat = os.stat(path)
    except OSError:
        return read_photo(path, name=name)  # read_photo says what is wrong
    # The file's identity and version: a file written anew at that path is read anew. A Photo is
    # never changed in place by an edit, so one decoded copy can serve them all.
    key = (path, name, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return _recent_uploads.get(key, lambda: _read_only(read_photo(path, name=name)))


def _path_and_name(payload: Upload) -> tuple[str, str | None]:
    """An upload's file and the visitor's name for it (None when unknown)."""
    if isinstance(payload, dict):  # Gradio's FileData: the uploaded copy and the visitor's file name
        return payload["path"], payload.get("orig_name") or None
    return str(payload), None


def _read_only(photo):
    """`photo` with its pixels made read-only: a shared copy must not be written to."""
    for array in (photo.rgb, photo.alpha):
        if array is not None:
            array.setflags(write=False)
    return photo


# ---------------------------------------------------------------- handlers

# What the browsers' image boxes can show; a photo in another format (an iPhone's HEIC, a TIFF)
# opened with the "Open a photo file" button is shown and edited as a lossless PNG of its pixels.
BROWSER_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")


def open_photo_file(scratch: Scratch, payload: Upload) -> str:
    """A photo file chosen with the page's "Open a photo file" button, as the photo box takes it.

    The photo box itself drops a file the browser gives no image type (many browsers know no
    type for .heic), without a word, and cannot show a HEIC or TIFF. This button takes any file:
    a photo the browser can show goes to the photo box as it is; any other is decoded as an edit
    would decode it (upright, sRGB, 8-bit) and written as a PNG of the same name, with its alpha
    and its kept EXIF, so the box shows it and the edit and its download are of the same pixels."""
    try:
        photo = read_upload(payload)
    except USER_ERRORS as exc:
        raise user_error(exc) from None
    if photo is None:
        raise refuse("Choose a photo file.")
    if photo.format in BROWSER_FORMATS:
        return _path_and_name(payload)[0]
    pixels = photo.rgb if photo.alpha is None else np.dstack([photo.rgb, photo.alpha])
    return scratch.write(pixels, f"{Path(photo.name).stem or 'photo'}.png", compress_level=1,
                         **output_metadata(photo.exif))


def shown_in_browser(scratch: Scratch, payload: Upload) -> tuple[object, object]:
    """A photo dropped into the photo box: left as it is when the browser can show it, else (a
    HEIC or TIFF the browser accepted by its type) replaced by the PNG `open_photo_file` writes,
    whose arrival starts the face detection (`detect_faces` leaves the dropped file alone).
    Returns the box's value and the photo notice: skipped, unless the file cannot be converted."""
    if not will_be_swapped(payload):
        return gr.skip(), gr.skip()  # a file that cannot be read at all: the detection names it
    try:
        return open_photo_file(scratch, payload), gr.skip()
    except gr.Error as exc:
        return gr.skip(), notice(exc)


class ShownPhoto:
    """The file whose faces the page shows: one per session, a gr.State's value, which Gradio passes
    by reference. Its detection holds `lock`, so the photo box's two change events for one photo
    (the box fires twice for a photo a handler puts in, as the HEIC's PNG is) run one after the
    other and the second finds the first's file here, instead of both detecting at once (the
    handler runs two at a time, and a State passed in and returned is only updated at the end)."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.lock = threading.Lock()

    def __deepcopy__(self, memo: dict) -> ShownPhoto:  # Gradio copies a State's value per session
        return ShownPhoto()


def once_per_photo(fn, outputs: int):
    """`fn(photo)` for the photo box's change, with the session's `ShownPhoto`: a change to the file
    whose faces the page already shows (or is finding) leaves every output as it is."""
    def run(photo, shown: ShownPhoto):  # no functools.wraps: Gradio must see both inputs
        with shown.lock:
            if same_photo(photo, shown.path):
                return (gr.skip(),) * outputs
            result = fn(photo)
            shown.path = None if photo is None else _path_and_name(photo)[0]
        return result

    return run


def same_photo(payload: Upload, shown: str | None) -> bool:
    """Whether the photo box holds the file whose faces the page already shows."""
    return payload is not None and shown is not None and _path_and_name(payload)[0] == shown


def will_be_swapped(payload: Upload) -> bool:
    """Whether a photo dropped into the box is a file the browser cannot show but we can read
    (by its header: a HEIC, a TIFF), which `shown_in_browser` replaces by its PNG."""
    if payload is None:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. PIL's size warning: read_photo says it better
            with PIL.Image.open(_path_and_name(payload)[0]) as image:
                return image.format not in BROWSER_FORMATS
    except Exception:  # noqa: BLE001 - whatever is wrong with the file, the detection names it
        return False


def detect_faces(editor, photo: str | None):
    """Find the faces in a photo. Returns a gallery of numbered face thumbnails, each face's
    expression as the classifier reads it (and which faces are not ticked, and why), and the
    "faces to edit" choices with the faces a person means ticked (see `main_faces`)."""
    if will_be_swapped(photo):  # its PNG, on its way into the box, is detected instead
        return gr.skip(), gr.skip(), gr.skip()
    try:
        image = read_upload(photo)
        if image is None:
            return [], "", gr.CheckboxGroup(choices=[], value=[], visible=False)
        faces = editor.detect(image)
    except USER_ERRORS as exc:
        raise user_error(exc) from None
    readings = editor.face_expressions(image, faces) or [None] * len(faces)
    gallery = [(face_thumbnail(image.rgb, face.box), face_caption(i, reading))
               for i, (face, reading) in enumerate(zip(faces, readings))]
    choice = main_faces(faces)
    ticked = gr.CheckboxGroup(choices=face_choices(len(faces)), value=choice.chosen, visible=len(faces) > 1)
    listed = "\n\n".join([faces_note(readings, choice), *(f"_{note}_" for note in image.notes)]).strip()
    return gallery, listed, ticked


def edit_photo(editor, store: SessionStore, photo: str | None, expression: str, faces: list[int] | None,
               seed: float, steps: float, restarts: float, strength: float, blend_mode: str, model: str | None = None,
               download_format: str | None = None, brows: str | None = None, previous: Session | None = None,
               progress=gr.Progress(), *,
               full_size: bool = True) -> tuple:
    """Change the expression of the faces in a photo.

    Parameters:
        photo: the photo (JPEG, PNG, WebP, ...)
        expression: one of angry, disgust, fear, happy, sad, surprise, neutral (those with a generator)
        faces: 0-based face numbers, left to right; empty for every face
        seed: seed of the latent search, 0 to 4294967295 (same seed, same result)
        steps: inversion steps per restart, 5 to 500
        restarts: inversion restarts (the best one is kept), 1 to 16
        strength: how strong the expression is: 0 leaves the photo unchanged, 1 the full expression,
            up to 2 exaggerates it (default 1.75; the seed model: at most 1, and 1.75 there means its default 1)
        blend_mode: how the edit reaches the photo: "flow" (default), "difference" or "replace" for the
            conditional model; "alpha" or "poisson" for the seed model; empty (or "flow" with the seed
            model) for the model's default
        model: "conditional" (default: one generator for every expression, only the change reaches
            the photo) or "seed" (the seed's per-expression generators)
        download_format: the full-size edited photo's format: "PNG" (default, lossless) or "JPEG"
            (quality 95: a tenth of the time to write and a fifth of the size)
        brows: whether the brows and eyelids move with the expression (the conditional model's
            "flow"): "auto" (default: unless the face wears glasses, whose frames would bend),
            "move" or "still"
    Returns:
        (original, edited) display-sized images, the full-size edited photo (PNG or JPEG, with the
        original's EXIF but not its GPS position), and a summary
    """
    # (The page passes full_size=False: it writes the full-size photo only when the visitor asks for
    # it, result_handlers.make_download; at 24 MP a PNG takes 1.15 s to write.)
    # `previous` is the visitor's own edit so far (their gr.State, which API clients do not send):
    # the new edit replaces it in the store, so each visitor holds one live edit, not one per try.
    if photo is None:
        raise refuse("Upload a photo first (or pick one of the examples).")
    try:
        model = validate.one_of("model", model or editor.default_model, editor.models, editor.unavailable)
        download_format = validate.one_of("download_format", download_format or "PNG", DOWNLOAD_FORMATS)
        expression = validate.one_of("expression", expression, editor.expressions_of(model), editor.unavailable)
        strength, blend_mode = validate.model_defaults(model, editor.default_model, strength, blend_mode)
        options = validate.edit_options(faces=faces, seed=seed, steps=steps, restarts=restarts, strength=strength,
                                        blend_mode=blend_mode or None, model=model, brows=brows)
    except validate.ArgumentError as exc:
        raise bad_argument(exc) from None

    def report(fraction: float, message: str) -> None:
        progress(fraction, desc=message)

    try:
        result = editor.edit(read_upload(photo), expression, progress_fn=report, **options)
    except USER_ERRORS as exc:
        raise user_error(exc) from None
    # The photo goes to disk; the session keeps only what the sliders need. The previous edit ends
    # only now: a refused edit leaves the visitor's page and its edit as they were.
    session = store.add(result, replacing=previous)
    scratch = store.scratch
    original = on_white(result.original, result.photo.alpha)  # as the photo box shows it
    session.before = scratch.write(display_size(original), "original.jpg", folder=session.folder, quality=90)
    session.closeup_boxes = closeup_boxes([f.face.box for f in result.faces], result.photo.size)
    session.closeup_before = write_closeup(scratch, session.folder, original, session.closeup_boxes,
                                           "original.jpg")
    show(scratch, session, result.image)
    session.download_format = download_format
    if full_size:
        session.download = write_download(scratch, session.folder, result.image, download_name(result),
                                          download_format, result.photo.exif, result.photo.alpha)
    summary = edit_summary(editor, result)
    del result  # the photos are on disk now
    memory.trim()
    return (session.before, session.after), session.download or None, summary, session
