"""The CycleGAN ResNet generator: c7s1-64, two stride-2 downsamplings, residual blocks, two upsamplings, c7s1.

Reflection padding and instance normalisation as published; ``resnet_9blocks`` is the default for
256x256 photos, ``resnet_6blocks`` for 128x128.
"""

from __future__ import annotations

import torch
from torch import nn

from ganctl.models.init import init_weights, norm_layer, uses_bias
from ganctl.models.registry import register_model


class ResnetBlock(nn.Module):
    """Two 3x3 convolutions with reflection padding and a skip connection."""

    def __init__(self, channels: int, norm: str = "instance", dropout: float = 0.0):
        super().__init__()
        bias = uses_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=bias),
            norm_layer(norm, channels),
            nn.ReLU(True),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm_layer(norm, channels)]
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResnetGenerator(nn.Module):
    """Encoder (stride-2 convolutions) -> residual blocks -> decoder (transposed convolutions) -> tanh.

    Input H and W must be multiples of ``size_multiple`` (2 ** n_downsampling) so the output has the
    input's size, and at least ``min_size``; :meth:`encode` returns the feature map after the residual blocks.
    """

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ngf: int = 64, n_blocks: int = 9,
                 n_downsampling: int = 2, norm: str = "instance", dropout: float = 0.0, first_kernel: int = 7):
        super().__init__()
        bias = uses_bias(norm)
        pad = first_kernel // 2
        encoder: list[nn.Module] = [
            nn.ReflectionPad2d(pad),
            nn.Conv2d(in_channels, ngf, first_kernel, bias=bias),
            norm_layer(norm, ngf),
            nn.ReLU(True),
        ]
        taps = [0]  # the padded input
        channels = ngf
        for _ in range(n_downsampling):
            taps.append(len(encoder))  # each downsampling convolution's output
            encoder += [
                nn.Conv2d(channels, channels * 2, 3, stride=2, padding=1, bias=bias),
                norm_layer(norm, channels * 2),
                nn.ReLU(True),
            ]
            channels *= 2
        taps += [len(encoder), len(encoder) + min(4, n_blocks - 1)]  # the first and the fifth residual block
        encoder += [ResnetBlock(channels, norm, dropout) for _ in range(n_blocks)]
        decoder: list[nn.Module] = []
        for _ in range(n_downsampling):
            decoder += [
                nn.ConvTranspose2d(channels, channels // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                norm_layer(norm, channels // 2),
                nn.ReLU(True),
            ]
            channels //= 2
        decoder += [nn.ReflectionPad2d(pad), nn.Conv2d(channels, out_channels, first_kernel), nn.Tanh()]
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)
        self.size_multiple = 2**n_downsampling
        # The residual blocks reflect-pad the bottleneck by 1 and instance norm needs more than one value per
        # channel: the bottleneck must be at least 2 x 2, so H and W at least twice the multiple.
        self.min_size = 2 * self.size_multiple
        # Where CUT's PatchNCE reads the encoder: the layers CUT's reference taps (0, 4, 8, 12, 16 of its
        # network: the input, the downsampling convolutions, the first and fifth residual block).
        self.feature_layers = tuple(sorted(set(taps)))
        init_weights(self)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The bottleneck feature map (after the residual blocks)."""
        return self.encoder(x)

    def encode_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The feature maps of :attr:`feature_layers`, in order (the encoder stops after the last one)."""
        features = []
        for i, layer in enumerate(self.encoder):
            x = layer(x)
            if i in self.feature_layers:
                features.append(x)
                if len(features) == len(self.feature_layers):
                    break
        return features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


@register_model("resnet_9blocks", kind="generator")
def resnet_9blocks(in_channels: int = 3, out_channels: int = 3, ngf: int = 64, norm: str = "instance",
                   dropout: float = 0.0) -> ResnetGenerator:
    """ResNet generator with 9 residual blocks (CycleGAN default for 256x256)."""
    return ResnetGenerator(in_channels, out_channels, ngf, n_blocks=9, norm=norm, dropout=dropout)


@register_model("resnet_6blocks", kind="generator")
def resnet_6blocks(in_channels: int = 3, out_channels: int = 3, ngf: int = 64, norm: str = "instance",
                   dropout: float = 0.0) -> ResnetGenerator:
    """ResNet generator with 6 residual blocks (CycleGAN default for 128x128)."""
    return ResnetGenerator(in_channels, out_channels, ngf, n_blocks=6, norm=norm, dropout=dropout)
