"""Small filesystem helpers: atomic writes, file modes, a full disk, and input/output safety checks."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ganctl.errors import DiskFullError, OutputError

# What a write on a full disk (or over quota) raises: OSError with one of these, or, from writers in other
# languages (safetensors is Rust), an error whose message is the C library's text for it.
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
_DISK_FULL_TEXT = tuple(os.strerror(code) for code in _DISK_FULL)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path`` atomically.

    The temporary name keeps ``path``'s suffix, so writers that pick a format from the extension
    (PIL, safetensors) behave the same. The file gets the mode a plain ``open()`` would give (0666 less the
    umask), whatever the writer left. On error the temporary file is removed and ``path`` untouched; a full
    disk is :class:`~ganctl.errors.DiskFullError` naming ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes 0600, and some writers (safetensors) replace the file with their own 0600 one.
        os.chmod(tmp_path, umask_mode(0o666))
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        if is_disk_full(exc):
            raise DiskFullError(path) from None
        raise


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` says the disk is full or the quota used up (ENOSPC, EDQUOT)."""
    if isinstance(exc, DiskFullError):
        return True
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno in _DISK_FULL
    return any(text in str(exc) for text in _DISK_FULL_TEXT)


def umask_mode(mode: int) -> int:
    """``mode`` less the process umask: what ``open()`` (0o666) or ``mkdir()`` (0o777) would give."""
    return mode & ~_umask()


def _umask() -> int:
    # Linux says it without changing it; os.umask(0) would briefly give files made by other threads mode 0666.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file + rename)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def is_same_or_inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """True when ``path`` is ``folder`` or lies somewhere below it (symlinks resolved)."""
    p = Path(path).resolve()
    f = Path(folder).resolve()
    return p == f or f in p.parents


def check_output_outside_input(out: str | os.PathLike, inp: str | os.PathLike) -> None:
    """Refuse an output folder equal to or inside the input folder, so inputs are never overwritten."""
    inp_path = Path(inp)
    if inp_path.is_dir() and is_same_or_inside(out, inp_path):
        raise OutputError(out, f"output folder is inside the input folder {inp}; choose another --out")
    if inp_path.is_file() and Path(out).resolve() == inp_path.resolve():
        raise OutputError(out, "output would overwrite the input file")


def check_output_parent(out: str | os.PathLike) -> None:
    """Refuse an output path below a file (``digits.png/sub``), before any work is done: the nearest
    existing folder above ``out`` must be a folder, or nothing could be written there."""
    for parent in Path(out).absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise OutputError(out, f"cannot be written: {parent} is a file, not a folder")
            return
