"""Batched inference with a trained generator over one image, a folder tree or a video.

The pieces, in the order data flows through them:

* a :class:`ModelAdapter` per checkpoint ``kind`` says which network to run, which image mode it
  reads and how images become network input and network output becomes an image again
  (:func:`register_adapter`; ``cyclegan`` is built in, a ``colorize`` adapter is one more function);
* a :class:`Translator` runs that network on batches of equal-sized uint8 images: pinned memory and
  non-blocking copies on CUDA, inference mode, bf16 autocast where supported, reflect padding to the
  generator's ``size_multiple`` and cropping back, and overlapping tiles for images too large to run
  whole (found up front by a pixel budget, or after an out-of-memory error);
* :func:`translate_images` decodes in background threads and encodes in worker processes while the
  model runs, batching images of equal size, and returns a :class:`TranslateSummary`;
* :func:`translate_path` takes a file, folder or video path and plans the outputs under ``out``.
"""

from __future__ import annotations

import importlib
import math
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ganctl import console
from ganctl.checkpoint import load_checkpoint, resolve_checkpoint_path
from ganctl.data.imageio import IMAGE_EXTENSIONS, open_image, to_mode
from ganctl.device import resolve_device
from ganctl.errors import CheckpointError, GanctlError, ImageReadError, InputError, OptionError, OutputError
from ganctl.fsutil import atomic_path, check_output_outside_input
from ganctl.models import create_model

VIDEO_EXTENSIONS = frozenset({".mp4", ".webm", ".avi", ".mov", ".mkv", ".gif"})
OUTPUT_FORMATS = ("png", "jpg", "same")
PRECISIONS = ("auto", "fp32", "bf16")
# PNG is lossless at every level; level 1 encodes several times faster than PIL's default 6.
PNG_COMPRESS_LEVEL = 1
# From this many images on, PNG/JPEG encoding runs in worker processes (see _encoder_pool).
PROCESS_ENCODE_MIN_IMAGES = 64
# Below this many pixels per forward pass, an out-of-memory error is not worth another split.
_MIN_PASS_PIXELS = 128 * 128
_ALPHA_SUFFIXES = frozenset({".png", ".webp", ".tif", ".tiff"})


# --------------------------------------------------------------------------- model adapters


@dataclass
class ModelAdapter:
    """How one kind of model reads images and writes them back.

    ``prepare`` maps a float batch N x C x H x W in [0, 1] (C = 1 for ``in_mode`` ``L``, 3 for ``RGB``)
    to the network input; ``finish`` maps (prepared input, network output) to images in [0, 1] with
    1 or 3 channels. Both run on the model's device.
    """

    network: str
    in_mode: str
    out_channels: int
    prepare: Callable[[torch.Tensor], torch.Tensor]
    finish: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


AdapterFactory = Callable[[dict[str, Any], str], ModelAdapter]
_ADAPTERS: dict[str, AdapterFactory] = {}


def register_adapter(kind: str) -> Callable[[AdapterFactory], AdapterFactory]:
    """Decorator: the adapter factory ``(config, direction) -> ModelAdapter`` for checkpoints of ``kind``."""

    def decorator(factory: AdapterFactory) -> AdapterFactory:
        _ADAPTERS[kind] = factory
        return factory

    return decorator


def _mode_for(channels: int) -> str:
    if channels not in (1, 3):
        raise GanctlError(f"model works on {channels}-channel images; only 1 (gray) and 3 (colour) are supported")
    return "L" if channels == 1 else "RGB"


@register_adapter("cyclegan")
def cyclegan_adapter(config: dict[str, Any], direction: str) -> ModelAdapter:
    """CycleGAN: ``a2b`` runs ``G_A`` (domain A -> B), ``b2a`` runs ``G_B``; images in [-1, 1]."""
    channels = config.get("channels") or {}
    src, dst = ("A", "B") if direction == "a2b" else ("B", "A")
    return ModelAdapter(
        network="G_A" if direction == "a2b" else "G_B",
        in_mode=_mode_for(int(channels.get(src, 3))),
        out_channels=int(channels.get(dst, 3)),
        prepare=lambda x: x * 2 - 1,
        finish=lambda _x, y: (y + 1) * 0.5,
    )


# Modules that register adapters for other kinds; imported on first use, like the network registry.
_ADAPTER_MODULES = ("ganctl.colorize_adapter",)


