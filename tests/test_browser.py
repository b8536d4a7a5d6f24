"""What a person does in the page, in headless Chromium: upload, choose, edit, move a slider, upload
another photo, make a mistake."""

from __future__ import annotations

import io
import re
import shutil
import statistics
import time
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from editor.app import build_demo
from editor.photo import Photo, read_photo

from .app_server import loaded_editor, serve
from .conftest import CHECKPOINTS, PHOTOS, REPO, photo_with_a_bystander, requires

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                       reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)"),
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OBAMA = PHOTOS / "fr_obama.jpg"
OBAMA_SMALL = PHOTOS / "fr_obama_small.jpg"
TWO_PEOPLE = PHOTOS / "fr_two_people.jpg"
SCREENSHOT = REPO / "assets" / "app_screenshot.png"


@pytest.fixture(scope="module")
def served(checkpoints, tmp_path_factory):
    """The page's address and the editor behind it (served from this process)."""
    with loaded_editor(checkpoints, tmp_path_factory) as editor, serve(build_demo(editor)) as address:
        yield address, editor


@pytest.fixture(scope="module")
def url(served):
    return served[0]


@pytest.fixture
def page(url):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)  # an edit on a busy 2-core CPU
            page.goto(url)
            yield page
        finally:
            browser.close()


def after_image(page) -> tuple[str, bytes]:
    """The src and bytes of the "after" half of the before/after slider."""
    src = page.locator("#result img").nth(1).get_attribute("src")
    return src, page.request.get(src).body()


def download(page) -> np.ndarray:
    """Press the download button; the PNG it saves, as pixels."""
    with page.expect_download() as info:
        page.locator("#download").click()
    image = PIL.Image.open(info.value.path())
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB")).astype(np.int16)


def upload(page, path) -> None:
    page.locator("#photo input[type=file]").set_input_files(path)


