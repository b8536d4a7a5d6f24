"""The web UI, and the only module that imports Gradio.

`build_demo(editor)` lays out the page and wires plain functions to it; the
functions take the (shared, read-only) `Editor` first and keep per-visitor
state in `gr.State`, so one process serves many visitors. That state is a small
`Session` whose photo lies on disk, and only so many are kept
(`session_store.py`); every argument a client sends is checked against the
page's ranges before any work (`validate.py`). Launching belongs to
`python -m editor` (see `__main__.py`); Gradio 6 takes the theme and CSS there,
from `launch_options()`.

Named API endpoints (see the page's "Use via API" link):
- `/edit`    photo, expression, faces, seed, steps, restarts, strength, blend_mode
             -> (before, after) images, full-size PNG, a summary
- `/explore` face, amount_1..amount_6 -> (before, after) after moving that face's z
             along the expression's GANSpace directions (call `/edit` first, same client)
- `/random`  expression, seed, amount_1..amount_6 -> a generated 48x48 face, enlarged
"""

from __future__ import annotations

import inspect
import os
import time
from functools import partial
from pathlib import Path

import gradio as gr
import numpy as np
import PIL.Image

from gan.data import EXPRESSIONS

from . import memory, validate
from .directions import move
from .faces import NoFaceError
from .invert import DEFAULT_RESTARTS, DEFAULT_STEPS
from .photo import MAX_FILE_BYTES, PhotoError, read_photo
from .scratch import FILE_MAX_AGE, Scratch
from .session_store import MAX_SESSIONS, Session, SessionExpired, SessionStore

N_SLIDERS = 6  # GANSpace directions offered as sliders
SLIDER_RANGE = 3.0  # in standard deviations of z along each direction
MAX_FACES = 12  # face choices an API client may name without running detection first
DISPLAY_SIDE = 1280  # longest side of the images the page shows; downloads are full size
FACE_SIDE = 192  # 48x48 generated faces are shown enlarged to this
DOWNLOAD_DEBOUNCE = 0.3  # seconds without slider changes before the full-size PNG is written
REPO = Path(__file__).resolve().parents[1]
SHARED_PHOTOS = REPO.parent / "shared" / "data" / "photos"

TITLE = "Expression editor"
INTRO = ("Upload a photo, pick an expression and press **Edit**: a GAN trained on FER2013 redraws each face "
         "with that expression and blends it back into your photo. Then use the sliders to explore nearby faces.")
CSS = """
.gradio-container { max-width: 1280px !important; margin: auto; }
#intro { margin-bottom: 0.5rem; }
"""

USER_ERRORS = (PhotoError, NoFaceError, ValueError)  # messages written for people; shown in the page


def launch_options() -> dict:
    """The keyword arguments for `demo.launch()` that style the page (Gradio 6 takes them there)."""
    return {"theme": gr.themes.Soft(primary_hue="indigo"), "css": CSS, "max_file_size": MAX_FILE_BYTES}


# ---------------------------------------------------------------- small helpers

def display_size(image: np.ndarray, side: int = DISPLAY_SIDE) -> np.ndarray:
    """`image` shrunk so its longest side is at most `side` (the page never needs more)."""
    height, width = image.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(PIL.Image.fromarray(image).resize(size, PIL.Image.Resampling.BILINEAR, reducing_gap=2.0))


def enlarge(face: np.ndarray, side: int = FACE_SIDE) -> np.ndarray:
    """A [48, 48] uint8 face enlarged for the page."""
    return np.asarray(PIL.Image.fromarray(face).resize((side, side), PIL.Image.Resampling.LANCZOS))


def face_thumbnail(rgb: np.ndarray, box: tuple[float, float, float, float], side: int = 128) -> np.ndarray:
    """A square crop around a detected face with some margin, for the "faces found" gallery."""
    x1, y1, x2, y2 = box
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, 0.65 * max(x2 - x1, y2 - y1)
    height, width = rgb.shape[:2]
    left, top = int(max(0, cx - half)), int(max(0, cy - half))
    right, bottom = int(min(width, cx + half)), int(min(height, cy + half))
    crop = PIL.Image.fromarray(rgb[top:bottom, left:right])
    crop.thumbnail((side, side))
    return np.asarray(crop)


