"""From what the user gave to what gets written: :func:`translate_path` and the output plan of a folder.

A file is an image job or, with a video extension (a ``.gif`` given on its own included), a video; a
folder becomes one job per image file below it, its tree mirrored under ``out``, other files skipped and
counted (:func:`plan_folder`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from ganctl import console
from ganctl.data.formats import is_image_path, is_video_path
from ganctl.errors import ImageReadError, InputError, OptionError, OutputError
from ganctl.flow import INSTALL_HINT, opencv, opencv_available
from ganctl.fsutil import check_output_outside_input
from ganctl.translate.onnx_translator import OnnxTranslator, is_onnx_path, load_onnx_translator
from ganctl.translate.pipeline import Job, translate_images
from ganctl.translate.summary import TranslateSummary
from ganctl.translate.translator import Translator, load_translator
from ganctl.translate.video import translate_video, video_output_suffix

OUTPUT_FORMATS = ("png", "jpg", "same")


def _output_suffix(source: Path, fmt: str) -> str:
    if fmt not in OUTPUT_FORMATS:
        raise OptionError("--format", f"must be one of {', '.join(OUTPUT_FORMATS)}, got {fmt!r}")
    if fmt == "same":
        return source.suffix.lower()
    return "." + fmt


def _visible_files(folder: Path) -> list[Path]:
    """Every non-hidden file below ``folder``, sorted (hidden files and folders skipped)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith("."):
                found.append(Path(root) / name)
    return sorted(found)


def plan_folder(folder: Path, out: Path, fmt: str = "png",
                summary: TranslateSummary | None = None, strict: bool = False) -> list[Job]:
    """Jobs mirroring ``folder``'s tree and file stems under ``out``; other files are skipped (counted)."""
    summary = summary if summary is not None else TranslateSummary()
    jobs: list[Job] = []
    claimed: dict[Path, str] = {}
    for path in _visible_files(folder):
        rel = path.relative_to(folder)
        name = rel.as_posix()
        if not is_image_path(path):
            reason = "video file (translate it on its own)" if is_video_path(path) else "not an image file"
            if strict:
                raise ImageReadError(path, reason)
            console.warn(f"skipped {name}: {reason}")
            summary.skip(name, reason)
            continue
        target = out / rel.parent / (path.stem + _output_suffix(path, fmt))
        if target in claimed:
            reason = f"name clash: {claimed[target]} writes {target.name} already"
            console.warn(f"skipped {name}: {reason}")
            summary.skip(name, reason)
            continue
        claimed[target] = name
        jobs.append(Job(path, target, name))
    return jobs


def open_model(model: str | os.PathLike, direction: str | None, device: str, precision: str,
               eval_mode: bool = False) -> Translator | OnnxTranslator:
    """The translator for ``--model``: ONNX Runtime for an ``.onnx`` file, else the checkpoint's generator."""
    if is_onnx_path(model):
        return load_onnx_translator(model, direction, device, precision)
    return load_translator(model, direction or "a2b", device, precision, eval_mode=eval_mode)


def _use_temporal(temporal: bool | None) -> bool:
    """Whether a video is translated temporally: as asked, or by default where OpenCV is there (said once if not)."""
    if temporal is not None:
        if temporal:
            opencv()  # a one-line error with the install command when it is missing
        return temporal
    if opencv_available():
        return True
    console.warn(f"translating frame by frame: temporal consistency needs OpenCV ({INSTALL_HINT})")
    return False


def translate_path(input: str | os.PathLike, out: str | os.PathLike,
                   model: str | os.PathLike | Translator | OnnxTranslator, *, direction: str | None = None,
                   device: str = "auto", precision: str = "auto", batch_size: int = 16,
                   num_workers: int | None = None, fmt: str = "png", size: int | None = None,
                   overwrite: bool = False, strict: bool = False, eval_mode: bool = False,
                   temporal: bool | None = None) -> TranslateSummary:
    """Translate an image, a folder (tree mirrored under ``out``) or a video into ``out``.

    ``model`` is a run folder, a ``.safetensors`` checkpoint, an ``.onnx`` graph (run by ONNX Runtime, as
    exported: ``eval_mode`` does not apply) or a ready translator; ``direction``: a2b or b2a (default: a2b, or
    the ONNX file's); ``eval_mode``: batch norm with running statistics and no dropout (see
    :mod:`ganctl.translate.test_mode`); ``temporal``: for a video, blend each output frame with the previous
    one along the input's motion (:mod:`ganctl.translate.temporal`): True, False (frame by frame) or None
    (the default: temporal when OpenCV is installed, else frame by frame with a note how to install it).
    """
    src, out = Path(input), Path(out)
    if not src.exists():
        raise InputError(src, "no such file or folder")
    check_output_outside_input(out, src)
    if out.exists() and not out.is_dir():
        raise OutputError(out, "is a file; --out must be a folder")
    if size is not None and size < 1:
        raise OptionError("--size", "must be a positive number of pixels (or keep)")
    is_video = src.is_file() and is_video_path(src, gif_as_video=True)
    temporal = _use_temporal(temporal) if is_video else False
    translator = model if isinstance(model, (Translator, OnnxTranslator)) else open_model(
        model, direction, device, precision, eval_mode)
    summary = TranslateSummary(device=str(translator.device), precision=translator.precision_name,
                               test_mode=translator.test_mode)
    start = time.perf_counter()
    if is_video:
        target = out / (src.stem + video_output_suffix(src.suffix))
        translate_video(src, target, translator, batch_size=batch_size, size=size, overwrite=overwrite,
                        temporal=temporal, summary=summary)
    else:
        if src.is_dir():
            jobs = plan_folder(src, out, fmt, summary, strict)
        else:
            if not is_image_path(src) and strict:
                raise ImageReadError(src, "not an image file")
            jobs = [Job(src, out / (src.stem + _output_suffix(src, fmt)), src.name)]
        if src.is_dir() and not jobs:
            n = len(summary.skipped)
            others = f" ({n} other file{'s' if n > 1 else ''} skipped)" if n else ""
            raise InputError(src, f"has no images to translate{others}")
        for job in jobs:
            if job.target.resolve() == job.source.resolve():
                raise OutputError(job.target, "would overwrite its input; choose another --out or --format")
        if not overwrite:  # counted before the progress starts, so that its rate is the translation's
            for job in [j for j in jobs if j.target.exists()]:
                summary.skip(job.name, "exists")
            jobs = [j for j in jobs if j.name not in summary.skipped]
        if jobs:
            with console.progress("translating", len(jobs), unit="img") as advance:
                translate_images(jobs, translator, batch_size=batch_size, num_workers=num_workers, size=size,
                                 overwrite=overwrite, strict=strict or not src.is_dir(), summary=summary,
                                 advance=advance)
    summary.seconds = time.perf_counter() - start
    return summary
