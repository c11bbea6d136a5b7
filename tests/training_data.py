"""Tiny synthetic training data: an A/B dataset (gray squares A, coloured discs B) and colour photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganctl.data.imageio import write_image

YELLOW, BLUE = (250, 220, 30), (20, 40, 170)


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


def write_mnist(mnist, folder: Path) -> Path:
    """Write an :class:`ganctl.data.mnist.MnistData` (e.g. a subset) as the four IDX files of a ``--source`` folder."""
    from ganctl.data.mnist import encode_idx

    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"train-images-idx3-ubyte": mnist.train_images, "train-labels-idx1-ubyte": mnist.train_labels,
              "t10k-images-idx3-ubyte": mnist.test_images, "t10k-labels-idx1-ubyte": mnist.test_labels}
    for name, array in arrays.items():
        (folder / name).write_bytes(encode_idx(array.numpy().astype("uint8")))
    return folder


def make_photos(folder: Path, n: int, size: int = 32, seed: int = 0) -> Path:
    """Blue images with yellow rectangles: colour follows lightness, so a model can learn it quickly."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = np.empty((size, size, 3), np.uint8)
        img[:] = BLUE
        for _ in range(3):
            x0, y0 = rng.integers(0, size - 8, 2)
            w, h = rng.integers(6, 16, 2)
            img[y0:y0 + h, x0:x0 + w] = YELLOW
        Image.fromarray(img).save(folder / f"{i:03d}.png")
    return folder


def make_recipe_data(data_kind: str, root: Path, train_images: int = 12, mnist_source: Path | None = None) -> dict:
    """``--data`` (and ``--source``) for a recipe of ``data_kind``, made under ``root``: the one place that knows
    what each data kind looks like (tests over the recipe registry call it).

    unpaired, paired and photos: an A/B set whose same-named images are pairs (a square and the disc at its
    centre) and whose trainB/ holds colour images; mnist: ``mnist_source`` (the real IDX files) when given, else
    ``train_images`` random digits written as IDX files.
    """
    if data_kind in ("unpaired", "paired", "photos"):
        return {"data": str(make_ab_dataset(root / "ab", n_train=train_images, n_test=4))}
    if data_kind == "mnist":
        if mnist_source is not None:
            return {"data": "mnist", "source": str(mnist_source)}
        from ganctl.data.mnist import MnistData

        g = torch.Generator().manual_seed(0)
        digits = MnistData(torch.randint(0, 256, (train_images, 28, 28), generator=g, dtype=torch.uint8),
                           torch.arange(train_images) % 10,
                           torch.randint(0, 256, (16, 28, 28), generator=g, dtype=torch.uint8), torch.arange(16) % 10)
        return {"data": "mnist", "source": str(write_mnist(digits, root / "mnist"))}
    raise AssertionError(f"no test data for data_kind {data_kind!r}: add it to tests/training_data.py")


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny nets run fastest on one thread; on a shared, busy CPU a second one mostly waits (10x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def quietly(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with ganctl's console quiet (restored after)."""
    from ganctl import console

    quiet = console.is_quiet()
    console.set_quiet(True)
    try:
        return fn(*args, **kwargs)
    finally:
        console.set_quiet(quiet)
