"""The project as an installed package: the wheel carries the checkpoints and example photos,
and its console commands work from a directory far from the checkout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import PIL.Image
import pytest

from .app_server import FAST, free_port
from .conftest import CHECKPOINTS, PHOTOS, REPO, requires

OBAMA_SMALL = PHOTOS / "fr_obama_small.jpg"
SOURCES = ("pyproject.toml", "README.md", "gan", "editor", "checkpoints", "assets/examples")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip install .` builds, from a copy of the sources (so the checkout gets no build/)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(source)], check=True)
    (found,) = out.glob("expression_editor-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a folder of its own (its dependencies are this environment's)."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q",
                    "--target", str(target), str(wheel)], check=True)
    return target


def run_installed(installed: Path, command: str, *args: str, cwd: Path, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(installed), "OMP_NUM_THREADS": "1"}
    return subprocess.run([str(installed / "bin" / command), *args], cwd=cwd, env=env, text=True,
                          capture_output=True, **kwargs)


def test_wheel_carries_every_checkpoint_the_examples_and_the_commands(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"editor/checkpoints/{p.name}" for p in CHECKPOINTS.glob("*.safetensors")}
    assert shipped and shipped <= names  # any new checkpoint file ships without a packaging change
    assert "editor/checkpoints/mtcnn.safetensors" in names
    examples = {f"editor/examples/{p.name}" for p in (REPO / "assets" / "examples").iterdir()}
    assert examples and examples <= names
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "expression-editor = editor.__main__:main" in entry_points
    assert "expression-gan = gan.__main__:main" in entry_points


@pytest.mark.slow
@requires(OBAMA_SMALL)
def test_installed_commands_edit_a_photo_from_another_directory(installed, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run_installed(installed, "expression-gan", "--help", cwd=elsewhere)
    assert where.returncode == 0 and "train" in where.stdout

    done = run_installed(installed, "expression-editor", "edit", str(OBAMA_SMALL), "--expression", "happy",
                         "--output-dir", "out", "--steps", str(FAST["steps"]), "--restarts", str(FAST["restarts"]),
                         "--device", "cpu", cwd=elsewhere, timeout=600)
    assert done.returncode == 0, done.stderr
    edited = PIL.Image.open(elsewhere / "out" / "fr_obama_small.png")
    assert edited.size == PIL.Image.open(OBAMA_SMALL).size


@pytest.mark.slow
@requires(OBAMA_SMALL)
def test_installed_app_starts_and_edits_through_the_api(installed, tmp_path):
    gradio_client = pytest.importorskip("gradio_client")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(installed), "OMP_NUM_THREADS": "1",
           "EXPRESSION_EDITOR_CACHE": str(tmp_path / "cache")}
    server = subprocess.Popen([str(installed / "bin" / "expression-editor"), "--port", str(port), "--device", "cpu"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(600, server.kill)  # a hung start fails the test instead of the run
    watchdog.start()
    try:
        lines = []
        for line in server.stdout:  # until the app says where it serves
            lines.append(line)
            if re.search(r"Expression editor on \w+: http://", line):
                break
        else:
            pytest.fail("the app never started:\n" + "".join(lines))
        output = "".join(lines)
        assert "share=True" not in output  # our own hint about --share, not Gradio's
        client = gradio_client.Client(f"http://127.0.0.1:{port}/", verbose=False)
        (before, after), download, summary = client.predict(
            photo=gradio_client.handle_file(OBAMA_SMALL), expression="happy", api_name="/edit", **FAST)
        assert "1 face" in summary
        assert PIL.Image.open(download).size == PIL.Image.open(OBAMA_SMALL).size
    finally:
        watchdog.cancel()
        server.terminate()
        server.wait(timeout=60)
