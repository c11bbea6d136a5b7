"""A tiny synthetic A/B dataset for the training tests (gray squares A, coloured discs B)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganctl.data.imageio import write_image


def make_ab_dataset(root: Path, n_train: int = 12, n_test: int = 4, size: int = 16, seed: int = 0) -> Path:
    """trainA/testA: 1-channel images of squares; trainB/testB: RGB images of discs; returns ``root``."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    for split, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            c = torch.randint(size // 4, 3 * size // 4, (2,), generator=g)
            square = ((yy - c[0]).abs() < size // 5) & ((xx - c[1]).abs() < size // 5)
            write_image(square.float().unsqueeze(0), root / f"{split}A" / f"{i:03d}.png")
            disc = ((yy - c[0]) ** 2 + (xx - c[1]) ** 2) < (size // 4) ** 2
            colour = torch.rand(3, 1, 1, generator=g)
            write_image(disc.float().unsqueeze(0) * colour, root / f"{split}B" / f"{i:03d}.png")
    return root


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny nets run fastest on one thread; on a shared, busy CPU a second one mostly waits (10x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
