"""Small networks for 28-32 px digits, chosen automatically for digit data.

The generator is the ResNet generator scaled down (fewer filters and blocks) so a CPU trains it in
minutes; its bottleneck (7x7 for 28 px) plus the residual blocks see the whole digit, which it needs to
recognise the digit (colour-per-class tasks). ``digit_resnet_grid`` (the default for digit data) and
``digit_resnet_global`` add a global branch that turns the bottleneck into a per-image scale and shift of the
last features, so one decision about the whole digit ("this is a 3") sets the colour of every stroke pixel
at once. The discriminators are a 2-layer PatchGAN whose 34x34 receptive field covers a whole 28-32 px
digit, and a one-score DCGAN-style net.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ganctl.models.init import init_weights
from ganctl.models.patchgan import NLayerDiscriminator
from ganctl.models.registry import register_model
from ganctl.models.resnet import ResnetGenerator


@register_model("digit_resnet", kind="generator")
def digit_resnet(in_channels: int = 1, out_channels: int = 3, ngf: int = 8, n_blocks: int = 3,
                 norm: str = "instance", first_kernel: int = 7) -> ResnetGenerator:
    """Digit generator: c7s1-ngf, two downsamplings to 7x7 (28 px) / 8x8 (32 px), ``n_blocks`` residual
    blocks at 4 * ngf channels, back up. About 6 MMAC per 32 px image at the default ngf=8."""
    return ResnetGenerator(in_channels, out_channels, ngf=ngf, n_blocks=n_blocks, norm=norm,
                           first_kernel=first_kernel)


class GlobalContextResnetGenerator(ResnetGenerator):
    """A ResNet generator whose last features are modulated per image from its bottleneck (FiLM).

    The branch (bottleneck average-pooled to a ``context_grid`` x ``context_grid`` map, flattened -> Linear
    [-> LayerNorm] -> ReLU -> Linear) gives a scale ``1 + g`` and shift ``b`` per channel of the decoder's last
    feature map, just before the output convolution. Instance norm removes any signal that is constant over
    the image, so without such a path a per-image property (the colour of a whole digit) has to be rebuilt
    pixel by pixel from local features. The branch starts at zero (scale 1, shift 0): at initialisation the
    network is exactly the plain ResNet generator.

    Why a grid and not the mean: every bottleneck channel comes out of instance norm, so its mean over the
    image says little about the digit; where the strokes are (a 4x4 grid) says which digit it is. The
    LayerNorm keeps that wider branch stable at the digit learning rate (without it, a 128-wide branch
    diverged at lr 1e-3 in our runs; docs/benchmarks.md).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 3, ngf: int = 8, n_blocks: int = 3,
                 norm: str = "instance", first_kernel: int = 3, context_grid: int = 1,
                 context_hidden: int | None = None, context_norm: bool = False):
        super().__init__(in_channels, out_channels, ngf=ngf, n_blocks=n_blocks, norm=norm, first_kernel=first_kernel)
        if context_grid < 1:
            raise ValueError(f"context_grid must be at least 1, got {context_grid}")
        bottleneck = ngf * self.size_multiple
        hidden = context_hidden or bottleneck
        self.context_grid = context_grid
        layers: list[nn.Module] = [nn.Linear(bottleneck * context_grid ** 2, hidden)]
        if context_norm:
            layers.append(nn.LayerNorm(hidden))
        layers += [nn.ReLU(True), nn.Linear(hidden, 2 * ngf)]
        self.context = nn.Sequential(*layers)
        init_weights(self.context)  # leaves the LayerNorm at its identity start (weight 1, bias 0)
        nn.init.zeros_(self.context[-1].weight)
        nn.init.zeros_(self.context[-1].bias)
        self._modulate_at = len(self.decoder) - 3  # before the output's padding, convolution and tanh

    def modulation(self, bottleneck: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The per-image (scale - 1, shift), each N x ngf x 1 x 1, from bottleneck features."""
        pooled = F.adaptive_avg_pool2d(bottleneck, self.context_grid).flatten(1)
        scale, shift = self.context(pooled)[:, :, None, None].chunk(2, dim=1)
        return scale, shift

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encoder(x)
        scale, shift = self.modulation(h)
        for i, layer in enumerate(self.decoder):
            if i == self._modulate_at:
                h = h * (1 + scale) + shift
            h = layer(h)
        return h


@register_model("digit_resnet_grid", kind="generator")
def digit_resnet_grid(in_channels: int = 1, out_channels: int = 3, ngf: int = 8, n_blocks: int = 3,
                      norm: str = "instance", first_kernel: int = 3) -> GlobalContextResnetGenerator:
    """Digit generator (the default for digit data): ``digit_resnet`` plus a global scale/shift branch that
    reads a 4x4 grid of the bottleneck (128 hidden units, LayerNorm).

    Its first and last convolutions are 3x3 rather than the published 7x7: on a CPU those two thin 7x7
    convolutions at full resolution cost as much as the rest of the network (docs/benchmarks.md), and the
    global branch already sees the whole digit. Any input size works (the grid is adaptive).
    """
    return GlobalContextResnetGenerator(in_channels, out_channels, ngf=ngf, n_blocks=n_blocks, norm=norm,
                                        first_kernel=first_kernel, context_grid=4, context_hidden=128,
                                        context_norm=True)


@register_model("digit_resnet_global", kind="generator")
def digit_resnet_global(in_channels: int = 1, out_channels: int = 3, ngf: int = 8, n_blocks: int = 3,
                        norm: str = "instance", first_kernel: int = 3) -> GlobalContextResnetGenerator:
    """Digit generator with a global branch on the bottleneck's mean (the digit default before
    ``digit_resnet_grid``, kept so its runs still load): 3x3 first/last convolutions."""
    return GlobalContextResnetGenerator(in_channels, out_channels, ngf=ngf, n_blocks=n_blocks, norm=norm,
                                        first_kernel=first_kernel)


@register_model("digit_patchgan", kind="discriminator")
def digit_patchgan(in_channels: int = 3, ndf: int = 16, n_layers: int = 2,
                   norm: str = "instance") -> NLayerDiscriminator:
    """Digit discriminator: a PatchGAN with 2 stride-2 layers (34x34 receptive field, 5x5 scores at 28 px)."""
    return NLayerDiscriminator(in_channels, ndf, n_layers, norm)


class GlobalDigitDiscriminator(nn.Module):
    """A DCGAN-style discriminator that scores a whole digit with ONE value.

    Three stride-2 4x4 convolutions (no normalisation, LeakyReLU 0.2) take a 28/32 px digit to 3x3/4x4, and a
    final convolution as large as that map gives a single score. Seeing the whole digit at once is what lets it
    judge "this shape in this colour" (colour-per-class tasks such as mnist-color): a PatchGAN's local scores,
    after instance norm, hardly see colour or the digit's identity.
    """

    def __init__(self, in_channels: int = 3, ndf: int = 32, image_size: int = 32):
        super().__init__()
        final = image_size // 8
        if final < 1:
            raise ValueError(f"image_size must be at least 8, got {image_size}")
        self.model = nn.Sequential(
            nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 4, 1, final, 1, 0),
        )
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


@register_model("digit_global", kind="discriminator")
def digit_global(in_channels: int = 3, ndf: int = 32, image_size: int = 32) -> GlobalDigitDiscriminator:
    """Digit discriminator with one score per image (the default for digit data)."""
    return GlobalDigitDiscriminator(in_channels, ndf, image_size)
