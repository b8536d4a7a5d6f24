"""The web server under load, and its memory over many sessions.

    python benchmarks/server_load.py --clients 8 --edits 3                # N clients x M edits
    python benchmarks/server_load.py --clients 0 --sessions 50 --megapixels 40
    python benchmarks/server_load.py --url http://127.0.0.1:7860/ --pid 1234 ...   # a server you started

Without --url it starts `python -m editor` on a free port of 127.0.0.1 (with $TMPDIR pointing
to a fresh folder, so its files can be checked), stops it with SIGTERM at the end, and checks
that it exited cleanly and left no files behind.

Load: N clients (a thread each, each its own Gradio session) send M /edit requests each, all at
once. Reports the errors, the p50/p95 latency of an edit as a client sees it (queueing included:
the server runs one edit at a time) and the server's RSS.

Another (--another R): one client, R times an edit with a new seed, then another expression of
the same photo, whose fit the server remembers; the p50 latency of each.

Both start once the server is idle (its start-up work, latent banks and slider directions built
in a background thread, is done). Sessions: S clients one after another, one edit each of the
photo scaled to --megapixels, each client closed after its edit (its heartbeat stream ends, as
a browser tab's does when the visitor leaves: left open, each costs the server about 0.5 MB more,
2026-12-06). Reports
the server's resident memory (VmRSS of its process, Linux) after each session and its growth from
the first session to the last, which must stay within 500 MB (--max-growth-mb).

Appends a JSON line to benchmarks/results/server_load.jsonl; `--readme README.md` also refreshes
the README's `server-load` section.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.machine import cpu_name  # noqa: E402
from benchmarks.server_process import rss_mb, start_server, stop_server, wait_idle  # noqa: E402
from scripts.doc_markers import replace_between_markers  # noqa: E402

PHOTO = ROOT.parent / "shared" / "data" / "photos" / "fr_obama.jpg"
RESULTS = ROOT / "benchmarks" / "results" / "server_load.jsonl"
ANOTHER_SEEDS = 1_000_000  # --another's first seed: the load's requests use 0, 1, 2, ...


def scaled_photo(source: Path, megapixels: float, folder: Path) -> Path:
    """`source` resized to about `megapixels`, as a JPEG (quality 90) in `folder`."""
    image = Image.open(source).convert("RGB")
    scale = (megapixels * 1e6 / (image.width * image.height)) ** 0.5
    size = (math.floor(image.width * scale), math.floor(image.height * scale))  # never over the size asked
    path = folder / f"{source.stem}_{megapixels:g}mp.jpg"
    if not path.exists():
        image.resize(size, Image.Resampling.BICUBIC).save(path, quality=90)
    return path


def edit(client, photo: Path, expression: str, steps: int | None, restarts: int | None, seed: int = 0) -> float:
    """One /edit request; its latency in seconds. steps/restarts None: the model's defaults.
    Each request of a run gets its own seed, so each needs its own fit (the server remembers
    a photo's faces and fits: editor/recent.py), as when every visitor brings a new photo."""
    from gradio_client import handle_file

    start = time.perf_counter()
    client.predict(handle_file(str(photo)), expression, [], seed, steps, restarts, None, None, None,
                   api_name="/edit")  # strength, blend mode and model: the defaults
    return time.perf_counter() - start


def connect(url: str):
    from gradio_client import Client

    return Client(url, verbose=False)


def run_load(url: str, pid: int | None, *, clients: int, edits: int, photo: Path, expression: str = "happy",
             steps: int | None = None, restarts: int | None = None) -> dict:
    """`clients` concurrent clients, `edits` edits each; latencies, errors and RSS."""
    latencies, errors, lock = [], [], threading.Lock()
    peak = [rss_mb(pid) if pid else None]
    stop = threading.Event()

    def watch() -> None:  # the server's RSS, sampled while the clients run
        while not stop.wait(0.2):
            value = rss_mb(pid) if pid else None
            if value is not None:
                peak[0] = max(peak[0] or 0, value)

    def one_client(index: int) -> None:
        client = connect(url)
        for number in range(edits):
            try:
                seconds = edit(client, photo, expression, steps, restarts, seed=index * edits + number)
                with lock:
                    latencies.append(seconds)
            except Exception as exc:  # noqa: BLE001 (a benchmark counts failures, whatever they are)
                with lock:
                    errors.append(f"client {index}: {type(exc).__name__}: {str(exc)[:200]}")
        client.close()

    rss_before = rss_mb(pid) if pid else None
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one_client, range(clients)))
    wall = time.perf_counter() - start
    stop.set()
    watcher.join()
    ms = np.asarray(latencies) * 1000
    return {"clients": clients, "edits_per_client": edits, "requests": clients * edits, "errors": len(errors),
            "error_messages": errors[:5], "p50_ms": round(float(np.percentile(ms, 50))) if len(ms) else None,
            "p95_ms": round(float(np.percentile(ms, 95))) if len(ms) else None, "wall_s": round(wall, 1),
            "rss_before_mb": _round(rss_before), "rss_peak_mb": _round(peak[0]),
            "rss_after_mb": _round(rss_mb(pid) if pid else None)}


