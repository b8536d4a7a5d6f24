"""Helpers for the UI tests: a real Editor and the app served on a free local port."""

from __future__ import annotations

import shutil
import socket
from contextlib import contextmanager
from pathlib import Path

from gan.checkpoint import save_generator
from gan.data import EXPRESSIONS
from gan.models import ModelConfig, build_models

from .conftest import CHECKPOINTS

FAST = {"steps": 10, "restarts": 1}  # inversion settings that keep API tests quick on a CPU


def checkpoint_dir(tmp_factory) -> Path:
    """checkpoints/ when every expression generator is shipped there; otherwise a temporary
    folder with the shipped face detector and freshly initialised generators, which run the
    same code paths (the faces just look like noise)."""
    if all((CHECKPOINTS / f"{e}.safetensors").is_file() for e in EXPRESSIONS):
        return CHECKPOINTS
    folder = tmp_factory.mktemp("checkpoints")
    shutil.copy(CHECKPOINTS / "mtcnn.safetensors", folder)
    for seed, expression in enumerate(EXPRESSIONS):
        G, _ = build_models(ModelConfig(), seed=seed)
        save_generator(folder / f"{expression}.safetensors", G, {"expression": expression, "epochs": 0})
    return folder


@contextmanager
def loaded_editor(checkpoints: Path, tmp_factory):
    """The real Editor on `checkpoints`, with its GANSpace cache in a temporary folder
    (so test runs never write to the home folder's cache)."""
    import pytest

    from editor.pipeline import Editor

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPRESSION_EDITOR_CACHE", str(tmp_factory.mktemp("cache")))
        yield Editor.load(checkpoints, device="cpu")


def connect(url: str):
    """A new visitor (own session, own gr.State) of the app at `url`."""
    import gradio_client

    return gradio_client.Client(url, verbose=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(demo):
    """Launch `demo` on 127.0.0.1 without blocking; yield its URL; close it afterwards."""
    from editor.app import launch_options

    demo.queue(default_concurrency_limit=1)
    _, url, _ = demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                            quiet=True, **launch_options())
    try:
        yield url
    finally:
        demo.close()
