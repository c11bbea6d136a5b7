"""``ganctl export``: trained generators as files that run without ganctl (ONNX).

This package's ``__init__`` holds what the command line needs and imports nothing heavy (the CLI starts
without torch); :mod:`.onnx_export` does the export (:func:`~ganctl.export.onnx_export.export_onnx`).
"""

from __future__ import annotations

from ganctl.errors import OptionError

FORMATS = ("onnx",)
DEFAULT_OPSET = 17
MIN_OPSET = 13  # the graph's index arithmetic needs Clip on integers and Einsum
TOLERANCE = 1e-3
"""Largest difference allowed between ONNX Runtime and PyTorch (pixels in [0, 1])."""
QUANTIZATIONS = ("none", "int8")
CALIBRATION_IMAGES = 16
"""Images ``--quantize int8`` calibrates on by default (4 of them held out to check the file when >= 8)."""
INT8_WARN_PSNR = 30.0
"""Below this PSNR (dB) against the fp32 generator, an int8 export warns that its output looks different."""


def parse_size(value: str | None) -> tuple[int, int] | None:
    """``--size``: ``HxW`` (or one number for a square) -> (H, W); None or ``any`` -> None (dynamic)."""
    if value is None or value.strip().lower() in ("", "any"):
        return None
    parts = value.lower().replace("×", "x").split("x")
    try:
        size = tuple(int(p) for p in parts)
    except ValueError:
        raise OptionError("--size", f"expected HxW (e.g. 256x256) or one number, got {value!r}") from None
    if len(size) == 1:
        size = size * 2
    if len(size) != 2 or min(size) < 1:
        raise OptionError("--size", f"expected HxW with two positive numbers (e.g. 256x256), got {value!r}")
    return size[0], size[1]