def fast_settings(page) -> None:
    """Fewer inversion steps and restarts (Advanced settings), so edits are quick on a busy CPU."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    steps = page.locator("#steps input[type=number]")
    for _ in range(5):  # a click while the page is still starting up can be lost
        page.get_by_text("Advanced settings").click()
        try:
            steps.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    for slider, value in (("#steps", "10"), ("#restarts", "1")):
        number = page.locator(f"{slider} input[type=number]")
        number.fill(value)
        number.press("Enter")


def visible_srcs(page, selector: str = "img") -> set[str]:
    """The images the page shows (those matching `selector`), by their addresses."""
    return set(page.eval_on_selector_all(selector, "els => els.filter(e => e.offsetParent).map(e => e.src)"))


@requires(OBAMA)
def test_upload_edit_and_explore(page, checkpoints, tmp_path, request):
    page.locator("#photo input[type=file]").set_input_files(OBAMA)
    page.locator("#faces-found img").first.wait_for()  # the face was found
    if (checkpoints / "classifier.safetensors").exists():  # captioned with its expression, e.g. "Face 1: happy 83%"
        page.locator("#faces-read").get_by_text(re.compile(r"Face 1: [a-z]+ \d+%")).wait_for()
    page.locator("#expression label", has_text="surprise").click()
    page.locator("#edit-button").click()

    slider = page.locator("#direction-1 input[type=range]")
    slider.wait_for(state="visible")  # the sliders appear with the result
    src, edited = after_image(page)
    assert page.locator("#result img").count() == 2  # before and after
    summary = page.locator("#summary").inner_text()
    assert "surprise" in summary
    if (checkpoints / "classifier.safetensors").exists():
        assert "reads as" in summary
    first_png = download(page)
    assert first_png.shape[:2] == PIL.Image.open(OBAMA).size[::-1]  # full size

    slider.focus()  # as a person does with the keyboard: each press is one input event
    latencies = []
    for _ in range(5):
        before_src = page.locator("#result img").nth(1).get_attribute("src")
        start = time.perf_counter()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "old => document.querySelectorAll('#result img')[1].getAttribute('src') !== old", arg=before_src)
        latencies.append(time.perf_counter() - start)
    for _ in range(25):  # a longer move, in a burst
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('#direction-1 input[type=number]').value >= 1.4")
    print(f"slider step to new image in the page: median {statistics.median(latencies) * 1000:.0f} ms "
          f"({', '.join(f'{t * 1000:.0f}' for t in latencies)})")

    # Once the slider rests, the page shows the moved face, and the download (written when pressed) is that photo.
    deadline = time.monotonic() + 60
    while True:
        moved_src, moved = after_image(page)
        shown = np.asarray(PIL.Image.open(io.BytesIO(moved)).convert("RGB")).astype(np.int16)
        png = download(page)
        if png.shape == shown.shape and np.abs(png - shown).mean() < 3 and not np.array_equal(png, first_png):
            break  # (the page shows a JPEG of the PNG)
        assert time.monotonic() < deadline, "the download never caught up with the sliders"
        time.sleep(0.5)
    assert moved_src != src and moved != edited

    # After the edit, the Strength slider re-renders the photo and moves the surprise slider with it.
    strength_src = page.locator("#result img").nth(1).get_attribute("src")
    page.locator("#strength input[type=range]").focus()
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function("old => document.querySelectorAll('#result img')[1].getAttribute('src') !== old",
                           arg=strength_src)
    page.wait_for_function("() => document.querySelector('#weight-surprise input[type=number]').value < 1.75")

    # The faces close up, cut from the full-size photo: before, and after as the sliders left it.
    page.locator("#closeup img").nth(1).wait_for()
    closeup_after = page.locator("#closeup img").nth(1).get_attribute("src")
    assert page.request.get(closeup_after).ok
    page.get_by_text("Reset sliders").click()
    page.wait_for_function("old => document.querySelectorAll('#closeup img')[1].getAttribute('src') !== old",
                           arg=closeup_after)
    page.wait_for_function("() => document.querySelector('#strength input[type=number]').value == 1.75")

    # "What the generator saw": each caption in full (they were cut to "Face 1: ..."), taking no more
    # room than the line breaks need.
    page.get_by_text("What the generator saw").click()
    caption = page.locator("#crops .caption-label").first
    caption.wait_for()
    assert caption.inner_text().startswith("Face 1: from the photo")
    assert page.evaluate("el => el.scrollWidth <= el.clientWidth", caption.element_handle())
    page.get_by_text("What the generator saw").click()  # closed again, as the README's picture shows it

    page.screenshot(path=tmp_path / "app_screenshot.png", full_page=True)
    # The README's picture changes only when asked (a test run never edits tracked files), and it
    # shows the shipped generators, never stand-ins.
    if request.config.getoption("--update-screenshot") and checkpoints == CHECKPOINTS:
        shutil.copy(tmp_path / "app_screenshot.png", SCREENSHOT)


@requires(OBAMA_SMALL, TWO_PEOPLE)
def test_a_new_photo_leaves_nothing_of_the_previous_result(page):
    from playwright.sync_api import expect
    fast_settings(page)
    upload(page, OBAMA_SMALL)  # photo A
    page.locator("#faces-found img").first.wait_for()
    page.locator("#edit-button").click()
    page.locator("#direction-1 input[type=range]").wait_for(state="visible")
    page.locator("#download").wait_for(state="visible")
    summary_a = page.locator("#summary").inner_text()
    assert "edited 1 face" in summary_a
    page.get_by_text("What the generator saw").click()
    page.locator("#crops img").nth(1).wait_for()
    page.locator("#closeup img").nth(1).wait_for()
    result_a = visible_srcs(page, "#photo img, #faces-found img, #result img, #closeup img, #crops img")
    assert len(visible_srcs(page, "#result img")) == 2 and len(visible_srcs(page, "#crops img")) >= 2
    assert len(visible_srcs(page, "#closeup img")) == 2
    assert len(result_a) >= 8  # the photo, its face, before and after, close up, and the generator's view

    upload(page, TWO_PEOPLE)  # photo B: everything of A's result goes at once
    page.locator("#faces-found img").nth(1).wait_for()  # B's two faces
    expect(page.locator("#result img")).to_have_count(0)  # no before/after
    expect(page.locator("#summary")).not_to_contain_text("edited")  # no summary of A's edit
    expect(page.locator("#download")).to_be_hidden()  # no way to download A's edit
    expect(page.locator("#direction-1")).to_be_hidden()
    expect(page.locator("#closeup")).to_be_hidden()
    expect(page.locator("#reading")).to_be_hidden()
    assert not visible_srcs(page) & result_a  # no image of A or its result anywhere
    assert not page.locator("#crops").is_visible()

    page.locator("#edit-button").click()  # and B edits as usual
    page.wait_for_function("() => document.querySelector('#summary').innerText.includes('edited 2 face')")
    page.locator("#download").wait_for(state="visible")
    assert not visible_srcs(page) & result_a


@requires(OBAMA_SMALL, TWO_PEOPLE)
def test_an_error_shows_once_beside_its_control_and_stays_until_the_next_action(page, tmp_path):
    from playwright.sync_api import expect  # assertions that wait for the page, never a fixed instant

    fake = tmp_path / "holiday.jpg"  # the browser accepts it by its name; the server reads it
    fake.write_text("not really a photo")
    upload(page, fake)
    message = page.locator("#photo-notice").get_by_text("holiday.jpg is not an image we can read")
    message.wait_for()
    time.sleep(12)  # longer than a pop-up stays: the notice must still be there after it
    expect(message).to_be_visible(timeout=1)
    expect(page.get_by_text("is not an image we can read")).to_have_count(1)  # once, not also as a pop-up
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^Error$"))).to_have_count(0)  # no empty red "Error" badge

    upload(page, TWO_PEOPLE)  # the next action clears it
    page.locator("#faces-found img").nth(1).wait_for()
    expect(page.locator("#photo-notice p")).to_have_count(0, timeout=60_000)

    page.locator("#photo").get_by_role("button", name="Remove Image").click()  # no photo, then Edit
    # As a person would, press Edit once the photo is gone: the faces of the removed photo have
    # left the gallery, so the removal (which clears every notice) has been handled. Pressed
    # before that, the removal's late clearing could take the Edit's notice with it.
    expect(page.locator("#faces-found img")).to_have_count(0, timeout=60_000)
    page.locator("#edit-button").click()
    hint = page.locator("#edit-notice").get_by_text("Upload a photo first")
    hint.wait_for()
    time.sleep(5)
    expect(hint).to_be_visible(timeout=1)
    expect(page.get_by_text("Upload a photo first")).to_have_count(1)
    expect(page.locator(".toast-body")).to_have_count(0)

    upload(page, OBAMA_SMALL)  # the next action clears it
    page.locator("#faces-found img").first.wait_for()
    expect(page.locator("#edit-notice p")).to_have_count(0, timeout=60_000)


@requires(TWO_PEOPLE)
def test_the_faces_ticked_by_default_skip_a_tiny_bystander(page, tmp_path):
    upload(page, photo_with_a_bystander(tmp_path))
    page.locator("#faces-found img").nth(2).wait_for()  # three faces found
    boxes = page.locator("#faces input[type=checkbox]")
    assert [boxes.nth(i).is_checked() for i in range(3)] == [True, False, True]
    note = page.locator("#faces-read").inner_text()
    assert re.search(r"Not ticked: Face 2 \(small: \d+ px wide, \d+% of the largest face\)", note), note
    boxes.nth(1).check()  # one click changes the choice
    assert boxes.nth(1).is_checked()


@requires(TWO_PEOPLE)
def test_editing_only_the_second_face_of_two_raises_no_error(page):
    """The sliders' chooser narrows to the edited faces: the events the edit sets off must not
    carry its old value (Face 1) into Gradio's check ("Value: 0 is not in the list of choices")."""
    from playwright.sync_api import expect

    fast_settings(page)
    upload(page, TWO_PEOPLE)
    page.locator("#faces-found img").nth(1).wait_for()
    page.locator("#faces input[type=checkbox]").nth(0).uncheck()
    page.locator("#edit-button").click()
    page.wait_for_function("() => document.querySelector('#summary').innerText.includes('edited 1 face')")
    expect(page.locator("#reading")).to_contain_text("Reads now", timeout=60_000)  # the reading came back
    expect(page.locator(".toast-body")).to_have_count(0)
    expect(page.get_by_text("not in the list of choices")).to_have_count(0)


