"""The pix2pix U-Net generator: stride-2 4x4 convolutions down to 1x1, mirrored up with skip connections.

``unet_128`` has 7 downsamplings (input a multiple of 128), ``unet_256`` has 8 (a multiple of 256); the
smaller ``unet_32`` (5) and ``unet_64`` (6) let 32 px (CIFAR-10) and 64 px images reach a 1x1 bottleneck
(``train colorize`` uses them).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ganctl.models.init import init_weights, norm_layer, uses_bias
from ganctl.models.registry import register_model


class UnetGenerator(nn.Module):
    """U-Net with ``num_downs`` levels; level i has min(ngf * 2**i, ngf * 8) channels.

    :meth:`encode` returns the innermost feature map.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, num_downs: int = 8, ngf: int = 64,
                 norm: str = "batch", dropout: float = 0.5):
        super().__init__()
        if num_downs < 2:
            raise ValueError("a U-Net needs at least 2 levels")
        bias = uses_bias(norm)
        chs = [min(ngf * 2**i, ngf * 8) for i in range(num_downs)]
        self.down = nn.ModuleList()
        self.up = nn.ModuleList()
        for i in range(num_downs):
            conv = nn.Conv2d(in_channels if i == 0 else chs[i - 1], chs[i], 4, stride=2, padding=1, bias=bias)
            if i == 0:
                self.down.append(conv)
            elif i == num_downs - 1:
                self.down.append(nn.Sequential(nn.LeakyReLU(0.2, True), conv))
            else:
                self.down.append(nn.Sequential(nn.LeakyReLU(0.2, True), conv, norm_layer(norm, chs[i])))
        for i in range(num_downs):
            cin = chs[i] if i == num_downs - 1 else chs[i] * 2
            if i == 0:
                layers = [nn.ReLU(True), nn.ConvTranspose2d(cin, out_channels, 4, stride=2, padding=1), nn.Tanh()]
            else:
                layers = [nn.ReLU(True), nn.ConvTranspose2d(cin, chs[i - 1], 4, stride=2, padding=1, bias=bias),
                          norm_layer(norm, chs[i - 1])]
                # pix2pix puts dropout on the up-layers of the three innermost 8*ngf levels below the bottleneck.
                if dropout > 0 and num_downs - 4 <= i < num_downs - 1:
                    layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))
        self.size_multiple = 2**num_downs
        init_weights(self)

    def _down(self, x: torch.Tensor) -> list[torch.Tensor]:
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        return skips

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The innermost (bottleneck) feature map."""
        return self._down(x)[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = self._down(x)
        h = skips[-1]
        for i in range(len(self.up) - 1, -1, -1):
            if i < len(self.up) - 1:
                h = torch.cat([skips[i], h], dim=1)
            h = self.up[i](h)
        return h


def _register_unet(levels: int) -> Callable[..., UnetGenerator]:
    """Register ``unet_<2**levels>``: the U-Net with ``levels`` downsamplings, for inputs a multiple of 2**levels."""
    size = 2**levels

    def factory(in_channels: int = 3, out_channels: int = 3, ngf: int = 64, norm: str = "batch",
                dropout: float = 0.5) -> UnetGenerator:
        return UnetGenerator(in_channels, out_channels, num_downs=levels, ngf=ngf, norm=norm, dropout=dropout)

    factory.__name__ = factory.__qualname__ = f"unet_{size}"
    factory.__doc__ = f"U-Net for {size}x{size} inputs ({levels} levels; H and W a multiple of {size})."
    return register_model(factory.__name__, kind="generator")(factory)


unet_32, unet_64, unet_128, unet_256 = (_register_unet(levels) for levels in (5, 6, 7, 8))
