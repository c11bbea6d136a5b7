"""One image in and out of ``translate``: decode to a uint8 array (alpha kept apart), encode one back.

An alpha channel does not go through the model: it is resized like the image and put back on the
output where the output format can hold it (PNG, WebP, TIFF).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ganctl.data.imageio import open_image, to_mode
from ganctl.data.pngwriter import write_png
from ganctl.data.video import scaled_size
from ganctl.errors import ImageReadError, OutputError
from ganctl.fsutil import atomic_path

_ALPHA_SUFFIXES = frozenset({".png", ".webp", ".tif", ".tiff"})
JPEG_QUALITY = 95


@dataclass
class DecodedImage:
    """A decoded image: uint8 pixels (H x W or H x W x 3) and its alpha channel (H x W) or None."""

    pixels: np.ndarray
    alpha: np.ndarray | None


def _shorter_side_resize(img: Image.Image, size: int | None) -> Image.Image:
    new = scaled_size(*img.size, size)
    return img if new == img.size else img.resize(new, Image.Resampling.BICUBIC)


def decode_image(path: Path, mode: str, size: int | None = None) -> DecodedImage:
    """Decode ``path`` as a uint8 array in ``mode`` (``L``/``RGB``), keeping any alpha channel apart."""
    img = open_image(path)
    alpha = None
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = to_mode(img, "RGBA")
        alpha = np.asarray(_shorter_side_resize(rgba.getchannel("A"), size))
    try:
        pixels = np.asarray(_shorter_side_resize(to_mode(img, mode), size))
    except (OSError, ValueError) as exc:
        raise ImageReadError(path, f"cannot convert image ({exc})") from None
    return DecodedImage(pixels, alpha)


def encode_image(pixels: np.ndarray, alpha: np.ndarray | None, target: Path, overwrite: bool) -> None:
    """Write a uint8 image atomically (alpha kept where the format has it); refuses to replace a file."""
    if target.exists() and not overwrite:
        raise OutputError(target, "exists already (use --overwrite to replace it)")
    img = Image.fromarray(pixels)
    suffix = target.suffix.lower()
    if alpha is not None and suffix in _ALPHA_SUFFIXES:
        img.putalpha(Image.fromarray(alpha))
    with atomic_path(target) as tmp:
        if suffix == ".png":
            write_png(img, tmp)
        else:
            options: dict[str, Any] = {"quality": JPEG_QUALITY} if suffix in (".jpg", ".jpeg", ".webp") else {}
            img.save(tmp, **options)
