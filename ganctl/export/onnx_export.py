"""ONNX export: a trained generator as an ONNX graph from pixels to pixels, checked with ONNX Runtime.

The graph is what ``ganctl translate`` runs for one pass, in fp32 (:class:`PixelGraph`): input ``image``,
float32 N x C x H x W in [0, 1] (C = 1 for gray-input models), the adapter's preparation (a colorize model's
gray -> Lab lightness), padding to the generator's multiple (:mod:`ganctl.translate.padding`), the generator,
cropping back, the adapter's finish (colorize: Lab -> RGB), output ``output`` in [0, 1]. Batch, height and
width are dynamic unless ``size`` fixes H x W. A gan model's generator takes ``noise`` (N x latent) and
returns images in [0, 1] (:class:`NoiseGraph`), as ``ganctl generate`` makes them.

Generators with batch norm or dropout (pix2pix, colorize) are exported in eval mode (running statistics, no
dropout): ``translate --eval-mode``'s output. translate's default, the reference test mode, draws its dropout
masks per image size, which one graph for every size cannot hold; the metadata says ``test_mode`` = eval.

The exporter is PyTorch's TorchScript-based one (``torch.onnx.export(..., dynamo=False)``): it traces shape
arithmetic, so the padding follows the input's size in the graph, and it exports in about a second. Adaptive
average pooling (the digit generators' global branch) is traced as two matrix products
(:func:`adaptive_avg_pool2d_any_size`), because ONNX's pooling needs sizes known when exporting.

Before the file is written, ONNX Runtime runs it on an odd-sized input and the result is compared with the
PyTorch path (the translate path in fp32 eval mode, or the generator from noise): a difference above
:data:`TOLERANCE` is an error and nothing is written. The file carries metadata
(:data:`ganctl.translate.onnx_translator.METADATA_KEYS`). No pickle is involved: ONNX is a protobuf.

``quantize="int8"`` (``--quantize int8``) quantizes the checked graph's inner convolutions
(:mod:`ganctl.export.quantize`) and compares the int8 file with the PyTorch path on calibration images held
out (:class:`Int8Check`: PSNR, max and mean difference); a low PSNR is warned about, not refused.
"""

from __future__ import annotations

import io
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from ganctl import __version__, console
from ganctl.checkpoint import load_checkpoint, resolve_checkpoint_path
from ganctl.errors import CheckpointError, GanctlError, InputError, OptionError, OutputError
from ganctl.export import CALIBRATION_IMAGES, DEFAULT_OPSET, INT8_WARN_PSNR, MIN_OPSET, QUANTIZATIONS, TOLERANCE
from ganctl.fsutil import atomic_write_bytes
from ganctl.translate.adapters import ModelAdapter, adapter_directions, adapter_kinds
from ganctl.translate.onnx_translator import FORMAT, FORMAT_VERSION, onnxruntime, open_session
from ganctl.translate.padding import pad_for_network, size_rule
from ganctl.translate.test_mode import has_test_statistics


class PixelGraph(nn.Module):
    """Pixels in [0, 1] -> pixels in [0, 1] through one translating generator, as ``translate`` runs one pass.

    ``expand_gray``: the graph takes 1 channel and repeats it to RGB for the adapter (a colorize model's graph
    takes the gray image).
    """

    def __init__(self, network: nn.Module, adapter: ModelAdapter, expand_gray: bool = False):
        super().__init__()
        self.network, self.adapter, self.expand_gray = network, adapter, expand_gray
        self.multiple, self.min_size = size_rule(network)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = image.expand(-1, 3, -1, -1) if self.expand_gray else image
        prepared = self.adapter.prepare(x)
        h, w = prepared.shape[-2], prepared.shape[-1]
        y = self.network(pad_for_network(prepared, self.multiple, self.min_size))[:, :, :h, :w]
        return self.adapter.finish(prepared, y).clamp(0, 1)