def face_choices(count: int) -> list[tuple[str, int]]:
    return [(f"Face {i + 1}", i) for i in range(count)]


def photo_stem(result) -> str:
    name = getattr(getattr(result, "photo", None), "name", None) or "photo"
    return Path(str(name)).stem or "photo"


def refuse(message: str, title: str = "Error") -> gr.Error:
    """A message for the visitor; the server log gets no traceback for a mistake they can fix."""
    return gr.Error(message, title=title, print_exception=False)


def user_error(exc: Exception) -> gr.Error:
    return refuse(str(exc), "Cannot use this photo" if isinstance(exc, (PhotoError, NoFaceError)) else "Error")


def bad_argument(exc: validate.ArgumentError) -> gr.Error:
    """An API argument out of range or of the wrong kind (the page's own controls never send one)."""
    return refuse(str(exc), "Invalid argument")


def _mapped(session: Session | None):
    """The session's edit with its photo mapped in from disk; None when there is none or it expired."""
    if session is None:
        return None
    try:
        return session.result
    except SessionExpired:
        return None


def read_upload(payload):
    """The photo behind an image input of an event with `preprocess=False`, or None.

    Those events skip Gradio's own decoding, whose failures reach the page as a bare
    "Error"; `read_photo` names the file and says what is wrong with it instead."""
    if payload is None:
        return None
    if isinstance(payload, dict):  # Gradio's FileData: the uploaded copy and the visitor's file name
        return read_photo(payload["path"], name=payload.get("orig_name") or None)
    return read_photo(str(payload))


def _amounts(values) -> list[float]:
    return [float(v or 0.0) for v in values]


# ---------------------------------------------------------------- handlers

def detect_faces(editor, photo: str | None):
    """Find the faces in a photo. Returns a gallery of numbered face thumbnails, each face's
    expression as the classifier reads it, and the "faces to edit" choices (all ticked)."""
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
    choices = face_choices(len(faces))
    ticked = gr.CheckboxGroup(choices=choices, value=[value for _, value in choices], visible=len(faces) > 1)
    # The gallery's captions are cut to the thumbnail's width; the readings also go below it in full.
    listed = " · ".join(face_caption(i, r) for i, r in enumerate(readings)) if readings and readings[0] is not None else ""
    listed = "\n\n".join([listed, *(f"_{note}_" for note in image.notes)]).strip()
    return gallery, listed, ticked


def edit_photo(editor, store: SessionStore, photo: str | None, expression: str, faces: list[int] | None,
               seed: float, steps: float, restarts: float, strength: float, blend_mode: str,
               progress=gr.Progress()):
    """Change the expression of the faces in a photo.

    Parameters:
        photo: the photo (JPEG, PNG, WebP, ...)
        expression: one of angry, disgust, fear, happy, sad, surprise, neutral (those with a generator)
        faces: 0-based face numbers, left to right; empty for every face
        seed: seed of the latent search, 0 to 4294967295 (same seed, same result)
        steps: inversion steps per restart, 5 to 500
        restarts: inversion restarts (the best one is kept), 1 to 16
        strength: how much of the generated face to blend in, 0-1
        blend_mode: "alpha" or "poisson"
    Returns:
        (original, edited) display-sized images, the full-size edited photo as PNG, and a summary
    """
    if photo is None:
        raise refuse("Upload a photo first (or pick one of the examples).")
    try:
        expression = validate.one_of("expression", expression, editor.expressions, editor.unavailable)
        options = validate.edit_options(faces=faces, seed=seed, steps=steps, restarts=restarts, strength=strength,
                                        blend_mode=blend_mode)
    except validate.ArgumentError as exc:
        raise bad_argument(exc) from None

    def report(fraction: float, message: str) -> None:
        progress(fraction, desc=message)

    try:
        result = editor.edit(read_upload(photo), expression, progress_fn=report, **options)
    except USER_ERRORS as exc:
        raise user_error(exc) from None
    session = store.add(result)  # the photo goes to disk; the session keeps only what the sliders need
    scratch = store.scratch
    session.before = scratch.write(display_size(result.original), "original.jpg", folder=session.folder, quality=90)
    after = scratch.write(display_size(result.image), "edited.jpg", folder=session.folder, quality=90)
    download = scratch.write(result.image, f"{photo_stem(result)}_{expression}.png", folder=session.folder,
                             compress_level=1)
    summary = edit_summary(editor, result)
    del result  # the photos are on disk now
    memory.trim()
    return (session.before, after), download, summary, session


