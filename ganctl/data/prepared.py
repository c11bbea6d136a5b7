"""What every preparer returns, and where a named dataset lives in the cache."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ganctl import console
from ganctl.errors import OptionError
from ganctl.paths import datasets_dir


@dataclass
class PreparedDataset:
    """What a preparer made: the folder, images per split, how long it took, and anything skipped."""

    path: Path
    counts: dict[str, int]
    seconds: float = 0.0
    skipped: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict:
        """What ``prepare ... --json`` prints."""
        return {"path": str(self.path), "counts": self.counts, "skipped": self.skipped,
                "seconds": round(self.seconds, 3)}

    def summary(self) -> str:
        """One line: where, how many, what was skipped."""
        parts = ", ".join(f"{k} {v:,}" for k, v in self.counts.items())
        skipped = "".join(f", skipped {n:,} {why}" for why, n in self.skipped.items() if n)
        return f"{self.path}: {parts}{skipped} ({self.seconds:.1f} s)"


def default_out(name: str) -> Path:
    """The cache folder of a named dataset: ``$GANCTL_HOME/datasets/<name>``."""
    return datasets_dir() / name


def check_limit(limit: int | None) -> int | None:
    """``limit`` when None or positive, else OptionError."""
    if limit is not None and limit < 1:
        raise OptionError("--limit", f"must be at least 1, got {limit}")
    return limit


def report_prepared(kind: str, out: Path, counts: dict[str, int], start: float) -> PreparedDataset:
    """What a ``kind`` preparer that began at ``start`` (``time.perf_counter()``) made, printed as one line."""
    result = PreparedDataset(out, counts, time.perf_counter() - start)
    console.info(f"[green]{kind}[/] {result.summary()}")
    return result
