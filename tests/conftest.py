"""Shared test helpers: where the real data lives, CPU-only defaults, and the
fixtures of the UI tests (a real Editor, the app served on a local port)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see editor/__init__.py

import pytest  # noqa: E402
import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO.parent / "shared" / "data"
PHOTOS = DATA_DIR / "photos"
CHECKPOINTS = REPO / "checkpoints"
FER_CSV = DATA_DIR / "fer2013.csv.gz"
CELEBA_ZIP = DATA_DIR / "img_align_celeba_10k.zip"

os.environ.setdefault("TQDM_DISABLE", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


def pytest_addoption(parser):
    parser.addoption("--update-screenshot", action="store_true",
                     help="let the browser journey rewrite assets/app_screenshot.png (never done otherwise)")


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Torch's intra-op thread count set to `count` inside the block, put back after it."""
    threads = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def benchmark_module(name: str):
    """benchmarks/<name>.py as a module (benchmarks/ is scripts, not a package the tests import)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requires(*paths: Path) -> pytest.MarkDecorator:
    """Skip with the reason when a shared data file is not beside the repo."""
    missing = [str(path) for path in paths if not path.exists()]
    return pytest.mark.skipif(bool(missing), reason=f"{', '.join(missing)} not present")


def fer_sample(folder: Path, rows: int) -> Path:
    """The first `rows` rows of the real FER2013 csv (Training rows come first) as a small csv
    in `folder`; skips the test when the csv is not beside the repo."""
    import gzip
    import itertools

    if not FER_CSV.exists():
        pytest.skip(f"{FER_CSV} not present")
    path = folder / "fer2013.csv"
    with gzip.open(FER_CSV, "rt") as src:
        path.write_text("".join(itertools.islice(src, rows + 1)))  # + the header
    return path


def face_folder(root: Path, files: dict[str, int]) -> Path:
    """root/<relative folder>/im<i>.png, `files[folder]` grey 48x48 faces in each: an image
    folder dataset (DIR/train/<expression>/...) as small as a test needs."""
    import numpy as np
    from PIL import Image

    for folder, count in files.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            Image.fromarray(np.full((48, 48), 10 * i, dtype=np.uint8)).save(root / folder / f"im{i}.png")
    return root


@pytest.fixture
def keep_signal_handlers():
    """SIGINT's and SIGTERM's handlers as they were before the test, whatever a trainer run
    in-process (gan_main) installed for its Ctrl-C."""
    import signal

    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGINT, handlers[0])
    signal.signal(signal.SIGTERM, handlers[1])


@pytest.fixture(scope="session")
def small_fer(tmp_path_factory) -> Path:
    """200 real Training rows of FER2013 as a small csv (a module may define its own size)."""
    return fer_sample(tmp_path_factory.mktemp("fer"), 200)


# The UI tests' fixtures, one per test module (a module may define its own instead).
@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    from .app_server import checkpoint_dir

    return checkpoint_dir(tmp_path_factory)


@pytest.fixture(scope="module")
def editor(checkpoints, tmp_path_factory):
    from .app_server import loaded_editor

    with loaded_editor(checkpoints, tmp_path_factory) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def url(editor):
    from editor.app import build_demo

    from .app_server import serve

    with serve(build_demo(editor)) as address:
        yield address


def stopped_by_signal(args: list[str], signum: int, first_line: str) -> tuple[int, str]:
    """Run `python -m gan *args`, send `signum` once it prints `first_line` (the first finished
    epoch: its signal handlers are in place by then), and return its exit status and stderr."""
    import subprocess
    import sys

    run = subprocess.Popen([sys.executable, "-m", "gan", *args], env={**os.environ, "OMP_NUM_THREADS": "1"},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        for line in run.stdout:
            if line.startswith(first_line):
                break
        run.send_signal(signum)
        _, err = run.communicate(timeout=120)
    finally:
        run.kill()
    return run.returncode, err


def photo_with_a_bystander(folder: Path) -> Path:
    """fr_two_people.jpg with a small copy of the left person's face pasted into the
    background between them, like a bystander far behind (MTCNN finds it, about 21 px wide)."""
    import PIL.Image

    photo = PIL.Image.open(PHOTOS / "fr_two_people.jpg").convert("RGB")
    face = photo.crop((172, 0, 452, 300))  # the left person's face (box 234, 25, 390, 227) with a margin
    photo.paste(face.resize((40, 43), PIL.Image.Resampling.LANCZOS), (500, 40))
    path = folder / "group_with_bystander.jpg"
    photo.save(path, quality=92)
    return path


def pytest_collection_modifyitems(config, items):  # noqa: ARG001
    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
