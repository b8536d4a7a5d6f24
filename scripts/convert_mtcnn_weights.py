"""Convert facenet-pytorch's MTCNN weights (pickled .pt files) into one safetensors file.

facenet-pytorch ships P-, R- and O-net state dicts as torch pickles inside its
wheel (facenet_pytorch/data/{pnet,rnet,onet}.pt). The project never unpickles
anything at run time, so this one-off script converts them, once, into
`checkpoints/mtcnn.safetensors` (keys `pnet.*`, `rnet.*`, `onet.*`), which
`editor.faces` loads. Run it again only to regenerate that file:

    python scripts/convert_mtcnn_weights.py [--out checkpoints/mtcnn.safetensors]

It loads the pickles with `weights_only=True` (tensors only, no code), and
checks that the converted nets give the same outputs as the originals.
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from editor.faces import DEFAULT_WEIGHTS, NETS, load_mtcnn_nets  # noqa: E402
from gan.checkpoint import save_tensors  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS)
    args = parser.parse_args(argv)

    import facenet_pytorch

    data_dir = Path(facenet_pytorch.__file__).resolve().parent / "data"
    tensors: dict[str, torch.Tensor] = {}
    originals = {}
    for name, net_class in NETS.items():
        state = torch.load(data_dir / f"{name}.pt", map_location="cpu", weights_only=True)
        net = net_class(pretrained=False)
        net.load_state_dict(state)
        originals[name] = net.eval()
        tensors.update({f"{name}.{key}": value for key, value in state.items()})

    metadata = {
        "kind": "mtcnn",
        "source": f"facenet-pytorch {version('facenet-pytorch')}, facenet_pytorch/data/{{pnet,rnet,onet}}.pt "
                  "(https://github.com/timesler/facenet-pytorch), converted by scripts/convert_mtcnn_weights.py",
        "licence": "MIT (facenet-pytorch, Copyright (c) 2019 Timothy Esler)",
        "paper": "Zhang et al., Joint Face Detection and Alignment using Multi-task Cascaded "
                 "Convolutional Networks, IEEE SPL 2016",
    }
    save_tensors(args.out, tensors, metadata)

    # The file must rebuild nets that compute exactly what the originals compute.
    converted = dict(zip(NETS, load_mtcnn_nets(args.out)))
    sides = {"pnet": 12, "rnet": 24, "onet": 48}
    x = torch.randn(4, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for name, side in sides.items():
            crop = x[:, :, :side, :side]
            for a, b in zip(originals[name](crop), converted[name](crop)):
                torch.testing.assert_close(a, b, rtol=0, atol=0)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({len(tensors)} tensors, {size / 1e6:.2f} MB); outputs match the .pt weights")


if __name__ == "__main__":
    main()