def run_sessions(url: str, pid: int | None, *, sessions: int, photo: Path, expression: str = "happy",
                 steps: int = 5, restarts: int = 1, progress: bool = True) -> dict:
    """`sessions` clients one after another, one edit each; the server's RSS after each."""
    rss, latencies, errors = [], [], []
    for index in range(sessions):
        client = None
        try:
            client = connect(url)
            latencies.append(edit(client, photo, expression, steps, restarts, seed=index))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"session {index + 1}: {type(exc).__name__}: {str(exc)[:200]}")
        finally:  # the visitor leaves: its heartbeat stream ends, as a closed browser tab's does
            if client is not None:
                client.close()
        rss.append(_round(rss_mb(pid) if pid else None))
        if progress:
            print(f"  session {index + 1}/{sessions}: RSS {rss[-1]} MB", flush=True)
    growth = rss[-1] - rss[0] if rss and rss[0] is not None and rss[-1] is not None else None
    return {"sessions": sessions, "errors": len(errors), "error_messages": errors[:5],
            "edit_p50_ms": round(float(np.percentile(latencies, 50)) * 1000) if latencies else None,
            "rss_mb": rss, "rss_first_mb": rss[0] if rss else None, "rss_last_mb": rss[-1] if rss else None,
            "rss_max_mb": max((r for r in rss if r is not None), default=None), "growth_mb": _round(growth)}


def run_another(url: str, *, repeats: int, photo: Path, steps: int | None = None,
                restarts: int | None = None) -> dict:
    """One client, `repeats` times: an edit with a new seed (a new fit), then another expression of
    the same photo and seed (the fit remembered, editor/recent.py); the latency of each as the
    client sees it (upload, edit, the page's images, the full-size PNG)."""
    client = connect(url)
    first, another = [], []
    for seed in range(ANOTHER_SEEDS, ANOTHER_SEEDS + repeats):  # seeds no other part of the run uses
        first.append(edit(client, photo, "happy", steps, restarts, seed=seed))
        another.append(edit(client, photo, "sad", steps, restarts, seed=seed))
    client.close()
    return {"repeats": repeats, "first_p50_ms": round(float(np.percentile(first, 50)) * 1000),
            "another_p50_ms": round(float(np.percentile(another, 50)) * 1000)}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _settings(report: dict) -> str:
    if report["steps"] is None and report["restarts"] is None:
        return "the default model's inversion settings"
    return f"{report['steps'] or 'default'} steps, {report['restarts'] or 'default'} restarts"


