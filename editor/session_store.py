"""Each visitor's last edit, kept on disk and bounded in number and age.

After an edit the sliders need the faces' latents and alignments (a few KB) and
the photo. The photo is stored once, as a raw array in the session's own folder,
and mapped back in (read-only) only while a request uses it; the edited photo is
not stored at all, because `Editor.render(result, {})` redraws it exactly from
the original and the faces. So a session of a 40 MP photo costs 120 MB of disk
and next to nothing in memory, where it used to hold about 230 MB of RAM.

At most `max_sessions` sessions are kept, each until `max_age` seconds after its
last use (an edit, a slider move, a download: see `Session.touch`). Past that
number, the least recently used session goes first: its photo and the images the
page no longer shows are deleted at once, but the images the visitor's page still
links to (the before/after pair, the faces' close-up and a full-size download already
written) stay until the visitor leaves or they are an hour old, so a slow visitor's
download link never breaks; their next slider move or download says the edit has expired and to
press Edit again.
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
    from .edits import EditResult

MAX_SESSIONS = 32  # live edits kept for the sliders; a 40 MP one takes 120 MB of disk, 200 MB with its download


class SessionExpired(ValueError):
    """The session's edit is no longer kept; the message says to edit again."""


@dataclass(eq=False)
class Session:
    """One visitor's last edit: what the sliders move, and where its files are."""

    key: str
    folder: Path  # the session's own folder: the photo, and the images written for this session
    edit: EditResult  # without its photos (image, original, photo.rgb and photo.alpha are None); see `result`
    before: str = ""  # display-sized JPEG of the original photo
    after: str = ""  # display-sized JPEG of the edited photo the page shows now
    download: str = ""  # the full-size photo last written for download (the page's: when asked for)
    download_format: str = "PNG"  # the format the edit asked for (page_images.DOWNLOAD_FORMATS): the button's label
    download_key: tuple = ()  # the format and slider values it was written with
    closeup_boxes: list = field(default_factory=list)  # each edited face's region of the full-size photo
    closeup_before: str = ""  # JPEGs of those regions side by side, before and as the page shows it now
    closeup_after: str = ""
    amounts: dict[int, list[float]] = field(default_factory=dict)  # face index -> slider values
    shown: bool = False  # the page shows this edit's sliders (a refused edit then leaves them as they are)
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
            raise SessionExpired(_expired_message("its photo was deleted from the server's disk")) from None
        self.touch()
        return replace(self.edit, original=original, photo=replace(self.edit.photo, rgb=original, alpha=self.alpha))

    @property
    def alpha(self) -> np.ndarray | None:
        """A transparent photo's alpha [H, W] (read-only, from disk), so the download keeps it; None."""
        path = self.folder / "alpha.npy"
        return np.load(path, mmap_mode="r") if path.is_file() else None

    def touch(self) -> None:
        """The visitor used this edit now; the store ends the least recently used ones first."""
        self.last_used = time.monotonic()

    def linked_folders(self) -> set[Path]:
        """The folders of the files the visitor's page links to now (each file has its own folder):
        the before/after pair, the faces' close-up and a download already written."""
        shown = (self.before, self.after, self.closeup_before, self.closeup_after, self.download)
        return {Path(path).parent for path in shown if path}


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

    def add(self, result: EditResult, *, replacing: Session | None = None) -> Session:
        """A new session for `result`, its photo written to disk; may end the oldest sessions.

        `replacing`: the visitor's previous edit, which the new one ends (a visitor trying one
        expression after another kept every try's photo on disk, and with --max-sessions of them
        evicted everyone else's live edits); the files its page may still link to stay, as in an
        eviction."""
        key = uuid.uuid4().hex
        folder = self.scratch.dir / f"session-{key}"
        folder.mkdir()
        np.save(folder / "original.npy", np.ascontiguousarray(result.original))
        if result.photo.alpha is not None:
            np.save(folder / "alpha.npy", np.ascontiguousarray(result.photo.alpha))
        edit = replace(result, image=None, original=None, photo=replace(result.photo, rgb=None, alpha=None))
        session = Session(key, folder, edit)
        with self._lock:
            # Ended before the limits are counted, so the visitor's own new edit evicts no one else's.
            if isinstance(replacing, Session) and self._sessions.pop(replacing.key, None) is not None:
                ended = [(replacing, _expired_message("you edited the photo again"), True)]
            else:  # none, or already ended (evicted, or its visitor left): nothing more to free
                ended = []
            self._sessions[key] = session
            ended += self._over_limits()
        for old, why, keep_linked in ended:
            self._end(old, why, keep_linked=keep_linked)
        return session

    def drop(self, session: Session | None) -> None:
        """End `session` now (Gradio calls this when the visitor's state is deleted)."""
        if isinstance(session, Session):
            with self._lock:
                self._sessions.pop(session.key, None)
            self._end(session, _expired_message("your browser session ended"))

    def __len__(self) -> int:
        return len(self._sessions)

    def _over_limits(self) -> list[tuple[Session, str, bool]]:
        """Sessions past `max_age`, then the least recently used beyond `max_sessions` (lock held):
        (session, why, whether the files its page links to stay)."""
        now = time.monotonic()
        ended = []
        for key, session in list(self._sessions.items()):
            if now - session.last_used > self.max_age:  # its files are as old: all go
                why = _expired_message(f"not used for {self.max_age / 60:g} minutes")
                ended.append((self._sessions.pop(key), why, False))
        while len(self._sessions) > self.max_sessions:
            oldest = min(self._sessions.values(), key=lambda s: s.last_used)
            kept = "only the most recently used edit" if self.max_sessions == 1 else \
                f"the {self.max_sessions} most recently used edits"
            why = _expired_message(f"the server keeps {kept}")
            ended.append((self._sessions.pop(oldest.key), why, True))
        return ended

    @staticmethod
    def _end(session: Session, why: str, *, keep_linked: bool = False) -> None:
        """Expire `session` and delete its files; with `keep_linked`, all but those its page links to.

        Deleting a file the page links to would answer the visitor's download with
        Gradio's HTTP 403; what is kept goes when the visitor leaves (`drop`) or with
        Scratch's hourly pruning of the session's folder."""
        session.expired_because = why
        keep = session.linked_folders() if keep_linked else set()
        if not keep:
            shutil.rmtree(session.folder, ignore_errors=True)
            return
        try:
            entries = list(session.folder.iterdir())
        except FileNotFoundError:
            return
        for entry in entries:  # the photo array and images the page no longer shows
            if entry in keep:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _expired_message(why: str) -> str:
    return f"This edit has expired ({why}); press Edit to edit the photo again."