@requires(OBAMA_SMALL)
def test_an_iphone_heic_photo_uploaded_as_image_heic_finds_its_face_once(page, served, tmp_path, monkeypatch):
    heic = tmp_path / "IMG_0001.HEIC"
    PIL.Image.open(OBAMA_SMALL).save(heic, "HEIF", quality=90)
    editor, detected = served[1], []
    detect = editor.detect
    size = PIL.Image.open(OBAMA_SMALL).size

    def counted(image, **kwargs):  # only this photo's: an earlier test's page may still be detecting
        photo = image if isinstance(image, Photo) else read_photo(image)
        detected.extend([1] if photo.rgb.shape[1::-1] == size else [])
        return detect(image, **kwargs)

    monkeypatch.setattr(editor, "detect", counted)
    # as a browser that knows the type labels the file (Chromium shows no preview of it)
    page.locator("#photo input[type=file]").set_input_files(
        {"name": heic.name, "mimeType": "image/heic", "buffer": heic.read_bytes()})
    # the box, which cannot show a HEIC, shows the PNG of its pixels the edit will use; the
    # swap is the same photo: its faces, found as the HEIC arrived, stay (no second detection)
    page.wait_for_function("() => (document.querySelector('#photo img')?.getAttribute('src') || '')"
                           ".endsWith('IMG_0001.png')")
    page.wait_for_function("() => /Face 1/.test(document.querySelector('#faces-read')?.innerText || '')")
    page.locator("#faces-found img").first.wait_for()
    shown = page.locator("#photo img").first
    assert shown.evaluate("img => img.complete && img.naturalWidth") == PIL.Image.open(OBAMA_SMALL).width
    # an edit queued after the swap ends after any detection the swap queued had started
    fast_settings(page)
    page.locator("#edit-button").click()
    page.locator("#direction-1 input[type=range]").wait_for(state="visible")
    assert len(detected) == 2  # the photo once (not the HEIC and its PNG, nor the PNG twice), and the edit


