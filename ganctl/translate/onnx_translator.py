"""An ONNX graph run by ONNX Runtime in place of a :class:`~ganctl.translate.translator.Translator`.

``ganctl translate INPUT --model FILE.onnx`` hands an :class:`OnnxTranslator` to the same folder, tree and
video pipeline as a checkpoint's translator: it has the same ``in_mode`` and ``__call__`` (equal-sized uint8
images in, uint8 images of the same size out).

The convention (what ``ganctl export`` writes; a plain ONNX file without ganctl metadata runs when it follows
it): one input, float32 N x C x H x W pixels in [0, 1] with C = 1 (gray) or 3 (RGB); the first output float32
N x C' x H x W in [0, 1] (C' = 1 or 3) of the same H and W. N, H and W may be fixed or named (dynamic); a
fixed N is run in chunks of N, a fixed H x W takes images of that size only.

A file ``ganctl export`` wrote also says what it is in its metadata (:data:`METADATA_KEYS`). The graph runs as
exported (fp32, or int8 convolutions after ``export --quantize int8``) on the CPU, or on CUDA where ONNX
Runtime has its CUDA provider (``--device auto`` picks it, except for an int8 file: CUDA has no int8
convolution in ONNX Runtime, so auto keeps those on the CPU).
``onnxruntime`` (the ``onnx`` extra) is imported only when a graph is opened.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ganctl import console
from ganctl.errors import CheckpointError, GanctlError, OptionError

FORMAT = "ganctl-onnx"
FORMAT_VERSION = "1"
METADATA_KEYS = {
    "format": f"always {FORMAT!r}",
    "format_version": f"{FORMAT_VERSION!r}",
    "ganctl_version": "the ganctl that exported the file",
    "kind": "the model kind (cyclegan, cut, pix2pix, colorize, gan)",
    "config": "the checkpoint's model config (JSON)",
    "direction": "a2b or b2a (models that translate)",
    "input": "the input's name: image, or noise for a gan generator",
    "input_channels": "1 (gray) or 3 (RGB); the latent size for a gan generator",
    "output_channels": "1 or 3",
    "value_range": "'0 1': pixels in and out are in [0, 1]",
    "test_mode": "eval for generators with batch norm or dropout (running statistics, no dropout)",
    "size_multiple": "the generator's size multiple (the graph pads to it and crops back)",
    "size": "HxW when the graph takes one image size only (export --size)",
    "quantization": "int8 when the inner convolutions are int8 (export --quantize int8); absent in fp32 files",
    "calibration_images": "how many images the int8 ranges were calibrated on",
}
CONVENTION = ("one input, float32 N x C x H x W pixels in [0, 1] with C = 1 or 3, and an output of the same layout "
              "and H x W")
# Pixels per pass at most (batch x H x W), as the CPU budget of the torch translator.
_MAX_PASS_PIXELS = 4 * 2**20


def onnxruntime() -> Any:
    """The ``onnxruntime`` module, or a GanctlError saying how to install it (it comes with the ``onnx`` extra)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise GanctlError("ONNX support is not installed: pip install 'ganctl[onnx]' (onnx, onnxruntime)") from None
    return ort


def onnx_providers(device: str) -> tuple[list[Any], str]:
    """ONNX Runtime's execution providers for ``--device`` (auto, cpu, cuda, cuda:N) and the device's name."""
    device = device.lower()
    available = onnxruntime().get_available_providers()
    if device == "auto":
        device = "cuda" if "CUDAExecutionProvider" in available else "cpu"
    if device == "cpu":
        return ["CPUExecutionProvider"], "cpu"
    if device == "cuda" or device.startswith("cuda:"):
        index = device.partition(":")[2] or "0"
        if not index.isdigit():
            raise OptionError("--device", f"expected cuda or cuda:N, got {device!r}")
        if "CUDAExecutionProvider" not in available:
            raise OptionError("--device", "this ONNX Runtime has no CUDA provider (install onnxruntime-gpu); "
                                          "use --device cpu")
        return [("CUDAExecutionProvider", {"device_id": int(index)}), "CPUExecutionProvider"], f"cuda:{index}"
    raise OptionError("--device", f"ONNX Runtime runs on cpu or cuda[:N], got {device!r}")


