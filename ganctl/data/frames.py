"""Frames of videos as a dataset folder (``ganctl prepare frames``).

``prepare_frames(videos, out)``:

- decodes each video with PyAV (:mod:`ganctl.data.video`) between ``start`` and ``end`` (seconds), keeping
  every frame, every N-th (``every``) or ``fps`` frames per second, resized so the shorter side is ``size``;
- writes ``out/trainA/<stem>_t<seconds>.png`` (e.g. ``chaplin_t0001.240.png``: the video's file stem and
  the frame's time, so frames sort in time order), or ``trainB`` with ``domain="B"``; the other splits
  exist but stay empty. Frames of a black-and-white film are domain A of a colorization task;
- ``color="auto"`` writes 1-channel PNG when every kept frame of every video is black-and-white (R = G = B
  up to compression noise) and RGB otherwise: frames are written gray while all so far look gray, and at
  the first colour frame the ones already written become RGB (so a fade-in from black does not make a
  colour film gray); ``dataset.json`` records the decision (``color_decision``); ``rgb`` / ``gray`` force it;
- PNG files are written by :func:`ganctl.data.pngwriter.write_png` in a thread pool beside the decoder
  (video frames are large images, which encode in parallel on threads: see that module);
- ``dataset.json`` lists the videos with their size, rate, duration and frames written.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from ganctl import console
from ganctl.data.dataset_meta import SPLITS, write_dataset_meta
from ganctl.data.grayscale import luma
from ganctl.data.pngwriter import write_png
from ganctl.data.prepared import PreparedDataset
from ganctl.data.staging import check_destination, staging_dir
from ganctl.data.video import VideoInfo, iter_frames, probe_video
from ganctl.errors import InputError, OptionError
from ganctl.fsutil import check_output_outside_input

COLOR_MODES = ("auto", "rgb", "gray")
GRAY_TOLERANCE = 3


def frame_name(stem: str, seconds: float) -> str:
    """``chaplin_t0001.240.png``: the video stem and the frame time in seconds (millisecond precision)."""
    return f"{stem}_t{seconds:08.3f}.png"


def looks_gray(rgb: np.ndarray) -> bool:
    """True when R, G and B agree in 99% of pixels up to compression noise (a black-and-white picture)."""
    a = rgb.astype(np.int16)
    diff = np.maximum(np.abs(a[..., 0] - a[..., 1]), np.abs(a[..., 1] - a[..., 2]))
    return float(np.percentile(diff, 99)) <= GRAY_TOLERANCE


def _check_options(fps, every, size, start, end, domain, color) -> None:
    if fps is not None and every is not None:
        raise OptionError("--fps", "give either --fps or --every, not both")
    if fps is not None and not fps > 0:
        raise OptionError("--fps", f"must be positive, got {fps}")
    if every is not None and every < 1:
        raise OptionError("--every", f"must be at least 1, got {every}")
    if size is not None and size < 8:
        raise OptionError("--size", f"must be at least 8 pixels, got {size}")
    if start is not None and start < 0:
        raise OptionError("--start", f"must not be negative, got {start}")
    if end is not None and end <= (start or 0):
        raise OptionError("--end", f"must be after --start, got {end}")
    if domain not in ("A", "B"):
        raise OptionError("--domain", f"must be A or B, got {domain!r}")
    if color not in COLOR_MODES:
        raise OptionError("--color", f"must be one of {', '.join(COLOR_MODES)}, got {color!r}")


def _unique_stems(paths: Sequence[Path]) -> list[str]:
    stems, used = [], set()
    for path in paths:
        stem, n = path.stem, 2
        while stem in used:
            stem, n = f"{path.stem}-{n}", n + 1
        used.add(stem)
        stems.append(stem)
    return stems


def _expected_frames(info: VideoInfo, fps, every, start, end) -> int:
    """A progress-bar estimate of the frames one video will give."""
    duration = info.duration or ((info.frames or 0) / (info.fps or 25.0))
    window = max(0.0, min(duration, end if end is not None else duration) - (start or 0.0))
    if fps:
        return max(1, round(window * fps))
    count = round(window * (info.fps or 25.0)) if info.duration else (info.frames or 0)
    return max(1, -(-count // (every or 1)))


def _save(array: np.ndarray, gray: bool, path: Path) -> None:
    write_png(luma(array) if gray else array, path)


def _gray_to_rgb(path: Path) -> None:
    """Rewrite a 1-channel frame as RGB (R = G = B): the frame looked gray, so nothing is lost."""
    with Image.open(path) as img:
        gray = np.asarray(img.convert("L"))
    write_png(np.repeat(gray[..., None], 3, axis=2), path)


def _frame_looks_gray(rgb: np.ndarray) -> bool:
    """:func:`looks_gray` on every n-th pixel of a large frame (about 128 pixels on the shorter side)."""
    step = max(1, min(rgb.shape[:2]) // 128)
    return looks_gray(rgb[::step, ::step])


def _color_decision(color: str, gray: bool, first_colour: str | None, frames: int) -> str:
    """How the frames' channels were chosen, in words (printed and kept in ``dataset.json``)."""
    if color != "auto":
        return f"{color} (--color {color})"
    if gray:
        return f"gray (all {frames} frames are black-and-white; --color rgb keeps RGB)"
    return f"rgb (first colour frame: {first_colour})"


