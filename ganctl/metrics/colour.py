"""Colour metrics: colourfulness (Hasler and Suesstrunk 2003) and digit colour accuracy against a palette.

Colourfulness: with ``rg = R - G`` and ``yb = (R + G) / 2 - B`` on the 0-255 scale,
``M = sqrt(std(rg)^2 + std(yb)^2) + 0.3 * sqrt(mean(rg)^2 + mean(yb)^2)``; 0 for a gray image, about 15 for
"slightly colourful", 60 and more for "highly colourful" photos. Colorization should bring a translated set
close to the colourfulness of real colour photos.

Digit colour: a colour-MNIST digit is ``intensity * colour`` on black (see :mod:`ganctl.data.palettes`), so the
colour of a digit is read off its brightest stroke pixels, and the digit counts as correctly coloured when the
palette colour nearest to it is the colour its digit has in the target palette.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Color = tuple[int, int, int]


def colourfulness(images: torch.Tensor) -> torch.Tensor:
    """Hasler-Suesstrunk colourfulness of each image of an N x 3 x H x W batch in [0, 1] (0-255 scale)."""
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"expected N x 3 x H x W (or N x 1 x H x W) images, got {tuple(images.shape)}")
    if images.shape[1] == 1:
        return torch.zeros(images.shape[0])
    x = images.double() * 255.0
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    rg = (r - g).flatten(1)
    yb = (0.5 * (r + g) - b).flatten(1)
    std = torch.sqrt(rg.var(dim=1, unbiased=False) + yb.var(dim=1, unbiased=False))
    mean = torch.sqrt(rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2)
    return (std + 0.3 * mean).float()


def digit_colours(images: torch.Tensor, top_fraction: float = 0.25) -> torch.Tensor:
    """The RGB colour (0-255) of each digit of an N x 3 x H x W batch in [0, 1] (bright digits on black).

    The mean of the pixels within the brightest ``top_fraction`` of the digit's stroke brightness: the stroke's
    core, where the intensity is near 1 and the pixel is the digit's colour itself.
    """
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    x = images.float().flatten(2)  # N x 3 x P
    bright = x.amax(dim=1)  # N x P
    peak = bright.amax(dim=1, keepdim=True)
    mask = (bright >= peak * (1.0 - top_fraction)) & (peak > 0.05)
    weights = mask.float().unsqueeze(1)
    return (x * weights).sum(2) / weights.sum(2).clamp_min(1.0) * 255.0


def nearest_palette_index(colours: torch.Tensor, palette: Sequence[Color]) -> torch.Tensor:
    """Index of the nearest palette colour (Euclidean RGB) for each of N colours (N x 3, 0-255)."""
    pal = torch.tensor(palette, dtype=torch.float32)
    return torch.cdist(colours.float(), pal).argmin(dim=1)


def palette_is_informative(palette: Sequence[Color]) -> bool:
    """False when every digit has the same colour (e.g. ``gray``): colour accuracy would mean nothing."""
    return len({tuple(c) for c in palette}) > 1


def colour_correct(images: torch.Tensor, digits: torch.Tensor, palette: Sequence[Color]) -> torch.Tensor:
    """Boolean per image: is the digit's colour (nearest palette entry) the palette colour of its digit?"""
    pal = torch.tensor(palette, dtype=torch.float32)
    nearest = pal[nearest_palette_index(digit_colours(images), palette)]
    wanted = pal[digits.long()]
    return (nearest == wanted).all(dim=1)
