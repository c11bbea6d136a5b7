"""Where ganctl keeps things: the cache ``$GANCTL_HOME`` (default ``~/.cache/ganctl``)."""

from __future__ import annotations

import os
from pathlib import Path


def ganctl_home() -> Path:
    """The cache folder: ``$GANCTL_HOME`` or ``~/.cache/ganctl`` (not created here)."""
    value = os.environ.get("GANCTL_HOME")
    return Path(value).expanduser() if value else Path.home() / ".cache" / "ganctl"


def datasets_dir() -> Path:
    """Prepared named datasets: ``$GANCTL_HOME/datasets/<name>/``."""
    return ganctl_home() / "datasets"


def raw_dir(name: str) -> Path:
    """Downloaded raw files of one source, e.g. ``$GANCTL_HOME/raw/mnist/``."""
    return ganctl_home() / "raw" / name


def weights_dir() -> Path:
    """Model weights ganctl uses itself (FID Inception, the digit classifier): ``$GANCTL_HOME/weights/``."""
    return ganctl_home() / "weights"
