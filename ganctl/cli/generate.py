"""`ganctl generate`: samples from a trained unconditional GAN, as a grid or as single files."""

from __future__ import annotations

from pathlib import Path

import typer

from ganctl import console


def generate(
    model: Path = typer.Argument(..., help="A gan run folder or its .safetensors checkpoint.", show_default=False),
    out: Path = typer.Option(..., "--out", "-o", show_default=False,
                             help="A .png/.jpg file (one grid) or a folder (one file per sample)."),
    n: int = typer.Option(64, "--n", "-n", min=1, help="How many samples."),
    seed: int = typer.Option(0, "--seed", help="Noise seed: the same seed gives the same samples."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace files that exist already."),
    batch_size: int = typer.Option(256, "--batch-size", "-b", min=1, help="Samples per forward pass."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON on stdout."),
) -> None:
    """Write samples of a GAN trained with [bold]ganctl train gan[/].

    Example: [bold]ganctl generate runs/gan/exp --n 64 --out digits.png[/]
    """
    from ganctl.generate import generate_samples

    result = generate_samples(model, out, n, seed=seed, device=device, batch_size=batch_size, overwrite=overwrite)
    if as_json:
        console.emit_json({"checkpoint": str(result.checkpoint), "count": result.count, "grid": result.grid,
                           "paths": [str(p) for p in result.paths]})
    elif result.grid:
        console.info(f"wrote a grid of {result.count} samples to {result.paths[0]}")
    else:
        console.info(f"wrote {result.count} samples to {out}")
