"""Write many small uint8 images as PNG files fast: batches encoded in worker processes.

PNG encoding of small images is dominated by per-call Python overhead that holds the GIL, so threads do
not help; worker processes do (forked where the platform can, else spawned: this module imports only
numpy and Pillow).
Files are written directly (no per-file temp + rename): callers write into a staging folder that is
renamed into place as a whole (:mod:`ganctl.data.staging`), which is what makes the dataset atomic.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

BATCH = 1000
MIN_PARALLEL = 4000
# zlib level for large images (video frames, photos): 3-4x faster to encode than Pillow's default 6 at a
# 2-20% larger file, which is the better trade for a dataset that is written once and read while training.
FAST_PNG_LEVEL = 1


def _write_batch(images: np.ndarray, paths: Sequence[str]) -> int:
    """Encode ``images`` (N x H x W gray or N x H x W x 3 RGB, uint8) to ``paths``."""
    buf = io.BytesIO()
    for image, path in zip(images, paths):
        buf.seek(0)
        buf.truncate()
        Image.fromarray(image, mode="L" if image.ndim == 2 else "RGB").save(buf, format="PNG")
        # One open/write/close per file: a buffered file object costs several extra syscalls per tiny PNG.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            with buf.getbuffer() as view:
                done = 0
                while done < len(view):
                    done += os.write(fd, view[done:])
        finally:
            os.close(fd)
    return len(paths)


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork starts workers instantly and needs no importable __main__ (stdin, notebooks); the workers only
    # run numpy and Pillow, never torch, so forking a process that has torch threads is safe here.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def default_workers() -> int:
    """Worker processes to use: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def write_pngs(images: np.ndarray, paths: Sequence[str | os.PathLike], advance=None, workers: int | None = None) -> int:
    """Write ``images[i]`` to ``paths[i]`` as PNG (gray "L" for N x H x W, RGB for N x H x W x 3).

    ``advance(n)`` is called as batches finish (for a progress bar). Parent folders must exist.
    """
    return write_png_jobs([(images, paths)], advance=advance, workers=workers)


def write_png_jobs(jobs: Sequence[tuple[np.ndarray, Sequence[str | os.PathLike]]], advance=None,
                   workers: int | None = None) -> int:
    """Like :func:`write_pngs` for several (images, paths) pairs at once, sharing one worker pool."""
    batches = []
    for images, paths in jobs:
        images = np.ascontiguousarray(images, dtype=np.uint8)
        bad_shape = images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] != 3)
        if bad_shape or len(images) != len(paths):
            raise ValueError(f"expected N x H x W or N x H x W x 3 uint8 images for {len(paths)} paths, "
                             f"got {images.shape}")
        str_paths = [str(p) for p in paths]
        batches += [(images[i:i + BATCH], str_paths[i:i + BATCH]) for i in range(0, len(str_paths), BATCH)]
    total = sum(len(b[1]) for b in batches)
    workers = default_workers() if workers is None else workers
    if workers <= 1 or total < MIN_PARALLEL:
        for batch in batches:
            done = _write_batch(*batch)
            if advance:
                advance(done)
        return total
    with ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context()) as pool:
        futures = [pool.submit(_write_batch, *batch) for batch in batches]
        for future in futures:
            done = future.result()
            if advance:
                advance(done)
    return total


def ensure_parents(paths: Sequence[str | os.PathLike]) -> None:
    """Create the parent folders of ``paths``."""
    for parent in {Path(p).parent for p in paths}:
        parent.mkdir(parents=True, exist_ok=True)
