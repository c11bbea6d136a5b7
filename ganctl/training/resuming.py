"""Resuming a run: its folder, checkpoint and saved options, with only safe options allowed to change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganctl.checkpoint import resolve_checkpoint_path
from ganctl.errors import InputError, OptionError
from ganctl.runs import read_config


def resume_options(resume: str | Path, kind: str, given: dict[str, Any],
                   overridable: set[str]) -> tuple[Path, Path, dict[str, Any]]:
    """(run folder, checkpoint, option values) for ``--resume RUN|FILE`` of a ``kind`` run.

    The values are the run's saved ``options`` with the non-None ``given`` values applied; a given
    value that differs from the saved one is an OptionError unless its name is in ``overridable``.
    """
    ckpt = resolve_checkpoint_path(resume)
    run_dir = Path(resume) if Path(resume).is_dir() else ckpt.parent.parent
    saved = read_config(run_dir)
    if saved.get("kind") != kind:
        raise InputError(run_dir, f"is a {saved.get('kind', 'unknown')!r} run, not a {kind} run")
    values = dict(saved.get("options") or {})
    for key, value in given.items():
        if value is None or value == values.get(key):
            continue
        if key not in overridable:
            raise OptionError(f"--{key.replace('_', '-')}", "cannot change when resuming a run "
                              f"(it was {values.get(key)!r}); start a new run instead")
        values[key] = value
    return run_dir, ckpt, values
