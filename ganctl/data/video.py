"""Read videos with PyAV: probe them, and iterate decoded frames with their timestamps.

- :func:`probe_video` -> :class:`VideoInfo` (size, frame rate, duration, frame count, codec).
- :func:`iter_frames` yields ``(seconds, rgb uint8 H x W x 3)`` for the frames in ``[start, end)``, thinned
  by ``every`` (every N-th decoded frame) or ``fps`` (the first frame at or after each 1/fps tick), resized
  by libswscale (bicubic, as the ffmpeg command line does) so the shorter side is ``size``.
- Times are seconds from the first frame of the video stream (the stream's start time subtracted).
- A file PyAV cannot open, one with no video stream, a stream that breaks off while decoding, and one whose
  frames stop well before the duration its container declares (cut off) raise
  :class:`ganctl.errors.InputError` naming the file.

Formats: whatever the bundled FFmpeg decodes, whatever the file is called; the extensions ganctl takes
as videos are listed in :mod:`ganctl.data.formats`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from ganctl.errors import InputError


@dataclass(frozen=True)
class VideoInfo:
    """What a video file holds (None where the container does not say)."""

    path: Path
    width: int
    height: int
    fps: float | None
    duration: float | None
    frames: int | None
    codec: str


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise InputError(path, "no such video file")
    if path.is_dir():
        raise InputError(path, "is a folder, not a video")
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InputError(path, f"not a readable video: truncated, corrupt or not a video ({exc})") from None
    if not container.streams.video:
        container.close()
        raise InputError(path, "has no video stream")
    return container


def _info(path: Path, container: av.container.InputContainer) -> VideoInfo:
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    duration = None
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    return VideoInfo(
        path=path,
        width=stream.codec_context.width,
        height=stream.codec_context.height,
        fps=float(rate) if rate else None,
        duration=duration,
        frames=stream.frames or None,
        codec=stream.codec_context.name,
    )


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Size, frame rate, duration, frame count and codec of a video (InputError when unreadable)."""
    path = Path(path)
    container = _open(path)
    try:
        return _info(path, container)
    finally:
        container.close()


def scaled_size(width: int, height: int, size: int | None) -> tuple[int, int]:
    """(width, height) with the shorter side ``size`` and the aspect ratio kept (unchanged for None)."""
    if size is None:
        return width, height
    if width <= height:
        return size, max(1, round(height * size / width))
    return max(1, round(width * size / height)), size


class _Selector:
    """Decides which decoded frames to keep: all, every N-th, or one per 1/fps tick."""

    def __init__(self, every: int | None, fps: float | None):
        self.every, self.fps = every, fps
        self.index = 0
        self.last_tick = -1

    def keep(self, t: float) -> bool:
        index, self.index = self.index, self.index + 1
        if self.every:
            return index % self.every == 0
        if self.fps:
            tick = math.floor(t * self.fps + 1e-6)
            if tick > self.last_tick:
                self.last_tick = tick
                return True
            return False
        return True


def _check_complete(path: Path, info: VideoInfo, last_time: float | None, start: float | None,
                    end: float | None) -> None:
    """Raise when decoding stopped well before where the container says the video ends (a cut-off file)."""
    if last_time is None:
        if start is not None and info.duration is not None and start >= info.duration:
            raise InputError(path, f"--start {start} is past the end of the video ({info.duration:.2f} s)")
        raise InputError(path, "no video frames could be decoded (empty, truncated or corrupt)")
    if info.duration is None:
        return
    expected = min(info.duration, end) if end is not None else info.duration
    slack = 2.0 / (info.fps or 25.0) + 0.25
    if last_time + slack < expected:
        raise InputError(path, f"truncated video: frames stop at {last_time:.2f} s but the file says it lasts "
                               f"{info.duration:.2f} s")


def iter_frames(
    path: str | os.PathLike,
    *,
    start: float | None = None,
    end: float | None = None,
    every: int | None = None,
    fps: float | None = None,
    size: int | None = None,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(seconds, H x W x 3 uint8 RGB)`` for the selected frames (see the module docstring)."""
    path = Path(path)
    container = _open(path)
    last_time = None
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        info = _info(path, container)
        out_w, out_h = scaled_size(info.width, info.height, size)
        time_base = stream.time_base
        origin = float(stream.start_time * time_base) if stream.start_time is not None and time_base else 0.0
        if start and time_base:
            container.seek(int((origin + start) / time_base), stream=stream, backward=True, any_frame=False)
        selector = _Selector(every, fps)
        rate = info.fps or 25.0
        decoded = 0
        reached_end = False
        for frame in container.decode(stream):
            t = frame.time - origin if frame.time is not None else decoded / rate
            decoded += 1
            if start is not None and t < start - 1e-6:
                continue
            if end is not None and t >= end - 1e-6:
                reached_end = True
                break
            last_time = t
            if not selector.keep(t - (start or 0.0)):
                continue
            yield t, frame.to_ndarray(width=out_w, height=out_h, format="rgb24", interpolation="BICUBIC")
        if not reached_end or last_time is None:
            _check_complete(path, info, last_time, start, end)
    except (av.error.FFmpegError, OSError, ValueError, EOFError) as exc:
        where = f"after {last_time:.3f} s" if last_time is not None else "at the start"
        raise InputError(path, f"corrupt or truncated video: decoding failed {where} ({exc})") from None
    finally:
        container.close()
