"""The pictures of a run folder: the loss plot and the sample grids."""

from __future__ import annotations

from pathlib import Path

import torch

from .run_files import read_metrics


def loss_plot_rows(rows: list[dict]) -> list[dict]:
    """The metrics rows a per-iteration plot draws. gan train logs every iteration (with its
    "iter") and, at each epoch end, the epoch's means without one: those would otherwise sit at
    their row number as if they were iterations, so they are left out where rows with steps exist."""
    with_steps = [r for r in rows if "iter" in r]
    return with_steps or rows


def loss_plot_steps(rows: list[dict]) -> list[int]:
    """The x of each metrics row: its optimiser step ("iter") where it has one, so a run that
    logs once an epoch is not drawn as if it had logged every iteration; else its row number."""
    return [int(r.get("iter", i)) for i, r in enumerate(rows)]


def write_loss_plot(metrics_path: Path, out_path: Path, title: str) -> None:
    """G and D loss per iteration, like the seed's loss figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = loss_plot_rows([r for r in read_metrics(metrics_path) if "loss_d" in r])
    if not rows:
        return
    steps = loss_plot_steps(rows)
    marker = "o" if len(rows) < 50 else None  # per-epoch rows (train-change): show each one
    fig, ax = plt.subplots(figsize=(8, 4), dpi=100)
    ax.plot(steps, [r["loss_g"] for r in rows], label="G", linewidth=0.6, marker=marker)
    ax.plot(steps, [r["loss_d"] for r in rows], label="D", linewidth=0.6, marker=marker)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8) -> None:
    """images: [N, C, H, W] in [-1, 1] -> a PNG grid."""
    from torchvision.utils import save_image

    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(images.float().cpu(), path, nrow=nrow, normalize=True, value_range=(-1, 1), padding=2)
