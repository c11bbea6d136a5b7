"""`ganctl export`: a trained generator as an ONNX file that runs anywhere (pixels in, pixels out)."""

from __future__ import annotations

from pathlib import Path

import typer

from ganctl import console
from ganctl.cli.helptext import direction_or_old_spelling, paragraphs
from ganctl.errors import OptionError
from ganctl.export import (
    CALIBRATION_IMAGES,
    DEFAULT_OPSET,
    FORMATS,
    INT8_WARN_PSNR,
    MIN_OPSET,
    QUANTIZATIONS,
    TOLERANCE,
    parse_size,
)


def export(
    model: Path = typer.Argument(..., help="A run folder or a .safetensors checkpoint.", show_default=False),
    fmt: str = typer.Option("onnx", "--format", help="Export format: onnx."),
    direction: str = typer.Option(None, "--direction", show_default="a2b",
                                  help="a2b exports G_A (A -> B), b2a G_B (two-way models: cyclegan)."),
    old_d: str = typer.Option(None, "-d", hidden=True, help="The old spelling of --direction."),
    out: Path = typer.Option(None, "--out", "-o", show_default="RUN/<kind>_<direction>.onnx",
                             help="The .onnx file to write."),
    opset: int = typer.Option(DEFAULT_OPSET, "--opset", help=f"ONNX opset version ({MIN_OPSET} or more)."),
    size: str = typer.Option("any", "--size",
                             help="any (dynamic height and width), or HxW to fix the image size for runtimes "
                                  "that want static shapes (the batch stays dynamic)."),
    quantize: str = typer.Option("none", "--quantize",
                                 help="none, or int8: the inner convolutions in int8 (1.6-2.4x the fp32 file's "
                                      "speed on a CPU, outputs about a level of 255 apart; the check prints the "
                                      "PSNR)."),
    calibrate: Path = typer.Option(None, "--calibrate", show_default="the run's training images",
                                   help="--quantize int8: a folder of images like those the model will "
                                        "translate, to measure the value ranges on."),
    calibration_images: int = typer.Option(CALIBRATION_IMAGES, "--calibration-images", min=1,
                                           help="--quantize int8: how many images of the folder to use."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the file if it exists."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON on stdout."),
) -> None:
    """Export a trained generator to ONNX: pixels in, pixels out, any image size.

    The graph takes [bold]image[/], float32 N x C x H x W in [0, 1] (C = 1 for gray-input models), pads it to
    the generator's multiple and crops back, and returns pixels in [0, 1]; a colorize model's graph takes the
    gray image and returns RGB (the Lab conversion is inside). A gan model's generator takes [bold]noise[/]
    (N x latent). Generators with batch norm or dropout (pix2pix, colorize) are exported in eval mode (running
    statistics, no dropout: what translate --eval-mode gives). The file's metadata holds the ganctl version,
    the model kind and config, the direction, the channels and the value range.

    Before writing, ONNX Runtime runs the file on an odd-sized input and compares it with PyTorch in fp32: a
    difference above {tolerance} is an error. Run it with [bold]ganctl translate INPUT --model FILE.onnx[/].

    [bold]--quantize int8[/] then stores the inner convolutions in int8 (ONNX Runtime's static quantization;
    the first and last convolution, transposed convolutions, the normalisation and the colour conversions stay
    fp32), with value ranges measured on --calibrate images (default: the run's training images of the input
    domain). The int8 file is compared with PyTorch on images held out of the calibration; below {warn_psnr} dB
    PSNR it warns.

    Example: [bold]ganctl export runs/cyclegan/exp --direction b2a --out zebra2horse.onnx[/]
    """
    if quantize.lower() not in QUANTIZATIONS:
        raise OptionError("--quantize", f"must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")
    if fmt.lower() not in FORMATS:
        raise OptionError("--format", f"unknown format {fmt!r}; ganctl exports: {', '.join(FORMATS)}")
    direction = direction_or_old_spelling(direction, old_d)
    if direction is not None and direction.lower() not in ("a2b", "b2a"):
        raise OptionError("--direction", f"must be a2b or b2a, got {direction!r}")
    fixed = parse_size(size)
    from ganctl.export.onnx_export import export_onnx  # torch: imported only when exporting

    result = export_onnx(model, out, direction=direction.lower() if direction else None, opset=opset, size=fixed,
                         overwrite=overwrite, quantize=quantize.lower(), calibrate=calibrate,
                         calibration_images=calibration_images)
    check = (f"ONNX Runtime vs PyTorch on {' x '.join(map(str, result.check_shape))}: max difference "
             f"{result.max_difference:.1e}, mean {result.mean_difference:.1e}")
    if as_json:
        console.emit_json({"path": str(result.path), "checkpoint": str(result.checkpoint), "kind": result.kind,
                           "direction": result.direction, "input": result.input_name,
                           "input_shape": result.input_shape, "output_shape": result.output_shape,
                           "opset": result.opset, "test_mode": result.test_mode, "check_shape": result.check_shape,
                           "max_difference": result.max_difference, "mean_difference": result.mean_difference,
                           "quantization": "int8" if result.int8 else "none",
                           "int8": vars(result.int8) if result.int8 else None})
    what = f"{result.kind} {result.direction}" if result.direction else f"{result.kind} generator"
    mode = (f", {result.test_mode} mode" if result.test_mode else "") + (", int8" if result.int8 else "")
    console.info(f"exported {what} to {result.path} (opset {result.opset}{mode}; {result.input_name} "
                 f"{' x '.join(result.input_shape)} -> {' x '.join(result.output_shape)})")
    console.info(check)
    if result.int8:
        q = result.int8
        console.info(f"int8 (calibrated on {q.calibration_images} images of {q.calibration}) vs PyTorch fp32 on "
                     f"{q.check_images} {'held-out ' if q.check_images != q.calibration_images else ''}inputs: "
                     f"PSNR {q.psnr:.1f} dB, max difference {q.max_difference:.1e}, mean {q.mean_difference:.1e}")


export.__doc__ = (paragraphs(export.__doc__).replace("{tolerance}", f"{TOLERANCE:g}")
                  .replace("{warn_psnr}", f"{INT8_WARN_PSNR:g}"))
