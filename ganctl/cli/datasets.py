"""`ganctl datasets`: the table of named datasets."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from ganctl import console


def datasets(
    json_out: bool = typer.Option(False, "--json", help="Print the list as JSON on stdout."),
) -> None:
    """List the named datasets: name, kind, size, source, whether it is local.

    A named dataset can be used as [bold]--data NAME[/]; a missing one is prepared or downloaded on first use.

    Example: [bold]ganctl datasets[/]
    """
    from ganctl.data.dataset_status import dataset_rows

    rows = dataset_rows()
    if json_out:
        console.emit_json({"datasets": rows})
        return
    table = Table(title="named datasets (--data NAME)", title_justify="left")
    for column in ("name", "kind", "size", "source", "local"):
        table.add_column(column, overflow="fold")
    for row in rows:
        local = f"[green]yes[/] {row['path']}" if row["local"] else "[dim]no[/]"
        table.add_row(row["name"], row["kind"], row["size"], row["source"], local)
    Console(highlight=False).print(table)
