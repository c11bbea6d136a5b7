"""The PatchGAN discriminator: a fully convolutional net scoring overlapping patches as real or fake.

With ``n_layers=3`` each output value sees a 70x70 patch of the input (the published default).
"""

from __future__ import annotations

import torch
from torch import nn

from ganctl.models.init import init_weights, norm_layer, uses_bias
from ganctl.models.registry import register_model


class NLayerDiscriminator(nn.Module):
    """c64 (no norm) -> n_layers-1 stride-2 blocks (channels doubling, capped at 8x) -> stride-1 block -> 1 map."""

    def __init__(self, in_channels: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance"):
        super().__init__()
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=bias),
                norm_layer(norm, ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


@register_model("patchgan", kind="discriminator")
def patchgan(in_channels: int = 3, ndf: int = 64, n_layers: int = 3, norm: str = "instance") -> NLayerDiscriminator:
    """PatchGAN discriminator; ``n_layers=3`` gives the published 70x70 receptive field."""
    return NLayerDiscriminator(in_channels, ndf, n_layers, norm)
