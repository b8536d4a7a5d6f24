"""The generator's eval-mode forward, folded for inversion: BatchNorm merged into
the transposed convolution before it, on detached weight copies (float32 for the
editor's fits: FIT_DTYPE), so each inversion step runs 5 layers and
autograd tracks only z. G itself is only read: no requires_grad flips, no mode
switches, no hooks, so concurrent inversions on one G are safe (invert.py).

On the CPU, for inversion's small batches, the first three layers (whose weights are far
larger than what they output) run as a matrix product and a col2im (F.fold) instead of
conv_transpose2d: at batch 1 oneDNN's transposed convolution spends its time on the weights
(bfloat16, 512->256 on a 2-core EPYC: 2.8 ms forward and backward, against 1.2 ms as a
product; the whole G 3.2 against 5.6 ms; MATMUL_RATIO).

Why float32 (FIT_DTYPE), when bfloat16 is native on the development machines: a fit is 100
chained Adam steps, and bfloat16's rounding of sums taken in another order (another thread
count, another CPU's kernels) grows along them into another z. In bfloat16 the same photo
edited with 1 and with 2 threads differed by up to 91 grey levels (dev012, sad; 45% of its
pixels moved), in float32 by at most 2 levels (the fits agree to 4e-7 in z; another CPU's AVX2
kernels: within 7 levels, README "Benchmarks"). The edit a user gets, and the
benchmarks' numbers, should not depend on the machine or its thread count."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# A layer runs as a product + F.fold where its weight has at least MATMUL_RATIO times as many
# values as one sample's output (a 2-core EPYC, batch 1, bfloat16, forward and backward in ms,
# conv_transpose2d against the product: 100->512 at 1x1 0.58 / 0.37, 512->256 at 3x3 2.82 / 1.22,
# 256->128 at 6x6 1.08 / 0.99 (ratios 100, 228, 28), 128->64 at 12x12 0.73 / 1.20 (ratio 3.6):
# fold's cost grows with the output, the convolution's with the weight).
# In float32 too: the whole conditional G's step at batch 1 on a 2-core Xeon with AMX
# (2026-12-07, median of 280) 4.77 ms as convolutions, 4.74 / 3.96 / 3.87 ms with the first one,
# two, three layers as products (bfloat16 there: 7.41 -> 3.33 ms); the EPYC had measured float32's
# convolutions a little faster (5.1 against 5.5 ms), a machine's difference we take for the larger
# gain. Only for batches up to PRODUCT_BATCH (the product's F.fold grows with the batch:
# G's forward and backward at batch 4 7.2 against 8.4 ms, at 8 11.1 / 11.7, at 16 21.0 / 18.0;
# the latent bank's batches of 256 would take 2x as long).
MATMUL_RATIO = 8.0
PRODUCT_BATCH = 8
EXTRA_KEYS = ("spatial_bias", "product", "side")  # ours, not conv_transpose2d's


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
        if torch.device(device).type == "cpu":
            _mark_products(self.layers)

    def _flush(self, conv: dict | None) -> None:
        if conv is not None:
            self.layers.append(("conv", conv))

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """z [N, nz] -> [N, C, S, S] in [-1, 1], float32."""
        x = z.to(self.dtype)[:, :, None, None]
        for kind, args in self.layers:
            if kind == "conv":
                spatial_bias = args.get("spatial_bias")
                if "product" in args and len(x) <= PRODUCT_BATCH:
                    x = _as_product(x, args)
                else:
                    x = F.conv_transpose2d(x, **{k: v for k, v in args.items() if k not in EXTRA_KEYS})
                if spatial_bias is not None:
                    x = x + spatial_bias
            elif kind == "relu":
                x = F.relu(x)
            else:
                x = torch.tanh(x)
        return x.float()


def _mark_products(layers: list[tuple[str, dict]]) -> None:
    """Give each plain transposed convolution worth it (MATMUL_RATIO) its weight as a matrix
    [C_in, C_out * k * k] under "product", following the spatial size from G's 1x1 input."""
    side = 1
    for kind, args in layers:
        if kind != "conv":
            continue
        weight = args["weight"]  # [C_in, C_out, k, k]
        (stride, _), (padding, _), (out_pad, _), (dilation, _) = (args[key] for key in
                                                                ("stride", "padding", "output_padding", "dilation"))
        out_side = (side - 1) * stride - 2 * padding + dilation * (weight.shape[-1] - 1) + out_pad + 1
        plain = (args["groups"] == 1 and dilation == 1 and out_pad == 0 and weight.shape[-1] == weight.shape[-2]
                 and len({*args["stride"]}) == len({*args["padding"]}) == 1)
        if plain and weight.numel() >= MATMUL_RATIO * weight.shape[1] * out_side ** 2:
            args["product"] = weight.reshape(weight.shape[0], -1)
            args["side"] = out_side
        side = out_side


def _as_product(x: torch.Tensor, args: dict) -> torch.Tensor:
    """conv_transpose2d as each input pixel's weight-sized patch (a product), summed into place
    by col2im: the same sums, in another order."""
    n, c_in, h, w = x.shape
    # One 2-D product for the whole batch: a [N, H * W, C_in] @ [C_in, M] matmul runs as a
    # batched one over copies of the weight (bfloat16, batch 16: 25 ms against 1.5 ms).
    patches = (x.flatten(2).transpose(1, 2).reshape(n * h * w, c_in) @ args["product"]).reshape(n, h * w, -1)
    k = args["weight"].shape[-1]
    out = F.fold(patches.transpose(1, 2), (args["side"], args["side"]), k, stride=args["stride"],
                 padding=args["padding"])
    return out if args["bias"] is None else out + args["bias"][None, :, None, None]


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


# The precision of the editor's fits and latent banks, on every device (the module's docstring).
FIT_DTYPE = torch.float32
