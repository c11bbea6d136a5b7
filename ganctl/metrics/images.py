"""Feeding image folders to metrics: decode in threads, batch images of the same size, skip bad files.

Decoding (JPEG/PNG) dominates a metric's time on a GPU and is a large share on a CPU; Pillow releases the
GIL while it decodes, so a few threads keep the model busy. Batches hold images of one size only, because
the feature extractors resize a whole batch at once; a folder of mixed sizes is bucketed by size.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ganctl import console
from ganctl.data.imageio import list_images, open_image, to_mode
from ganctl.errors import ImageReadError, InputError


@dataclass
class ReadStats:
    """How many images were read, and which were skipped (path, reason)."""

    read: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def image_files(folder: str | os.PathLike) -> list[Path]:
    """The images below ``folder`` (recursive), or the file itself; an empty or missing folder is an InputError."""
    path = Path(folder)
    if not path.exists():
        raise InputError(path, "no such folder")
    if path.is_file():
        return [path]
    files = list_images(path)
    if not files:
        raise InputError(path, "holds no images (png, jpg, webp, bmp, tif, gif)")
    return files


def read_uint8(path: str | os.PathLike, mode: str = "RGB") -> torch.Tensor:
    """One image as a uint8 tensor C x H x W (``mode`` RGB or L)."""
    arr = np.asarray(to_mode(open_image(path), mode), dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)


def _decode(path: Path, mode: str) -> torch.Tensor | ImageReadError:
    try:
        return read_uint8(path, mode)
    except ImageReadError as exc:
        return exc


def default_workers(device: torch.device | str) -> int:
    """Decoding threads for a model on ``device``: none on the CPU, whose cores the model already uses
    (threads there only compete with it), up to 8 when an accelerator runs the model."""
    return 0 if torch.device(device).type == "cpu" else min(8, os.cpu_count() or 1)


def iter_decoded(paths: Sequence[Path], mode: str = "RGB", workers: int | None = None,
                 prefetch: int = 256) -> Iterator[tuple[Path, torch.Tensor | ImageReadError]]:
    """Yield ``(path, image or error)`` in order, decoding up to ``prefetch`` files ahead in ``workers`` threads
    (0: in the calling thread)."""
    workers = min(8, os.cpu_count() or 1) if workers is None else workers
    if workers == 0:
        for p in paths:
            yield p, _decode(p, mode)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[Path, Future]] = deque()
        it = iter(paths)
        for p in it:
            pending.append((p, pool.submit(_decode, p, mode)))
            if len(pending) >= prefetch:
                break
        while pending:
            p, fut = pending.popleft()
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(_decode, nxt, mode)))
            yield p, fut.result()


def iter_batches(paths: Sequence[Path], batch_size: int, *, mode: str = "RGB", strict: bool = False,
                 stats: ReadStats | None = None, description: str = "reading",
                 workers: int | None = None) -> Iterator[torch.Tensor]:
    """Yield uint8 batches N x C x H x W of same-size images; bad files are skipped (or raised under ``strict``)."""
    stats = stats if stats is not None else ReadStats()
    buckets: dict[tuple[int, ...], list[torch.Tensor]] = {}
    with console.progress(description, len(paths), unit="img") as advance:
        for path, item in iter_decoded(paths, mode, workers):
            advance()
            if isinstance(item, ImageReadError):
                if strict:
                    raise item
                stats.skipped.append((str(path), item.problem))
                continue
            stats.read += 1
            bucket = buckets.setdefault(tuple(item.shape), [])
            bucket.append(item)
            if len(bucket) >= batch_size:
                yield torch.stack(bucket)
                bucket.clear()
    for bucket in buckets.values():
        if bucket:
            yield torch.stack(bucket)


def report_skipped(stats: ReadStats, where: str) -> None:
    """Warn once about images that could not be read, naming the first few."""
    if stats.skipped:
        shown = "; ".join(f"{p}: {why}" for p, why in stats.skipped[:3])
        more = f" (+{len(stats.skipped) - 3} more)" if len(stats.skipped) > 3 else ""
        console.warn(f"{where}: skipped {len(stats.skipped)} unreadable image(s): {shown}{more}")
