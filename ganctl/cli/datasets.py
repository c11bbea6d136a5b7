"""`ganctl datasets`: the table of named datasets."""

from __future__ import annotations

from ganctl.cli.placeholder import not_available_yet


def datasets() -> None:
    """List the named datasets: name, kind, size, source, whether it is local."""
    not_available_yet("ganctl datasets")
