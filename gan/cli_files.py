"""`python -m gan` commands that read and write generator files: sample (a grid of a
checkpoint's faces), export (a run's generator as a shippable file) and average (a model soup)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .data import EXPRESSIONS


def cmd_sample(args: argparse.Namespace) -> int:
    import torch

    from .checkpoint import load_generator
    from .data import expression_index
    from .device import resolve_device
    from .run_figures import save_grid

    if args.n < 1 or args.nrow < 1:
        raise ValueError(f"-n and --nrow must be at least 1, got -n {args.n} --nrow {args.nrow}")
    if not 0.0 <= args.truncation <= 1.0:
        raise ValueError(f"--truncation must be between 0 and 1, got {args.truncation}")
    _check_file_name(args.output, "samples.png")
    _check_image_name(args.output)
    device = resolve_device(args.device)
    G, meta = load_generator(args.checkpoint, device)
    conditional = bool(getattr(G.config, "n_classes", 0))
    if conditional and not args.expression:
        raise ValueError(f"{args.checkpoint} is a conditional generator: pass --expression "
                         f"({', '.join(EXPRESSIONS)})")
    if not conditional and args.expression and args.expression != meta.get("expression"):
        raise ValueError(f"{args.checkpoint} only draws {meta.get('expression') or 'its own images'}; "
                         "--expression needs a conditional checkpoint")
    # The same seed gives the same z's whatever the expression, so two grids
    # of a conditional model show the same faces.
    z = torch.randn(args.n, G.config.nz, generator=torch.Generator().manual_seed(args.seed)).to(device)
    z = z * args.truncation  # the truncation trick: towards the mean face, more typical and cleaner
    with torch.no_grad():
        if conditional:
            label = torch.full((args.n,), expression_index(args.expression), device=device)
            images = G(z, label)  # [n, C, S, S] in [-1, 1]
        else:
            images = G(z)
    save_grid(images, Path(args.output), nrow=args.nrow)
    print(f"wrote {args.output}: {args.n} samples of {args.expression or meta.get('expression') or 'the model'}"
          f" ({_trained_for(meta)})")
    return 0


def _check_image_name(output: str) -> None:
    """The grid's format comes from the name's extension: refuse one PIL cannot write before
    the model is loaded, rather than fail at the end with "unknown file extension"."""
    from PIL import Image

    suffix = Path(output).suffix.lower()
    if suffix not in Image.registered_extensions():
        what = f"{suffix} is not an image format" if suffix else "the name has no extension"
        raise ValueError(f"-o {output}: {what}; name the file with .png, e.g. -o {Path(output).with_suffix('.png')}")


def _check_file_name(output: str, example: str) -> None:
    """-o must name the file to write: a folder is refused before any model is loaded (as sample
    refuses a name without an image extension), with the file name it could take there."""
    if Path(output).is_dir():
        raise ValueError(f"-o {output} is a folder; name the file to write in it, e.g. -o {Path(output) / example}")


def _trained_for(meta: dict) -> str:
    """How far the checkpoint's model was trained: a generator file records its epochs, a
    training state the epochs it finished and the steps into the next."""
    if meta.get("kind") == "training_state":
        epochs, steps = meta.get("epoch", 0), meta.get("step", 0)
        done = f"training state after {epochs} epoch{'s' * (epochs != 1)}"
        return done + (f" and {steps} step{'s' * (steps != 1)}" if steps else "")
    if meta.get("averaged_from"):  # a model soup's epochs are its longest-trained ingredient's, not its own
        sources = meta["averaged_from"]
        count = f"{len(sources)} checkpoints" if isinstance(sources, list) else "several checkpoints"
        epochs = meta.get("epochs", "?")
        return f"the average of {count}; the longest trained for {epochs} epoch{'s' * (epochs != 1)}"
    return f"epoch {meta['epochs']}" if "epochs" in meta else "epochs not recorded"


def cmd_export(args: argparse.Namespace) -> int:
    """Copy a run's generator to a shippable file, in float16 when that changes
    no output pixel by 1/255 or more (measured on fixed noise)."""
    import torch

    from .checkpoint import load_generator, save_generator

    _check_file_name(args.output, f"{Path(args.run).resolve().parent.name}.safetensors")
    G, meta = load_generator(args.run)
    z = torch.randn(256, G.config.nz, generator=torch.Generator().manual_seed(0))
    # A conditional G is checked in every expression (z's spread over the classes).
    inputs = (z, torch.arange(256) % G.config.n_classes) if getattr(G.config, "n_classes", 0) else (z,)
    with torch.no_grad():
        full = G(*inputs)
        half_G = type(G)(G.config)
        half_G.load_state_dict({k: v.half().float() if v.is_floating_point() else v
                                for k, v in G.state_dict().items()})
        diff = (half_G.eval()(*inputs) - full).abs().max().item() / 2  # [-1,1] -> [0,1] scale
    use_half = args.half and diff < 1 / 255
    save_generator(args.output, G, {**_exported_metadata(meta), "half_max_abs_diff": diff}, half=use_half)
    print(f"wrote {args.output} ({'float16' if use_half else 'float32'}; float16 max |diff| {diff * 255:.3f}/255)")
    return 0


# A training state's metadata that describes the loop, not the generator: its optimisers, its
# position (`epoch` becomes the generator file's `epochs`) and the run's settings.
_STATE_ONLY = ("config", "opt_g", "opt_d", "epoch", "step", "seconds", "images")


def _exported_metadata(meta: dict) -> dict:
    """The metadata an exported generator keeps from its source: a generator file's, or a
    training state's, reduced to what train writes beside it in generator.safetensors."""
    keep = {k: v for k, v in meta.items() if k not in ("kind", "model", "dtype", "format_version", "package_version")}
    if meta.get("kind") == "training_state":
        keep = {k: v for k, v in keep.items() if k not in _STATE_ONLY}
        keep["epochs"] = meta.get("epoch", 0)
        if meta.get("step"):  # saved part-way through an epoch (a stop, or --checkpoint-minutes)
            keep["steps_into_next_epoch"] = meta["step"]
    return keep


def cmd_average(args: argparse.Namespace) -> int:
    """Average generators' weights (a model soup) into one generator file."""
    import shlex

    from .average import average_generators
    from .checkpoint import save_generator

    _check_file_name(args.output, "average.safetensors")
    G, meta = average_generators(args.generators, args.weights)
    command = shlex.join(["python", "-m", "gan", "average", *args.generators, "-o", args.output,
                          *(["--weights", *map(str, args.weights)] if args.weights else [])])
    save_generator(args.output, G, {**meta, "command": command})
    shares = ", ".join(f"{i['weight']:.2f} {i['path']}" for i in meta["averaged_from"])
    print(f"wrote {args.output}: the average of {shares}")
    return 0