def face_caption(index: int, reading) -> str:
    """ "Face 1: neutral 64%" (the classifier's reading), or "Face 1" without a classifier."""
    return f"Face {index + 1}" if reading is None else f"Face {index + 1}: {reading}"


def edit_summary(editor, result) -> str:
    """What was done, and what the expression classifier reads before and after each face."""
    lines = [f"**{result.expression}**: edited {len(result.faces)} face(s)."]
    for f in result.faces:
        line = f"- Face {f.index + 1}: "
        if f.before is not None and f.after is not None:
            target = f.after.probabilities.get(result.expression, 0.0)
            line += (f"reads as **{f.before}** before, **{f.after}** after "
                     f"({result.expression} {target:.0%}); ")
        lines.append(line + f"reconstruction loss {f.loss:.3f}")
    if editor.classifier is None and editor.classifier_problem:
        lines.append(f"\n_{editor.classifier_problem}_")
    lines += [f"\n_{note}_" for note in result.photo.notes]  # e.g. only page 1 of a TIFF was read
    return "\n".join(lines)


def prepare_explore(editor, session: Session | None):
    """After an edit: the download button, the face chooser, sliders at 0 labelled with their
    share of variance, and the generator's view of each face (aligned crop -> generated)."""
    if session is None:
        return [gr.skip()] * (5 + N_SLIDERS)
    result = session.edit
    directions = editor.directions(result.expression)
    choices = [(f"Face {f.index + 1}", f.index) for f in result.faces]
    crops = []
    for f in result.faces:
        seen = f" (reads {f.before})" if f.before is not None else ""
        crops += [(enlarge(f.aligned), f"Face {f.index + 1}: from the photo{seen}"),
                  (enlarge(f.generated), f"Face {f.index + 1}: generated ({result.expression})")]
    sliders = [gr.Slider(value=0.0, label=f"Direction {k + 1}",
                         info=f"{directions.explained_variance_ratio[k]:.1%} of the generator's variation")
               for k in range(N_SLIDERS)]
    face = gr.Dropdown(choices=choices, value=choices[0][1], visible=len(choices) > 1)
    return gr.DownloadButton(visible=True), gr.Column(visible=True), face, crops, "", *sliders


def explore(editor, scratch: Scratch, session: Session | None, face: int | None, *amounts: float):
    """Move one edited face along the expression's GANSpace directions (no new inversion).

    Parameters:
        face: 0-based face number (as in /edit); empty for the first edited face
        amount_1: distance along direction 1, in standard deviations (-3..3); likewise amount_2..amount_6
    Returns:
        (original, edited) display-sized images
    """
    if session is None:
        raise refuse("Edit a photo first; the sliders move the faces of the last edit.")
    try:
        result = session.result
        face = None if face is None else validate.face_number(face)
        values = validate.amounts(amounts, SLIDER_RANGE)
    except SessionExpired as exc:
        raise refuse(str(exc)) from None
    except validate.ArgumentError as exc:
        raise bad_argument(exc) from None
    edited = {f.index: f for f in result.faces}
    face = next(iter(edited)) if face is None else face
    if face not in edited:
        raise refuse(f"Face {face + 1} was not edited; choose one of "
                       f"{', '.join(str(i + 1) for i in edited)}.")
    session.amounts[face] = values
    directions = editor.directions(result.expression)
    zs = {i: move(edited[i].z, directions, a) for i, a in session.amounts.items() if any(a)}
    image = editor.render(result, zs)  # with no moves, the edit itself
    after = store_display(scratch, session, image)
    return (session.before, after), session


def store_display(scratch: Scratch, session: Session, image: np.ndarray) -> str:
    """A display-sized JPEG of `image` in the session's folder (which goes with the session)."""
    return scratch.write(display_size(image), "edited.jpg", folder=session.folder, quality=90)


