"""int8 ONNX files: an exported fp32 graph quantized with ONNX Runtime's static quantization.

``ganctl export --quantize int8`` keeps the graph's float pixels in and out and stores its convolutions in
int8: per-channel int8 weights and uint8 activations whose ranges are measured on calibration images
(:func:`quantize_int8`, ONNX Runtime's ``quantize_static``, QOperator format, MinMax ranges). ONNX Runtime runs
those as integer convolutions (VNNI on CPUs that have it), about twice as fast on the CPU as fp32.

What is quantized is chosen for image quality (measured in docs/benchmarks.md):

* only Conv nodes: instance norm, padding, the residual additions, the colour conversions of a colorize
  graph and the output's tanh stay in fp32 (they cost little and hold the value ranges); so do transposed
  convolutions, which ONNX Runtime's QOperator format has no int8 kernel for;
* not the first and last convolution, which read and write the image itself (3 channels, where 8 bits of
  activation range show as banding); they are a few per cent of a generator's products.

Calibration images come from ``--calibrate FOLDER``, else from the run's own training data for the direction's
input domain (:func:`default_calibration_folder`). Each is decoded as translate decodes it (gray for a
colorize graph), scaled to the model's training size on its shorter side; a file that cannot be read is
skipped. A gan generator (linear layers and transposed convolutions) has nothing to quantize.
"""

from __future__ import annotations

import logging
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ganctl import console
from ganctl.data.imageio import list_images
from ganctl.errors import ImageReadError, InputError, OptionError
from ganctl.translate.images import decode_image

_LARGEST_CALIBRATION_SIDE = 512
"""The shorter side calibration images are scaled to at most (the model's training size when smaller)."""


def default_calibration_folder(kind: str, direction: str | None, dataset: Path) -> Path | None:
    """The training images of the direction's input domain in a run's ``dataset`` folder, or None.

    cyclegan and cut: ``trainA/`` for a2b, ``trainB/`` for b2a; colorize: its colour photos (``trainB/`` of a
    dataset folder, or the plain folder it trained on). None for other kinds or a folder without them.
    """
    if kind in ("cyclegan", "cut"):
        domain = dataset / ("trainB" if direction == "b2a" else "trainA")
        return domain if domain.is_dir() else None
    if kind == "colorize":
        return dataset / "trainB" if (dataset / "trainB").is_dir() else dataset
    return None


def calibration_images(folder: Path, mode: str, count: int, size: int,
                       fixed: tuple[int, int] | None = None) -> list[np.ndarray]:
    """Up to ``count`` images of ``folder`` (evenly spread over its sorted files) as float32 1 x C x H x W in
    [0, 1], decoded in ``mode`` (``L``/``RGB``) and scaled to ``size`` on the shorter side, or to exactly
    ``fixed`` (H, W) for a graph of one size; unreadable files are skipped. Raises :class:`InputError` when
    the folder has no readable image."""
    if not folder.is_dir():
        raise InputError(folder, "is not a folder (--calibrate takes a folder of images like those the model "
                                 "will translate)")
    files = list_images(folder)
    if not files:
        raise InputError(folder, "contains no images to calibrate with")
    step = max(1, len(files) // count)
    arrays = []
    for path in files[::step]:
        if len(arrays) == count:
            break
        try:
            pixels = decode_image(path, mode, None if fixed else size).pixels
            if fixed is not None and pixels.shape[:2] != fixed:
                pixels = np.asarray(Image.fromarray(pixels).resize(fixed[::-1], Image.Resampling.BICUBIC))
        except ImageReadError as exc:
            console.warn(f"calibration: skipped {path.name}: {exc.problem}")
            continue
        channels = pixels.reshape(pixels.shape[0], pixels.shape[1], -1).transpose(2, 0, 1)
        arrays.append(np.ascontiguousarray(channels[None], dtype=np.float32) / np.float32(255.0))
    if not arrays:
        raise InputError(folder, "has no image that can be read to calibrate with")
    return arrays


def calibration_size(config: dict[str, Any]) -> int:
    """The shorter side calibration images are scaled to: the model's training size, at most 512."""
    return min(int(config.get("image_size") or 256), _LARGEST_CALIBRATION_SIDE)


class _Inputs:
    """ONNX Runtime's calibration data reader over a list of arrays for one input."""

    def __init__(self, name: str, arrays: list[np.ndarray]):
        self._feeds = iter([{name: a} for a in arrays])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)

    def rewind(self) -> None:  # part of the reader interface; MinMax calibration reads once
        pass


@contextmanager
def _quiet_quantizer():
    """ONNX Runtime's quantization tools log through the root logger (shape inference notes, per tensor), and
    the sessions they open print the runtime's graph clean-up warnings: errors only while they run."""
    import onnxruntime as ort

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    ort.set_default_logger_severity(3)
    try:
        yield
    finally:
        root.setLevel(level)
        ort.set_default_logger_severity(2)  # ONNX Runtime's default (warnings)


def quantize_int8(model: bytes, input_name: str, inputs: list[np.ndarray]) -> bytes:
    """The fp32 ONNX ``model`` with its inner convolutions in int8, ranges calibrated on ``inputs`` (see the
    module docstring for what is and is not quantized). The graph's inputs and outputs are kept; its metadata
    is ONNX Runtime's (the caller sets ganctl's)."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory(prefix="ganctl-int8-") as tmp, _quiet_quantizer():
        fp32, prepared, int8 = (Path(tmp) / name for name in ("fp32.onnx", "prepared.onnx", "int8.onnx"))
        fp32.write_bytes(model)
        # ONNX Runtime's own graph clean-up first (constant folding, fusions), as its quantizer recommends.
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        convolutions = [n.name for n in onnx.load(str(prepared)).graph.node if n.op_type in ("Conv", "ConvTranspose")]
        quantize_static(str(prepared), str(int8), _Inputs(input_name, inputs), quant_format=QuantFormat.QOperator,
                        op_types_to_quantize=["Conv"], per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        nodes_to_exclude=[convolutions[0], convolutions[-1]] if len(convolutions) > 2 else [])
        quantized = onnx.load(str(int8))
    if not any(n.op_type == "QLinearConv" for n in quantized.graph.node):
        raise OptionError("--quantize", "this generator has no convolution ONNX Runtime runs in int8 (besides the "
                                        "first and last, and transposed ones); export it in fp32")
    return quantized.SerializeToString()
