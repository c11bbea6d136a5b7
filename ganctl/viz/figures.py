"""Headless matplotlib figures (Agg, no pyplot state) and saving them atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from ganctl.errors import OptionError, OutputError
from ganctl.fsutil import atomic_path, check_output_parent

FIGURE_FORMATS = (".png", ".svg", ".pdf", ".jpg", ".jpeg")
DPI = 100


def new_figure(width: float, height: float, **kwargs: Any):
    """A matplotlib ``Figure`` of ``width`` x ``height`` inches on the Agg canvas (no GUI, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, **kwargs)
    FigureCanvasAgg(fig)
    return fig


def check_figure_path(path: str | os.PathLike, option: str = "--out", overwrite: bool = True) -> Path:
    """Refuse an output name whose extension matplotlib cannot write, that is a folder or below a file, or
    (unless ``overwrite``) that exists already."""
    path = Path(path)
    check_output_parent(path)
    if not overwrite and path.is_file():
        raise OutputError(path, "exists already; use --overwrite to replace it")
    if path.suffix.lower() not in FIGURE_FORMATS:
        raise OptionError(option, f"{path.name}: use a file ending in {', '.join(FIGURE_FORMATS)}")
    if path.is_dir():
        raise OptionError(option, f"{path} is a folder; give a file name such as {path / 'figure.png'}")
    return path


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Write ``fig`` to ``path`` atomically; the format follows the extension."""
    path = check_figure_path(path)
    fmt = path.suffix.lower().lstrip(".")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="jpeg" if fmt == "jpg" else fmt, dpi=DPI, facecolor="white")
    return path


def figure_png(fig) -> bytes:
    """``fig`` as PNG bytes (for embedding in HTML)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()
