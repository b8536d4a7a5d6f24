"""Each visitor's last edit, kept on disk and bounded in number and age.

After an edit the sliders need the faces' latents and alignments (a few KB) and
the photo. The photo is stored once, as a raw array in the session's own folder,
and mapped back in (read-only) only while a request uses it; the edited photo is
not stored at all, because `Editor.render(result, {})` redraws it exactly from
the original and the faces. So a session of a 40 MP photo costs 120 MB of disk
and next to nothing in memory, where it used to hold about 230 MB of RAM.

At most `max_sessions` sessions are kept, each until `max_age` seconds after its
last use; the oldest go first, with their folders (the photo, and the images and
downloads written for the session). A visitor whose session went asks to edit again.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .scratch import FILE_MAX_AGE, Scratch

if TYPE_CHECKING:
    from .pipeline import EditResult

MAX_SESSIONS = 32  # live edits kept for the sliders; a 40 MP one takes 120 MB of disk, 200 MB with its download


class SessionExpired(ValueError):
    """The session's edit is no longer kept; the message says to edit again."""


@dataclass(eq=False)
class Session:
    """One visitor's last edit: what the sliders move, and where its files are."""

    key: str
    folder: Path  # the session's own folder: the photo, and the images written for this session
    edit: EditResult  # without its photos (image, original and photo.rgb are None); see `result`
    before: str = ""  # display-sized JPEG of the original photo
    amounts: dict[int, list[float]] = field(default_factory=dict)  # face index -> slider values
    shown: bool = False  # the page shows this edit's sliders (a refused edit then leaves them as they are)
    download_requests: int = 0  # slider changes so far; the download follows the last one
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    last_used: float = field(default_factory=time.monotonic)
    expired_because: str | None = None

    @property
    def result(self) -> EditResult:
        """The edit with its original photo mapped in from disk, read-only. `image` is None:
        `Editor.render(result, {})` redraws the edited photo. SessionExpired once it is gone."""
        if self.expired_because is not None:
            raise SessionExpired(self.expired_because)
        try:
            original = np.load(self.folder / "original.npy", mmap_mode="r")  # [H, W, 3] uint8
        except FileNotFoundError:
            raise SessionExpired(_expired_message("was deleted from the server's disk")) from None
        self.last_used = time.monotonic()
        return replace(self.edit, original=original, photo=replace(self.edit.photo, rgb=original))


class SessionStore:
    """The live sessions of one app, in folders under its `Scratch`."""

    def __init__(self, scratch: Scratch, *, max_sessions: int = MAX_SESSIONS, max_age: float = FILE_MAX_AGE) -> None:
        if max_sessions < 1:
            raise ValueError(f"max_sessions must be at least 1, got {max_sessions}")
        self.scratch = scratch
        self.max_sessions = max_sessions
        self.max_age = max_age
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def add(self, result: EditResult) -> Session:
        """A new session for `result`, its photo written to disk; may end the oldest sessions."""
        key = uuid.uuid4().hex
        folder = self.scratch.dir / f"session-{key}"
        folder.mkdir()
        np.save(folder / "original.npy", np.ascontiguousarray(result.original))
        edit = replace(result, image=None, original=None, photo=replace(result.photo, rgb=None, alpha=None))
        session = Session(key, folder, edit)
        with self._lock:
            self._sessions[key] = session
            ended = self._over_limits()
        for old, why in ended:
            self._end(old, why)
        return session

    def drop(self, session: Session | None) -> None:
        """End `session` now (Gradio calls this when the visitor's state is deleted)."""
        if isinstance(session, Session):
            with self._lock:
                self._sessions.pop(session.key, None)
            self._end(session, _expired_message("ended with your browser session"))

    def __len__(self) -> int:
        return len(self._sessions)

    def _over_limits(self) -> list[tuple[Session, str]]:
        """Sessions past `max_age`, then the least recently used beyond `max_sessions` (lock held)."""
        now = time.monotonic()
        ended = []
        for key, session in list(self._sessions.items()):
            if now - session.last_used > self.max_age:
                ended.append((self._sessions.pop(key), _expired_message(f"was not used for {self.max_age / 60:g} "
                                                                        "minutes")))
        while len(self._sessions) > self.max_sessions:
            oldest = min(self._sessions.values(), key=lambda s: s.last_used)
            ended.append((self._sessions.pop(oldest.key), _expired_message(
                f"made way for newer ones (the server keeps the last {self.max_sessions} edits)")))
        return ended

    @staticmethod
    def _end(session: Session, why: str) -> None:
        session.expired_because = why
        shutil.rmtree(session.folder, ignore_errors=True)


def _expired_message(why: str) -> str:
    return f"Your last edit is no longer kept on the server (it {why}); press Edit to edit the photo again."
