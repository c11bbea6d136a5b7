"""Rotated MNIST: domain A upright digits, domain B rotated digits (the rotated-MNIST CycleGAN seed).

``prepare_mnist_rotate`` (``ganctl prepare mnist-rotate``):

- trainA / trainB: the two disjoint halves of a seeded permutation of MNIST train (unpaired), A upright,
  B rotated. testA / testB: the same MNIST test digits, upright and rotated, same names (paired).
- ``angle`` (default 90) rotates every B digit by that many degrees counter-clockwise; ``angle_range``
  ``(lo, hi)`` draws each digit's angle uniformly from [lo, hi] (seeded) and records it per image in
  ``dataset.json`` under ``angles``. Rotation is bilinear about the centre, the corners filled with black.
- Both domains are gray (1-channel PNG); ``size`` 28 or 32 (padded) as in :mod:`ganctl.data.mnist_color`.
- Without ``out`` the dataset goes into the cache as the named dataset ``mnist-rotate``.
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
from ganctl.data.mnist_color import DEFAULT_SEED, DEFAULT_SIZE, check_size, pad_to, unpaired_indices
from ganctl.data.prepared import PreparedDataset, check_limit, default_out, report_prepared
from ganctl.data.staging import check_destination, staging_dir
from ganctl.errors import OptionError

DEFAULT_ANGLE = 90.0


def parse_angle_range(text: str) -> tuple[float, float]:
    """``"-45:45"`` -> ``(-45.0, 45.0)``; OptionError when malformed or empty."""
    try:
        lo_text, hi_text = text.split(":")
        lo, hi = float(lo_text), float(hi_text)
    except ValueError:
        raise OptionError("--angle-range", f"expected LO:HI in degrees, e.g. -45:45, got {text!r}") from None
    if not lo <= hi:
        raise OptionError("--angle-range", f"LO must not exceed HI, got {text!r}")
    return lo, hi


def rotate_digits(images: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate uint8 N x H x W images counter-clockwise by ``angles`` (degrees, one per image), bilinear."""
    rad = torch.deg2rad(angles.to(torch.float32))
    cos, sin, zero = torch.cos(rad), torch.sin(rad), torch.zeros_like(rad)
    # affine_grid maps output to input coordinates; with y pointing down this matrix turns the picture
    # counter-clockwise, the same convention as torchvision's rotate.
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    x = images.unsqueeze(1).float()
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.squeeze(1).round_().clamp_(0, 255).to(torch.uint8)


def _angles(count: int, angle: float, angle_range: tuple[float, float] | None, gen: torch.Generator) -> torch.Tensor:
    if angle_range is None:
        return torch.full((count,), float(angle))
    lo, hi = angle_range
    return lo + (hi - lo) * torch.rand(count, generator=gen, dtype=torch.float64)


def prepare_mnist_rotate(
    out: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    angle: float | None = None,
    angle_range: tuple[float, float] | str | None = None,
    size: int = DEFAULT_SIZE,
    limit: int | None = None,
    seed: int = DEFAULT_SEED,
    overwrite: bool = False,
    mnist: MnistData | None = None,
) -> PreparedDataset:
    """Write a rotated-MNIST dataset folder (see the module docstring)."""
    start = time.perf_counter()
    if angle is not None and angle_range is not None:
        raise OptionError("--angle", "give either --angle or --angle-range, not both")
    if isinstance(angle_range, str):
        angle_range = parse_angle_range(angle_range)
    angle = DEFAULT_ANGLE if angle is None else float(angle)
    check_size(size)
    check_limit(limit)
    out = Path(out) if out is not None else default_out("mnist-rotate")
    check_destination(out, overwrite)  # before any work: a bad --out fails at once
    data = mnist or load_mnist(source)
    idx_a, idx_b, test_idx = unpaired_indices(data, seed, limit)
    gen = torch.Generator().manual_seed(seed + 1)
    angles_train = _angles(len(idx_b), angle, angle_range, gen)
    angles_test = _angles(len(test_idx), angle, angle_range, gen)
    test_images = pad_to(data.test_images[test_idx], size)
    splits = {
        "trainA": SplitImages(pad_to(data.train_images[idx_a], size), data.train_labels[idx_a]),
        "trainB": SplitImages(rotate_digits(pad_to(data.train_images[idx_b], size), angles_train),
                              data.train_labels[idx_b]),
        "testA": SplitImages(test_images, data.test_labels[test_idx]),
        "testB": SplitImages(rotate_digits(test_images, angles_test), data.test_labels[test_idx]),
    }
    with staging_dir(out, overwrite) as stage:
        counts, labels = write_splits(stage, splits, f"mnist-rotate {out.name}")
        meta = {
            "name": out.name,
            "kind": "mnist-rotate",
            "source": mnist_source_label(source),
            "options": {"angle": None if angle_range else angle,
                        "angle_range": list(angle_range) if angle_range else None, "size": size, "limit": limit},
            "seed": seed,
            "counts": counts,
            "channels": {"A": 1, "B": 1},
            "paired_test": True,
            "labels": labels,
        }
        if angle_range is not None:
            names = [k for k in labels if k.startswith("trainB/")] + [k for k in labels if k.startswith("testB/")]
            values = angles_train.tolist() + angles_test.tolist()
            meta["angles"] = {n: round(v, 3) for n, v in zip(names, values)}
        write_dataset_meta(stage, meta)
    return report_prepared("mnist-rotate", out, counts, start)
