"""One trainer per run folder: ``<run>/train.lock`` names the process (pid and host) training in it.

The lock is a POSIX record lock (``lockf``) on that file, which the kernel drops when the process ends,
however it ends (kill -9, out of memory), and which forked children (data loader workers) do not inherit, so
they cannot keep it after their parent is gone: a lock file whose lock nobody holds is stale and is taken
over with a warning. Where the file system has no locks, a lock of a process that is gone from this host is
stale; one from another host is refused with a line that says how to clear it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ganctl import console
from ganctl.errors import InputError

LOCK_NAME = "train.lock"


def _holder_text(holder: dict[str, Any]) -> str:
    since = f" since {holder['started']}" if holder.get("started") else ""
    return f"process {holder.get('pid', '?')} on {holder.get('host', '?')}{since}"


def _read_holder(fd: int) -> dict[str, Any]:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        holder = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _process_gone(holder: dict[str, Any]) -> bool:
    """True when the holder ran on this host and its process no longer exists."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def _try_lock(fd: int) -> bool | None:
    """True when this process now holds the lock, False when another does, None without locks."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False
        return None  # a file system without locks
    return True


@contextlib.contextmanager
def run_lock(run_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold ``run_dir``'s lock while the block runs; InputError naming the holder when another trainer has it."""
    run_dir = Path(run_dir)
    path = run_dir / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        locked = _try_lock(fd)
        holder = _read_holder(fd)
        if locked is False or (locked is None and holder.get("pid") not in (None, os.getpid())
                               and not _process_gone(holder)):
            os.close(fd)
            raise InputError(run_dir, f"is in use by {_holder_text(holder)} (one trainer per run folder; if that "
                                      f"process is gone, delete {path})")
        # The file may have been removed and made anew by its holder between open() and lockf(): lock that one.
        with contextlib.suppress(FileNotFoundError):
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        os.close(fd)
    if holder.get("pid") not in (None, os.getpid()):
        console.warn(f"{run_dir}: taking over the lock of {_holder_text(holder)}, which has ended")
    mine = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(mine).encode("utf-8"))
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)