def _load_adapter_modules() -> None:
    for name in _ADAPTER_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def adapter_for(config: dict[str, Any], direction: str) -> ModelAdapter:
    """The adapter for a checkpoint config (its ``kind``), or a GanctlError naming the kinds known."""
    _load_adapter_modules()
    if direction not in ("a2b", "b2a"):
        raise OptionError("--direction", f"must be a2b or b2a, got {direction!r}")
    kind = config.get("kind")
    if kind not in _ADAPTERS:
        known = ", ".join(sorted(_ADAPTERS))
        raise GanctlError(f"cannot translate with a {kind!r} model; translate serves: {known}")
    return _ADAPTERS[kind](config, direction)


# --------------------------------------------------------------------------- the batched model


def _native_cpu_bf16() -> bool:
    """True when this CPU runs bf16 matrix work natively (AVX512-BF16 or AMX); elsewhere bf16 is emulated."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def _resolve_precision(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``--precision`` on ``device`` (None = plain fp32).

    ``auto`` is bf16 where the hardware runs it natively (CUDA with bf16, CPUs with AVX512-BF16 or
    AMX) and fp32 elsewhere; ``bf16`` is refused where it is not supported at all.
    """
    if precision not in PRECISIONS:
        raise OptionError("--precision", f"must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp32":
        return None
    if device.type == "cuda":
        supported = native = torch.cuda.is_bf16_supported()
    elif device.type == "cpu":
        supported, native = bool(torch.backends.mkldnn.is_available()), _native_cpu_bf16()
    else:
        supported = native = False
    if precision == "bf16" and not supported:
        raise OptionError("--precision", f"bf16 is not supported on {device}; use fp32 or auto")
    if precision == "auto" and not native:
        return None
    return torch.bfloat16


def _reflect_pad(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    """Pad H and W up to ``multiple`` (reflect; replicate when the image is too small to reflect)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x, h, w
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode), h, w


def _ramp(length: int, overlap: int, device: torch.device) -> torch.Tensor:
    """Blending weights along one tile side: rising over ``overlap`` pixels at both ends, never zero."""
    i = torch.arange(length, device=device, dtype=torch.float32)
    edge = torch.minimum(i + 1, length - i)
    return (edge / (overlap + 1)).clamp(max=1.0)


def _tile_starts(size: int, tile: int, overlap: int) -> list[int]:
    if size <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, size - tile, stride))
    return starts + [size - tile]


class Translator:
    """A generator ready to translate batches of equal-sized uint8 images (H x W or H x W x C arrays)."""

    def __init__(self, network: torch.nn.Module, adapter: ModelAdapter, device: str | torch.device = "auto",
                 precision: str = "auto", max_pixels: int | None = None, tile_size: int = 1024, overlap: int = 64,
                 channels_last: bool | None = None):
        self.device = resolve_device(device) if isinstance(device, str) else device
        self.adapter = adapter
        self.autocast_dtype = _resolve_precision(precision, self.device)
        self.multiple = int(getattr(network, "size_multiple", 1) or 1)
        # Channels-last suits cuDNN's tensor-core kernels; on CPU the instance norms would copy it back and forth.
        self.memory_format = torch.channels_last if (self.device.type == "cuda" if channels_last is None
                                                     else channels_last) else torch.contiguous_format
        self.network = network.eval().requires_grad_(False).to(self.device, memory_format=self.memory_format)
        # Pixels per forward pass (batch x H x W): beyond it, batches are split and big images tiled. About
        # 1 KiB of device memory per pixel suits the CycleGAN generators; an out-of-memory error halves it.
        if self.device.type == "cuda":
            default_budget = torch.cuda.get_device_properties(self.device).total_memory // 1024
        else:
            default_budget = 4 * 2**20
        self.max_pixels = int(max_pixels or default_budget)
        self.tile_size = max(self.multiple, tile_size - tile_size % self.multiple)
        self.overlap = min(overlap, self.tile_size // 4)
        self._tiling_reported = False
        self._last_pass_pixels = 0
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True

    @property
    def in_mode(self) -> str:
        """The mode (``L`` or ``RGB``) the decoder must deliver."""
        return self.adapter.in_mode

    @property
    def precision_name(self) -> str:
        """``bf16`` or ``fp32``: what the forward pass actually uses."""
        return "bf16" if self.autocast_dtype is torch.bfloat16 else "fp32"

    @torch.inference_mode()
    def __call__(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Translate equal-sized uint8 images; returns uint8 images of the same H x W (H x W or H x W x 3)."""
        if not images:
            return []
        first = images[0]
        shape = (len(images), first.shape[0], first.shape[1], first.shape[2] if first.ndim == 3 else 1)
        # Stacked straight into (pinned, on CUDA) memory: one copy, and the upload can be asynchronous.
        host = torch.empty(shape, dtype=torch.uint8, pin_memory=self.device.type == "cuda")
        np.stack([im.reshape(shape[1:]) for im in images], out=host.numpy())
        x = host.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
        out = self._forward_images(x)
        out = out.mul_(255.0).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().cpu()
        arr = out.numpy()
        return [a[:, :, 0] if a.shape[2] == 1 else a for a in arr]

    def _forward_images(self, x: torch.Tensor) -> torch.Tensor:
        """[0, 1] images N x C x H x W on the device -> [0, 1] images N x C' x H x W (float32)."""
        n, _, h, w = x.shape
        while True:
            try:
                if h * w > self.max_pixels:
                    return torch.cat([self._tiled(x[i:i + 1]) for i in range(n)])
                per_pass = max(1, self.max_pixels // (h * w))
                return torch.cat([self._run(x[i:i + per_pass]) for i in range(0, n, per_pass)])
            except torch.OutOfMemoryError:
                if self._last_pass_pixels <= _MIN_PASS_PIXELS:
                    raise GanctlError(f"out of memory on {self.device} even for {self._last_pass_pixels:,} pixels "
                                      "per pass; try --device cpu or a smaller --size") from None
                self.max_pixels = self._last_pass_pixels // 2
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                console.warn(f"out of memory on {self.device}; retrying with at most {self.max_pixels:,} "
                             "pixels per pass")

    def _run(self, x: torch.Tensor) -> torch.Tensor:
        """One forward pass: prepare, pad to the multiple, run, crop back, finish."""
        self._last_pass_pixels = x.shape[0] * x.shape[2] * x.shape[3]
        prepared = self.adapter.prepare(x)
        padded, h, w = _reflect_pad(prepared, self.multiple)
        padded = padded.contiguous(memory_format=self.memory_format)
        with torch.autocast(self.device.type, dtype=self.autocast_dtype or torch.bfloat16,
                            enabled=self.autocast_dtype is not None):
            y = self.network(padded)
        y = y[:, :, :h, :w].float()
        return self.adapter.finish(prepared, y).clamp_(0, 1)

    def _tiled(self, x: torch.Tensor) -> torch.Tensor:
        """Run one large image as overlapping tiles blended with linear ramps (weights never zero)."""
        _, _, h, w = x.shape
        side = min(self.tile_size, math.isqrt(self.max_pixels))
        side = max(self.multiple, side - side % self.multiple)
        overlap = min(self.overlap, side // 4)
        if not self._tiling_reported:
            console.info(f"large image ({w}x{h}): translating it in {side}px tiles with {overlap}px overlap")
            self._tiling_reported = True
        acc = None
        weight = torch.zeros(1, 1, h, w, device=x.device)
        for top in _tile_starts(h, side, overlap):
            for left in _tile_starts(w, side, overlap):
                y = self._run(x[:, :, top:top + side, left:left + side])
                th, tw = y.shape[-2:]
                wt = _ramp(th, overlap, x.device)[:, None] * _ramp(tw, overlap, x.device)[None, :]
                if acc is None:
                    acc = torch.zeros(1, y.shape[1], h, w, device=x.device)
                acc[:, :, top:top + th, left:left + tw] += y * wt
                weight[:, :, top:top + th, left:left + tw] += wt
        return acc / weight


def load_translator(model: str | os.PathLike, direction: str = "a2b", device: str = "auto",
                    precision: str = "auto", **kwargs: Any) -> Translator:
    """A :class:`Translator` for a run folder or ``.safetensors`` checkpoint, rebuilt from its own config."""
    path = resolve_checkpoint_path(model)
    ck = load_checkpoint(path, with_state=False)
    adapter = adapter_for(ck.config, direction)
    spec = (ck.config.get("networks") or {}).get(adapter.network)
    if not isinstance(spec, dict) or "name" not in spec:
        raise CheckpointError(path, f"config has no network spec for {adapter.network!r}")
    net = create_model(**spec)
    try:
        ck.load_into({adapter.network: net})
    except RuntimeError as exc:
        raise CheckpointError(path, f"weights do not fit network {spec['name']!r} ({exc})") from None
    return Translator(net, adapter, device=device, precision=precision, **kwargs)


# --------------------------------------------------------------------------- decode / encode


@dataclass
class Job:
    """One image to translate: where it comes from, where it goes, and the name shown to users."""

    source: Path
    target: Path
    name: str


@dataclass
class _Decoded:
    pixels: np.ndarray
    alpha: np.ndarray | None


def _shorter_side_resize(img: Image.Image, size: int | None) -> Image.Image:
    if not size:
        return img
    w, h = img.size
    scale = size / min(w, h)
    new = (max(1, round(w * scale)), max(1, round(h * scale)))
    return img if new == img.size else img.resize(new, Image.Resampling.BICUBIC)


def decode_image(path: Path, mode: str, size: int | None = None) -> _Decoded:
    """Decode ``path`` as a uint8 array in ``mode`` (``L``/``RGB``), keeping any alpha channel apart."""
    img = open_image(path)
    alpha = None
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = to_mode(img, "RGBA")
        alpha = np.asarray(_shorter_side_resize(rgba.getchannel("A"), size))
    try:
        pixels = np.asarray(_shorter_side_resize(to_mode(img, mode), size))
    except (OSError, ValueError) as exc:
        raise ImageReadError(path, f"cannot convert image ({exc})") from None
    return _Decoded(pixels, alpha)


def encode_image(pixels: np.ndarray, alpha: np.ndarray | None, target: Path, overwrite: bool) -> None:
    """Write a uint8 image atomically (alpha kept where the format has it); refuses to replace a file."""
    if target.exists() and not overwrite:
        raise OutputError(target, "exists already (use --overwrite to replace it)")
    img = Image.fromarray(pixels)
    suffix = target.suffix.lower()
    if alpha is not None and suffix in _ALPHA_SUFFIXES:
        img.putalpha(Image.fromarray(alpha))
    kwargs: dict[str, Any] = {}
    if suffix == ".png":
        kwargs["compress_level"] = PNG_COMPRESS_LEVEL
    elif suffix in (".jpg", ".jpeg", ".webp"):
        kwargs["quality"] = 95
    with atomic_path(target) as tmp:
        img.save(tmp, **kwargs)


# --------------------------------------------------------------------------- the pipeline


@dataclass
class TranslateSummary:
    """What one translate call did: counts, skip reasons (name -> reason) and timing."""

    translated: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    device: str = "cpu"
    precision: str = "fp32"
    outputs: list[Path] = field(default_factory=list)

    @property
    def images_per_second(self) -> float:
        """Translated images (or video frames) per wall-clock second."""
        return self.translated / self.seconds if self.seconds > 0 else 0.0

    def skip(self, name: str, reason: str) -> None:
        """Count ``name`` as skipped for ``reason``."""
        self.skipped[name] = reason

    def merge(self, other: TranslateSummary) -> None:
        """Add another summary's counts (time is measured by the caller)."""
        self.translated += other.translated
        self.skipped.update(other.skipped)
        self.outputs.extend(other.outputs)

    def line(self, unit: str = "images") -> str:
        """The one-line summary: translated, skipped with reasons, rate."""
        text = f"translated {self.translated} {unit[:-1] if self.translated == 1 else unit}"
        if self.skipped:
            reasons = Counter(_reason_key(r) for r in self.skipped.values())
            detail = ", ".join(f"{n} {why}" for why, n in reasons.most_common())
            text += f", skipped {len(self.skipped)} ({detail})"
        return text + f" in {self.seconds:.1f} s, {self.images_per_second:.1f} {unit}/s on {self.device} " \
                      f"({self.precision})"


def _reason_key(reason: str) -> str:
    for key in ("exists", "not an image", "video", "name clash", "unreadable"):
        if reason.startswith(key):
            return key
    return "unreadable"


def _encode_many(items: list[tuple[np.ndarray, np.ndarray | None, str]], overwrite: bool) -> list[str | None]:
    """Encode several images (in a worker process or thread); per image None, or what went wrong."""
    problems: list[str | None] = []
    for pixels, alpha, target in items:
        try:
            encode_image(pixels, alpha, Path(target), overwrite)
            problems.append(None)
        except OutputError as exc:
            problems.append(exc.problem)
        except OSError as exc:
            problems.append(f"cannot write ({exc})")
    return problems


def _noop() -> None:
    return None


def _encoder_pool(workers: int, jobs: int) -> Executor:
    """Worker processes for PNG/JPEG encoding where there is enough work, else threads.

    Pillow holds the GIL while it compresses a PNG (its IDAT writer has no file descriptor), so threads
    cannot encode in parallel; processes can. Forked where possible: the workers run only Pillow and
    NumPy (never torch or CUDA), and they are started before this call starts any thread of its own.
    """
    if workers <= 1 or jobs < PROCESS_ENCODE_MIN_IMAGES:
        return ThreadPoolExecutor(max(1, workers), thread_name_prefix="ganctl-encode")
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context)
    pool.submit(_noop).result()
    return pool


def translate_images(jobs: Iterable[Job], translator: Translator, *, batch_size: int = 16,
                     num_workers: int | None = None, size: int | None = None, overwrite: bool = False,
                     strict: bool = False, summary: TranslateSummary | None = None,
                     advance: Callable[[int], None] | None = None) -> TranslateSummary:
    """Translate images: decode in background threads, batch equal sizes through the model, encode in workers.

    A file that cannot be decoded is reported by name and skipped (counted) unless ``strict``, where it
    raises :class:`ImageReadError`. An existing target is skipped unless ``overwrite``.
    """
    if batch_size < 1:
        raise OptionError("--batch-size", "must be at least 1")
    jobs = list(jobs)
    summary = summary if summary is not None else TranslateSummary()
    workers = max(1, num_workers if num_workers is not None else min(16, os.cpu_count() or 1))
    window = max(2 * batch_size, 4 * workers)
    advance = advance or (lambda n=1: None)
    buckets: dict[tuple[int, ...], list[tuple[Job, _Decoded]]] = {}
    decodes: deque[tuple[Job, Future]] = deque()
    encodes: deque[tuple[list[Job], Future]] = deque()
    pending = 0
    todo = iter(jobs)

    def finish_encode(chunk: list[Job], fut: Future) -> None:
        nonlocal pending
        pending -= len(chunk)
        for job, problem in zip(chunk, fut.result()):
            if problem is not None:
                raise OutputError(job.target, problem)
            summary.translated += 1
            summary.outputs.append(job.target)
        advance(len(chunk))

    def flush(shape: tuple[int, ...]) -> None:
        nonlocal pending
        items = buckets.pop(shape)
        outs = translator([d.pixels for _, d in items])
        step = max(1, min(16, math.ceil(len(items) / workers)))
        for i in range(0, len(items), step):
            chunk = items[i:i + step]
            payload = [(pixels, dec.alpha, str(job.target)) for (job, dec), pixels in zip(chunk, outs[i:i + step])]
            encodes.append(([job for job, _ in chunk], encoder.submit(_encode_many, payload, overwrite)))
            pending += len(chunk)
        while pending > window:
            finish_encode(*encodes.popleft())

    def refill() -> None:
        while len(decodes) < window:
            job = next(todo, None)
            if job is None:
                return
            if job.target.exists() and not overwrite:
                summary.skip(job.name, "exists")
                advance(1)
                continue
            decodes.append((job, decoder.submit(decode_image, job.source, translator.in_mode, size)))

    with _encoder_pool(workers, len(jobs)) as encoder, \
            ThreadPoolExecutor(workers, thread_name_prefix="ganctl-decode") as decoder:
        try:
            refill()
            while decodes:
                job, fut = decodes.popleft()
                refill()
                try:
                    decoded = fut.result()
                except ImageReadError as exc:
                    if strict:
                        raise
                    console.warn(f"skipped {job.name}: {exc.problem}")
                    summary.skip(job.name, f"unreadable: {exc.problem}")
                    advance(1)
                    continue
                bucket = buckets.setdefault(decoded.pixels.shape, [])
                bucket.append((job, decoded))
                if len(bucket) >= batch_size:
                    flush(decoded.pixels.shape)
                elif sum(len(b) for b in buckets.values()) > window:
                    # Many different sizes: run the fullest bucket rather than hold every image in memory.
                    flush(max(buckets, key=lambda s: len(buckets[s])))
            for shape in list(buckets):
                flush(shape)
            while encodes:
                finish_encode(*encodes.popleft())
        finally:
            for _, fut in decodes:
                fut.cancel()
    return summary


# --------------------------------------------------------------------------- planning outputs


def _output_suffix(source: Path, fmt: str) -> str:
    if fmt not in OUTPUT_FORMATS:
        raise OptionError("--format", f"must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    if fmt == "same":
        return source.suffix.lower()
    return "." + fmt


def _visible_files(folder: Path) -> list[Path]:
    """Every non-hidden file below ``folder``, sorted (hidden files and folders skipped)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith("."):
                found.append(Path(root) / name)
    return sorted(found)


def plan_folder(folder: Path, out: Path, fmt: str = "png",
                summary: TranslateSummary | None = None, strict: bool = False) -> list[Job]:
    """Jobs mirroring ``folder``'s tree and file stems under ``out``; other files are skipped (counted)."""
    summary = summary if summary is not None else TranslateSummary()
    jobs: list[Job] = []
    claimed: dict[Path, str] = {}
    for path in _visible_files(folder):
        rel = path.relative_to(folder)
        name = rel.as_posix()
        suffix = path.suffix.lower()
        if suffix not in IMAGE_EXTENSIONS:
            reason = "video file (translate it on its own)" if suffix in VIDEO_EXTENSIONS else "not an image file"
            if strict:
                raise ImageReadError(path, reason)
            console.warn(f"skipped {name}: {reason}")
            summary.skip(name, reason)
            continue
        target = out / rel.parent / (path.stem + _output_suffix(path, fmt))
        if target in claimed:
            reason = f"name clash: {claimed[target]} writes {target.name} already"
            console.warn(f"skipped {name}: {reason}")
            summary.skip(name, reason)
            continue
        claimed[target] = name
        jobs.append(Job(path, target, name))
    return jobs


def translate_path(input: str | os.PathLike, out: str | os.PathLike, model: str | os.PathLike | Translator, *,
                   direction: str = "a2b", device: str = "auto", precision: str = "auto", batch_size: int = 16,
                   num_workers: int | None = None, fmt: str = "png", size: int | None = None,
                   overwrite: bool = False, strict: bool = False) -> TranslateSummary:
    """Translate an image, a folder (tree mirrored under ``out``) or a video into ``out``.

    ``model`` is a run folder, a ``.safetensors`` checkpoint or a ready :class:`Translator`.
    """
    src, out = Path(input), Path(out)
    if not src.exists():
        raise InputError(src, "no such file or folder")
    check_output_outside_input(out, src)
    if out.exists() and not out.is_dir():
        raise OutputError(out, "is a file; --out must be a folder")
    if size is not None and size < 1:
        raise OptionError("--size", "must be a positive number of pixels (or keep)")
    translator = model if isinstance(model, Translator) else load_translator(model, direction, device, precision)
    summary = TranslateSummary(device=str(translator.device), precision=translator.precision_name)
    start = time.perf_counter()
    if src.is_file() and src.suffix.lower() in VIDEO_EXTENSIONS:
        from ganctl.translate_video import translate_video

        target = out / (src.stem + src.suffix.lower())
        translate_video(src, target, translator, batch_size=batch_size, size=size, overwrite=overwrite,
                        summary=summary)
    else:
        if src.is_dir():
            jobs = plan_folder(src, out, fmt, summary, strict)
        else:
            if src.suffix.lower() not in IMAGE_EXTENSIONS and strict:
                raise ImageReadError(src, "not an image file")
            jobs = [Job(src, out / (src.stem + _output_suffix(src, fmt)), src.name)]
        for job in jobs:
            if job.target.resolve() == job.source.resolve():
                raise OutputError(job.target, "would overwrite its input; choose another --out or --format")
        with console.progress("translating", len(jobs), unit="img") as advance:
            translate_images(jobs, translator, batch_size=batch_size, num_workers=num_workers, size=size,
                             overwrite=overwrite, strict=strict or not src.is_dir(), summary=summary,
                             advance=advance)
    summary.seconds = time.perf_counter() - start
    return summary
