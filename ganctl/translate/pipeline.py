"""Many images through one :class:`Translator`: decode in threads, batch equal sizes, encode in workers.

:func:`translate_images` keeps three queues moving at once, held by a :class:`_Pipeline`:

* **decodes**: up to ``window`` images being decoded by background threads, oldest first;
* **buckets**: decoded images waiting for the model, one bucket per image shape (only equal sizes stack
  into a batch). A full bucket runs at once; when too many images wait in part-full buckets (many
  different sizes), the fullest runs, so memory stays bounded;
* **encodes**: translated images handed to the encoder pool in chunks, waited for once more than
  ``window`` images are in flight.

One image never stops the others: one that cannot be decoded is skipped as unreadable, one that fails in
the model (a batch that fails is retried image by image) or cannot be written is counted as failed, each
reported by name; ``strict`` stops at the first of either. A full disk stops everything
(:class:`~ganctl.errors.DiskFullError`): no later write could succeed.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganctl import console
from ganctl.errors import DiskFullError, GanctlError, ImageReadError, OptionError, OutputError
from ganctl.fsutil import is_disk_full
from ganctl.translate.images import DecodedImage, decode_image, encode_image
from ganctl.translate.summary import TranslateSummary
from ganctl.translate.translator import Translator

# From this many images on, encoding runs in worker processes (see _encoder_pool).
PROCESS_ENCODE_MIN_IMAGES = 64
# Images per encoder task at most: enough to amortise handing them to a worker, few enough to spread.
_MAX_ENCODE_CHUNK = 16


@dataclass
class Job:
    """One image to translate: where it comes from, where it goes, and the name shown to users."""

    source: Path
    target: Path
    name: str


# What _encode_many says of an image written on a full disk (errors do not all cross process boundaries).
_DISK_FULL = "disk full"


def _encode_many(items: list[tuple[np.ndarray, np.ndarray | None, str]], overwrite: bool) -> list[str | None]:
    """Encode several images (in a worker process or thread); per image None, or what went wrong."""
    problems: list[str | None] = []
    for pixels, alpha, target in items:
        try:
            encode_image(pixels, alpha, Path(target), overwrite)
            problems.append(None)
        except Exception as exc:  # one image's problem, reported for it; the others go on
            if is_disk_full(exc):
                problems.append(_DISK_FULL)
            elif isinstance(exc, OutputError):
                problems.append(exc.problem)
            else:
                problems.append(f"cannot write ({exc})")
    return problems


def _noop() -> None:
    return None


def _encoder_pool(workers: int, jobs: int) -> Executor:
    """Worker processes for encoding where there is enough work, else threads.

    Processes, because small images hold the GIL while Pillow encodes them (measured: see
    :mod:`ganctl.data.pngwriter`). Forked where possible: the workers run only Pillow and NumPy (never
    torch or CUDA), and they are started before this call starts any thread of its own.
    """
    if workers <= 1 or jobs < PROCESS_ENCODE_MIN_IMAGES:
        return ThreadPoolExecutor(max(1, workers), thread_name_prefix="ganctl-encode")
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context)
    pool.submit(_noop).result()
    return pool


class _Pipeline:
    """The state of one :func:`translate_images` call (see the module docstring for the three queues)."""

    def __init__(self, translator: Translator, decoder: Executor, encoder: Executor, *, batch_size: int,
                 workers: int, size: int | None, overwrite: bool, strict: bool, summary: TranslateSummary,
                 advance: Callable[[int], None]):
        self.translator, self.decoder, self.encoder = translator, decoder, encoder
        self.batch_size, self.workers, self.size = batch_size, workers, size
        self.overwrite, self.strict = overwrite, strict
        self.summary, self.advance = summary, advance
        self.window = max(2 * batch_size, 4 * workers)
        self.decodes: deque[tuple[Job, Future]] = deque()
        self.buckets: dict[tuple[int, ...], list[tuple[Job, DecodedImage]]] = {}
        self.encodes: deque[tuple[list[Job], Future]] = deque()
        self.encoding = 0  # images handed to the encoders and not yet finished

    def run(self, jobs: Iterable[Job]) -> None:
        """Translate every job; decodes still in flight are cancelled if anything goes wrong."""
        todo = iter(jobs)
        try:
            self._start_decodes(todo)
            while self.decodes:
                job, future = self.decodes.popleft()
                self._start_decodes(todo)
                decoded = self._decoded(job, future)
                if decoded is not None:
                    self._add(job, decoded)
            for shape in list(self.buckets):
                self._translate_bucket(shape)
            while self.encodes:
                self._finish_oldest_encode()
        finally:
            for _, future in self.decodes:
                future.cancel()

    def _start_decodes(self, todo: Iterator[Job]) -> None:
        """Start decoding the next jobs until ``window`` are in flight (targets that exist are skipped)."""
        while len(self.decodes) < self.window:
            job = next(todo, None)
            if job is None:
                return
            if job.target.exists() and not self.overwrite:
                self.summary.skip(job.name, "exists")
                self.advance(1)
                continue
            self.decodes.append((job, self.decoder.submit(decode_image, job.source, self.translator.in_mode,
                                                          self.size)))

    def _decoded(self, job: Job, future: Future) -> DecodedImage | None:
        """The decoded image, or None when it is unreadable and skipped (raised when ``strict``)."""
        try:
            return future.result()
        except ImageReadError as exc:
            problem = exc.problem
        except MemoryError:
            problem = "too large to decode in the memory there is"
        except Exception as exc:  # whatever else a decoder raises for one odd file
            problem = f"cannot decode ({type(exc).__name__}: {exc})"
        if self.strict:
            raise ImageReadError(job.source, problem)
        console.warn(f"skipped {job.name}: {problem}")
        self.summary.skip(job.name, f"unreadable: {problem}")
        self.advance(1)
        return None

    def _failed(self, job: Job, problem: str) -> None:
        """Count a readable image that could not be translated or written (raised when ``strict``)."""
        if self.strict:
            raise GanctlError(f"{job.name}: {problem}")
        console.warn(f"failed {job.name}: {problem}")
        self.summary.fail(job.name, problem)
        self.advance(1)

    def _add(self, job: Job, decoded: DecodedImage) -> None:
        """Put a decoded image in its size's bucket, and run a bucket when it is full or too much waits."""
        shape = decoded.pixels.shape
        bucket = self.buckets.setdefault(shape, [])
        bucket.append((job, decoded))
        if len(bucket) >= self.batch_size:
            self._translate_bucket(shape)
        elif sum(len(b) for b in self.buckets.values()) > self.window:
            # Many different sizes: run the fullest bucket rather than hold every image in memory.
            self._translate_bucket(max(self.buckets, key=lambda s: len(self.buckets[s])))

    def _translate(self, items: list[tuple[Job, DecodedImage]]) -> tuple[list[tuple[Job, DecodedImage]], list]:
        """The items the model translated and their outputs; a failing batch is retried image by image."""
        try:
            return items, self.translator([decoded.pixels for _, decoded in items])
        except Exception as exc:
            if len(items) == 1:
                self._failed(items[0][0], f"could not be translated ({_why(exc)})")
                return [], []
        done, outs = [], []
        for item in items:
            kept, out = self._translate([item])
            done += kept
            outs += out
        return done, outs

    def _translate_bucket(self, shape: tuple[int, ...]) -> None:
        """Run one bucket through the model and hand the results to the encoders in chunks."""
        items, outs = self._translate(self.buckets.pop(shape))
        step = max(1, min(_MAX_ENCODE_CHUNK, math.ceil(len(items) / self.workers)))
        for i in range(0, len(items), step):
            chunk = items[i:i + step]
            payload = [(pixels, decoded.alpha, str(job.target))
                       for (job, decoded), pixels in zip(chunk, outs[i:i + step])]
            future = self.encoder.submit(_encode_many, payload, self.overwrite)
            self.encodes.append(([job for job, _ in chunk], future))
            self.encoding += len(chunk)
        while self.encoding > self.window:
            self._finish_oldest_encode()

    def _finish_oldest_encode(self) -> None:
        """Wait for the oldest encoder task and count its images (a full disk is raised)."""
        chunk, future = self.encodes.popleft()
        self.encoding -= len(chunk)
        for job, problem in zip(chunk, future.result()):
            if problem == _DISK_FULL:
                raise DiskFullError(job.target)
            if problem is not None:
                self._failed(job, f"could not be written to {job.target} ({problem})")
                continue
            self.summary.translated += 1
            self.summary.outputs.append(job.target)
            self.advance(1)


