"""Run folders: ``runs/<kind>/<name>/`` with ``config.json`` and ``metrics.jsonl``."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from ganctl.errors import InputError
from ganctl.fsutil import atomic_write_json, check_output_parent

DEFAULT_ROOT = Path("runs")
_AUTO_NAME = re.compile(r"^exp(\d*)$")


def check_run_path(run: str | os.PathLike) -> None:
    """Refuse a ``--run`` folder that cannot be made (a file, or a path below a file) before any work."""
    path = Path(run)
    check_output_parent(path)
    if path.exists() and not path.is_dir():
        raise InputError(path, "exists and is not a folder")


def create_run_dir(kind: str, run: str | os.PathLike | None = None, root: str | os.PathLike = DEFAULT_ROOT) -> Path:
    """Create and return the run folder.

    With ``run`` given it is used as the folder (created if needed); the records of a run there that stopped
    before its first checkpoint (``metrics.jsonl``, ``samples/``) are removed, as the run starts again. Without
    it the next free ``<root>/<kind>/exp``, ``exp2``, ``exp3``, ... is taken, race-free (mkdir without exist_ok).
    """
    if run is not None:
        path = Path(run)
        check_run_path(path)
        path.mkdir(parents=True, exist_ok=True)
        if (path / "config.json").is_file() and not (path / "checkpoints" / "latest.safetensors").exists():
            (path / "metrics.jsonl").unlink(missing_ok=True)
            shutil.rmtree(path / "samples", ignore_errors=True)
        return path
    base = Path(root) / kind
    base.mkdir(parents=True, exist_ok=True)
    taken = [int(m.group(1) or 1) for p in base.iterdir() if (m := _AUTO_NAME.match(p.name))]
    n = max(taken, default=0) + 1
    while True:
        path = base / ("exp" if n == 1 else f"exp{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            n += 1


def write_config(run_dir: str | os.PathLike, config: dict[str, Any]) -> Path:
    """Write the resolved config of a run to ``config.json`` (atomically)."""
    path = Path(run_dir) / "config.json"
    atomic_write_json(path, config)
    return path


def read_config(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Read a run's ``config.json``."""
    path = Path(run_dir) / "config.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(path, "no such file (not a ganctl run folder?)") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"is not valid JSON ({exc})") from None


class MetricsLog:
    """Append-only ``metrics.jsonl``: one JSON object per line, each with ``step`` and ``epoch``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, step: int, epoch: int, **values: Any) -> dict[str, Any]:
        """Append one record and flush it to disk; returns the record."""
        record = {"step": int(step), "epoch": int(epoch), **values}
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, default=float) + "\n")
            fh.flush()
        return record

    def read(self) -> list[dict[str, Any]]:
        """All records in order; a torn last line (crash mid-write) is ignored."""
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records

    def truncate_after(self, step: int) -> None:
        """Drop records logged after ``step`` (used on resume, so the log matches the checkpoint)."""
        kept = [r for r in self.read() if r.get("step", 0) <= step]
        from ganctl.fsutil import atomic_write_text

        atomic_write_text(self.path, "".join(json.dumps(r, default=float) + "\n" for r in kept))


def run_dataset(run_dir: str | os.PathLike | None, data: str | os.PathLike | None = None) -> Path:
    """The dataset folder a run was trained on (where ``eval run`` and ``viz`` read test images).

    ``data`` (``--data``) wins: an existing folder as it is, else a named dataset through
    :func:`ganctl.data.registry.resolve_dataset` (prepared on first use). Without it the run's
    ``config.json`` says: ``dataset`` (the folder the trainer read: absolute, or relative to the working
    directory or to the run folder), else ``options.data`` (such a folder, or a named dataset such as
    ``mnist-color``). Anything else (no run folder, nothing recorded, a folder that has gone) is one
    InputError asking for ``--data``.
    """
    from ganctl.data.registry import DATASETS, resolve_dataset

    if data is not None and str(data):
        folder = Path(data).expanduser()
        return folder if folder.is_dir() else resolve_dataset(data)
    has_config = run_dir is not None and (Path(run_dir) / "config.json").is_file()
    config = read_config(run_dir) if has_config else {}
    recorded = [str(v) for v in (config.get("dataset"), (config.get("options") or {}).get("data")) if v]
    for value in recorded:
        for folder in (Path(value).expanduser(), Path(run_dir) / value):
            if folder.is_dir():
                return folder
    named = [v for v in recorded if v in DATASETS]
    if named:
        return resolve_dataset(named[0])
    said = f"its dataset {recorded[0]} is not there" if recorded else "it does not say which dataset it used"
    raise InputError(run_dir if run_dir is not None else "--model", f"{said}; pass the dataset folder with --data DIR")
