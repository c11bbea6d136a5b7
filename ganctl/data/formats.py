"""Which files ganctl takes as images and which as videos: the one list of each (by file extension).

A ``.gif`` is both: inside a folder being translated, and for the image readers, it is an image (its
first frame); given on its own to ``ganctl translate`` or ``ganctl prepare frames`` it is a video, every
frame of it. :func:`is_video_path` says which with ``gif_as_video``.

Imports neither torch nor PIL, so the command line can use these names in its help at no cost.
"""

from __future__ import annotations

import os
from pathlib import Path

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".ppm", ".pgm"})
# The containers FFmpeg reads that hold video (translate writes the few it cannot write back as .mp4).
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".wmv",
                              ".flv", ".3gp", ".3g2", ".mts", ".m2ts", ".m2v", ".vob", ".asf", ".f4v", ".nut",
                              ".ogv", ".mxf", ".dv", ".rm", ".rmvb", ".y4m"})
# Animated images: videos when given on their own, images everywhere else.
ANIMATED_IMAGE_EXTENSIONS = frozenset({".gif"})
# What a command that takes video files on their own (translate, prepare frames) reads as video.
VIDEO_FILE_EXTENSIONS = VIDEO_EXTENSIONS | ANIMATED_IMAGE_EXTENSIONS


def is_image_path(path: str | os.PathLike) -> bool:
    """True when the file name has an image extension (the content is not checked)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def is_video_path(path: str | os.PathLike, *, gif_as_video: bool = False) -> bool:
    """True when the file name has a video extension; with ``gif_as_video`` a ``.gif`` counts as one too."""
    return Path(path).suffix.lower() in (VIDEO_FILE_EXTENSIONS if gif_as_video else VIDEO_EXTENSIONS)


def extension_names(extensions: frozenset[str]) -> str:
    """``avi, flv, m4v, ...``: the extensions without dots, sorted, for help texts and messages."""
    return ", ".join(sorted(ext.lstrip(".") for ext in extensions))
