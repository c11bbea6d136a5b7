"""Which way of encoding and writing a PNG is fastest, and do threads help (is the GIL held)?

Two image sets: 32x32 gray digits (MNIST, padded from 28x28, as ``prepare mnist-color`` writes them) and
256x256 RGB photos (horse2zebra/testA; where the test data is missing, 256x256 crops of scikit-image's
sample photos). Every candidate encodes and writes each image to its own file in ``--out`` (default: a
temporary folder on disk). Three measurements, each the best of ``--repeat`` rounds:

1. **single thread**: images/s, CPU time and bytes per file for each candidate;
2. **threads vs processes** (the GIL question): the chosen writer, and its encoding alone (into memory,
   no file), over 1 thread, ``--workers`` threads and ``--workers`` forked processes, each taking chunks
   of images. Threads that scale like processes mean the work runs without the GIL; threads that stay
   at 1x mean it is held (or something else, such as the file system, is the limit: compare the
   encode-only row).

    python benchmarks/png_writer.py
    python benchmarks/png_writer.py --digits 4000 --photos 200 --workers 2 --repeat 3
"""

from __future__ import annotations

import argparse
import gzip
import io
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganctl.data.pngwriter import encode_png, write_png  # noqa: E402
from ganctl.fsutil import atomic_path  # noqa: E402

Z_RLE = 3  # zlib strategy constant


def _pil_save(level: int | None, strategy: int | None = None) -> Callable[[np.ndarray, str], None]:
    def write(pixels: np.ndarray, path: str) -> None:
        options = {} if level is None else {"compress_level": level}
        if strategy is not None:
            options["compress_type"] = strategy
        Image.fromarray(pixels).save(path, format="PNG", **options)

    return write


def _bytes_then_os_write(level: int | None, strategy: int | None = None) -> Callable[[np.ndarray, str], None]:
    def write(pixels: np.ndarray, path: str) -> None:
        buf = io.BytesIO()
        options = {} if level is None else {"compress_level": level}
        if strategy is not None:
            options["compress_type"] = strategy
        Image.fromarray(pixels).save(buf, format="PNG", **options)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = buf.getbuffer()
            done = 0
            while done < len(view):
                done += os.write(fd, view[done:])
        finally:
            os.close(fd)

    return write


def _encode_only(pixels: np.ndarray, path: str) -> None:
    encode_png(pixels)


def _ganctl_atomic(pixels: np.ndarray, path: str) -> None:
    with atomic_path(path) as tmp:
        write_png(pixels, tmp)


CANDIDATES: dict[str, Callable[[np.ndarray, str], None]] = {
    "PIL save to path, level 6 (Pillow default)": _pil_save(None),
    "PIL save to path, level 1": _pil_save(1),
    "PIL save to path, level 1, Z_RLE": _pil_save(1, Z_RLE),
    "BytesIO level 6 + os.write (old pngwriter)": _bytes_then_os_write(None),
    "BytesIO level 1 + os.write": _bytes_then_os_write(1),
    "BytesIO level 1, Z_RLE + os.write": _bytes_then_os_write(1, Z_RLE),
    "ganctl write_png (the one writer)": write_png,
    "ganctl write_png in atomic_path (fsync+rename)": _ganctl_atomic,
}
CHOSEN = "ganctl write_png (the one writer)"
ENCODE_ONLY = "write_png into memory (encode only)"
SCALING = {CHOSEN: write_png, ENCODE_ONLY: _encode_only}


# --------------------------------------------------------------------------- images


def _mnist_digits(data: Path, count: int) -> np.ndarray | None:
    path = data / "mnist" / "train-images-idx3-ubyte.gz"
    if not path.exists():
        return None
    raw = gzip.decompress(path.read_bytes())
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:count]
    return np.pad(images, ((0, 0), (2, 2), (2, 2)))


def _photos(data: Path, count: int) -> np.ndarray:
    sources = sorted((data / "horse2zebra" / "testA").glob("*.jpg"))
    if sources:
        tiles = [np.asarray(Image.open(p).convert("RGB").resize((256, 256))) for p in sources[:count]]
    else:
        import skimage.data  # no test data here; these photos ship with scikit-image

        tiles = []
        for name in ("astronaut", "coffee", "chelsea", "rocket"):
            photo = getattr(skimage.data, name)()
            for top in range(0, photo.shape[0] - 255, 64):
                for left in range(0, photo.shape[1] - 255, 64):
                    tiles.append(photo[top:top + 256, left:left + 256])
    return np.stack([tiles[i % len(tiles)] for i in range(count)])


def _gray_crops(photos: np.ndarray, count: int) -> np.ndarray:
    """Stand-in digits where MNIST is missing: 32x32 gray crops of the photos."""
    gray = photos.mean(axis=3).astype(np.uint8)
    return np.stack([gray[i % len(gray), :32, :32] for i in range(count)])


