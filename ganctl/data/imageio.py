"""Read any common image into a float tensor, and write images atomically.

``read_image`` accepts JPEG, PNG (8- and 16-bit), palette, RGBA, grayscale, WebP, BMP, TIFF and GIF
(first frame), and applies the EXIF orientation, so what the user sees in a viewer is what the
model gets. Problems are raised as :class:`ganctl.errors.ImageReadError` naming the file. Which file
names count as images: :mod:`ganctl.data.formats`. PNG files are written by :func:`ganctl.data.pngwriter.write_png`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ganctl.data.formats import is_image_path
from ganctl.data.pngwriter import write_png
from ganctl.errors import ImageReadError, OutputError
from ganctl.fsutil import atomic_path

if TYPE_CHECKING:  # torch is imported where a tensor is made, so that looking at a dataset stays fast
    import torch

MODES = ("RGB", "L", "RGBA")
_CHANNELS = {"RGB": 3, "L": 1, "RGBA": 4}


def list_images(folder: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """All image files below ``folder`` (by extension), sorted, hidden files and folders skipped."""
    folder = Path(folder)
    pattern = "**/*" if recursive else "*"
    found = []
    for p in folder.glob(pattern):
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_file() and is_image_path(p):
            found.append(p)
    return sorted(found)


def channels_of(mode: str) -> int:
    """Number of channels of a mode name (``RGB`` 3, ``L`` 1, ``RGBA`` 4)."""
    return _CHANNELS[mode]


def open_image(path: str | os.PathLike) -> Image.Image:
    """Open and fully decode an image with EXIF rotation applied, raising ImageReadError on failure."""
    path = Path(path)
    if not path.exists():
        missing = "a symbolic link to a file that is not there" if path.is_symlink() else "no such file"
        raise ImageReadError(path, missing)
    if path.is_dir():
        raise ImageReadError(path, "is a folder, not an image")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img) or img
            img.load()
            return img
    except UnidentifiedImageError:
        raise ImageReadError(path, "not an image (unrecognised format)") from None
    except Image.DecompressionBombError as exc:
        raise ImageReadError(path, f"image too large to decode safely ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageReadError(path, f"corrupt or truncated image ({exc})") from None


def to_mode(img: Image.Image, mode: str) -> Image.Image:
    """Convert a decoded PIL image to ``RGB``, ``L`` or ``RGBA`` handling 16-bit, palette and alpha.

    Alpha is composited over white when it is dropped; 16-bit data is scaled to 8 bits.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode != "F" and arr.max() > 255 else 255.0
        if img.mode == "F":
            top = max(1.0, float(arr.max()))
        arr8 = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        img = Image.fromarray(arr8, mode="L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("LA", "PA"):
        img = img.convert("RGBA")
    if img.mode == "RGBA" and mode != "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    if img.mode != mode:
        img = img.convert(mode)
    return img


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """A PIL image (8-bit mode) as a float32 tensor C x H x W in [0, 1]."""
    import torch

    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div_(255.0)


def tensor_to_pil(tensor: torch.Tensor) -> Image.Image:
    """A float tensor C x H x W in [0, 1] (C = 1, 3 or 4) as a PIL image."""
    import torch

    t = tensor.detach().float().cpu().clamp(0, 1)
    if t.ndim != 3 or t.shape[0] not in (1, 3, 4):
        raise ValueError(f"expected a C x H x W tensor with C in (1, 3, 4), got shape {tuple(t.shape)}")
    arr = (t.mul(255.0).add_(0.5)).to(torch.uint8).permute(1, 2, 0).numpy()
    if arr.shape[2] == 1:
        return Image.fromarray(arr[:, :, 0], mode="L")
    return Image.fromarray(arr, mode="RGB" if arr.shape[2] == 3 else "RGBA")


def read_image(path: str | os.PathLike, mode: str = "RGB") -> torch.Tensor:
    """Read an image file as a float32 tensor C x H x W in [0, 1] in ``mode`` (RGB, L or RGBA)."""
    return pil_to_tensor(to_mode(open_image(path), mode))


def write_image(
    image: torch.Tensor | Image.Image,
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike] = (),
    quality: int = 95,
) -> Path:
    """Write an image atomically (temp file + rename); the format follows the file extension.

    An existing file is refused unless ``overwrite``; a path listed in ``protect`` (the inputs) is
    refused always, so an input can never be overwritten.
    """
    path = Path(path)
    resolved = path.resolve()
    for p in protect:
        if Path(p).resolve() == resolved:
            raise OutputError(path, "refusing to overwrite an input file")
    if path.exists() and not overwrite:
        raise OutputError(path, "exists already (use --overwrite to replace it)")
    img = image if isinstance(image, Image.Image) else tensor_to_pil(image)
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg") and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    kwargs = {"quality": quality} if suffix in (".jpg", ".jpeg", ".webp") else {}
    with atomic_path(path) as tmp:
        if suffix == ".png":
            write_png(img, tmp)
        else:
            img.save(tmp, **kwargs)
    return path
