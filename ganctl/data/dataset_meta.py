"""``dataset.json``: what made a prepared dataset folder.

Contract (other modules rely on it):

- ``read_dataset_meta(folder) -> dict | None``: the parsed ``folder/dataset.json``, or ``None`` when the
  folder has none (e.g. a public CycleGAN folder the user unzipped). A file that is not a JSON object
  raises ``InputError`` naming it.
- ``write_dataset_meta(folder, meta)``: writes it atomically (temp file + rename).

Keys (all optional for readers; ganctl's preparers write all that apply):

- ``name``: dataset name (``mnist-color``, ``horse2zebra``, or the folder name),
- ``kind``: what made it (``mnist-color``, ``mnist-rotate``, ``mnist``, ``grayscale``, ``frames``,
  ``cyclegan-download``, ``cifar10``),
- ``source``: where the raw data came from (folder, URL or video paths),
- ``options``: the options used, ``seed``: the random seed (or ``None``),
- ``counts``: ``{"trainA": n, "trainB": n, "testA": n, "testB": n}``,
- ``palettes``: ``{"A": {"name": "gray", "colors": ["#ffffff", ... 10 of them]}, "B": {...}}`` (colour MNIST;
  ``name`` is the built-in name or the palette file's absolute path, ``colors[d]`` is digit d's colour),
- ``labels``: class of every image where known, by path relative to the folder:
  ``{"trainA/00001.png": 7}`` (MNIST digits, CIFAR-10 classes),
- ``channels``: ``{"A": 1, "B": 3}`` (1 = grayscale PNG "L", 3 = RGB),
- ``created``: ISO time, ``ganctl_version``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ganctl import __version__
from ganctl.errors import InputError
from ganctl.fsutil import atomic_write_json

META_NAME = "dataset.json"
SPLITS = ("trainA", "trainB", "testA", "testB")


def read_dataset_meta(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The dataset.json of ``folder`` as a dict, or None when there is none."""
    path = Path(folder) / META_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"unreadable dataset metadata ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(path, "dataset metadata is not a JSON object")
    return data


def write_dataset_meta(folder: str | os.PathLike, meta: dict[str, Any]) -> Path:
    """Write ``meta`` as ``folder/dataset.json`` atomically, adding ``created`` and ``ganctl_version``."""
    record = dict(meta)
    record.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    record.setdefault("ganctl_version", __version__)
    path = Path(folder) / META_NAME
    atomic_write_json(path, record)
    return path


def count_split_images(folder: str | os.PathLike) -> dict[str, int]:
    """Number of image files directly in each of trainA/trainB/testA/testB (0 when missing)."""
    from ganctl.data.imageio import is_image_path

    counts = {}
    for split in SPLITS:
        sub = Path(folder) / split
        counts[split] = sum(1 for p in sub.rglob("*") if p.is_file() and is_image_path(p)) if sub.is_dir() else 0
    return counts
