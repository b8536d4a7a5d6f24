"""The web app's own files on disk, and their cleaning.

`python -m editor` keeps everything it writes in one folder per server process,
`<temp>/expression-editor-<uid>/<pid>-<random>/` (`<temp>` is $TMPDIR, else /tmp;
`<uid>` the user's number, so two users of one machine do not share it): the
uploads (Gradio's cache, unless GRADIO_TEMP_DIR says otherwise), the images the
page shows, and each session's photo and downloads. The process holds a lock on
its folder while it runs; at start-up, any folder whose lock is free belongs to a
process that has ended without cleaning up (a crash, SIGKILL) and is deleted. At
exit (Ctrl-C, SIGTERM) the process deletes its own. Only folders named like ours
are ever considered: the root folder may hold something else.

`Scratch` is the folder for the images the page shows, with files older than an
hour deleted as new ones are written. It is locked the same way, because
`build_demo` also runs outside `python -m editor` (tests, a notebook, another
app), where it lands in Gradio's shared cache folder or <temp>: each new Scratch
deletes the `expression-editor-<pid>-<random>` folders its ended predecessors
left beside it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any

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
    """Where the server processes' folders live: <temp>/expression-editor-<uid>, one per user.
    (A folder shared by all users was made with the first one's permissions, and on a shared
    /tmp a second user's server stopped at start-up with a PermissionError.)"""
    user = f"-{os.getuid()}" if hasattr(os, "getuid") else ""  # Windows' temp folder is per user already
    return Path(tempfile.gettempdir()) / f"{ROOT_NAME}{user}"


class ProcessFolder:
    """This process's folder under `root`, locked while the process lives."""

    def __init__(self, root: Path | None = None) -> None:
        root = root or scratch_root()
        root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
        self._lock = _lock(self.path)

    def remove(self) -> None:
        """Delete the folder and everything in it (at exit)."""
        self._lock.close()
        shutil.rmtree(self.path, ignore_errors=True)


def remove_stale(root: Path | None = None, *, prefix: str = "", grace: float = 60.0) -> list[Path]:
    """Delete the folders under `root` of server processes that have ended; returns them.

    Only folders named `<prefix><pid>-<8 random>` (as this module makes them) are looked
    at. One whose lock nobody holds is stale (the kernel drops a lock when its process
    ends, however it ends). One without a lock file is a process that died while
    starting, once it is `grace` seconds old and no process `<pid>` runs."""
    root = root or scratch_root()
    if fcntl is None or not root.is_dir():
        return []
    ours = re.compile(re.escape(prefix) + r"(\d+)-[a-z0-9_]{8}")  # tempfile.mkdtemp's 8 random characters
    removed = []
    for folder in root.iterdir():
        named = ours.fullmatch(folder.name)
        if named is None or not folder.is_dir() or folder.is_symlink():
            continue
        try:
            fd = os.open(folder / LOCK_NAME, os.O_RDWR)
        except FileNotFoundError:
            try:
                started = folder.stat().st_mtime
            except FileNotFoundError:  # another server starting now removed it first
                continue
            if time.time() - started < grace or _running(int(named.group(1))):
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


def _running(pid: int) -> bool:
    """Whether a process `pid` exists (perhaps another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's, or a number no PID can be: leave the folder alone
    return True


def _lock(folder: Path):
    """Open and lock `folder`'s lock file; the lock lasts as long as the returned file is open."""
    lock = open(folder / LOCK_NAME, "w")  # noqa: SIM115 (held open for the lifetime)
    if fcntl is not None:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return lock


def _remove(folder: Path, lock) -> None:
    lock.close()
    shutil.rmtree(folder, ignore_errors=True)


class Scratch:
    """A folder for the images the page shows and offers for download.

    Files older than `max_age` seconds are deleted as new ones are written, and
    the whole folder when the demo is garbage-collected or the process exits;
    folders that ended processes left in `parent` are deleted when one is made.
    Made inside Gradio's cache folder (`parent`), Gradio serves the files where
    they are instead of copying each one into its cache."""

    PREFIX = "expression-editor-"

    def __init__(self, max_age: float = FILE_MAX_AGE, parent: Path | None = None) -> None:
        parent = Path(parent or tempfile.gettempdir())
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale(parent, prefix=self.PREFIX)
        self.dir = Path(tempfile.mkdtemp(prefix=f"{self.PREFIX}{os.getpid()}-", dir=parent))
        self.max_age = max_age
        self._last_prune = time.monotonic()
        self._lock = threading.Lock()
        weakref.finalize(self, _remove, self.dir, _lock(self.dir))

    def write(self, image: np.ndarray, name: str, *, folder: Path | None = None, **save_kwargs: Any) -> str:
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
            if folder.name == LOCK_NAME:
                continue
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except FileNotFoundError:
                continue