def save_download(editor, scratch: Scratch, session: Session | None, face: int | None, *amounts: float):
    """The full-size PNG of the photo with the sliders as they are now.

    Every slider change asks for one (mouse, keyboard, reset, face switch), with
    the slider values themselves, so it never races the image updates; only the
    last request of a burst writes the file, so dragging stays fast."""
    if session is None or not session.edit.faces:
        return gr.skip()
    with session.lock:
        session.download_requests += 1
        mine = session.download_requests
    time.sleep(DOWNLOAD_DEBOUNCE)
    if session.download_requests != mine:
        return gr.skip()  # a newer request will write it
    result = _mapped(session)
    if result is None:
        return gr.skip()
    image = _render_with_sliders(editor, session, result, face, amounts)
    return scratch.write(image, f"{photo_stem(session.edit)}_{session.edit.expression}.png", folder=session.folder,
                         compress_level=1)


def _render_with_sliders(editor, session: Session, result, face: int | None, amounts) -> np.ndarray:
    """The photo with `face` at these slider values and every other face as last moved
    (`result`: the session's edit, with its photo)."""
    edited = {f.index: f for f in result.faces}
    face = next(iter(edited)) if face is None else int(face)
    current = {**session.amounts, face: _amounts(amounts)}
    directions = editor.directions(result.expression)
    zs = {i: move(edited[i].z, directions, a) for i, a in current.items() if i in edited and any(a)}
    return editor.render(result, zs)


def read_moved_faces(editor, session: Session | None, face: int | None, *amounts: float):
    """What the expression classifier reads in each edited face with the sliders as they are."""
    result = _mapped(session)
    if result is None or not result.faces or editor.classifier is None:
        return gr.skip()
    readings = editor.read_edited(result, _render_with_sliders(editor, session, result, face, amounts))
    return "Reads now: " + ", ".join(f"Face {f.index + 1} **{r}**" for f, r in zip(result.faces, readings))


def reset_sliders(editor, scratch: Scratch, session: Session | None):
    """Every face back to the edit's result; sliders to 0."""
    result = _mapped(session)
    if result is None:
        return [gr.skip()] * (2 + N_SLIDERS)
    session.amounts.clear()
    after = store_display(scratch, session, editor.render(result, {}))
    return (session.before, after), session, *([0.0] * N_SLIDERS)


def show_face_amounts(session: Session | None, face: int | None):
    """The sliders show the chosen face's own amounts."""
    values = session.amounts.get(face, [0.0] * N_SLIDERS) if session is not None and face is not None else None
    return [gr.skip()] * N_SLIDERS if values is None else list(values)


def random_face(editor, expression: str, seed: float, *amounts: float):
    """A face drawn by an expression's generator from random z, moved along its GANSpace directions.

    Parameters:
        expression: one of the expressions with a generator
        seed: seed of z ~ N(0, I)
        amount_1: distance along direction 1, in standard deviations (-3..3); likewise amount_2..amount_6
    Returns:
        the 48x48 face, enlarged
    """
    try:
        expression = validate.one_of("expression", expression, editor.expressions, editor.unavailable)
        seed = validate.seed_number(seed)
        values = validate.amounts(amounts, SLIDER_RANGE)
    except validate.ArgumentError as exc:
        raise bad_argument(exc) from None
    z = editor.random_z(expression, seed)  # [1, nz]
    if any(values):
        z = move(z, editor.directions(expression), values)
    return enlarge(editor.generate(expression, z))


def example_photos(folder: Path) -> list[str]:
    """skimage's astronaut (written to `folder`) and the shared test photos when they are beside the repo."""
    photos = []
    try:
        from skimage import data

        path = folder / "astronaut.png"
        PIL.Image.fromarray(data.astronaut()).save(path)
        photos.append(str(path))
    except (ImportError, OSError):
        pass
    for name in ("fr_obama.jpg", "fr_two_people.jpg"):
        if (SHARED_PHOTOS / name).is_file():
            photos.append(str(SHARED_PHOTOS / name))
    return photos


# ---------------------------------------------------------------- the page

