"""`ganctl translate`: run a trained generator over an image, a folder or a video."""

from __future__ import annotations

from pathlib import Path

import typer

from ganctl import console
from ganctl.cli.helptext import EVAL_MODE_HELP, direction_or_old_spelling
from ganctl.data.formats import is_video_path
from ganctl.errors import IncompleteError, InputError, OptionError
from ganctl.fsutil import check_output_outside_input
from ganctl.precision import PRECISION_HELP, check_precision

_PERF = "Performance"


def _parse_size(value: str) -> int | None:
    if value.strip().lower() == "keep":
        return None
    try:
        size = int(value)
    except ValueError:
        raise OptionError("--size", f"must be 'keep' or a number of pixels, got {value!r}") from None
    if size < 1:
        raise OptionError("--size", f"must be a positive number of pixels, got {size}")
    return size


def translate(
    inputs: list[Path] = typer.Argument(..., help="Images, folders (recursive) or videos.", show_default=False,
                                        metavar="INPUT..."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder.", show_default=False),
    model: Path = typer.Option(..., "--model", "-m", show_default=False,
                               help="A run folder, a .safetensors checkpoint, or an .onnx file from ganctl export "
                                    "(run by ONNX Runtime: CPU, or CUDA where its CUDA provider is installed)."),
    direction: str = typer.Option(None, "--direction", show_default="a2b, or the .onnx file's",
                                  help="a2b runs G_A (A -> B), b2a runs G_B."),
    old_d: str = typer.Option(None, "-d", hidden=True, help="The old spelling of --direction."),
    fmt: str = typer.Option("png", "--format", help="Output image format: png, jpg or same (as the input)."),
    size: str = typer.Option("keep", "--size", help="keep, or resize the shorter side to N pixels first."),
    strict: bool = typer.Option(False, "--strict", help="Stop (exit 2) at the first file skipped as unreadable or "
                                "not an image, or that fails."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace output files that exist already."),
    eval_mode: bool = typer.Option(False, "--eval-mode", help=EVAL_MODE_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print what was translated, skipped and written as JSON on "
                                 "stdout."),
    temporal: bool = typer.Option(None, "--temporal/--frame-by-frame", show_default="--temporal for videos",
                                  help="Videos: blend each output frame with the previous one where the input's "
                                       "motion (optical flow) says they show the same thing, so colours do not "
                                       "flicker; scene cuts start afresh. --frame-by-frame translates each frame "
                                       "on its own. Needs OpenCV (the video extra)."),
    batch_size: int = typer.Option(16, "--batch-size", "-b", min=1, help="Images per forward pass.",
                                   rich_help_panel=_PERF),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps.", rich_help_panel=_PERF),
    precision: str = typer.Option("auto", "--precision", help=PRECISION_HELP, rich_help_panel=_PERF),
    num_workers: int = typer.Option(None, "--num-workers", min=1, show_default="min(16, CPUs)",
                                    help="Threads decoding and encoding images.", rich_help_panel=_PERF),
) -> None:
    """Translate images, folders and videos with a trained model.

    Folders are mirrored under --out (each under its own name when several inputs are given); videos come
    back as videos (same frame rate, audio kept). Images of any size are translated; a file that cannot be
    read is skipped and one that fails is reported, by name, and the rest go on. Exit 0 when every readable
    image was written, 1 when some failed.

    Videos are translated with temporal consistency by default (--temporal): where the input's optical flow
    says a pixel shows what it showed in the last frame, the output keeps most of its last colour, so it does
    not flicker (colourisation: only the chroma; measured in docs/benchmarks.md). Without OpenCV ganctl says
    so once and translates frame by frame.

    An .onnx file from ganctl export (--model runs/cyclegan/exp/cyclegan_a2b.onnx) runs with ONNX Runtime, as
    exported (fp32; eval mode for batch-norm nets).

    Example: [bold]ganctl translate photos/ --out painted/ --model runs/cyclegan/exp[/]
    """
    direction = direction_or_old_spelling(direction, old_d)
    targets = _output_folders(inputs, out)
    precision = check_precision(precision.lower())
    # Imported here so that --help and input errors stay fast (torch, PyAV).
    from ganctl.checkpoint import read_checkpoint_metadata, resolve_checkpoint_path
    from ganctl.translate import translate_path
    from ganctl.translate.onnx_translator import is_onnx_path
    from ganctl.translate.planning import open_model
    from ganctl.translate.summary import merge_summaries

    if not is_onnx_path(model):
        read_checkpoint_metadata(resolve_checkpoint_path(model))
    translator = open_model(model, direction.lower() if direction else None, device, precision, eval_mode)
    summaries = {}
    for input, target in targets.items():
        summaries[input.name] = translate_path(
            input, target, translator, batch_size=batch_size, num_workers=num_workers, fmt=fmt.lower(),
            size=_parse_size(size), overwrite=overwrite, strict=strict, temporal=temporal)
    summary = summaries[inputs[0].name] if len(summaries) == 1 else merge_summaries(summaries)
    one_video = len(inputs) == 1 and inputs[0].is_file() and is_video_path(inputs[0], gif_as_video=True)
    console.info(summary.line("frames" if one_video else "images"))
    if as_json:
        console.emit_json(summary.as_json(out))
    if summary.failed:
        name, problem = next(iter(summary.failed.items()))
        more = f" (and {len(summary.failed) - 1} more, each named above)" if len(summary.failed) > 1 else ""
        raise IncompleteError(f"{len(summary.failed)} readable image{'s' if len(summary.failed) > 1 else ''} not "
                              f"translated: {name}: {problem}{more}")


def _output_folders(inputs: list[Path], out: Path) -> dict[Path, Path]:
    """Where each input's outputs go: --out itself for one input and for files, --out/NAME for each of several
    folders (checked before any work: inputs exist, none inside --out's way, no two folders of one name)."""
    targets: dict[Path, Path] = {}
    for input in inputs:
        if not input.exists():
            raise InputError(input, "no such file or folder")
        check_output_outside_input(out, input)
        target = out / input.name if len(inputs) > 1 and input.is_dir() else out
        if input.is_dir() and target in targets.values() and len(inputs) > 1:
            raise OptionError("INPUT", f"two folders named {input.name!r}; translate them one at a time")
        targets[input] = target
    if len({i.name for i in inputs}) < len(inputs):
        raise OptionError("INPUT", "the same name is given twice; translate them one at a time")
    return targets
