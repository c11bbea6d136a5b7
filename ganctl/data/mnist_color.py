"""Colour MNIST: two unpaired domains of MNIST digits, each coloured per digit class by a palette.

``prepare_mnist_color`` (``ganctl prepare mnist-color``):

- trainA and trainB come from the two disjoint halves of a seeded permutation of MNIST train (30,000 each),
  so the domains are unpaired; trainA is coloured with palette ``a``, trainB with palette ``b``.
- testA and testB are the same MNIST test digits (10,000), coloured with ``a`` and ``b``, with the same file
  names: a paired test set, so a translation can be scored against its ground truth by relative path.
- ``size`` 32 (default) pads the 28 x 28 digit by 2 black pixels on each side (the digit stays centred and
  unscaled, and 32 divides by the down-sampling factors of the usual generators); 28 keeps it as is.
- ``limit`` caps every split at N images. Gray palettes are written as 1-channel PNG ("L"), others as RGB.
- ``dataset.json`` records the palettes, the digit of every image (``labels``) and ``channels``.
- Without ``out`` the dataset is written into the cache as the named dataset ``mnist-color``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ganctl.data.dataset_meta import write_dataset_meta
from ganctl.data.export import SplitImages, write_splits
from ganctl.data.mnist import MnistData, load_mnist, mnist_source_label
from ganctl.data.palettes import Color, get_palette, palette_channels, palette_label
from ganctl.data.prepared import PreparedDataset, check_limit, default_out, report_prepared
from ganctl.data.staging import check_destination, staging_dir
from ganctl.errors import OptionError

SIZES = (28, 32)
DEFAULT_SIZE = 32
DEFAULT_SEED = 0


def check_size(size: int) -> int:
    """``size`` when it is 28 or 32, else OptionError."""
    if size not in SIZES:
        raise OptionError("--size", f"must be 28 or 32, got {size}")
    return size


def pad_to(images: torch.Tensor, size: int) -> torch.Tensor:
    """Pad N x 28 x 28 digits with black to N x size x size (centred)."""
    extra = size - images.shape[-1]
    if extra == 0:
        return images
    before = extra // 2
    return F.pad(images, (before, extra - before, before, extra - before))


def colorize_digits(images: torch.Tensor, labels: torch.Tensor, palette: list[Color]) -> torch.Tensor:
    """Colour uint8 N x H x W digits by class: ``intensity / 255 * palette[label]``.

    Returns uint8 N x H x W for a gray palette (see :func:`palette_channels`), N x H x W x 3 otherwise.
    """
    colors = torch.tensor(palette, dtype=torch.float32)[labels] / 255.0  # N x 3
    if palette_channels(palette) == 1:
        out = images.float() * colors[:, 0].view(-1, 1, 1)
    else:
        out = images.float().unsqueeze(-1) * colors.view(-1, 1, 1, 3)
    return out.round_().clamp_(0, 255).to(torch.uint8)


def split_train_halves(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two disjoint halves of ``range(count)`` from a seeded permutation (unpaired domains A and B)."""
    perm = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    half = count // 2
    return perm[:half], perm[half:]


def unpaired_indices(data: MnistData, seed: int, limit: int | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Indices of trainA and trainB (:func:`split_train_halves`) and of the paired test set, each cut to ``limit``."""
    idx_a, idx_b = split_train_halves(len(data.train_labels), seed)
    test_idx = torch.arange(len(data.test_labels))
    if limit is not None:
        idx_a, idx_b, test_idx = idx_a[:limit], idx_b[:limit], test_idx[:limit]
    return idx_a, idx_b, test_idx


def _palette_record(spec: str | os.PathLike, palette: list[Color]) -> dict:
    return {"name": palette_label(spec), "colors": [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in palette]}


def prepare_mnist_color(
    out: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    a: str | os.PathLike = "gray",
    b: str | os.PathLike = "mnist1",
    size: int = DEFAULT_SIZE,
    limit: int | None = None,
    seed: int = DEFAULT_SEED,
    overwrite: bool = False,
    mnist: MnistData | None = None,
) -> PreparedDataset:
    """Write a colour-MNIST dataset folder (see the module docstring); ``mnist`` skips loading it again."""
    start = time.perf_counter()
    check_size(size)
    check_limit(limit)
    palette_a, palette_b = get_palette(a, "--a"), get_palette(b, "--b")
    out = Path(out) if out is not None else default_out("mnist-color")
    check_destination(out, overwrite)  # before any work: a bad --out fails at once
    data = mnist or load_mnist(source)
    idx_a, idx_b, test_idx = unpaired_indices(data, seed, limit)

    def render(images: torch.Tensor, labels: torch.Tensor, idx: torch.Tensor, palette: list[Color]) -> SplitImages:
        return SplitImages(colorize_digits(pad_to(images[idx], size), labels[idx], palette), labels[idx])

    splits = {
        "trainA": render(data.train_images, data.train_labels, idx_a, palette_a),
        "trainB": render(data.train_images, data.train_labels, idx_b, palette_b),
        "testA": render(data.test_images, data.test_labels, test_idx, palette_a),
        "testB": render(data.test_images, data.test_labels, test_idx, palette_b),
    }
    with staging_dir(out, overwrite) as stage:
        counts, labels = write_splits(stage, splits, f"mnist-color {out.name}")
        write_dataset_meta(stage, {
            "name": out.name,
            "kind": "mnist-color",
            "source": mnist_source_label(source),
            "options": {"a": palette_label(a), "b": palette_label(b), "size": size, "limit": limit},
            "seed": seed,
            "counts": counts,
            "channels": {"A": palette_channels(palette_a), "B": palette_channels(palette_b)},
            "palettes": {"A": _palette_record(a, palette_a), "B": _palette_record(b, palette_b)},
            "paired_test": True,
            "labels": labels,
        })
    return report_prepared("mnist-color", out, counts, start)
