"""What a person does in the page, in headless Chromium: upload, choose, edit, move a slider."""

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

from .app_server import checkpoint_dir, loaded_editor, serve
from .conftest import CHECKPOINTS, PHOTOS, REPO, requires

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                       reason="needs Debian's Chromium at /usr/bin/chromium (apt-get install -y chromium)"),
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OBAMA = PHOTOS / "fr_obama.jpg"
SCREENSHOT = REPO / "assets" / "app_screenshot.png"


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    return checkpoint_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def url(checkpoints, tmp_path_factory):
    with loaded_editor(checkpoints, tmp_path_factory) as editor, serve(build_demo(editor)) as address:
        yield address


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


@requires(OBAMA)
def test_upload_edit_and_explore(page, checkpoints, tmp_path):
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

    # Once the slider rests, the page shows the moved face and the download is that photo.
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

    page.screenshot(path=tmp_path / "app_screenshot.png", full_page=True)
    if checkpoints == CHECKPOINTS:  # the README's picture shows the shipped generators, never stand-ins
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "app_screenshot.png", SCREENSHOT)


@requires(PHOTOS / "fr_obama_small.jpg")
def test_a_bad_file_is_explained_and_the_page_keeps_working(page, tmp_path):
    fake = tmp_path / "holiday.jpg"  # the browser accepts it by its name; the server reads it
    fake.write_text("not really a photo")
    page.locator("#photo input[type=file]").set_input_files(fake)
    page.get_by_text("holiday.jpg is not an image we can read").wait_for()

    page.locator("#photo input[type=file]").set_input_files(PHOTOS / "fr_obama_small.jpg")
    page.locator("#faces-found img").first.wait_for()


def test_random_tab_draws_a_face(page):
    page.get_by_role("tab", name="Random faces").click()
    image = page.locator("#random-face img")
    image.wait_for()
    first = image.get_attribute("src")
    page.get_by_role("button", name="New face").click()
    page.wait_for_function("old => document.querySelector('#random-face img').getAttribute('src') !== old",
                           arg=first)
