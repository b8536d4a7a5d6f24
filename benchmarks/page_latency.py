"""What a visitor of the page waits for, through the page's own handlers (no browser, no network):
the face gallery after an upload, then **Edit**, a slider move, the full-size download, then
another expression of the same photo.

    python benchmarks/page_latency.py [--megapixels 24] [--download-format PNG|JPEG] [--repeats 3]

Each step is the handler the page runs (`handlers.detect_faces`, `handlers.edit_photo` as the page
calls it, which writes no full-size file, `result_handlers.explore`, `result_handlers.make_download`
in the chosen format), with the editor's memory of faces and fits cleared before each repeat, so
the edit fits anew; the photo is `fr_obama.jpg` enlarged to `--megapixels` (a JPEG at 92). Prints
p50 and the worst of each step, with the machine.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.edit_latency import PHOTO, resized_jpeg  # noqa: E402
from benchmarks.machine import cpu_name  # noqa: E402
from editor.handlers import detect_faces, edit_photo  # noqa: E402
from editor.pipeline import Editor  # noqa: E402
from editor.result_handlers import explore, make_download  # noqa: E402
from editor.scratch import Scratch  # noqa: E402
from editor.session_store import SessionStore  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--megapixels", type=float, default=24.0)
    parser.add_argument("--download-format", default="PNG", choices=("PNG", "JPEG"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    editor = Editor.load(ROOT / "checkpoints", device="cpu")
    editor.warm_up()
    store = SessionStore(Scratch())
    with tempfile.TemporaryDirectory() as folder:
        upload = Path(folder) / "photo.jpg"
        upload.write_bytes(resized_jpeg(PHOTO, args.megapixels))
        payload = {"path": str(upload), "orig_name": "photo.jpg"}
        options = dict(seed=0, steps=None, restarts=None, strength=1.75, blend_mode="flow",
                       download_format=args.download_format, progress=lambda *a, **k: None, full_size=False)
        steps = ("face gallery", "edit", "a slider move", "download", "another expression")
        times: dict[str, list[float]] = {step: [] for step in steps}
        for repeat in range(args.repeats):
            editor.forget()
            start = time.perf_counter()
            detect_faces(editor, payload)
            times["face gallery"].append(time.perf_counter() - start)
            start = time.perf_counter()
            session = edit_photo(editor, store, payload, "happy", [], **options)[-1]
            times["edit"].append(time.perf_counter() - start)
            start = time.perf_counter()
            explore(editor, store.scratch, session, 0, 1.0)
            times["a slider move"].append(time.perf_counter() - start)
            start = time.perf_counter()
            make_download(editor, store.scratch, session, 0, args.download_format, 1.0)
            times["download"].append(time.perf_counter() - start)
            start = time.perf_counter()
            edit_photo(editor, store, payload, "sad", [], **options)
            times["another expression"].append(time.perf_counter() - start)
    print(f"{args.megapixels:g} MP photo, {args.download_format} download, {args.repeats} runs on {cpu_name()} "
          f"({platform.machine()}, {torch.get_num_threads()} threads)")
    for step, samples in times.items():
        print(f"{step:20s} p50 {np.median(samples):.2f} s   worst {max(samples):.2f} s")


if __name__ == "__main__":
    main()
