"""A `python -m editor` process for the benchmarks and tests that need a real server:
start it on a free local port with its own $TMPDIR, read its memory and CPU time,
wait until its start-up work is done, and stop it with SIGTERM (server_load.py,
tests/test_server.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Server:
    process: subprocess.Popen | None  # None: a server this script did not start
    url: str
    pid: int
    tmpdir: Path | None  # the $TMPDIR it was started with
    log: Path | None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmpdir: Path, *, args: list[str] = (), env: dict | None = None, timeout: float = 600) -> Server:
    """`python -m editor` on a free local port, its $TMPDIR in `tmpdir`; returns once it serves."""
    tmpdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = tmpdir.parent / f"server-{port}.log"
    environment = {**os.environ, **(env or {}), "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
    environment.pop("GRADIO_TEMP_DIR", None)
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "editor", "--port", str(port), "--device", "cpu", *args],
                                   cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if "Expression editor on" in log.read_text():
            try:
                urllib.request.urlopen(url, timeout=5).read(1)
                return Server(process, url, process.pid, tmpdir, log)
            except OSError:
                pass
        time.sleep(0.5)
    process.kill()
    raise TimeoutError(f"the server did not start within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop_server(server: Server, timeout: float = 120) -> dict:
    """SIGTERM, then: the exit status and the files it left under its $TMPDIR."""
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        server.process.kill()
        code = server.process.wait()
    left = sorted(str(p.relative_to(server.tmpdir)) for p in server.tmpdir.rglob("*") if p.is_file())
    return {"exit_code": code, "files_left": left}


def rss_mb(pid: int) -> float | None:
    """Resident memory of process `pid` in MB (Linux), else None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU time used so far by process `pid` (Linux), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def wait_idle(pid: int | None, *, quiet: float = 3.0, timeout: float = 1800) -> float:
    """Wait until the server has used (almost) no CPU for `quiet` seconds: its start-up
    work (latent banks, slider directions, in a background thread) is done, so the RSS
    measured next is the server's own. Returns the seconds waited."""
    start = time.monotonic()
    last = cpu_seconds(pid) if pid else None
    if last is None:
        return 0.0
    while time.monotonic() - start < timeout:
        time.sleep(quiet)
        now = cpu_seconds(pid)
        if now is None or now - last < 0.05 * quiet:
            break
        last = now
    return time.monotonic() - start