class NoiseGraph(nn.Module):
    """Noise N x latent -> images in [0, 1]: a gan model's generator as ``ganctl generate`` runs it."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        from ganctl.generate import pixels_from_noise

        return pixels_from_noise(self.network, noise)


def adaptive_avg_pool2d_any_size(x: torch.Tensor, output_size: int | tuple[int, int]) -> torch.Tensor:
    """``F.adaptive_avg_pool2d`` as two matrix products whose weights are computed from the input's size.

    Output cell i of a side of n pixels averages pixels floor(i n / o) to ceil((i + 1) n / o) - 1, as PyTorch's
    adaptive pooling does; written with tensors only, a traced graph keeps it for every input size.
    """
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) else output_size

    def weights(n: Any, o: int) -> torch.Tensor:
        i = torch.arange(o, device=x.device).unsqueeze(1)
        start = torch.div(i * n, o, rounding_mode="floor")
        end = torch.div((i + 1) * n + o - 1, o, rounding_mode="floor")
        pixel = torch.arange(n, device=x.device).unsqueeze(0)
        inside = ((pixel >= start) & (pixel < end)).to(x.dtype)
        return inside / inside.sum(1, keepdim=True)

    return weights(x.shape[-2], out_h) @ x @ weights(x.shape[-1], out_w).transpose(0, 1)


class _AnySizeOps(TorchFunctionMode):
    """While tracing: ops whose ONNX form would fix the input size, replaced by size-following equivalents."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if func is F.adaptive_avg_pool2d:
            return adaptive_avg_pool2d_any_size(*args, **kwargs)
        return func(*args, **kwargs)


@dataclass
class Int8Check:
    """How an int8 file (``--quantize int8``) compares with the PyTorch generator in fp32."""

    calibration: str  # the folder of calibration images
    calibration_images: int
    check_images: int  # held out from the calibration when there were 8 or more
    psnr: float  # mean over the check images, dB
    max_difference: float
    mean_difference: float


@dataclass
class ExportResult:
    """What :func:`export_onnx` wrote and how well ONNX Runtime matched PyTorch."""

    path: Path
    checkpoint: Path
    kind: str
    direction: str | None
    input_name: str
    input_shape: list[str]
    output_shape: list[str]
    opset: int
    check_shape: list[int]
    max_difference: float
    mean_difference: float
    test_mode: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    int8: Int8Check | None = None


def _check_writable(out: Path, overwrite: bool) -> None:
    """Refuse an output that exists (unless ``overwrite``), is a folder, or lies in a folder we cannot write."""
    if out.is_dir():
        raise OutputError(out, "is a folder; --out names the .onnx file to write")
    if out.exists() and not overwrite:
        raise OutputError(out, "exists already (use --overwrite to replace it)")
    folder = next((p for p in [out.parent, *out.parent.parents] if p.exists()), None)
    if folder is not None and (not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK)):
        raise OutputError(out, f"cannot write into {folder} (read-only or not a folder)")


def _default_out(model: Path, checkpoint: Path, kind: str, direction: str | None) -> Path:
    """``RUN/<kind>_<direction>.onnx`` for a run folder; beside the checkpoint for a checkpoint file."""
    name = f"{kind}_{direction or 'generator'}"
    if model.is_dir():
        return model / f"{name}.onnx"
    return checkpoint.with_name(f"{checkpoint.stem}_{direction or 'generator'}.onnx")


