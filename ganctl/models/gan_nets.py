"""Unconditional GANs for small images (MNIST digits): a fully connected pair and the DCGAN pair.

Generators map a latent batch ``z`` (N x latent_dim) to images N x C x S x S in [-1, 1] (tanh);
discriminators map images to one logit per image (N,), to be used with ``BCEWithLogitsLoss``.

* ``mlp_generator`` / ``mlp_discriminator``: the simple-GAN seed: Linear layers with LeakyReLU(0.2),
  BatchNorm1d in the generator only.
* ``dcgan_generator`` / ``dcgan_discriminator``: Radford et al.'s DCGAN: strided (transposed)
  convolutions, BatchNorm, ReLU in G, LeakyReLU in D, no BatchNorm on D's first layer, N(0, 0.02)
  initialisation. The image side is ``base * 2**k`` with a base of 4 to 7 pixels, so the native
  MNIST 28 px (7 -> 14 -> 28) works without resizing, and so do 32 and 64 px.

They are registered as kinds ``gan_generator`` and ``gan_discriminator``, apart from the image-to-image
``generator``/``discriminator`` kinds, because they take noise and give one score per image.
Every generator has ``latent_dim``, ``image_size``, ``out_channels``, ``size_multiple`` (1: it makes
images, it does not take them) and ``encode(z)`` (its first hidden features, for ``viz latent``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ganctl.models.registry import register_model


def dcgan_levels(image_size: int) -> tuple[int, int]:
    """(base, k) with ``image_size == base * 2**k``, 4 <= base <= 7 and k >= 1; ValueError otherwise."""
    size, k = int(image_size), 0
    while size > 7 and size % 2 == 0:
        size //= 2
        k += 1
    if not (4 <= size <= 7) or k < 1:
        raise ValueError(f"DCGAN image size must be 4..7 times a power of two (28, 32, 64, ...), got {image_size}")
    return size, k


def _dcgan_init(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02) and zero bias."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class MLPGenerator(nn.Module):
    """Fully connected generator: z -> [Linear, (BatchNorm1d), LeakyReLU] x len(hidden) -> Linear -> tanh."""

    size_multiple = 1

    def __init__(self, latent_dim: int = 64, out_channels: int = 1, image_size: int = 28,
                 hidden: Sequence[int] = (256, 512, 1024)):
        super().__init__()
        self.latent_dim, self.out_channels, self.image_size = latent_dim, out_channels, image_size
        layers: list[nn.Module] = []
        width = latent_dim
        for i, h in enumerate(hidden):
            layers.append(nn.Linear(width, h))
            if i > 0:  # as in the seed: no BatchNorm straight after the noise
                layers.append(nn.BatchNorm1d(h))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(width, out_channels * image_size * image_size), nn.Tanh())

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """The first hidden layer's activations (N x hidden[0])."""
        return self.body[:2](z)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (N x latent_dim) -> images N x C x S x S in [-1, 1]."""
        out = self.head(self.body(z.flatten(1)))
        return out.view(-1, self.out_channels, self.image_size, self.image_size)


class MLPDiscriminator(nn.Module):
    """Fully connected discriminator: image -> [Linear, LeakyReLU] x len(hidden) -> Linear -> logit."""

    def __init__(self, in_channels: int = 1, image_size: int = 28, hidden: Sequence[int] = (512, 256)):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_channels * image_size * image_size
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2, inplace=True)]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images N x C x S x S -> logits (N,)."""
        return self.net(x.flatten(1)).view(-1)


class DCGANGenerator(nn.Module):
    """DCGAN generator: z -> ConvTranspose to base x base, then k stride-2 ConvTranspose doublings -> tanh."""

    size_multiple = 1

    def __init__(self, latent_dim: int = 64, out_channels: int = 1, image_size: int = 28, ngf: int = 64):
        super().__init__()
        self.latent_dim, self.out_channels, self.image_size = latent_dim, out_channels, image_size
        base, k = dcgan_levels(image_size)
        width = ngf * 2 ** (k - 1)
        self.stem = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, width, base, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)
        )
        ups: list[nn.Module] = []
        for _ in range(k - 1):
            ups += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2),
                    nn.ReLU(True)]
            width //= 2
        ups += [nn.ConvTranspose2d(width, out_channels, 4, 2, 1), nn.Tanh()]
        self.body = nn.Sequential(*ups)
        _dcgan_init(self)

    def encode(self, z: torch.Tensor) -> torch.Tensor:
        """The base x base feature map the latent is projected to."""
        return self.stem(z.flatten(1)[:, :, None, None])

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (N x latent_dim) -> images N x C x S x S in [-1, 1]."""
        return self.body(self.encode(z))


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: k stride-2 convolutions down to base x base, then one conv to a logit."""

    def __init__(self, in_channels: int = 1, image_size: int = 28, ndf: int = 64):
        super().__init__()
        base, k = dcgan_levels(image_size)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for _ in range(k - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2),
                       nn.LeakyReLU(0.2, inplace=True)]
            width *= 2
        layers.append(nn.Conv2d(width, 1, base, 1, 0))
        self.net = nn.Sequential(*layers)
        _dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images N x C x S x S -> logits (N,)."""
        return self.net(x).view(-1)


@register_model("mlp_generator", kind="gan_generator")
def mlp_generator(latent_dim: int = 64, out_channels: int = 1, image_size: int = 28,
                  hidden: Sequence[int] = (256, 512, 1024)) -> MLPGenerator:
    """Fully connected generator of the simple-GAN seed (LeakyReLU, BatchNorm, tanh)."""
    return MLPGenerator(latent_dim, out_channels, image_size, tuple(hidden))


@register_model("mlp_discriminator", kind="gan_discriminator")
def mlp_discriminator(in_channels: int = 1, image_size: int = 28,
                      hidden: Sequence[int] = (512, 256)) -> MLPDiscriminator:
    """Fully connected discriminator of the simple-GAN seed (LeakyReLU), one logit per image."""
    return MLPDiscriminator(in_channels, image_size, tuple(hidden))


@register_model("dcgan_generator", kind="gan_generator")
def dcgan_generator(latent_dim: int = 64, out_channels: int = 1, image_size: int = 28, ngf: int = 64) -> DCGANGenerator:
    """DCGAN generator for image sides 28, 32, 64, ... (base 4..7 px doubled by transposed convs)."""
    return DCGANGenerator(latent_dim, out_channels, image_size, ngf)


@register_model("dcgan_discriminator", kind="gan_discriminator")
def dcgan_discriminator(in_channels: int = 1, image_size: int = 28, ndf: int = 64) -> DCGANDiscriminator:
    """DCGAN discriminator for image sides 28, 32, 64, ..., one logit per image."""
    return DCGANDiscriminator(in_channels, image_size, ndf)
