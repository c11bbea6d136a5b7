"""Smaller pix2pix U-Nets for small images: ``unet_32`` (5 levels) and ``unet_64`` (6 levels).

The same :class:`~ganctl.models.unet.UnetGenerator` as ``unet_128``/``unet_256``, with fewer
downsamplings so 32 px (CIFAR-10) and 64 px images reach a 1x1 bottleneck; used by ``train colorize``.
"""

from __future__ import annotations

from ganctl.models.registry import register_model
from ganctl.models.unet import UnetGenerator


@register_model("unet_32", kind="generator")
def unet_32(in_channels: int = 3, out_channels: int = 3, ngf: int = 64, norm: str = "batch",
            dropout: float = 0.5) -> UnetGenerator:
    """U-Net for 32x32 inputs (5 levels; H and W a multiple of 32)."""
    return UnetGenerator(in_channels, out_channels, num_downs=5, ngf=ngf, norm=norm, dropout=dropout)


@register_model("unet_64", kind="generator")
def unet_64(in_channels: int = 3, out_channels: int = 3, ngf: int = 64, norm: str = "batch",
            dropout: float = 0.5) -> UnetGenerator:
    """U-Net for 64x64 inputs (6 levels; H and W a multiple of 64)."""
    return UnetGenerator(in_channels, out_channels, num_downs=6, ngf=ngf, norm=norm, dropout=dropout)