@requires(OBAMA_SMALL)
def test_a_heic_the_browser_knows_no_type_for_opens_with_the_open_file_button(page, tmp_path):
    heic = tmp_path / "IMG_0002.HEIC"
    PIL.Image.open(OBAMA_SMALL).save(heic, "HEIF", quality=90)
    # as a browser that knows no type for .heic gives it (the photo box would drop it without a word)
    with page.expect_file_chooser() as chooser:
        page.locator("#open-file").click()
    chooser.value.set_files({"name": heic.name, "mimeType": "", "buffer": heic.read_bytes()})
    page.locator("#faces-found img").first.wait_for()
    assert "Face 1" in page.locator("#faces-read").inner_text()
    shown = page.locator("#photo img").first  # the box shows it now: a PNG of its pixels
    assert shown.get_attribute("src").endswith("IMG_0002.png")
    assert shown.evaluate("img => img.complete && img.naturalWidth") == PIL.Image.open(OBAMA_SMALL).width


@requires(OBAMA_SMALL)
def test_a_file_that_is_no_photo_opened_with_the_button_is_named_in_the_notice_alone(page, tmp_path):
    from playwright.sync_api import expect

    upload(page, OBAMA_SMALL)
    page.locator("#faces-found img").first.wait_for()
    notes = tmp_path / "notes.txt"
    notes.write_text("a shopping list")
    with page.expect_file_chooser() as chooser:
        page.locator("#open-file").click()
    chooser.value.set_files(str(notes))
    page.locator("#photo-notice").get_by_text("notes.txt").wait_for()
    expect(page.locator(".toast-body")).to_have_count(0)  # not Gradio's "Invalid file type" pop-up
    expect(page.locator("#photo-notice p")).to_have_count(1)


