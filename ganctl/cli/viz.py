"""`ganctl viz`: look at results: latent space, results grid over training, HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ganctl import console

app = typer.Typer(
    help="Look at results: latent space, results grid over training, HTML report.",
    no_args_is_help=True,
)


@app.command("latent")
def latent(
    run: Optional[Path] = typer.Argument(None, metavar="RUN", show_default=False,
                                         help="A run folder or .safetensors checkpoint of a model that translates "
                                              "(cyclegan, cut, pix2pix, colorize)."),
    model: Optional[Path] = typer.Option(None, "--model", hidden=True, help="RUN as an option (older spelling)."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Dataset folder (default: the one the run used)."),
    method: str = typer.Option("pca", "--method", help="pca (torch) or tsne (needs scikit-learn)."),
    n: int = typer.Option(2000, "--n", help="Images to encode, half from each domain."),
    split: str = typer.Option("test", "--split", help="test or train: which folders (testA/testB) to read."),
    out: Optional[Path] = typer.Option(None, "--out",
                                       help="Figure file (.png/.svg/.pdf); default RUN/latent_<method>.png."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N or mps."),
    seed: int = typer.Option(0, "--seed", help="Seed for the image subset and t-SNE."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out if it exists already."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON on stdout."),
) -> None:
    """Plot the generators' bottleneck features of both domains in 2-D, coloured by domain, drawn as digits.

    Example: [bold]ganctl viz latent runs/cyclegan/exp --method tsne --n 1000 --out latent.png[/]
    """
    from ganctl.errors import OptionError
    from ganctl.viz.latent import plot_latent

    if run is not None and model is not None and run != model:
        raise OptionError("--model", f"names {model}, but RUN is {run}; give the run once")
    model = run or model
    if model is None:
        raise OptionError("RUN", "give the run folder or checkpoint to plot")

    path = plot_latent(model, out=out, data=data, method=method.lower(), n=n, split=split, device=device, seed=seed,
                       overwrite=overwrite)
    _written(path, as_json)


@app.command("grid")
def grid(
    run: Path = typer.Argument(..., help="Run folder."),
    epochs: Optional[str] = typer.Option(None, "--epochs", help="Comma-separated epochs, e.g. 1,8,16 (counted from "
                                         "1, as samples/epoch_0001.png; -1 = last); default: up to 4 spread over "
                                         "the run."),
    n: int = typer.Option(8, "--n", help="Test images per direction (rows)."),
    split: str = typer.Option("test", "--split", help="test or train."),
    data: Optional[str] = typer.Option(None, "--data", "-d", help="Dataset folder (default: the one the run used)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Figure file (.png/.svg/.pdf); default RUN/grid.png."),
    device: str = typer.Option("cpu", "--device", help="auto, cpu, cuda, cuda:N or mps."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fixed noise (gan runs)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out if it exists already."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON on stdout."),
) -> None:
    """Draw real test images and their translations by the checkpoints of chosen epochs, side by side.

    Example: [bold]ganctl viz grid runs/cyclegan/exp --epochs 1,8,-1 --out results.png[/]
    """
    from ganctl.viz.grid import build_grid

    path = build_grid(run, out=out, epochs=epochs, n=n, split=split, data=data, device=device, seed=seed,
                      overwrite=overwrite)
    _written(path, as_json)


@app.command("report")
def report(
    run: Path = typer.Argument(..., help="Run folder."),
    as_json: bool = typer.Option(False, "--json", help="Print what was written as JSON on stdout."),
) -> None:
    """Write RUN/report.html: config, loss curves, sample grids per epoch and metrics, viewable offline.

    Example: [bold]ganctl viz report runs/cyclegan/exp[/]
    """
    from ganctl.viz.report import write_report

    path = write_report(run)
    _written(path, as_json)


def _written(path: Path, as_json: bool) -> None:
    """The file a viz command wrote, on stdout: its path, or ``{"path": ...}`` under --json."""
    if as_json:
        console.emit_json({"path": str(path)})
    else:
        typer.echo(f"wrote {path}")
