"""Typed errors for things a user can fix.

Every ``GanctlError`` is shown by the CLI as one red line and exit code 2, never a traceback.
Anything else that escapes is a bug: one line, "run with --debug for details", exit code 1.
"""

from __future__ import annotations

import os


class GanctlError(Exception):
    """A user-facing error: bad input, bad option, missing file. The message is shown as is."""

    exit_code = 2


class InputError(GanctlError):
    """An input path is missing, unreadable or not what it should be."""

    def __init__(self, path: str | os.PathLike, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ImageReadError(InputError):
    """A file could not be decoded as an image (corrupt, truncated or not an image)."""


class CheckpointError(InputError):
    """A file is not a ganctl safetensors checkpoint, or lacks what the caller needs."""


class OutputError(InputError):
    """An output path is unsafe: it would overwrite an input or an existing file."""


class DiskFullError(OutputError):
    """A write failed because the disk is full (or the quota used up); nothing partial is left behind."""

    def __init__(self, path: str | os.PathLike):
        super().__init__(path, "no space left on device; nothing was written there (free some space and run "
                               "again)")


class OptionError(GanctlError):
    """A command-line option has a value that cannot be used."""

    def __init__(self, option: str, problem: str):
        self.option = option
        self.problem = problem
        super().__init__(f"{option}: {problem}")


class IncompleteError(GanctlError):
    """Some items of a batch job could not be done (each was reported by name); the rest were. Exit code 1."""

    exit_code = 1


class TrainingStopped(GanctlError):
    """Training stopped on purpose (NaN/Inf loss); the last good checkpoint is kept."""

    exit_code = 1
