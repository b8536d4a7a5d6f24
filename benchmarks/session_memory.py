"""The edit handler's memory over many sessions, without the web server.

    python benchmarks/session_memory.py --sessions 25 --megapixels 40

benchmarks/server_load.py measures the server's resident memory over sessions, through HTTP:
it creeps about 0.2 MB per session. This runs the same work in one process with no web layer,
`handlers.edit_photo` (the page's edit: the fit, the session store, the display images) on the
photo scaled to --megapixels, S times one after another, and reports this process's VmRSS after
each and the size of what one session keeps (its `Session`, as Gradio's State holds it). Where
this stays flat and the server creeps, the creep is the web layer's, not the editor's.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.arguments import positive_float, positive_int  # noqa: E402
from benchmarks.machine import cpu_name  # noqa: E402
from benchmarks.server_load import PHOTO, scaled_photo  # noqa: E402
from benchmarks.server_process import rss_mb  # noqa: E402
from editor import handlers  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402
from editor.pipeline import Editor  # noqa: E402
from editor.scratch import Scratch  # noqa: E402
from editor.session_store import SessionStore  # noqa: E402

SKIPPED = ("module", "function", "builtin_function_or_method", "Editor", "SessionStore", "Scratch")


def held_bytes(root: object) -> int:
    """Bytes reachable from `root` (objects, array and tensor buffers), not counting modules,
    functions, the editor and the store it shares with every session."""
    seen, total, stack = set(), 0, [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type) or type(obj).__name__ in SKIPPED:
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, np.ndarray) and obj.base is None:
            total += obj.nbytes
        elif isinstance(obj, torch.Tensor):
            total += obj.untyped_storage().nbytes()
        stack.extend(gc.get_referents(obj))
    return total


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=positive_int, default=25)
    parser.add_argument("--megapixels", type=positive_float, default=40.0)
    parser.add_argument("--expression", default="happy", choices=EXPRESSIONS)
    return parser


def main() -> None:
    args = build_parser().parse_args()
    folder = Path(tempfile.mkdtemp(prefix="session_memory_"))
    try:
        photo = scaled_photo(PHOTO, args.megapixels, folder)
        editor = Editor.load()
        store = SessionStore(Scratch(parent=folder))
        rss, kept = [], []
        for _ in range(args.sessions):
            upload = folder / "upload.jpg"  # a fresh upload each time, as Gradio hands the handler one
            shutil.copy(photo, upload)
            *_, session = handlers.edit_photo(editor, store, str(upload), args.expression, [], 0, 100, 1, 1.75,
                                              "flow", progress=lambda *a, **k: None, full_size=False)
            kept.append(held_bytes(session))
            del session
            gc.collect()
            rss.append(rss_mb(os.getpid()))
        print(f"{cpu_name()}, {torch.get_num_threads()} threads; {args.sessions} sessions of {photo.name}")
        print("VmRSS after each session (MB):", " ".join(f"{v:.1f}" for v in rss))
        print(f"growth from the first to the last: {rss[-1] - rss[0]:+.1f} MB "
              f"({(rss[-1] - rss[0]) / max(len(rss) - 1, 1):+.2f} MB per session); "
              f"one session keeps {np.median(kept) / 1024:.0f} KB")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
