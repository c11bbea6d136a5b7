"""Benchmark: the full colour MNIST (70,000 digits -> 140,000 PNGs) with `prepare_mnist_color`.

Target (issue 3): <= 60 s on 2 CPU cores. Prints one row per worker count: wall time of the whole
preparation (load IDX, colour, encode and write PNGs, dataset.json, final rename), the image rate, and
the CPU seconds used (this process plus its workers): on a shared, overloaded machine the wall time
mostly measures the neighbours, the CPU time much less so.

    python benchmarks/prepare_mnist_color.py --source ../shared/data/mnist [--workers 1 2] [--out /tmp/bench]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from ganctl import console
from ganctl.data import pngwriter
from ganctl.data.mnist import load_mnist
from ganctl.data.mnist_color import prepare_mnist_color
from ganctl.device import available_cpus


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="folder with the four MNIST IDX files")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, available_cpus()])
    parser.add_argument("--out", default=None, help="parent of the scratch folder (removed after; default $TMPDIR)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    console.set_quiet(True)
    scratch = Path(tempfile.mkdtemp(prefix="ganctl_bench_", dir=args.out))
    t = time.perf_counter()
    load_mnist(args.source)
    load_s = time.perf_counter() - t
    rows = []
    try:
        for workers in args.workers:
            pngwriter.available_cpus = lambda w=workers: w  # the pool size used by write_png_jobs
            for rep in range(args.repeat):
                out = scratch / f"mnist_color_w{workers}_{rep}"
                t, cpu = time.perf_counter(), _cpu_seconds()
                result = prepare_mnist_color(out=out, source=args.source)
                seconds, cpu = time.perf_counter() - t, _cpu_seconds() - cpu
                images = sum(result.counts.values())
                rows.append((workers, rep, images, seconds, cpu, os.getloadavg()[0]))
                shutil.rmtree(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"cpus available: {len(os.sched_getaffinity(0))}, output under: {scratch}, "
          f"IDX load alone: {load_s:.2f} s")
    print(f"{'workers':>7} {'run':>3} {'images':>8} {'wall s':>7} {'images/s':>9} {'cpu s':>6} {'load1':>6}")
    for workers, rep, images, seconds, cpu, load in rows:
        print(f"{workers:>7} {rep:>3} {images:>8} {seconds:>7.1f} {images / seconds:>9.0f} {cpu:>6.1f} {load:>6.1f}")


if __name__ == "__main__":
    main()