def _graph_for(checkpoint: Path, config: dict[str, Any], direction: str | None) -> tuple[nn.Module, Any, dict]:
    """(graph module, the PyTorch path to compare with, metadata) for the checkpoint's kind."""
    kind = config.get("kind")
    if kind == "gan":
        if direction is not None:
            raise OptionError("--direction", "a gan model makes images from noise; it has no direction to choose")
        from ganctl.generate import load_generator, pixels_from_noise

        net, _ = load_generator(checkpoint, "cpu")
        latent = int(config["latent_dim"])
        channels = int(getattr(net, "out_channels", 1))
        meta = {"input": "noise", "input_channels": str(latent), "output_channels": str(channels)}
        return NoiseGraph(net), lambda z: pixels_from_noise(net, z), meta
    if not adapter_directions(config):
        served = ", ".join([*adapter_kinds(), "gan"])
        raise CheckpointError(checkpoint, f"is a {kind!r} model, which has no generator to export; ganctl export "
                                          f"serves: {served}")
    from ganctl.translate.translator import load_translator

    translator = load_translator(checkpoint, direction or "a2b", device="cpu", precision="fp32", eval_mode=True)
    adapter = translator.adapter
    graph_mode = adapter.graph_mode or adapter.in_mode
    in_channels = 1 if graph_mode == "L" else 3
    graph = PixelGraph(translator.network, adapter, expand_gray=graph_mode == "L" and adapter.in_mode == "RGB")
    meta = {"direction": direction or "a2b", "input": "image", "input_channels": str(in_channels),
            "output_channels": str(adapter.out_channels), "size_multiple": str(graph.multiple)}
    if has_test_statistics(translator.network):
        meta["test_mode"] = "eval"

    def torch_path(x: torch.Tensor) -> torch.Tensor:
        # The translator's own forward (prepare, pad, network, crop, finish; tiles for big images) in fp32.
        return translator._forward_images(x.expand(-1, 3, -1, -1) if graph.expand_gray else x)

    return graph, torch_path, meta


def _check_input(config: dict[str, Any], meta: dict[str, str], size: tuple[int, int] | None) -> torch.Tensor:
    """The seeded input of the self-check: 2 odd-sized images (or the fixed size), or 3 noise vectors."""
    generator = torch.Generator().manual_seed(0)
    if meta["input"] == "noise":
        return torch.randn(3, int(meta["input_channels"]), generator=generator)
    side = int(config.get("image_size") or 32)
    h, w = size or ((side + 5) | 1, max(side - 3, 5) | 1)
    return torch.rand(2, int(meta["input_channels"]), h, w, generator=generator)


def _onnx_bytes(graph: nn.Module, example: torch.Tensor, names: tuple[str, str], dynamic: dict[int, str],
                opset: int, checkpoint: Path) -> bytes:
    """The traced graph as ONNX bytes (the exporter's warnings about tracing are expected and hidden)."""
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), _AnySizeOps():
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, (example,), buffer, input_names=[names[0]], output_names=[names[1]],
                              dynamic_axes={names[0]: dynamic, names[1]: dynamic}, opset_version=opset,
                              dynamo=False, do_constant_folding=True)
    except Exception as exc:  # the exporter raises many kinds; its message can hold a whole graph
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        if "opset" in first.lower():
            raise OptionError("--opset", f"{opset} cannot be used: {first}") from None
        raise GanctlError(f"{checkpoint}: ONNX export failed ({type(exc).__name__}: {first})") from None
    return buffer.getvalue()


def _with_metadata(data: bytes, metadata: dict[str, str]) -> bytes:
    """The ONNX model with ganctl's metadata and producer set."""
    import onnx

    model = onnx.load_model_from_string(data)
    model.producer_name, model.producer_version = "ganctl", __version__
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    return model.SerializeToString()


def _shape(arg: Any) -> list[str]:
    return [str(d) if d not in (None, "") else "?" for d in arg.shape]


