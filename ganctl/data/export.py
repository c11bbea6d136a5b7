"""Write in-memory image arrays as a dataset folder's splits (``trainA/00001.png`` ...), with one progress bar.

Shared by the MNIST-based preparers and the CIFAR-10 export: each split is a uint8 array (N x H x W gray
or N x H x W x 3 colour) plus optional labels; files are numbered from 1 with at least five digits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganctl import console
from ganctl.data.dataset_meta import SPLITS
from ganctl.data.pngwriter import write_png_jobs


@dataclass
class SplitImages:
    """One split to write: images (uint8, N x H x W or N x H x W x 3) and their labels (or None)."""

    images: np.ndarray | torch.Tensor
    labels: np.ndarray | torch.Tensor | list[int] | None = None


def split_file_names(count: int) -> list[str]:
    """``00001.png`` ... numbered from 1, zero-padded to at least five digits."""
    width = max(5, len(str(count)))
    return [f"{i:0{width}d}.png" for i in range(1, count + 1)]


def write_splits(folder: str | Path, splits: Mapping[str, SplitImages], description: str) -> tuple[dict, dict]:
    """Write every split of ``splits`` under ``folder``; also create empty standard splits not given.

    Returns ``(counts, labels)``: images per split and ``{"trainA/00001.png": label}`` for labelled splits.
    """
    folder = Path(folder)
    for split in SPLITS:
        (folder / split).mkdir(parents=True, exist_ok=True)
    counts = {split: 0 for split in SPLITS}
    labels: dict[str, int] = {}
    jobs = []
    for split, data in splits.items():
        images = data.images.numpy() if isinstance(data.images, torch.Tensor) else np.asarray(data.images)
        names = split_file_names(len(images))
        (folder / split).mkdir(parents=True, exist_ok=True)
        jobs.append((images, [folder / split / n for n in names]))
        counts[split] = len(names)
        if data.labels is not None:
            values = data.labels.tolist() if hasattr(data.labels, "tolist") else list(data.labels)
            labels.update({f"{split}/{n}": int(v) for n, v in zip(names, values)})
    with console.progress(description, sum(counts.values()), unit="img") as advance:
        write_png_jobs(jobs, advance=advance)
    return counts, labels