def prepare_frames(
    videos: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    *,
    fps: float | None = None,
    every: int | None = None,
    size: int | None = None,
    start: float | None = None,
    end: float | None = None,
    domain: str = "A",
    color: str = "auto",
    overwrite: bool = False,
    workers: int | None = None,
) -> PreparedDataset:
    """Extract frames of ``videos`` into the dataset folder ``out`` (see the module docstring)."""
    t0 = time.perf_counter()
    _check_options(fps, every, size, start, end, domain, color)
    paths = [Path(v) for v in videos]
    if not paths:
        raise OptionError("VIDEO", "give at least one video file")
    out = Path(out)
    check_destination(out, overwrite)  # before any work: a bad --out fails at once
    for path in paths:
        check_output_outside_input(out, path)
    infos = [probe_video(p) for p in paths]
    stems = _unique_stems(paths)
    gray = color != "rgb"  # auto: gray until a colour frame is seen
    written_gray: list[Path] = []  # auto: the frames written gray so far, made RGB at the first colour frame
    first_colour = None
    split = f"train{domain}"
    total = sum(_expected_frames(i, fps, every, start, end) for i in infos)
    workers = workers or max(2, os.cpu_count() or 1)
    records = []
    with staging_dir(out, overwrite) as stage:
        for name in SPLITS:
            (stage / name).mkdir()
        with ThreadPoolExecutor(max_workers=workers) as pool, \
                console.progress(f"frames -> {out.name}/{split}", total, unit="frame") as advance:
            pending: deque[Future] = deque()
            submitted = 0
            for path, info, stem in zip(paths, infos, stems):
                written = 0
                for t, rgb in iter_frames(path, start=start, end=end, every=every, fps=fps, size=size):
                    target = stage / split / frame_name(stem, t)
                    if color == "auto" and gray and not _frame_looks_gray(rgb):
                        gray, first_colour = False, f"{path.name} at {t:.3f} s"
                        while pending:  # the gray frames must be on disk before they are rewritten
                            pending.popleft().result()
                            advance()
                        list(pool.map(_gray_to_rgb, written_gray))
                    pending.append(pool.submit(_save, rgb, gray, target))
                    submitted += 1
                    if submitted > total:  # the estimate was short: the bar's total follows the frames
                        total = submitted
                        advance(0, total=total)
                    if color == "auto" and gray:
                        written_gray.append(target)
                    written += 1
                    while len(pending) > 2 * workers:  # bound the decoded frames held in memory
                        pending.popleft().result()
                        advance()
                records.append({"path": str(path.resolve()), "stem": stem, "width": info.width,
                                "height": info.height, "fps": info.fps, "duration": info.duration,
                                "codec": info.codec, "frames_written": written})
            while pending:
                pending.popleft().result()
                advance()
            advance(0, total=submitted)  # the estimate may have been long (a last tick past the last frame)
        counts = {name: 0 for name in SPLITS}
        counts[split] = sum(r["frames_written"] for r in records)
        if not counts[split]:
            raise InputError(paths[0], "no frames selected (check --start/--end)")
        decision = _color_decision(color, gray, first_colour, counts[split])
        write_dataset_meta(stage, {
            "name": out.name,
            "kind": "frames",
            "source": [r["path"] for r in records],
            "options": {"fps": fps, "every": every, "size": size, "start": start, "end": end,
                        "domain": domain, "color": color},
            "seed": None,
            "counts": counts,
            "channels": {domain: 1 if gray else 3},
            "color_decision": decision,
            "videos": records,
        })
    result = PreparedDataset(out, counts, time.perf_counter() - t0)
    console.info(f"colour: {decision}")
    console.info(f"[green]frames[/] {result.summary()}")
    return result