def readme_section(report: dict) -> str:
    lines = [f"Measured {report['date']} on {report['machine']} with `{report['command']}`.", ""]
    load = report.get("load")
    if load:
        lines += [f"- **Load**: {load['clients']} clients x {load['edits_per_client']} edits "
                  f"({report['photo_load']}, {_settings(report)}): "
                  f"{load['errors']} errors, latency p50 {load['p50_ms'] / 1000:.1f} s, p95 "
                  f"{load['p95_ms'] / 1000:.1f} s (one edit at a time, so mostly queueing: all "
                  f"{load['requests']} took {load['wall_s']:.0f} s), server RSS "
                  f"{load['rss_before_mb']:.0f} MB before, {load['rss_peak_mb']:.0f} MB at most, "
                  f"{load['rss_after_mb']:.0f} MB after."]
    another = report.get("another")
    if another:
        lines += [f"- **Another expression**: one client, {another['repeats']} times an edit of "
                  f"{report['photo_load']} with a new seed, then another expression of it: "
                  f"{another['first_p50_ms'] / 1000:.2f} s p50 for the first, {another['another_p50_ms'] / 1000:.2f} s "
                  "for the other (the fit remembered), as the client sees them."]
    sessions = report.get("sessions")
    if sessions:
        lines += [f"- **Memory over sessions**: {sessions['sessions']} sessions one after another, one edit each of "
                  f"{report['photo_sessions']}: server RSS {sessions['rss_first_mb']:.0f} MB after the first, "
                  f"{sessions['rss_last_mb']:.0f} MB after the last (at most {sessions['rss_max_mb']:.0f} MB), "
                  f"growth {sessions['growth_mb']:+.0f} MB (limit +{report['max_growth_mb']:.0f} MB); "
                  f"{sessions['errors']} errors."]
    stopped = report.get("stopped")
    if stopped:
        lines += [f"- **Stop**: SIGTERM, exit status {stopped['exit_code']}, "
                  f"{len(stopped['files_left'])} files left in its temporary folder."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start one)")
    parser.add_argument("--pid", type=int, help="its process id, to read its memory")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--edits", type=int, default=3, help="edits per client")
    parser.add_argument("--sessions", type=int, default=0, help="sessions one after another, for memory")
    parser.add_argument("--another", type=int, default=0,
                        help="repeats of: an edit, then another expression of the same photo (the fit remembered)")
    parser.add_argument("--photo", type=Path, default=PHOTO)
    parser.add_argument("--megapixels", type=float, default=40.0, help="size of the photo for --sessions")
    parser.add_argument("--load-megapixels", type=float, default=1.0, help="size of the photo for the load")
    parser.add_argument("--steps", type=int, default=None, help="inversion steps (default: the model's, as the UI)")
    parser.add_argument("--restarts", type=int, default=None, help="inversion restarts (default: the model's)")
    parser.add_argument("--max-growth-mb", type=float, default=500.0)
    parser.add_argument("--server-args", default="", help="extra arguments for python -m editor")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, help="refresh this README's server-load section")
    parser.add_argument("--note", default="", help="what else ran on the machine, for the report")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="server-load-"))
    server = None
    if args.url:
        url, pid = args.url, args.pid
    else:
        print("starting python -m editor ...", flush=True)
        server = start_server(work / "tmp", args=args.server_args.split())
        url, pid = server.url, server.pid
    report = {"date": date.today().isoformat(), "command": "python benchmarks/server_load.py " + " ".join(sys.argv[1:]),
              "machine": f"{cpu_name()} ({platform.machine()}), {os.cpu_count()} cores" +
                         (f", {args.note}" if args.note else ""),
              "steps": args.steps, "restarts": args.restarts, "max_growth_mb": args.max_growth_mb}
    try:
        waited = wait_idle(pid)
        print(f"the server was idle after {waited:.0f} s (start-up work done)", flush=True)
        if args.clients:
            photo = scaled_photo(args.photo, args.load_megapixels, work)
            report["photo_load"] = f"{photo.name} ({Image.open(photo).width}x{Image.open(photo).height})"
            print(f"load: {args.clients} clients x {args.edits} edits of {report['photo_load']} ...", flush=True)
            report["load"] = run_load(url, pid, clients=args.clients, edits=args.edits, photo=photo,
                                      steps=args.steps, restarts=args.restarts)
            print(json.dumps(report["load"]), flush=True)
        if args.another:
            photo = scaled_photo(args.photo, args.load_megapixels, work)
            report["another"] = run_another(url, repeats=args.another, photo=photo, steps=args.steps,
                                            restarts=args.restarts)
            print(json.dumps(report["another"]), flush=True)
        if args.sessions:
            photo = scaled_photo(args.photo, args.megapixels, work)
            width, height = Image.open(photo).size
            report["photo_sessions"] = f"a {width * height / 1e6:.0f} MP photo ({width}x{height} JPEG)"
            wait_idle(pid)
            print(f"sessions: {args.sessions} x one edit of {report['photo_sessions']} ...", flush=True)
            report["sessions"] = run_sessions(url, pid, sessions=args.sessions, photo=photo)
    finally:
        if server is not None:
            report["stopped"] = stop_server(server)
    print(readme_section(report))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as out:
        out.write(json.dumps(report) + "\n")
    if args.readme:
        replace_between_markers(args.readme, "server-load", readme_section(report))
    failed = bool(report.get("load", {}).get("errors") or report.get("sessions", {}).get("errors"))
    growth = report.get("sessions", {}).get("growth_mb")
    if growth is not None and growth > args.max_growth_mb:
        print(f"FAIL: RSS grew by {growth:.0f} MB over the sessions (limit {args.max_growth_mb:.0f} MB)")
        failed = True
    stopped = report.get("stopped")
    if stopped and (stopped["exit_code"] != 0 or stopped["files_left"]):
        print(f"FAIL: the server exited with {stopped['exit_code']} and left {stopped['files_left'][:5]}")
        failed = True
    if failed:
        print(f"the photos, the server's log and its temporary folder are kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