def export_onnx(model: str | os.PathLike, out: str | os.PathLike | None = None, *, direction: str | None = None,
                opset: int = DEFAULT_OPSET, size: tuple[int, int] | None = None, overwrite: bool = False,
                quantize: str = "none", calibrate: str | os.PathLike | None = None,
                calibration_images: int = CALIBRATION_IMAGES) -> ExportResult:
    """Export the generator of a run folder or checkpoint (``direction`` a2b or b2a for two-way models) to ONNX.

    ``size`` (H, W) fixes the image size; else batch, height and width are dynamic. The file is checked with
    ONNX Runtime against PyTorch (see the module docstring) before it is written atomically; ``out`` defaults
    to ``RUN/<kind>_<direction>.onnx`` (beside a checkpoint file: ``<stem>_<direction>.onnx``).

    ``quantize="int8"``: the checked fp32 graph's inner convolutions are then quantized
    (:mod:`ganctl.export.quantize`), calibrated on up to ``calibration_images`` images of ``calibrate`` (default:
    the run's training images of the input domain); the int8 file is compared with PyTorch on held-out images
    (:class:`Int8Check`) and a PSNR below :data:`INT8_WARN_PSNR` is warned about.
    """
    start = time.perf_counter()
    if direction is not None and direction not in ("a2b", "b2a"):
        raise OptionError("--direction", f"must be a2b or b2a, got {direction!r}")
    if opset < MIN_OPSET:
        raise OptionError("--opset", f"must be at least {MIN_OPSET}, got {opset}")
    if quantize not in QUANTIZATIONS:
        raise OptionError("--quantize", f"must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")
    if quantize == "none" and calibrate is not None:
        raise OptionError("--calibrate", "calibrates an int8 file; use it with --quantize int8")
    if calibration_images < 1:
        raise OptionError("--calibration-images", f"must be at least 1, got {calibration_images}")
    onnxruntime()  # a missing extra is one line before anything is loaded
    model = Path(model)
    checkpoint = resolve_checkpoint_path(model)
    config = load_checkpoint(checkpoint, with_state=False).config
    kind = str(config.get("kind"))
    if size is not None and kind == "gan":
        raise OptionError("--size", "a gan generator's image size is fixed by its network")
    target = Path(out) if out is not None else _default_out(model, checkpoint, kind, direction or (
        None if kind == "gan" else "a2b"))
    if target.suffix.lower() != ".onnx":
        raise OutputError(target, "an ONNX file name ends in .onnx")
    _check_writable(target, overwrite)
    graph, torch_path, meta = _graph_for(checkpoint, config, direction)
    graph.eval()
    calibration = (_calibration_inputs(config, meta, calibrate, calibration_images, _run_folder(model, checkpoint),
                                       size) if quantize == "int8" else None)
    example = _check_input(config, meta, size)
    input_name = meta["input"]
    output_name = "image" if input_name == "noise" else "output"
    dynamic = {0: "batch"} if input_name == "noise" or size is not None else {0: "batch", 2: "height", 3: "width"}
    data = _onnx_bytes(graph, example, (input_name, output_name), dynamic, opset, checkpoint)
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, "ganctl_version": __version__, "kind": kind,
                "config": json.dumps(config, default=str), **meta, "value_range": "0 1"}
    if size is not None:
        metadata["size"] = f"{size[0]}x{size[1]}"
    data = _with_metadata(data, metadata)

    session = open_session(data, name=target)
    got = session.run(None, {input_name: example.numpy()})[0]
    with torch.inference_mode():
        want = torch_path(example).float().numpy()
    if got.shape != want.shape:
        raise GanctlError(f"{checkpoint}: the exported graph gives {list(got.shape)} where PyTorch gives "
                          f"{list(want.shape)}; nothing written")
    diff = np.abs(got.astype(np.float64) - want)
    max_diff, mean_diff = float(diff.max()), float(diff.mean())
    if not max_diff <= TOLERANCE:
        raise GanctlError(f"{checkpoint}: ONNX Runtime differs from PyTorch by up to {max_diff:.2e} (mean "
                          f"{mean_diff:.2e}) on a {' x '.join(map(str, example.shape))} input, above {TOLERANCE:g}; "
                          "nothing written")
    int8 = None
    if calibration is not None:
        metadata["quantization"] = "int8"
        data, session, int8 = _quantized(data, metadata, calibration, torch_path, input_name)
        if int8.psnr < INT8_WARN_PSNR:
            console.warn(f"the int8 file differs from the fp32 generator by {int8.psnr:.1f} dB PSNR (below "
                         f"{INT8_WARN_PSNR:g}: visibly); calibrate on more images like those it will translate "
                         "(--calibrate, --calibration-images), or export without --quantize")
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise OutputError(target, f"cannot write ({exc.strerror or exc})") from None
    return ExportResult(path=target, checkpoint=checkpoint, kind=kind, direction=meta.get("direction"),
                        input_name=input_name, input_shape=_shape(session.get_inputs()[0]),
                        output_shape=_shape(session.get_outputs()[0]), opset=opset, check_shape=list(example.shape),
                        max_difference=max_diff, mean_difference=mean_diff, test_mode=meta.get("test_mode"),
                        metadata=metadata, seconds=time.perf_counter() - start, int8=int8)


