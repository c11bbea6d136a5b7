"""Side-by-side A|B images, the pix2pix reference's layout: A is the left half, B the right half.

One image holds both images of a pair; its width must be even, so that the halves have the same size.
"""

from __future__ import annotations

import os

from PIL import Image

from ganctl.data.imageio import open_image
from ganctl.errors import ImageReadError, InputError


def check_even_width(path: str | os.PathLike, width: int) -> None:
    """InputError when a side-by-side image ``width`` px wide cannot be cut into two halves of equal width."""
    if width % 2:
        raise InputError(path, f"is {width} px wide: a side-by-side A|B image holds two halves of equal width, so "
                               "its width must be even")


def open_side_by_side(path: str | os.PathLike) -> tuple[Image.Image, Image.Image]:
    """The decoded A (left) and B (right) halves of a side-by-side image; ImageReadError when unusable."""
    img = open_image(path)
    width, height = img.size
    if width % 2:
        raise ImageReadError(path, f"is {width} px wide: a side-by-side A|B image needs an even width")
    return img.crop((0, 0, width // 2, height)), img.crop((width // 2, 0, width, height))
