"""A generator ready for inference on batches of uint8 images: :class:`Translator` and :func:`load_translator`.

For each batch: pinned memory and non-blocking copies on CUDA, inference mode, autocast at the precision
``--precision`` resolves to (:mod:`ganctl.precision`), padding to what the generator takes (a multiple of
its ``size_multiple``, at least its ``min_size``: reflected, in steps for tiny images, down to 1 x 1) and
cropping back, and overlapping tiles for images too large to run whole (found up front by a pixel
budget, or after an out-of-memory error, which halves the budget and retries). A generator with batch norm
or dropout runs as the pix2pix reference tests it unless asked for eval mode (:mod:`.test_mode`); each tile
of a tiled image is then normalised with its own statistics.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ganctl import console
from ganctl.checkpoint import load_checkpoint, resolve_checkpoint_path
from ganctl.device import resolve_device
from ganctl.errors import GanctlError
from ganctl.precision import autocast_dtype, resolve_precision
from ganctl.translate.adapters import ModelAdapter, adapter_for
from ganctl.translate.padding import pad_for_network, padded_size, size_rule
from ganctl.translate.test_mode import EVAL, REFERENCE, TEST_MODES, has_test_statistics, use_reference_test_mode

# Below this many pixels per forward pass, an out-of-memory error is not worth another split.
_MIN_PASS_PIXELS = 128 * 128


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
    """A generator ready to translate batches of equal-sized uint8 images (H x W or H x W x C arrays).

    ``test_mode``: ``reference`` (dropout on, batch norm on each image's own statistics, as the pix2pix
    reference tests) or ``eval`` (running statistics, no dropout); see :mod:`ganctl.translate.test_mode`.
    :attr:`test_mode` is None for a network without batch norm or dropout (both give the same).
    """

    def __init__(self, network: torch.nn.Module, adapter: ModelAdapter, device: str | torch.device = "auto",
                 precision: str = "auto", max_pixels: int | None = None, tile_size: int = 1024, overlap: int = 64,
                 channels_last: bool | None = None, test_mode: str = REFERENCE):
        if test_mode not in TEST_MODES:
            raise ValueError(f"test_mode must be one of {TEST_MODES}, got {test_mode!r}")
        self.device = resolve_device(device) if isinstance(device, str) else device
        self.adapter = adapter
        self.test_mode = test_mode if has_test_statistics(network) else None
        if self.test_mode == REFERENCE:
            network = use_reference_test_mode(copy.deepcopy(network))
        self.precision_name = resolve_precision(precision, self.device)
        self.autocast_dtype = autocast_dtype(self.precision_name)
        self.multiple, self.min_size = size_rule(network)
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
    def keeps_lightness(self) -> bool:
        """Whether outputs keep the input's Lab lightness (colorize models): see :class:`ModelAdapter`."""
        return self.adapter.keeps_lightness

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
        h, w = prepared.shape[-2:]
        fits = h == padded_size(h, self.multiple, self.min_size) and w == padded_size(w, self.multiple, self.min_size)
        padded = prepared if fits else pad_for_network(prepared, self.multiple, self.min_size)
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
                    precision: str = "auto", eval_mode: bool = False, **kwargs: Any) -> Translator:
    """A :class:`Translator` for a run folder or ``.safetensors`` checkpoint, rebuilt from its own config.

    ``eval_mode``: batch norm with running statistics and no dropout, instead of the reference's test mode.
    """
    path = resolve_checkpoint_path(model)
    ck = load_checkpoint(path, with_state=False)
    adapter = adapter_for(ck.config, direction)
    return Translator(ck.build_network(adapter.network), adapter, device=device, precision=precision,
                      test_mode=EVAL if eval_mode else REFERENCE, **kwargs)
