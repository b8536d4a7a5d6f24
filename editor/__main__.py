"""`python -m editor [--share] [--host H] [--port P] [--checkpoints DIR] [--device D] [--auth-file FILE]`
starts the web UI; `python -m editor edit PHOTO ... --expression X --output-dir DIR` edits photos
from the command line (see `python -m editor edit --help`).

A password for visitors comes from --auth USER:PASS, --auth-file FILE (USER:PASS on its first line)
or the environment variable EXPRESSION_EDITOR_AUTH=USER:PASS; --auth shows in the process list.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from .cli_edit import CHECKPOINTS_HELP
from .session_store import MAX_SESSIONS

AUTH_ENV = "EXPRESSION_EDITOR_AUTH"


def _auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError("expected USER:PASS, e.g. --auth alice:secret")
    return user, password


def _port(value: str) -> int:
    port = _whole(value, "a port")
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1-65535, got {port}")
    return port


def _at_least_one(value: str) -> int:
    number = _whole(value, "a count")
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _whole(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} is a whole number, got {value!r}") from None


def build_ui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m editor", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default: %(default)s; 0.0.0.0 for every network interface)")
    parser.add_argument("--port", type=_port, default=7860, help="port, 1-65535 (default: %(default)s)")
    parser.add_argument("--share", action="store_true",
                        help="also make a temporary public gradio.live link (needs internet)")
    parser.add_argument("--checkpoints", type=Path, default=None, metavar="DIR",
                        help=CHECKPOINTS_HELP)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps (default: %(default)s)")
    parser.add_argument("--auth", type=_auth, default=None, metavar="USER:PASS",
                        help="ask visitors for this user name and password (it shows in the process list: "
                             f"prefer --auth-file or ${AUTH_ENV})")
    parser.add_argument("--auth-file", type=Path, default=None, metavar="FILE",
                        help="read USER:PASS from the first line of FILE")
    parser.add_argument("--max-sessions", type=_at_least_one, default=MAX_SESSIONS, metavar="N",
                        help="visitors' edits kept for the sliders, on disk; the oldest go first "
                             "(default: %(default)s)")
    return parser


def resolve_auth(args: argparse.Namespace) -> tuple[str, str] | None:
    """The (user, password) from --auth, else --auth-file, else $EXPRESSION_EDITOR_AUTH; ValueError
    naming the source when it is not USER:PASS."""
    if args.auth:
        return args.auth
    if args.auth_file is not None:
        try:
            lines = args.auth_file.read_text().splitlines()
        except OSError as exc:
            raise ValueError(f"--auth-file {args.auth_file}: cannot read it ({exc.strerror or exc})") from None
        except UnicodeDecodeError as exc:  # e.g. saved in Latin-1: say which file, and how to fix it
            raise ValueError(f"--auth-file {args.auth_file}: cannot read it as text ({exc.reason}); save it as UTF-8, "
                             "USER:PASS on its first line") from None
        return _parse_auth(lines[0].strip() if lines else "", f"--auth-file {args.auth_file}")
    if os.environ.get(AUTH_ENV):
        return _parse_auth(os.environ[AUTH_ENV].strip(), f"${AUTH_ENV}")
    return None


def _parse_auth(value: str, source: str) -> tuple[str, str]:
    try:
        return _auth(value)
    except argparse.ArgumentTypeError:
        raise ValueError(f"{source}: expected USER:PASS") from None


def exposure_warning(host: str, share: bool, auth: tuple[str, str] | None) -> str | None:
    """What to tell the person starting a server others can reach without a password."""
    if auth:
        return None
    fix = f"add --auth-file FILE (USER:PASS on its first line) or set {AUTH_ENV}=USER:PASS"
    if share:
        return ("warning: --share puts the editor on a public gradio.live link and no password is set: anyone with "
                f"the link can upload photos and use this machine; {fix}")
    if not _is_loopback(host):
        return (f"warning: --host {host} serves the editor to other machines and no password is set: anyone "
                f"who can reach this machine can upload photos; {fix}")
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def run_ui(args: argparse.Namespace) -> int:
    """Load the models once, then serve the page until Ctrl-C or SIGTERM."""
    from gan.device import DeviceError

    from .pipeline import DEFAULT_CHECKPOINTS, Editor, MissingCheckpointsError

    try:
        auth = resolve_auth(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warning = exposure_warning(args.host, args.share, auth)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    with _sigterm_as_ctrl_c():
        try:
            print("loading generators and face detector ...", flush=True)
            try:
                editor = Editor.load(args.checkpoints or DEFAULT_CHECKPOINTS, device=args.device)
            except (MissingCheckpointsError, DeviceError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            with _own_scratch():
                return _serve(editor, args, auth)
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
            return 0


def _serve(editor, args: argparse.Namespace, auth: tuple[str, str] | None) -> int:
    from .app import build_demo, launch_options

    # Latent banks and slider directions take seconds per generator on a CPU:
    # build them while the page starts, not on a visitor's first click.
    stop_warm_up = threading.Event()
    warm_up = threading.Thread(target=editor.warm_up, args=(stop_warm_up,), name="warm-up", daemon=True)
    warm_up.start()
    demo = build_demo(editor, max_sessions=args.max_sessions)
    demo.queue(default_concurrency_limit=1, max_size=32)
    try:
        try:
            # quiet: Gradio's own start-up lines tell people to "set share=True in launch()";
            # this app's switch is --share, so it prints its own lines instead.
            _, local_url, share_url = demo.launch(
                server_name=args.host, server_port=args.port, share=args.share, auth=auth,
                prevent_thread_lock=True, quiet=True, **launch_options())
        except OSError as exc:  # a port in use: the warm-up stops and the demo closes all the same
            print(f"error: cannot serve on {args.host}:{args.port} ({exc}); choose another --port", file=sys.stderr)
            return 2
        print(f"Expression editor on {editor.device}: {local_url}", flush=True)
        print(share_line(args.share, share_url, auth is not None), flush=True)
        demo.block_thread()  # until Ctrl+C or SIGTERM
    finally:
        demo.close()
        # A thread still inside torch at interpreter exit aborts the process ("terminate
        # called without an active exception"): let the warm-up finish its current step.
        stop_warm_up.set()
        warm_up.join(timeout=120)
    return 0


@contextmanager
def _sigterm_as_ctrl_c():
    """SIGTERM (`kill`, systemd, docker stop) stops the server the way Ctrl-C does, so it
    closes and deletes its files instead of dying on the spot."""
    def interrupt(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _own_scratch():
    """Everything the server writes goes under one folder of this process (editor/scratch.py),
    deleted at exit; folders of earlier runs that did not exit cleanly are deleted first."""
    from .scratch import ProcessFolder, remove_stale

    stale = remove_stale()
    if stale:
        print(f"deleted the files of {len(stale)} earlier run(s) that did not exit cleanly", flush=True)
    folder = ProcessFolder()
    previous = os.environ.get("GRADIO_TEMP_DIR")
    if previous is None:  # uploads too, unless the user chose Gradio's folder
        os.environ["GRADIO_TEMP_DIR"] = str(folder.path / "gradio")
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        folder.remove()


def share_line(asked: bool, share_url: str | None, auth: bool = False) -> str:
    """What to say about a public link: where it is, why there is none, or how to get one (and,
    without a password set, how to set one the process list does not show)."""
    if share_url:
        return f"Public link (temporary; anyone with it can use the editor): {share_url}"
    if asked:
        return "No public link could be made (it needs the internet); the editor is only served locally."
    line = "For a temporary public link, start it with --share (./run_editor.sh --share)"
    return line + ("." if auth else f"; set a password with --auth-file FILE or ${AUTH_ENV}=USER:PASS.")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["edit"]:
        from .cli_edit import main as edit_main

        return edit_main(argv[1:])
    return run_ui(build_ui_parser().parse_args(argv))


def cli() -> None:
    """`python -m editor` and the `expression-editor` command: `main()`, then exit.

    The server asks the warm-up thread to stop and waits for it (`_serve`); should it still be
    inside PyTorch after that wait, an interpreter shutting down under it would abort the process
    ("terminate called without an active exception", exit status 134). By then the server has
    closed and deleted its files, so the process leaves at once instead."""
    code = main()
    if any(thread.name == "warm-up" and thread.is_alive() for thread in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    cli()
