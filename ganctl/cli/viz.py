"""`ganctl viz`: Look at results: latent space, sample grids, HTML report."""

from __future__ import annotations

import typer

from ganctl.cli.placeholder import not_available_yet

app = typer.Typer(
    help="Look at results: latent space, sample grids, HTML report.",
    no_args_is_help=False,
    invoke_without_command=True,
)


@app.callback()
def _group(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        not_available_yet("ganctl viz")
