"""Where ganctl talks to people: rich progress bars and messages on stderr, results on stdout.

Library code reports progress through :func:`progress` and :func:`info`; the CLI's ``--quiet``
(:func:`set_quiet`) silences both. Results meant for machines (``--json``) go to stdout via
:func:`emit_json`, so they can be piped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column
from rich.text import Text

T = TypeVar("T")

stderr = Console(stderr=True, highlight=False)
_quiet = False
_debug = False


def set_quiet(value: bool) -> None:
    """Silence progress bars and info messages (errors are still shown)."""
    global _quiet
    _quiet = bool(value)


def set_debug(value: bool) -> None:
    """Show tracebacks for unexpected errors."""
    global _debug
    _debug = bool(value)


def is_quiet() -> bool:
    """True under ``--quiet``."""
    return _quiet


def is_debug() -> bool:
    """True under ``--debug``."""
    return _debug


def info(message: str) -> None:
    """A progress/status message on stderr (rich markup allowed); hidden under --quiet."""
    if not _quiet:
        stderr.print(message)


def warn(message: str) -> None:
    """A warning on stderr, shown even under --quiet."""
    stderr.print(f"[yellow]warning:[/] {message}")


def error(message: str) -> None:
    """One red error line on stderr."""
    stderr.print(Text("error: ", style="bold red") + Text(message, style="red"), soft_wrap=True)


def counted(n: int, noun: str) -> str:
    """``1 step``, ``2 steps``: a count and its noun (``pair``, ``image``, ...) in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def duration(seconds: float) -> str:
    """A wall time in the unit a person reads it in: ``45 s``, ``12 min``, ``3.5 h``, ``8.1 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def emit_json(obj: Any) -> None:
    """Print one JSON object on stdout (for --json)."""
    sys.stdout.write(json.dumps(obj, default=float) + "\n")
    sys.stdout.flush()


class RateColumn(ProgressColumn):
    """Items per second, e.g. ``123.4 it/s``."""

    def __init__(self, unit: str = "it"):
        super().__init__(table_column=Column(no_wrap=True, min_width=len(f"999.9 {unit}/s")))
        self.unit = unit

    def render(self, task: Task) -> Text:
        # Done: the whole task's rate (rich's recent-window speed is wild when a batch's items finish together).
        speed = task.completed / task.elapsed if task.finished and task.elapsed else task.speed
        if speed is None:
            return Text(f"-- {self.unit}/s", style="progress.data.speed")
        return Text(f"{speed:,.1f} {self.unit}/s", style="progress.data.speed")


def _kept(width: int) -> Column:
    """A table column that is never squeezed below ``width`` characters (the count, rate and times)."""
    return Column(no_wrap=True, min_width=width)


def _squeezed(column: ProgressColumn) -> ProgressColumn:
    """An extra text column (training losses) cut with an ellipsis to what the terminal leaves, so the count and
    the ETA stay readable and the line never wraps in an 80-column terminal or a log."""
    if not isinstance(column, TextColumn):
        return column
    room = Column(no_wrap=True, overflow="ellipsis", max_width=max(8, stderr.width - 75))
    return TextColumn(column.text_format, style=column.style, justify=column.justify, markup=column.markup,
                      highlighter=column.highlighter, table_column=room)


def new_progress(unit: str = "it", extra: Iterable[ProgressColumn] = (), speed_period: float = 30.0) -> Progress:
    """A rich Progress on stderr with bar, count, rate, elapsed and ETA; disabled under --quiet. The bar and the
    ``extra`` text columns give way in a narrow terminal; the count, rate and times keep their width. The rate
    and ETA come from the last ``speed_period`` seconds (they need two updates in that time)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=5)),
        MofNCompleteColumn(table_column=_kept(9)),
        RateColumn(unit),
        TimeElapsedColumn(table_column=_kept(7)),
        TextColumn("eta"),
        TimeRemainingColumn(table_column=_kept(7)),
        *(_squeezed(column) for column in extra),
        console=stderr,
        disable=_quiet,
        transient=False,
        speed_estimate_period=speed_period,
    )


@contextmanager
def progress(description: str, total: int | None, unit: str = "it") -> Iterator[Any]:
    """Context manager yielding ``advance(n=1, total=None)`` for one progress bar (``total``: correct an
    estimated total, so the bar never reads 20/19)."""
    with new_progress(unit) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1, total: int | None = None) -> None:
            if total is not None:
                bar.update(task, total=total)
            bar.advance(task, n)

        yield advance


def track(iterable: Iterable[T], description: str, total: int | None = None, unit: str = "it") -> Iterator[T]:
    """Iterate with a progress bar (hidden under --quiet)."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with progress(description, total, unit) as advance:
        for item in iterable:
            yield item
            advance()