def _run_folder(model: Path, checkpoint: Path) -> Path | None:
    """The run folder of ``model`` (a run folder, or a checkpoint inside one's ``checkpoints/``), else None."""
    run = model if model.is_dir() else checkpoint.parent.parent
    return run if (run / "config.json").is_file() else None


def _calibration_inputs(config: dict[str, Any], meta: dict[str, str], calibrate: str | os.PathLike | None,
                        count: int, run: Path | None, size: tuple[int, int] | None) -> tuple[str, list[np.ndarray]]:
    """(the folder, the calibration inputs) of an int8 export: images of ``calibrate`` or of the run's training
    data for the direction's input domain, at the graph's fixed ``size`` when it has one."""
    from ganctl.export.quantize import calibration_images, calibration_size, default_calibration_folder
    from ganctl.runs import run_dataset

    if meta["input"] == "noise":
        raise OptionError("--quantize", "a gan generator is linear layers and transposed convolutions, which "
                                        "ONNX Runtime does not run in int8; export it in fp32")
    if calibrate is not None:
        folder = Path(calibrate).expanduser()
    else:
        why = "the checkpoint is not in a run folder"
        folder = None
        if run is not None:
            try:
                dataset = run_dataset(run)
            except InputError as exc:
                why = f"the run: {exc.problem.split(';')[0]}"
            else:
                folder = default_calibration_folder(str(config.get("kind")), meta.get("direction"), dataset)
                why = f"the run's data folder {dataset} has no training images of the input domain"
        if folder is None:
            raise OptionError("--calibrate", f"--quantize int8 needs images to calibrate with ({why}); give a folder "
                                             "of images like those the model will translate")
    mode = "L" if meta["input_channels"] == "1" else "RGB"
    return str(folder), calibration_images(folder, mode, count, calibration_size(config), fixed=size)


def _quantized(data: bytes, metadata: dict[str, str], calibration: tuple[str, list[np.ndarray]],
               torch_path: Any, input_name: str) -> tuple[bytes, Any, Int8Check]:
    """(the int8 file's bytes, its session, its check): calibrated on all but the held-out inputs, compared
    with the PyTorch path on those (on all of them when fewer than 8)."""
    from ganctl.export.quantize import quantize_int8
    from ganctl.metrics.ssim import psnr_values

    where, inputs = calibration
    held = min(4, len(inputs) // 4) if len(inputs) >= 8 else 0
    calibrate_on, check_on = (inputs[:-held], inputs[-held:]) if held else (inputs, inputs)
    metadata["calibration_images"] = str(len(calibrate_on))
    data = _with_metadata(quantize_int8(data, input_name, calibrate_on), metadata)
    session = open_session(data)
    psnrs, diffs = [], []
    for x in check_on:
        got = session.run(None, {input_name: x})[0]
        with torch.inference_mode():
            want = torch_path(torch.from_numpy(x)).float()
        psnrs.append(float(psnr_values(want, torch.from_numpy(got)).mean()))
        diffs.append(np.abs(got.astype(np.float64) - want.numpy()))
    check = Int8Check(calibration=where, calibration_images=len(calibrate_on), check_images=len(check_on),
                      psnr=float(np.mean(psnrs)), max_difference=float(max(d.max() for d in diffs)),
                      mean_difference=float(np.mean([d.mean() for d in diffs])))
    return data, session, check
