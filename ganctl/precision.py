"""``--precision auto|fp32|bf16|fp16``: one rule for training and translation.

``auto`` is bf16 on CUDA GPUs that support it and fp32 everywhere else (the CPU included: CPU autocast
rarely pays off for these convolutions and changes results). bf16 and fp16 can always be asked for by
name; fp16 needs a GPU.

The names and the help text are importable without torch, so the command line can show them instantly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ganctl.errors import OptionError

if TYPE_CHECKING:
    import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
PRECISION_HELP = "auto (bf16 on CUDA GPUs that support it, else fp32), fp32, bf16, or fp16 (GPU only)."


def check_precision(mode: str) -> str:
    """``mode`` when it is a known precision name, else an OptionError listing them."""
    if mode not in PRECISIONS:
        raise OptionError("--precision", f"unknown precision {mode!r}; use {', '.join(PRECISIONS)}")
    return mode


def resolve_precision(mode: str, device: torch.device) -> str:
    """The concrete precision (``fp32``, ``bf16`` or ``fp16``) that ``mode`` means on ``device``."""
    import torch

    check_precision(mode)
    if mode == "auto":
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if mode == "fp16" and device.type == "cpu":
        raise OptionError("--precision", "fp16 needs a GPU; use fp32 or bf16 on the CPU")
    return mode


def autocast_dtype(resolved: str) -> torch.dtype | None:
    """The autocast dtype of a resolved precision (None for fp32: no autocast)."""
    import torch

    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[resolved]
