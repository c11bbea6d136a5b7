"""`ganctl translate`: run a trained generator over an image, a folder or a video."""

from __future__ import annotations

from pathlib import Path

import typer

from ganctl.checkpoint import read_checkpoint_metadata, resolve_checkpoint_path
from ganctl.cli.placeholder import not_available_yet
from ganctl.errors import InputError
from ganctl.fsutil import check_output_outside_input


def translate(
    input: Path = typer.Argument(..., help="An image, a folder (recursive) or a video.", show_default=False),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder.", show_default=False),
    model: Path = typer.Option(..., "--model", "-m", help="A run folder or a .safetensors checkpoint.",
                               show_default=False),
) -> None:
    """Translate images, folders and videos with a trained model.

    Example: [bold]ganctl translate photos/ --out painted/ --model runs/cyclegan/exp[/]
    """
    if not input.exists():
        raise InputError(input, "no such file or folder")
    check_output_outside_input(out, input)
    read_checkpoint_metadata(resolve_checkpoint_path(model))
    not_available_yet("ganctl translate")
