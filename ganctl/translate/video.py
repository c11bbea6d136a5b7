"""Video in, video out: every frame through a :class:`~ganctl.translate.translator.Translator`, with PyAV.

Frames keep their source timestamps (so the output has the source frame rate and the same number of
frames; MPEG-2 counts time in frames, so there they are rescaled to the source's frame rate); an audio
stream is remuxed unchanged when the output container takes it. Decoding runs in a background thread
while the model works on the previous batch. The output container follows the extension (FFmpeg's
choice); the codec is VP8 for webm, MPEG-2 for mpg, mpeg, vob and m2v, a per-frame palette GIF for gif,
and H.264 for every other video extension of :mod:`ganctl.data.formats`, except the containers that take
none of these (ogv, mxf, dv, rm, rmvb, y4m): those come back as .mp4 (:func:`video_output_suffix`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image

from ganctl import console
from ganctl.data.video import scaled_size
from ganctl.errors import ImageReadError, OutputError
from ganctl.fsutil import atomic_path
from ganctl.translate.summary import TranslateSummary
from ganctl.translate.translator import Translator

_END = object()
_MPEG_PROGRAM_STREAM = frozenset({".mpg", ".mpeg", ".vob", ".m2v"})
# Containers read but not written (no H.264, VP8 or MPEG-2 in them with the codecs PyAV brings).
_WRITTEN_AS_MP4 = frozenset({".ogv", ".mxf", ".dv", ".rm", ".rmvb", ".y4m"})
# Codecs whose clock ticks once per frame (constant frame rate): timestamps are rescaled to it.
_FRAME_CLOCK_CODECS = frozenset({"mpeg2video"})
# A colourised video's chroma is the model's whole output: H.264 quantises it 9 steps finer than its luma
# there (x264's chroma-qp-offset). At the default offset the codec's own frame-to-frame chroma noise was as
# large as the flicker --temporal leaves (docs/benchmarks.md, issue 18); the files grow by 40-70 %.
COLOURISED_CHROMA_QP_OFFSET = -9


def video_output_suffix(suffix: str) -> str:
    """The extension a translated video gets: its own, or ``.mp4`` for a container ganctl cannot write."""
    suffix = suffix.lower()
    return ".mp4" if suffix in _WRITTEN_AS_MP4 else suffix


def _codec_for(suffix: str, width: int, height: int, colourised: bool = False) -> tuple[str, str, dict[str, str]]:
    """(codec, pixel format, options) for an output container; ``colourised``: finer chroma (H.264)."""
    if suffix == ".gif":
        return "gif", "pal8", {}
    if suffix == ".webm":
        return "libvpx", "yuv420p", {"crf": "8", "b": "4M"}
    if suffix in _MPEG_PROGRAM_STREAM:
        # MPEG-2, the codec players expect in .mpg (H.264 in an MPEG program stream loses its timestamps).
        return "mpeg2video", "yuv420p", {"b": "8M"}
    # 4:2:0 needs even sizes; fall back to 4:4:4 for odd ones rather than change the frame size.
    pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    options = {"crf": "18", "preset": "fast"}
    if colourised:
        options["x264-params"] = f"chroma-qp-offset={COLOURISED_CHROMA_QP_OFFSET}"
    return "libx264", pix_fmt, options


def _frames_in_background(container: Any, video: Any, audio: Any, fmt: str, size: tuple[int, int],
                          analyse: Callable[[np.ndarray], Any] | None = None) -> Iterator[tuple[str, Any, Any, Any]]:
    """Demux and decode in a thread; yields ("frame", HxW[xC] uint8, pts, analysis), ("audio", packet, None,
    None) and, before the first frame of a rotated video, ("display", its display matrix, None, None).

    ``analyse`` (the input's motion, for --temporal) runs on each frame in that thread too, alongside the model.
    """
    items: queue.Queue = queue.Queue(maxsize=64)
    stop = threading.Event()
    streams = [video] + ([audio] if audio is not None else [])

    def work() -> None:
        first = True
        try:
            for packet in container.demux(*streams):
                if stop.is_set():
                    return
                if audio is not None and packet.stream is audio:
                    if packet.dts is not None:
                        items.put(("audio", packet, None, None))
                    continue
                for frame in packet.decode():
                    if first:  # a phone video's rotation: carried to the output as it is
                        first = False
                        matrix = _display_matrix(frame)
                        if matrix is not None:
                            items.put(("display", matrix, None, None))
                    arr = frame.reformat(width=size[0], height=size[1], format=fmt).to_ndarray()
                    items.put(("frame", arr, frame.pts, analyse(arr) if analyse is not None else None))
            items.put(_END)
        except BaseException as exc:  # handed to the consumer, which raises it in the main thread
            items.put(exc)

    thread = threading.Thread(target=work, name="ganctl-video-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                items.get(timeout=0.05)
            except queue.Empty:
                pass


def _display_matrix(frame: Any) -> list[int] | None:
    """The display matrix (rotation, flips) a frame carries as side data: FFmpeg's 9 int32, or None."""
    for data in getattr(frame, "side_data", ()):
        if getattr(data.type, "name", None) == "DISPLAYMATRIX" and len(bytes(data)) == 36:
            return np.frombuffer(bytes(data), np.int32).tolist()
    return None


class _VideoWriter:
    """Encodes uint8 frames into one video stream (plus an optional remuxed audio stream)."""

    def __init__(self, path: Path, suffix: str, width: int, height: int, rate: Fraction, time_base: Fraction,
                 audio: Any, colourised: bool = False):
        self.container = av.open(str(path), "w", format=None)
        codec, self.pix_fmt, options = _codec_for(suffix, width, height, colourised)
        self.stream = self.container.add_stream(codec, rate=rate, options=options)
        self.stream.width, self.stream.height = width, height
        self.stream.pix_fmt = self.pix_fmt
        self.source_time_base = time_base
        self.time_base = 1 / Fraction(rate) if codec in _FRAME_CLOCK_CODECS else time_base
        self.stream.time_base = self.stream.codec_context.time_base = self.time_base
        self.last_pts = -1
        self.audio = None
        if audio is not None:
            try:
                self.audio = self.container.add_stream_from_template(audio)
            except (av.error.FFmpegError, ValueError) as exc:
                console.warn(f"{path.name}: audio ({audio.codec_context.name}) not copied: {exc}")

    def set_display_matrix(self, matrix: list[int]) -> None:
        """Write the source's display matrix (its rotation) into the output; called before the first frame."""
        try:
            self.stream.set_display_matrix(matrix)
        except (av.error.FFmpegError, ValueError, AttributeError) as exc:  # AttributeError: PyAV before 16
            console.warn(f"rotation metadata not kept: {exc}")

    def _frame(self, pixels: np.ndarray) -> av.VideoFrame:
        if self.pix_fmt == "pal8":
            img = Image.fromarray(pixels).convert("RGB").quantize(256)
            palette = np.zeros((256, 3), np.uint8)
            flat = np.asarray(img.getpalette() or [], np.uint8).reshape(-1, 3)[:256]
            palette[: len(flat)] = flat
            argb = np.concatenate([np.full((256, 1), 255, np.uint8), palette], axis=1)
            return av.VideoFrame.from_ndarray((np.asarray(img), argb), format="pal8")
        return av.VideoFrame.from_ndarray(pixels, format="gray" if pixels.ndim == 2 else "rgb24")

    def write(self, pixels: np.ndarray, pts: int) -> None:
        """Encode one frame at ``pts`` (in the source video's time base)."""
        frame = self._frame(pixels)
        # Rescaled timestamps can round onto the previous frame's (13.5 and 14.5 both round to 14): keep them rising.
        self.last_pts = frame.pts = max(round(pts * self.source_time_base / self.time_base), self.last_pts + 1)
        frame.time_base = self.time_base
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def write_audio(self, packet: Any) -> None:
        """Remux one audio packet unchanged."""
        if self.audio is not None:
            packet.stream = self.audio
            self.container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


def translate_video(source: Path, target: Path, translator: Translator, *, batch_size: int = 16,
                    size: int | None = None, overwrite: bool = False, temporal: bool = False,
                    summary: TranslateSummary | None = None) -> TranslateSummary:
    """Translate every frame of ``source`` into the video ``target`` (same rate, frame count and audio).

    ``temporal``: blend each output with the previous one where the input's motion says they show the same
    thing (:mod:`ganctl.translate.temporal`; needs OpenCV), instead of frame by frame.
    """
    summary = summary if summary is not None else TranslateSummary()
    if target.exists() and not overwrite:
        console.warn(f"skipped {source}: {target} exists already (use --overwrite to replace it)")
        summary.skip(source.name, "exists")
        return summary
    if target.resolve() == source.resolve():
        raise OutputError(target, "would overwrite its input")
    tracker = blender = None
    colourised = getattr(translator, "keeps_lightness", False)
    if temporal:
        from ganctl.flow import MotionTracker
        from ganctl.translate.temporal import TemporalBlender

        tracker = MotionTracker()
        blender = TemporalBlender(chroma_only=colourised)
    try:
        container = av.open(str(source))
    except (av.error.FFmpegError, OSError) as exc:
        raise ImageReadError(source, f"cannot open video ({exc})") from None
    with container:
        if not container.streams.video:
            raise ImageReadError(source, "has no video stream")
        video = container.streams.video[0]
        video.thread_type = "AUTO"
        audio = container.streams.audio[0] if container.streams.audio else None
        width, height = scaled_size(video.codec_context.width, video.codec_context.height, size)
        rate = video.average_rate or video.guessed_rate or Fraction(25)
        time_base = video.time_base or Fraction(1, int(rate))
        fmt = "gray" if translator.in_mode == "L" else "rgb24"
        with atomic_path(target) as tmp, console.progress(f"translating {source.name}", video.frames or None,
                                                          unit="frame") as advance:
            writer = _VideoWriter(tmp, target.suffix.lower(), width, height, rate, time_base, audio, colourised)
            batch: list[tuple[np.ndarray, int, Any]] = []

            def flush() -> None:
                outs = translator([pixels for pixels, _, _ in batch])
                for out, (_, pts, motion) in zip(outs, batch):
                    writer.write(blender(out, motion) if blender is not None else out, pts)
                summary.translated += len(batch)
                advance(len(batch))
                batch.clear()

            try:
                frames = 0
                for kind, item, pts, motion in _frames_in_background(container, video, audio, fmt, (width, height),
                                                                     tracker):
                    if kind == "audio":
                        writer.write_audio(item)
                        continue
                    if kind == "display":
                        writer.set_display_matrix(item)
                        continue
                    batch.append((item, pts if pts is not None else round(frames / (rate * time_base)), motion))
                    frames += 1
                    if len(batch) >= batch_size:
                        flush()
                if batch:
                    flush()
                if not frames:
                    raise ImageReadError(source, "no video frames could be decoded (empty, truncated or corrupt)")
                writer.close()
            except av.error.FFmpegError as exc:
                raise ImageReadError(source, f"video could not be translated ({exc})") from None
    summary.outputs.append(target)
    return summary
