"""Which device a training run uses and how: CUDA, then Apple's MPS, then the CPU;
bf16 autocast where the hardware does it natively; torchrun's process group."""

from __future__ import annotations

import contextlib
import os

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple's MPS, then the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for but CUDA is not available; use --device auto or cpu")
    return device


def native_bf16(device: torch.device | str) -> bool:
    """Whether the hardware runs bfloat16 natively: a CUDA GPU that supports it, or a CPU
    with AVX512-BF16 or AMX (oneDNN's kernels)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return False


def mixed_precision(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA and on CPUs that do bf16 natively (measured 1.75x
    faster per step on a 2-core EPYC); else none."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if device.type == "cpu" and native_bf16(device):
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        import platform

        return f"cpu ({platform.machine()}, {torch.get_num_threads()} threads)"
    return device.type


def distributed() -> tuple[int, int]:
    """(rank, world size) under torchrun, else (0, 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    rank = int(os.environ.get("RANK", "0"))
    return rank, world


def end_distributed(*, wait: bool = True) -> None:
    """Under torchrun, at the end of a command: wait for every rank (rank 0 may still be writing
    the last epoch's files), then close the process group. A rank that exits with the group open
    while another still talks to it can abort (SIGABRT, seen once in a CI run of the DDP test).
    `wait=False` after an error: the other ranks may never arrive, so close without waiting."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        if wait:
            torch.distributed.barrier()
        torch.distributed.destroy_process_group()
