"""`python -m editor [--share] [--host H] [--port P] [--checkpoints DIR] [--device D] [--auth USER:PASS]`
starts the web UI; `python -m editor edit PHOTO ... --expression X --output-dir DIR` edits photos
from the command line (see `python -m editor edit --help`).
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path


def _auth(value: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise argparse.ArgumentTypeError("expected USER:PASS, e.g. --auth alice:secret")
    return user, password


def build_ui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m editor", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default: %(default)s; 0.0.0.0 for every network interface)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: %(default)s)")
    parser.add_argument("--share", action="store_true",
                        help="also make a temporary public gradio.live link (needs internet)")
    parser.add_argument("--checkpoints", type=Path, default=None, metavar="DIR",
                        help="folder of <expression>.safetensors and mtcnn.safetensors (default: checkpoints/)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps (default: %(default)s)")
    parser.add_argument("--auth", type=_auth, default=None, metavar="USER:PASS",
                        help="ask visitors for this user name and password")
    return parser


def run_ui(args: argparse.Namespace) -> int:
    """Load the models once, then serve the page until interrupted."""
    from .pipeline import DEFAULT_CHECKPOINTS, Editor, MissingCheckpointsError

    print("loading generators and face detector ...", flush=True)
    try:
        editor = Editor.load(args.checkpoints or DEFAULT_CHECKPOINTS, device=args.device)
    except MissingCheckpointsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from .app import build_demo, launch_options

    # Latent banks and slider directions take seconds per generator on a CPU:
    # build them while the page starts, not on a visitor's first click.
    threading.Thread(target=editor.warm_up, name="warm-up", daemon=True).start()
    demo = build_demo(editor)
    demo.queue(default_concurrency_limit=1, max_size=32)
    try:
        # quiet: Gradio's own start-up lines tell people to "set share=True in launch()";
        # this app's switch is --share, so it prints its own lines instead.
        _, local_url, share_url = demo.launch(
            server_name=args.host, server_port=args.port, share=args.share, auth=args.auth,
            prevent_thread_lock=True, quiet=True, **launch_options())
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port} ({exc}); choose another --port", file=sys.stderr)
        return 2
    print(f"Expression editor on {editor.device}: {local_url}", flush=True)
    print(share_line(args.share, share_url), flush=True)
    try:
        demo.block_thread()  # until Ctrl+C
    finally:
        demo.close()
    return 0


def share_line(asked: bool, share_url: str | None) -> str:
    """What to say about a public link: where it is, why there is none, or how to get one."""
    if share_url:
        return f"Public link (temporary; anyone with it can use the editor): {share_url}"
    if asked:
        return "No public link could be made (it needs the internet); the editor is only served locally."
    return "For a temporary public link, start it with --share (./run_editor.sh --share); add --auth USER:PASS."


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["edit"]:
        from .cli_edit import main as edit_main

        return edit_main(argv[1:])
    return run_ui(build_ui_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
