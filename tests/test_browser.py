"""What a person does in the page, in headless Chromium: upload, choose, edit, move a slider."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from editor.app import build_demo
from editor.pipeline import Editor

from .app_server import checkpoint_dir, serve
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
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPRESSION_EDITOR_CACHE", str(tmp_path_factory.mktemp("cache")))
        editor = Editor.load(checkpoints, device="cpu")
        with serve(build_demo(editor)) as address:
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


@requires(OBAMA)
def test_upload_edit_and_explore(page, checkpoints, tmp_path):
    page.locator("#photo input[type=file]").set_input_files(OBAMA)
    page.locator("#faces-found img").first.wait_for()  # the face was found
    page.locator("#expression label", has_text="surprise").click()
    page.locator("#edit-button").click()

    slider = page.locator("#direction-1 input[type=range]")
    slider.wait_for(state="visible")  # the sliders appear with the result
    src, edited = after_image(page)
    assert page.locator("#result img").count() == 2  # before and after
    assert "surprise" in page.locator("#summary").inner_text()
    assert page.locator("#download").is_visible()

    slider.focus()  # as a person does with the keyboard: each press is an input event
    start = time.perf_counter()
    for _ in range(30):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "old => document.querySelectorAll('#result img')[1].getAttribute('src') !== old", arg=src)
    moved_src, moved = after_image(page)
    print(f"slider move to new image in the page: {time.perf_counter() - start:.2f} s")
    assert moved_src != src and moved != edited
    assert float(page.locator("#direction-1 input[type=number]").input_value()) > 0

    page.screenshot(path=tmp_path / "app_screenshot.png", full_page=True)
    if checkpoints == CHECKPOINTS:  # the README's picture shows the shipped generators, never stand-ins
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(tmp_path / "app_screenshot.png", SCREENSHOT)


def test_random_tab_draws_a_face(page):
    page.get_by_role("tab", name="Random faces").click()
    image = page.locator("#random-face img")
    image.wait_for()
    first = image.get_attribute("src")
    page.get_by_role("button", name="New face").click()
    page.wait_for_function("old => document.querySelector('#random-face img').getAttribute('src') !== old",
                           arg=first)
