"""The one PNG writer (:func:`write_png`), and batches of small PNGs written by worker processes.

How a PNG is written, the fastest of the ways measured by ``benchmarks/png_writer.py`` (docs/benchmarks.md,
"PNG writer"): encode into memory with zlib level 1 and the run-length strategy (``Z_RLE``), then hand the
bytes to the file with one ``os.write``. Against Pillow's default (level 6, saved to a path) that is 3.2x
faster for 256 px photos (files 2 % larger) and 1.6x for 32 px digits (files smaller); on a disk, creating
a digit's file costs more than encoding it. Every level is lossless. Callers that need the file to appear
whole wrap it in :func:`ganctl.fsutil.atomic_path`.

The GIL, measured (and said here only): Pillow releases it while zlib compresses, so large images (photos,
video frames) encode in parallel on threads (2 threads: 2.2x on 2 cores). For small images the per-image
Python work of Pillow's PNG writer dominates and holds it: 2 threads encode 32 px digits no faster than one,
2 worker processes 1.25x faster. Hence threads beside large-image work, worker processes for many small images
(:func:`write_png_jobs`, and translate's encoders).

:func:`write_png_jobs` writes files directly (no per-file temp + rename): its callers write into a staging
folder that is renamed into place as a whole (:mod:`ganctl.data.staging`), which makes the dataset atomic.
This module imports only numpy and Pillow, so worker processes start cheaply (forked where possible).
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

from ganctl.device import available_cpus

BATCH = 1000
MIN_PARALLEL = 4000
PNG_COMPRESS_LEVEL = 1
_Z_RLE = 3  # zlib's run-length strategy: faster than the default strategy on images, and smaller files here


def encode_png(image: np.ndarray | Image.Image) -> memoryview:
    """The PNG file bytes of a PIL image or a uint8 array (H x W gray, H x W x 3 RGB, H x W x 4 RGBA)."""
    buf = io.BytesIO()
    img = image if isinstance(image, Image.Image) else Image.fromarray(image)
    img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL, compress_type=_Z_RLE)
    return buf.getbuffer()


def write_png(image: np.ndarray | Image.Image, path: str | os.PathLike) -> None:
    """Write ``image`` as a PNG file at ``path`` (replaced if it exists; the parent folder must exist)."""
    data = encode_png(image)
    # One open/write/close: a buffered file object costs several extra syscalls per small PNG.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        done = 0
        while done < len(data):
            done += os.write(fd, data[done:])
    finally:
        os.close(fd)


def _write_batch(images: np.ndarray, paths: Sequence[str]) -> int:
    """Write ``images`` (N x H x W gray or N x H x W x 3 RGB, uint8) to ``paths``."""
    for image, path in zip(images, paths):
        write_png(image, path)
    return len(paths)


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork starts workers instantly and needs no importable __main__ (stdin, notebooks); the workers only
    # run numpy and Pillow, never torch, so forking a process that has torch threads is safe here.
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


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
    workers = available_cpus() if workers is None else workers
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