def build_demo(editor, *, max_sessions: int = MAX_SESSIONS) -> gr.Blocks:
    """The whole page for a loaded `Editor`; call `.queue()`/`.launch()` on the result.

    At most `max_sessions` visitors' edits are kept for the sliders (see `session_store`)."""
    # In Gradio's cache folder, the files we write are served in place, not copied into it.
    scratch = Scratch(parent=Path(gr.utils.get_upload_folder()))
    store = SessionStore(scratch, max_sessions=max_sessions)
    expressions = list(editor.expressions)
    default_expression = "happy" if "happy" in expressions else expressions[0]
    direction_slider = partial(gr.Slider, minimum=-SLIDER_RANGE, maximum=SLIDER_RANGE, step=0.05, value=0.0)

    with gr.Blocks(title=TITLE, delete_cache=(FILE_MAX_AGE // 4, FILE_MAX_AGE),
                   analytics_enabled=analytics_enabled()) as demo:
        demo.scratch = scratch  # the folder lives as long as the demo
        demo.sessions = store
        gr.Markdown(f"# {TITLE}\n{INTRO}", elem_id="intro")
        if editor.unavailable:  # damaged or missing checkpoints: the rest of the app works
            gr.Markdown("\n".join(f"- The **{name}** model is unavailable: {problem}"
                                  for name, problem in editor.unavailable.items()), elem_id="unavailable")
        missing = [e for e in EXPRESSIONS if e not in expressions and e not in editor.unavailable]
        if missing:
            gr.Markdown(f"Not available (no trained generator): {', '.join(missing)}. "
                        "Train them with `python -m gan train --expression all` (see README).")

        with gr.Tab("Edit a photo"):
            # This visitor's Session; its files go with it.
            session = gr.State(None, time_to_live=FILE_MAX_AGE, delete_callback=store.drop)
            with gr.Row(equal_height=False):
                with gr.Column(scale=2):
                    photo = gr.Image(label="Photo", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                                     height=320, elem_id="photo")
                    examples = example_photos(scratch.dir)
                    if examples:
                        gr.Examples(examples=[[p] for p in examples], inputs=[photo], label="Example photos")
                    faces_found = gr.Gallery(label="Faces found", columns=6, height=170, allow_preview=False,
                                             fit_columns=False, object_fit="contain", interactive=False,
                                             elem_id="faces-found")
                    faces_read = gr.Markdown(elem_id="faces-read")  # what the classifier reads in each face
                    faces = gr.CheckboxGroup(face_choices(MAX_FACES), value=[], label="Faces to edit", visible=False,
                                             info="none ticked: every face", elem_id="faces")
                    expression = gr.Radio(expressions, value=default_expression, label="Expression",
                                          elem_id="expression")
                    with gr.Row():
                        seed = gr.Number(0, label="Seed", precision=0, minimum=validate.SEED[0],
                                         maximum=validate.SEED[1], scale=1)
                        edit_button = gr.Button("Edit", variant="primary", scale=2, elem_id="edit-button")
                    with gr.Accordion("Advanced settings", open=False):
                        steps = gr.Slider(*validate.STEPS, value=DEFAULT_STEPS, step=5, label="Inversion steps",
                                          info="more: closer to the photo's face, slower")
                        restarts = gr.Slider(*validate.RESTARTS, value=DEFAULT_RESTARTS, step=1, label="Restarts",
                                             info="independent searches; the best is kept")
                        strength = gr.Slider(*validate.STRENGTH, value=1.0, step=0.05, label="Blend strength")
                        blend_mode = gr.Radio(list(validate.BLEND_MODES), value="alpha", label="Blend mode",
                                              info="poisson matches the photo's lighting at the seams")
                with gr.Column(scale=3):
                    result = gr.ImageSlider(label="Before / after", type="filepath", height=520,
                                            buttons=["fullscreen"], interactive=False, elem_id="result")
                    summary = gr.Markdown(elem_id="summary")
                    download = gr.DownloadButton("Download full-size PNG", visible=False, elem_id="download")
                    with gr.Column(visible=False) as explore_panel:
                        gr.Markdown("### Explore nearby faces\nEach slider moves the face along one of the "
                                    "generator's main directions of variation (GANSpace).")
                        explore_face = gr.Dropdown(face_choices(MAX_FACES), value=0, label="Face to move",
                                                   visible=False)
                        sliders = [direction_slider(label=f"Direction {k + 1}", elem_id=f"direction-{k + 1}")
                                   for k in range(N_SLIDERS)]
                        reading = gr.Markdown(elem_id="reading")
                        reset = gr.Button("Reset sliders")
                        with gr.Accordion("What the generator saw", open=False):
                            crops = gr.Gallery(columns=4, height=240, object_fit="contain", fit_columns=False,
                                               show_label=False)

        with gr.Tab("Random faces"):
            gr.Markdown("Faces the generators draw from random latent vectors; the sliders move along the "
                        "same directions as in the editor.")
            with gr.Row(equal_height=False):
                with gr.Column(scale=1):
                    random_expression = gr.Radio(expressions, value=default_expression, label="Expression")
                    with gr.Row():
                        random_seed = gr.Number(0, label="Seed", precision=0, minimum=validate.SEED[0],
                                                maximum=validate.SEED[1])
                        new_face = gr.Button("New face")
                    random_sliders = [direction_slider(label=f"Direction {k + 1}") for k in range(N_SLIDERS)]
                    random_reset = gr.Button("Reset sliders")
                with gr.Column(scale=1):
                    random_image = gr.Image(label="Generated face", format="png", height=FACE_SIDE + 40,
                                            buttons=["download"], interactive=False, elem_id="random-face")

        # -- edit tab
        photo.change(partial(detect_faces, editor), photo, [faces_found, faces_read, faces], api_name="detect",
                     api_visibility="undocumented", concurrency_limit=2, preprocess=False)
        edit_event = edit_button.click(
            partial(edit_photo, editor, store),
            [photo, expression, faces, seed, steps, restarts, strength, blend_mode],
            [result, download, summary, session], api_name="edit", api_description=_summary(edit_photo),
            concurrency_id="edit", concurrency_limit=1, preprocess=False)
        edit_event.success(partial(prepare_explore, editor), session,
                           [download, explore_panel, explore_face, crops, reading, *sliders],
                           api_visibility="private")
        gr.on([s.input for s in sliders], partial(explore, editor, scratch), [session, explore_face, *sliders],
              [result, session], api_name="explore", api_description=_summary(explore),
              trigger_mode="always_last", show_progress="hidden", concurrency_id="render", concurrency_limit=2)
        gr.on([s.change for s in sliders], partial(save_download, editor, scratch), [session, explore_face, *sliders],
              download, api_visibility="private", trigger_mode="multiple", show_progress="hidden",
              concurrency_limit=None)  # requests mostly sleep (debounce)
        gr.on([s.change for s in sliders], partial(read_moved_faces, editor), [session, explore_face, *sliders],
              reading, api_visibility="private", trigger_mode="always_last", show_progress="hidden",
              concurrency_id="reading", concurrency_limit=1)
        reset.click(partial(reset_sliders, editor, scratch), session, [result, session, *sliders], api_visibility="private",
                    show_progress="hidden")
        explore_face.change(show_face_amounts, [session, explore_face], sliders, api_visibility="private",
                            show_progress="hidden")

        # -- random tab
        random_inputs = [random_expression, random_seed, *random_sliders]
        gr.on([demo.load, random_expression.change, random_seed.change, *[s.input for s in random_sliders]],
              partial(random_face, editor), random_inputs, random_image, api_name="random",
              api_description=_summary(random_face), trigger_mode="always_last", show_progress="hidden",
              concurrency_id="render", concurrency_limit=2)
        new_face.click(lambda s: (int(s or 0) + 1) % (validate.SEED[1] + 1), random_seed, random_seed,
                       api_visibility="private")
        random_reset.click(lambda *a: [0.0] * N_SLIDERS, None, random_sliders, api_visibility="private").then(
            partial(random_face, editor), random_inputs, random_image, api_visibility="private")
    return demo


def analytics_enabled() -> bool:
    """Gradio's usage reports are off (an offline tool); GRADIO_ANALYTICS_ENABLED=True turns them on."""
    return os.environ.get("GRADIO_ANALYTICS_ENABLED", "").strip().lower() in ("1", "true", "yes")


def _summary(fn) -> str:
    """A handler's docstring, for the API page."""
    return inspect.cleandoc(fn.__doc__ or "")
