"""Plain MNIST as a one-domain dataset folder (``--data mnist``, for the unconditional digit GAN).

``prepare_mnist_digits(out)`` writes the 60,000 train digits to ``trainA/`` and the 10,000 test digits to
``testA/`` as 1-channel PNG (28 x 28, or 32 x 32 padded), in MNIST's order, with every digit in ``labels``;
``trainB/`` and ``testB/`` exist but stay empty (there is no second domain).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ganctl.data.dataset_meta import write_dataset_meta
from ganctl.data.export import SplitImages, write_splits
from ganctl.data.mnist import MnistData, load_mnist, mnist_source_label
from ganctl.data.mnist_color import check_size, pad_to
from ganctl.data.prepared import PreparedDataset, check_limit, default_out, report_prepared
from ganctl.data.staging import check_destination, staging_dir


def prepare_mnist_digits(
    out: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    size: int = 28,
    limit: int | None = None,
    overwrite: bool = False,
    mnist: MnistData | None = None,
) -> PreparedDataset:
    """Write MNIST as trainA/testA gray digits (see the module docstring)."""
    start = time.perf_counter()
    check_size(size)
    check_limit(limit)
    out = Path(out) if out is not None else default_out("mnist")
    check_destination(out, overwrite)  # before any work: a bad --out fails at once
    data = mnist or load_mnist(source)
    n_train = len(data.train_labels) if limit is None else min(limit, len(data.train_labels))
    n_test = len(data.test_labels) if limit is None else min(limit, len(data.test_labels))
    splits = {
        "trainA": SplitImages(pad_to(data.train_images[:n_train], size), data.train_labels[:n_train]),
        "testA": SplitImages(pad_to(data.test_images[:n_test], size), data.test_labels[:n_test]),
    }
    with staging_dir(out, overwrite) as stage:
        counts, labels = write_splits(stage, splits, f"mnist {out.name}")
        write_dataset_meta(stage, {
            "name": out.name,
            "kind": "mnist",
            "source": mnist_source_label(source),
            "options": {"size": size, "limit": limit},
            "seed": None,
            "counts": counts,
            "channels": {"A": 1},
            "labels": labels,
        })
    return report_prepared("mnist", out, counts, start)