# --------------------------------------------------------------------------- measurements


def _write_chunk(name: str, images: np.ndarray, paths: list[str]) -> int:
    write = CANDIDATES.get(name) or SCALING[name]
    for pixels, path in zip(images, paths):
        write(pixels, path)
    return len(paths)


def _fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def _paths(folder: Path, count: int) -> list[str]:
    return [str(folder / f"{i:06d}.png") for i in range(count)]


def single_thread(images: np.ndarray, folder: Path, repeat: int) -> dict[str, tuple[float, float, float]]:
    """Per candidate: (images/s, CPU microseconds per image, mean bytes per file), best of ``repeat``.

    The rounds interleave the candidates, so a burst of load elsewhere does not land on one of them only.
    """
    best: dict[str, tuple[float, float]] = {name: (float("inf"), float("inf")) for name in CANDIDATES}
    sizes: dict[str, float] = {}
    for _ in range(repeat):
        for name in CANDIDATES:
            paths = _paths(_fresh(folder), len(images))
            c0, t0 = time.process_time(), time.perf_counter()
            _write_chunk(name, images, paths)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
            sizes[name] = sum(os.path.getsize(p) for p in paths) / len(paths)
    return {name: (len(images) / wall, 1e6 * cpu / len(images), sizes[name]) for name, (wall, cpu) in best.items()}


def _pool(kind: str, workers: int) -> Executor:
    if kind == "threads":
        return ThreadPoolExecutor(workers)
    methods = multiprocessing.get_all_start_methods()
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork" if "fork" in methods
                                                                               else "spawn"))


def parallel(name: str, kind: str, workers: int, images: np.ndarray, folder: Path,
             repeat: int) -> tuple[float, float]:
    """(images/s, cores busy) with ``workers`` threads or processes writing chunks of images, best of ``repeat``.

    Cores busy is this process's CPU time over the wall time (threads only; NaN for processes): above
    1 means threads really ran at the same time, about 1 means the GIL (or a lock) serialised them.
    """
    best, busy = float("inf"), float("nan")
    chunk = max(1, len(images) // (8 * workers))
    for _ in range(repeat):
        paths = _paths(_fresh(folder), len(images))
        with _pool(kind, workers) as pool:
            list(pool.map(int, range(workers)))  # start the workers before the clock
            c0, t0 = time.process_time(), time.perf_counter()
            futures = [pool.submit(_write_chunk, name, images[i:i + chunk], paths[i:i + chunk])
                       for i in range(0, len(images), chunk)]
            for f in futures:
                f.result()
            wall = time.perf_counter() - t0
            if wall < best:
                best = wall
                busy = (time.process_time() - c0) / wall if kind == "threads" else float("nan")
    return len(images) / best, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=2000, help="32x32 gray digits to write")
    parser.add_argument("--photos", type=int, default=100, help="256x256 RGB photos to write")
    parser.add_argument("--workers", type=int, default=2, help="threads / processes in the parallel rows")
    parser.add_argument("--repeat", type=int, default=2, help="rounds; the best is kept")
    parser.add_argument("--out", type=Path, default=None, help="folder to write into (default: a temp folder)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("GANCTL_TEST_DATA", "/work/shared/data")))
    args = parser.parse_args()

    photos = _photos(args.data, args.photos)
    digits = _mnist_digits(args.data, args.digits)
    sets = {"32px gray digits": digits if digits is not None else _gray_crops(photos, args.digits),
            "256px RGB photos": photos}
    root = Path(tempfile.mkdtemp(prefix="ganctl-png-", dir=args.out))
    try:
        print(f"writing into {root}; CPUs: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}\n")
        print("| images | way | images/s | CPU µs / image | bytes / file |")
        print("| --- | --- | ---: | ---: | ---: |")
        for label, images in sets.items():
            for name, (rate, cpu, size) in single_thread(images, root / "single", args.repeat).items():
                print(f"| {label} | {name} | {rate:,.0f} | {cpu:,.0f} | {size:,.0f} |", flush=True)
        w = args.workers
        print(f"\n| images | writer | 1 thread | {w} threads | cores busy ({w} threads) | {w} processes |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
        for label, images in sets.items():
            for name in SCALING:
                one, _ = parallel(name, "threads", 1, images, root / "par", args.repeat)
                threads, busy = parallel(name, "threads", w, images, root / "par", args.repeat)
                procs, _ = parallel(name, "processes", w, images, root / "par", args.repeat)
                print(f"| {label} | {name} | {one:,.0f}/s | {threads:,.0f}/s ({threads / one:.2f}x) | {busy:.2f} | "
                      f"{procs:,.0f}/s ({procs / one:.2f}x) |", flush=True)
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