def _why(exc: Exception) -> str:
    """An exception in a few words: a GanctlError's own message, else its type and message."""
    return str(exc) if isinstance(exc, GanctlError) else f"{type(exc).__name__}: {exc}"


def translate_images(jobs: Iterable[Job], translator: Translator, *, batch_size: int = 16,
                     num_workers: int | None = None, size: int | None = None, overwrite: bool = False,
                     strict: bool = False, summary: TranslateSummary | None = None,
                     advance: Callable[[int], None] | None = None) -> TranslateSummary:
    """Translate images: decode in background threads, batch equal sizes through the model, encode in workers.

    A file that cannot be decoded is reported by name and skipped (counted in ``summary.skipped``), an image
    that cannot be translated or written is reported and counted in ``summary.failed``; with ``strict`` the
    first of either raises (:class:`ImageReadError` or :class:`GanctlError`). An existing target is skipped
    unless ``overwrite``; a full disk raises :class:`DiskFullError`.
    """
    if batch_size < 1:
        raise OptionError("--batch-size", "must be at least 1")
    jobs = list(jobs)
    summary = summary if summary is not None else TranslateSummary()
    workers = max(1, num_workers if num_workers is not None else min(16, os.cpu_count() or 1))
    with _encoder_pool(workers, len(jobs)) as encoder, \
            ThreadPoolExecutor(workers, thread_name_prefix="ganctl-decode") as decoder:
        _Pipeline(translator, decoder, encoder, batch_size=batch_size, workers=workers, size=size,
                  overwrite=overwrite, strict=strict, summary=summary,
                  advance=advance or (lambda n=1: None)).run(jobs)
    return summary
