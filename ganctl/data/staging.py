"""Build a dataset folder beside its destination, then move it into place in one rename.

A half-written dataset is never visible under its final name: preparers and downloads write into a hidden
staging folder in the same parent (so the final ``os.rename`` is atomic on one filesystem) and rename it
onto the destination only when everything succeeded. On error or Ctrl-C the staging folder is removed (a
full disk is one :class:`~ganctl.errors.DiskFullError` naming the destination).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ganctl.data.dataset_meta import META_NAME
from ganctl.errors import DiskFullError, OutputError
from ganctl.fsutil import check_output_parent, is_disk_full, umask_mode


def check_destination(out: str | os.PathLike, overwrite: bool = False) -> None:
    """Refuse a destination that holds data, unless ``overwrite`` and it is a ganctl dataset (has dataset.json).

    Only folders ganctl made can be replaced, so ``--overwrite`` can never delete a user's own files.
    """
    out = Path(out)
    check_output_parent(out)
    if out.exists() and not out.is_dir():
        raise OutputError(out, "exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise OutputError(out, "exists already and is not empty; choose another --out or use --overwrite")
        if not (out / META_NAME).is_file():
            raise OutputError(out, f"is not a ganctl dataset (no {META_NAME}); refusing to replace it")


@contextlib.contextmanager
def staging_dir(out: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty hidden folder beside ``out``; on success it replaces ``out`` (see :func:`check_destination`)."""
    out = Path(out)
    check_destination(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        os.chmod(stage, umask_mode(0o777))  # mkdtemp makes 0700; the dataset gets what mkdir would give
        yield stage
        if out.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, old / out.name)
            os.rename(stage, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(stage, out)
    except BaseException as exc:
        shutil.rmtree(stage, ignore_errors=True)
        if is_disk_full(exc):
            raise DiskFullError(out) from None
        raise
