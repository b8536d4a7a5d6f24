"""Which device a training run uses and how: CUDA, then Apple's MPS, then the CPU;
bf16 autocast where the hardware does it natively; torchrun's process group."""

from __future__ import annotations

import contextlib
import os

import torch


class DeviceError(ValueError):
    """A --device this machine cannot run on; the message lists the ones it can."""


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def valid_devices() -> str:
    """The --device values this machine accepts, for error messages."""
    names = ["auto", "cpu"]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        names += ["cuda", "cuda:0" if count == 1 else f"cuda:N (N = 0-{count - 1})"]
    if _mps_available():
        names.append("mps")
    absent = [what for what, present in (("cuda and cuda:N need an NVIDIA GPU with CUDA", torch.cuda.is_available()),
                                         ("mps needs Apple silicon", _mps_available())) if not present]
    return ", ".join(names) + (f" ({'; '.join(absent)})" if absent else "")


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA, then Apple's MPS, then the CPU. A device this machine does not
    have, or a name that is no device, is a DeviceError that lists the valid ones."""
    name = str(name).strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in ("cpu", "cuda", "mps"):
        raise DeviceError(f"--device {name!r} is not a device; use one of {valid_devices()}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {name} was asked for but CUDA is not available on this machine; "
                              f"use one of {valid_devices()}")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise DeviceError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s); "
                              f"use one of {valid_devices()}")
    if device.type == "mps" and not _mps_available():
        raise DeviceError(f"--device {name} was asked for but Apple's MPS is not available on this machine; "
                          f"use one of {valid_devices()}")
    return device


def native_bf16(device: torch.device | str) -> bool:
    """Whether the hardware runs bfloat16 natively: a CUDA GPU of compute capability 8 or more
    (Ampere on; torch.cuda.is_bf16_supported() also says yes for a T4 or V100, which only
    emulate it, slowly), or a CPU with AVX512-BF16 or AMX (oneDNN's kernels)."""
    device = torch.device(device)
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.cuda.get_device_capability(index)[0] >= 8
    if device.type == "cpu":
        return torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return False


def mixed_precision(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on GPUs and CPUs that do bf16 natively (native_bf16; measured 1.75x
    faster per step on a 2-core EPYC); else none (float32, as --no-amp)."""
    if device.type in ("cuda", "cpu") and native_bf16(device):
        return torch.autocast(device.type, dtype=torch.bfloat16)
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
