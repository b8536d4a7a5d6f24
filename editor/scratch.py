"""The web app's own files on disk, and their cleaning.

`python -m editor` keeps everything it writes in one folder per server process,
`<temp>/expression-editor/<pid>-<random>/` (`<temp>` is $TMPDIR, else /tmp): the
uploads (Gradio's cache, unless GRADIO_TEMP_DIR says otherwise), the images the
page shows, and each session's photo and downloads. The process holds a lock on
its folder while it runs; at start-up, any folder whose lock is free belongs to a
process that has ended without cleaning up (a crash, SIGKILL) and is deleted. At
exit (Ctrl-C, SIGTERM) the process deletes its own.

`Scratch` is the folder for the images the page shows, with files older than an
hour deleted as new ones are written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path

import numpy as np
import PIL.Image

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; stale folders are then left for the OS to clean
    fcntl = None

FILE_MAX_AGE = 3600  # seconds before uploads and results are deleted from disk
ROOT_NAME = "expression-editor"
LOCK_NAME = ".lock"


def scratch_root() -> Path:
    """Where the server processes' folders live: <temp>/expression-editor."""
    return Path(tempfile.gettempdir()) / ROOT_NAME


class ProcessFolder:
    """This process's folder under `root`, locked while the process lives."""

    def __init__(self, root: Path | None = None) -> None:
        root = root or scratch_root()
        root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
        self._lock = open(self.path / LOCK_NAME, "w")  # noqa: SIM115 (held open for the lifetime)
        if fcntl is not None:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def remove(self) -> None:
        """Delete the folder and everything in it (at exit)."""
        self._lock.close()
        shutil.rmtree(self.path, ignore_errors=True)


def remove_stale(root: Path | None = None, *, grace: float = 60.0) -> list[Path]:
    """Delete the folders under `root` of server processes that have ended; returns them.

    A folder whose lock nobody holds is stale. One without a lock file is a process
    that died while starting, once it is `grace` seconds old."""
    root = root or scratch_root()
    if fcntl is None or not root.is_dir():
        return []
    removed = []
    for folder in root.iterdir():
        if not folder.is_dir() or folder.is_symlink():
            continue
        try:
            fd = os.open(folder / LOCK_NAME, os.O_RDWR)
        except FileNotFoundError:
            if time.time() - folder.stat().st_mtime < grace:
                continue
            fd = None
        except OSError:
            continue
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while its process lives
            except BlockingIOError:
                continue
            finally:
                os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


class Scratch:
    """A folder for the images the page shows and offers for download.

    Files older than `max_age` seconds are deleted as new ones are written, and
    the whole folder when the demo is garbage-collected or the process exits.
    Made inside Gradio's cache folder (`parent`), Gradio serves the files where
    they are instead of copying each one into its cache."""

    def __init__(self, max_age: float = FILE_MAX_AGE, parent: Path | None = None) -> None:
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix="expression-editor-", dir=parent))
        self.max_age = max_age
        self._last_prune = time.monotonic()
        self._lock = threading.Lock()
        weakref.finalize(self, shutil.rmtree, self.dir, True)

    def write(self, image: np.ndarray, name: str, *, folder: Path | None = None, **save_kwargs) -> str:
        """Save `image` as `name` in a new folder of its own (under `folder`, e.g. a session's)."""
        self._prune()
        folder = (folder or self.dir) / uuid.uuid4().hex  # one folder per file keeps the download name clean
        folder.mkdir(parents=True)
        path = folder / name
        PIL.Image.fromarray(np.asarray(image)).save(path, **save_kwargs)
        return str(path)

    def _prune(self) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last_prune < 60:
                return
            self._last_prune = now
        cutoff = time.time() - self.max_age
        for folder in self.dir.iterdir():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except FileNotFoundError:
                continue
