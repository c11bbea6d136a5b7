"""`ganctl prepare`: Make datasets: colour MNIST, rotated MNIST, grayscale pairs, video frames, downloads."""

from __future__ import annotations

import typer

from ganctl.cli.placeholder import not_available_yet

app = typer.Typer(
    help="Make datasets: colour MNIST, rotated MNIST, grayscale pairs, video frames, downloads.",
    no_args_is_help=False,
    invoke_without_command=True,
)


@app.callback()
def _group(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        not_available_yet("ganctl prepare")
