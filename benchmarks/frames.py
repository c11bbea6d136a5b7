"""Benchmark: `prepare_frames` (PyAV + Pillow) against the ffmpeg command line doing the same job.

Target (issue 3): within 1.2x of ffmpeg. Both decode the same video and write RGB PNGs of the same size:
all frames at full size, and 5 fps scaled (bicubic) so the shorter side is 256. Each case runs
``--repeat`` times alternating the two tools; the table shows the best wall time, the median, the CPU
seconds of the best run and the ratio of the best times (ganctl / ffmpeg; below 1 = ganctl faster).
Needs ``ffmpeg`` on PATH (Debian: ``apt-get install ffmpeg``); it is not a ganctl dependency.

    python benchmarks/frames.py --video ../shared/data/video/chaplin.mp4 [--repeat 5] [--out /tmp]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from ganctl import console
from ganctl.data.frames import prepare_frames
from ganctl.data.video import probe_video, scaled_size


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_ffmpeg(video: Path, out: Path, fps: float | None, size: tuple[int, int] | None) -> tuple[float, float]:
    out.mkdir(parents=True)
    filters = []
    if fps:
        filters.append(f"fps={fps}")
    if size:
        filters.append(f"scale={size[0]}:{size[1]}:flags=bicubic")
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(video), "-an"]
    if filters:
        cmd += ["-vf", ",".join(filters)]
    cmd += ["-pix_fmt", "rgb24", "-f", "image2", str(out / "%06d.png")]
    t, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t, _cpu(resource.RUSAGE_CHILDREN) - cpu


def run_ganctl(video: Path, out: Path, fps: float | None, size: int | None) -> tuple[float, float]:
    t, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    prepare_frames([video], out, fps=fps, size=size, color="rgb")
    return time.perf_counter() - t, _cpu(resource.RUSAGE_SELF) - cpu


def count_and_bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*.png")]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, nargs="+", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", default=None, help="parent of the scratch folder (removed after; default $TMPDIR)")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is not on PATH (Debian: apt-get install ffmpeg)")
    console.set_quiet(True)
    scratch = Path(tempfile.mkdtemp(prefix="ganctl_frames_bench_", dir=args.out))
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    rows = []
    try:
        for video in args.video:
            info = probe_video(video)
            for label, fps, short in (("all frames, full size", None, None), ("5 fps, short side 256", 5.0, 256)):
                size = scaled_size(info.width, info.height, short) if short else None
                times: dict[str, list[tuple[float, float]]] = {"ffmpeg": [], "ganctl": []}
                counts = {}
                for rep in range(args.repeat):
                    for tool in ("ffmpeg", "ganctl"):
                        out = scratch / f"{tool}_{rep}"
                        if tool == "ffmpeg":
                            times[tool].append(run_ffmpeg(video, out, fps, size))
                        else:
                            times[tool].append(run_ganctl(video, out, fps, short))
                        counts[tool] = count_and_bytes(out)
                        shutil.rmtree(out)
                best = {tool: min(v) for tool, v in times.items()}
                rows.append((video.name, label, counts, best,
                             {tool: statistics.median(w for w, _ in v) for tool, v in times.items()}))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"{version}; cpus available: {len(os.sched_getaffinity(0))}; load average now: {os.getloadavg()[0]:.1f}")
    header = (f"{'video':<28} {'case':<22} {'tool':<7} {'frames':>6} {'MB':>7} {'best s':>7} {'median s':>8} "
              f"{'cpu s':>6} {'ratio':>6}")
    print(header)
    for name, label, counts, best, median in rows:
        ratio = best["ganctl"][0] / best["ffmpeg"][0]
        for tool in ("ffmpeg", "ganctl"):
            n, size_bytes = counts[tool]
            shown = f"{ratio:>6.2f}" if tool == "ganctl" else ""
            print(f"{name:<28} {label:<22} {tool:<7} {n:>6} {size_bytes / 1e6:>7.1f} {best[tool][0]:>7.2f} "
                  f"{median[tool]:>8.2f} {best[tool][1]:>6.2f} {shown}")


if __name__ == "__main__":
    main()
