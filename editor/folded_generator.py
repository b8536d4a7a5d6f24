"""The generator's eval-mode forward, folded for inversion: BatchNorm merged into
the transposed convolution before it, on detached weight copies (bfloat16 where
the hardware runs it natively), so each inversion step runs 5 convolutions and
autograd tracks only z. G itself is only read: no requires_grad flips, no mode
switches, no hooks, so concurrent inversions on one G are safe (invert.py)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gan.device import native_bf16


class FoldedGenerator:
    """G's eval-mode forward as 5 transposed convolutions (BatchNorm folded in)
    on detached weight copies in `dtype`. Built per call from G's state; G is
    only read.

    A conditional G (gan.conditional) takes [z, y] in its first layer; with the
    expression vector `label` [K] fixed, y's share of that layer is a constant
    [C, k, k] map, folded in as a spatial bias, so z alone is optimised."""

    def __init__(self, G: nn.Module, *, dtype: torch.dtype, device: torch.device,
                 label: torch.Tensor | None = None) -> None:
        self.dtype = dtype
        self.layers: list[tuple[str, dict]] = []
        n_classes = getattr(getattr(G, "config", None), "n_classes", 0)
        if bool(n_classes) != (label is not None):
            raise ValueError("a conditional generator needs `label` (its expression vector); "
                             "the seed's generators take none")
        with torch.no_grad():
            pending = None  # the last transposed conv, until we know whether BatchNorm follows
            for layer in _layers(G):
                if isinstance(layer, nn.ConvTranspose2d):
                    self._flush(pending)
                    pending = _conv_args(layer)
                    if n_classes and not self.layers:  # the first layer: split z's and y's weights
                        weight = pending["weight"]  # [nz + K, C, k, k]
                        y = label.reshape(-1).to(weight)
                        pending["spatial_bias"] = torch.einsum("k,kchw->chw", y, weight[-n_classes:])
                        pending["weight"] = weight[:-n_classes]
                elif isinstance(layer, nn.BatchNorm2d) and pending is not None:
                    # Eval BN is y = x * scale + shift per channel: fold into the conv before it.
                    scale = layer.weight / torch.sqrt(layer.running_var + layer.eps)
                    shift = layer.bias - layer.running_mean * scale
                    bias = pending["bias"] if pending["bias"] is not None else torch.zeros_like(shift)
                    pending["weight"] = pending["weight"] * scale[None, :, None, None]  # [in, out, k, k]
                    pending["bias"] = bias * scale + shift
                    if "spatial_bias" in pending:
                        pending["spatial_bias"] = pending["spatial_bias"] * scale[:, None, None]
                    self._flush(pending)
                    pending = None
                elif isinstance(layer, (nn.ReLU, nn.Tanh)):
                    self._flush(pending)
                    pending = None
                    self.layers.append(("relu" if isinstance(layer, nn.ReLU) else "tanh", {}))
                else:
                    raise TypeError(f"invert does not know how to run a {type(layer).__name__} layer; "
                                    "it supports gan.models.Generator (ConvTranspose2d, BatchNorm2d, ReLU, Tanh)")
            self._flush(pending)
        for _, args in self.layers:
            for key in ("weight", "bias", "spatial_bias"):
                if args.get(key) is not None:
                    args[key] = args[key].detach().to(device=device, dtype=dtype).contiguous()

    def _flush(self, conv: dict | None) -> None:
        if conv is not None:
            self.layers.append(("conv", conv))

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, nz] -> [N, C, S, S] in [-1, 1], float32."""
        x = z.to(self.dtype)[:, :, None, None]
        for kind, args in self.layers:
            if kind == "conv":
                spatial_bias = args.get("spatial_bias")
                x = F.conv_transpose2d(x, **{k: v for k, v in args.items() if k != "spatial_bias"})
                if spatial_bias is not None:
                    x = x + spatial_bias
            elif kind == "relu":
                x = F.relu(x)
            else:
                x = torch.tanh(x)
        return x.float()


def _layers(G: nn.Module) -> list[nn.Module]:
    main = getattr(G, "main", None)
    if not isinstance(main, nn.Sequential):
        raise TypeError(f"invert needs a gan.models.Generator (a `main` Sequential), got {type(G).__name__}")
    return list(main)


def latent_size(G: nn.Module) -> int:
    """Length of z (a conditional G's first layer also takes the expression vector)."""
    return _layers(G)[0].in_channels - getattr(getattr(G, "config", None), "n_classes", 0)


def _conv_args(layer: nn.ConvTranspose2d) -> dict:
    return {"weight": layer.weight.detach(),
            "bias": None if layer.bias is None else layer.bias.detach(),
            "stride": layer.stride, "padding": layer.padding, "output_padding": layer.output_padding,
            "groups": layer.groups, "dilation": layer.dilation}


def fast_dtype(device: torch.device | str) -> torch.dtype:
    """bfloat16 where the hardware runs it natively (gan.device.native_bf16), else float32."""
    return torch.bfloat16 if native_bf16(device) else torch.float32