def open_session(model: str | os.PathLike | bytes, providers: Sequence[Any] = ("CPUExecutionProvider",),
                 name: str | os.PathLike | None = None, threads: int | None = None) -> Any:
    """An ONNX Runtime session for a file (or the bytes of one, named ``name`` in errors), with ``threads``
    intra-op threads (default: ONNX Runtime's, one per physical core); a file that is not a readable ONNX model
    is a :class:`CheckpointError`."""
    where = name if name is not None else model
    if not isinstance(model, bytes):
        path = Path(model)
        if not path.is_file():
            raise CheckpointError(path, "no such ONNX file" if not path.exists() else "is not a file")
        model = str(path)
    ort = onnxruntime()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: provider fallbacks are reported by ganctl itself
    if threads:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(model, sess_options=options, providers=list(providers))
    except Exception as exc:  # ONNX Runtime's errors have no common base class besides Exception
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(where, f"is not an ONNX model ONNX Runtime can load ({first})") from None


def _dim(value: Any) -> int | None:
    """A fixed dimension as an int, None for a named (dynamic) or unknown one."""
    return value if isinstance(value, int) and value > 0 else None


class OnnxTranslator:
    """An image-to-image ONNX graph run by ONNX Runtime, with the interface the translate pipeline uses.

    ``test_mode``: what the file's metadata says (``eval`` for exported pix2pix and colorize models), else None.
    """

    def __init__(self, session: Any, path: str | os.PathLike):
        self.session, self.path = session, Path(path)
        self.metadata = dict(session.get_modelmeta().custom_metadata_map)
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if self.metadata.get("input") == "noise" or (len(inputs) == 1 and len(inputs[0].shape) == 2):
            raise CheckpointError(self.path, "is a generator from noise (a gan model), not an image translator; "
                                             "ganctl translate needs a graph that takes images")
        if len(inputs) != 1 or not outputs:
            raise CheckpointError(self.path, f"has {len(inputs)} inputs and {len(outputs)} outputs; ganctl runs "
                                             f"ONNX graphs with {CONVENTION}")
        self.input, self.output = inputs[0], outputs[0]
        for role, arg in (("input", self.input), ("output", self.output)):
            if arg.type != "tensor(float)" or len(arg.shape) != 4 or arg.shape[1] not in (1, 3):
                raise CheckpointError(self.path, f"{role} {arg.name!r} is {arg.type} {list(arg.shape)}; ganctl runs "
                                                 f"ONNX graphs with {CONVENTION}")
        self.in_channels, self.out_channels = int(self.input.shape[1]), int(self.output.shape[1])
        self.in_mode = "L" if self.in_channels == 1 else "RGB"
        self.batch = _dim(self.input.shape[0])
        self.size = (_dim(self.input.shape[2]), _dim(self.input.shape[3]))
        self.test_mode = self.metadata.get("test_mode") or None
        self.precision_name = "int8" if self.metadata.get("quantization") == "int8" else "fp32"
        self.direction = self.metadata.get("direction") or None
        # Colorize graphs keep the input's lightness (ModelAdapter.keeps_lightness); the export says the kind.
        self.keeps_lightness = self.metadata.get("kind") == "colorize"
        providers = session.get_providers()
        self.device = "onnxruntime-" + ("cuda" if "CUDAExecutionProvider" in providers else "cpu")

    def run(self, x: np.ndarray) -> np.ndarray:
        """The graph on float32 pixels N x C x H x W in [0, 1] -> N x C' x H x W, in passes of a pixel budget (or
        of the graph's fixed batch size)."""
        n, _, h, w = x.shape
        fixed_h, fixed_w = self.size
        if (fixed_h is not None and fixed_h != h) or (fixed_w is not None and fixed_w != w):
            raise GanctlError(f"{self.path}: takes {fixed_h or 'any'} x {fixed_w or 'any'} (H x W) images only, got "
                              f"{h} x {w}; export the model without --size for any size")
        per_pass = self.batch or max(1, _MAX_PASS_PIXELS // (h * w))
        outs = []
        for start in range(0, n, per_pass):
            chunk = x[start:start + per_pass]
            if self.batch is not None and len(chunk) < self.batch:  # a fixed batch: fill with the last image
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], self.batch - len(chunk), axis=0)])
            try:
                y = self.session.run([self.output.name], {self.input.name: chunk})[0]
            except Exception as exc:  # ONNX Runtime's errors have no common base class besides Exception
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise GanctlError(f"{self.path}: ONNX Runtime failed on a {chunk.shape[0]} x {chunk.shape[1]} x {h} "
                                  f"x {w} batch ({first})") from None
            if y.ndim != 4 or y.shape[0] != chunk.shape[0] or y.shape[2:] != (h, w):
                raise GanctlError(f"{self.path}: output is {list(y.shape)} for an input of {list(chunk.shape)}; "
                                  f"ganctl runs ONNX graphs with {CONVENTION}")
            outs.append(y[:len(x[start:start + per_pass])])
        return np.concatenate(outs).astype(np.float32, copy=False)

    def __call__(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Translate equal-sized uint8 images; returns uint8 images of the same H x W (H x W or H x W x 3)."""
        if not images:
            return []
        h, w = images[0].shape[:2]
        x = np.stack([im.reshape(h, w, self.in_channels) for im in images]).transpose(0, 3, 1, 2)
        y = self.run(np.ascontiguousarray(x, dtype=np.float32) / np.float32(255.0))
        out = (y * 255.0 + 0.5).clip(0, 255).astype(np.uint8).transpose(0, 2, 3, 1)
        return [a[:, :, 0] if a.shape[2] == 1 else np.ascontiguousarray(a) for a in out]


def load_onnx_translator(model: str | os.PathLike, direction: str | None = None, device: str = "auto",
                         precision: str = "auto") -> OnnxTranslator:
    """An :class:`OnnxTranslator` for an ONNX file. ``direction``, when given, must be the file's (a plain ONNX
    file counts as a2b); ``precision`` must be auto or fp32 (the graph runs as exported)."""
    path = Path(model)
    if precision not in ("auto", "fp32"):
        raise OptionError("--precision", f"an ONNX model runs as exported (fp32, or int8 where it was exported with "
                                         f"--quantize int8), got {precision!r}")
    providers, _ = onnx_providers(device)
    translator = OnnxTranslator(open_session(path, providers), path)
    if translator.precision_name == "int8" and translator.device != "onnxruntime-cpu":
        # ONNX Runtime's CUDA provider has no int8 convolution: it would run each one on the CPU, copying
        # activations to and fro. --device auto runs the whole graph on the CPU; an explicit cuda is warned.
        if device.lower() == "auto":
            translator = OnnxTranslator(open_session(path, ["CPUExecutionProvider"]), path)
        else:
            console.warn(f"{path.name} is int8: ONNX Runtime runs its int8 convolutions on the CPU, not on "
                         "CUDA (export without --quantize for a GPU)")
    has = translator.direction or "a2b"
    if direction is not None and direction != has:
        where = "" if translator.direction else " (a plain ONNX file: a2b)"
        raise OptionError("--direction", f"{path} holds the {has} direction only{where}; export the {direction} "
                                         f"direction with 'ganctl export RUN --direction {direction}'")
    if translator.metadata.get("format") not in (None, FORMAT):
        raise CheckpointError(path, f"says it is format {translator.metadata['format']!r}, not {FORMAT!r}")
    return translator


def is_onnx_path(model: str | os.PathLike) -> bool:
    """True when ``--model`` names an ONNX file (by its extension)."""
    return Path(model).suffix.lower() == ".onnx"

