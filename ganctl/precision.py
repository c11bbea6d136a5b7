"""``--precision auto|fp32|bf16|fp16``: one rule for training and translation.

``auto`` is bf16 on CUDA GPUs that support it and fp32 everywhere else (the CPU included: CPU autocast
changes results, and without native bf16 it is slower). ``fast`` is also bf16 on CPUs that run it natively
(AVX512-BF16 or AMX: a quick-preset CycleGAN step takes 0.6x the time, docs/benchmarks.md), else as auto;
presets made for CPUs use it. bf16 and fp16 can always be asked for by name; fp16 needs a GPU.

The names and the help text are importable without torch, so the command line can show them instantly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ganctl.errors import OptionError

if TYPE_CHECKING:
    import torch

PRECISIONS = ("auto", "fast", "fp32", "bf16", "fp16")
PRECISION_HELP = ("auto (bf16 on CUDA GPUs that support it, else fp32), fast (as auto, and bf16 on CPUs that run it "
                  "natively: AVX512-BF16 or AMX), fp32, bf16, or fp16 (GPU only).")


def check_precision(mode: str) -> str:
    """``mode`` when it is a known precision name, else an OptionError listing them."""
    if mode not in PRECISIONS:
        raise OptionError("--precision", f"unknown precision {mode!r}; use {', '.join(PRECISIONS)}")
    return mode


def resolve_precision(mode: str, device: torch.device) -> str:
    """The concrete precision (``fp32``, ``bf16`` or ``fp16``) that ``mode`` means on ``device``."""
    import torch

    check_precision(mode)
    if mode in ("auto", "fast"):
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        return "bf16" if mode == "fast" and device.type == "cpu" and cpu_runs_bf16() else "fp32"
    if mode == "fp16" and device.type == "cpu":
        raise OptionError("--precision", "fp16 needs a GPU; use fp32 or bf16 on the CPU")
    return mode


def cpu_runs_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX tiles), as torch reports it."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: assume not
        return False


def autocast_dtype(resolved: str) -> torch.dtype | None:
    """The autocast dtype of a resolved precision (None for fp32: no autocast)."""
    import torch

    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[resolved]