@requires(OBAMA_SMALL)
def test_on_a_phone_edit_shows_the_result_and_the_page_never_scrolls_sideways(page):
    page.set_viewport_size({"width": 390, "height": 844})
    fast_settings(page)
    upload(page, OBAMA_SMALL)
    page.locator("#faces-found img").first.wait_for()  # a gallery of 4 x 100 px columns made it 504 wide
    page.locator("#edit-button").click()
    # The result (where the edit's progress shows) is a screen below the button on a phone: in view at once.
    page.wait_for_function("() => { const b = document.getElementById('result').getBoundingClientRect();"
                           " return b.top < window.innerHeight && b.bottom > 0; }", timeout=5_000)
    page.locator("#direction-1 input[type=range]").wait_for(state="visible")  # the result and its sliders
    page.get_by_text("What the generator saw").click()
    page.locator("#crops img").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_on_a_phone_the_random_face_shows_above_its_controls(page):
    """Stacked on a phone, the face came below six tall sliders, a screen away from New face."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("tab", name="Random faces").click()
    page.locator("#random-face img").wait_for()
    top = "id => document.getElementById(id).getBoundingClientRect().top"
    assert page.evaluate(top, "random-face") < page.evaluate(top, "random-new-face")
    page.set_viewport_size({"width": 1400, "height": 1000})  # side by side on a desktop: the face on the right
    left = "id => document.getElementById(id).getBoundingClientRect().left"
    assert page.evaluate(left, "random-face") > page.evaluate(left, "random-new-face")


def test_random_tab_draws_a_face(page):
    page.get_by_role("tab", name="Random faces").click()
    image = page.locator("#random-face img")
    image.wait_for()
    first = image.get_attribute("src")
    page.get_by_role("button", name="New face").click()
    page.wait_for_function("old => document.querySelector('#random-face img').getAttribute('src') !== old",
                           arg=first)
    # the direction sliders say what they do, as the edit tab's do after an edit
    page.wait_for_function("() => /Direction 1: \\S/.test(document.querySelector('#random-direction-1').innerText)")
    second = image.get_attribute("src")
    page.locator("#truncation input[type=number]").fill("1")  # the model's full variety: another face
    page.locator("#truncation input[type=number]").press("Enter")
    page.wait_for_function("old => document.querySelector('#random-face img').getAttribute('src') !== old",
                           arg=second)
    # a number out of range is named beside its box, once, and "New face" leads back to a face
    third = image.get_attribute("src")
    seed = page.get_by_label("Random face number")
    seed.fill("99999999999")
    seed.press("Enter")
    notice = page.locator("#random-notice").get_by_text(
        "Random face number must be a whole number from 0 to 4294967295, or blank for a new random face")
    notice.wait_for()
    assert page.locator(".toast-body").count() == 0  # not a pop-up
    page.get_by_role("button", name="New face").click()
    page.wait_for_function("() => document.querySelector('#random-seed input').value === '0'")
    expect = pytest.importorskip("playwright.sync_api").expect
    expect(page.locator("#random-notice p")).to_have_count(0, timeout=60_000)
    page.wait_for_function("old => document.querySelector('#random-face img').getAttribute('src') !== old",
                           arg=third)
    # a blank box draws a fresh face and shows its number (it drew face 0, and showed nothing)
    seed.fill("")
    seed.press("Enter")
    page.wait_for_function("() => /^[0-9]+$/.test(document.querySelector('#random-seed input').value)")
    number = seed.input_value()
    page.wait_for_function("n => document.querySelector('#random-face img').getAttribute('src')"
                           ".endsWith(`_seed${n}.png`)", arg=number)


def test_example_photos_have_names_and_the_divider_moves_with_the_keyboard(page):
    """The example buttons had no accessible name, and the before/after divider could only be dragged."""
    page.get_by_role("button", name="Example photo: astronaut Eileen Collins").click()
    page.locator("#faces-found img").first.wait_for()
    fast_settings(page)
    page.locator("#edit-button").click()
    divider = page.locator("#result").get_by_role("slider", name=re.compile(r"^Before\/after divider"))
    divider.wait_for()
    page.locator("#edit-button").focus()
    for _ in range(60):  # Tab on from the Edit button reaches it, as any control
        page.keyboard.press("Tab")
        if divider.evaluate("element => element === document.activeElement"):
            break
    else:
        pytest.fail("the before/after divider is not reachable with Tab")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-valuenow') === '50'")
    handle = divider.get_attribute("style")
    clip = "() => document.querySelectorAll('#result img')[1].style.clipPath"  # how much of the edit shows
    shown = page.evaluate(clip)
    for key, value in (("ArrowRight", "55"), ("ArrowRight", "60"), ("ArrowLeft", "55"), ("Home", "0"),
                       ("End", "100")):
        page.keyboard.press(key)
        page.wait_for_function("v => document.activeElement.getAttribute('aria-valuenow') === v", arg=value)
        assert divider.get_attribute("style") != handle and page.evaluate(clip) != shown, key  # it moved
        handle, shown = divider.get_attribute("style"), page.evaluate(clip)
