"""Sample grids: rows of images (e.g. real A | fake B | rec A | real B | fake A | rec B) in one PNG."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torchvision.utils import make_grid

from ganctl.data.imageio import write_image


def to_rgb01(images: torch.Tensor) -> torch.Tensor:
    """A batch in [-1, 1] with 1 or 3 channels as float RGB in [0, 1] on the CPU."""
    images = images.detach().float().cpu()
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    return (images.clamp(-1, 1) + 1) / 2


def save_sample_grid(rows: list[torch.Tensor], path: str | os.PathLike, padding: int = 2) -> Path:
    """Write ``rows`` (batches in [-1, 1] of equal size and count) as one grid image, one row per batch."""
    if not rows:
        raise ValueError("no rows to draw")
    n = rows[0].shape[0]
    images = torch.cat([to_rgb01(r) for r in rows])
    grid = make_grid(images, nrow=n, padding=padding, pad_value=1.0)
    return write_image(grid, path, overwrite=True)
