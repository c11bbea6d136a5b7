"""The unconditional GAN networks: shapes, output ranges, registry, size checks."""

from __future__ import annotations

import pytest
import torch

from ganctl.models import create_model, list_models

ARCHS = ("mlp", "dcgan")


pytestmark = pytest.mark.usefixtures("one_thread")


def test_registered_with_their_own_kinds():
    assert {"mlp_generator", "dcgan_generator"} <= set(list_models("gan_generator"))
    assert {"mlp_discriminator", "dcgan_discriminator"} <= set(list_models("gan_discriminator"))
    # Not offered where image-to-image networks are expected (train cyclegan --generator).
    assert not {"mlp_generator", "dcgan_generator"} & set(list_models("generator"))


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("size", [28, 32])
def test_generator_and_discriminator_shapes(arch, size):
    g = create_model(f"{arch}_generator", latent_dim=16, image_size=size, **({"ngf": 8} if arch == "dcgan" else {}))
    d = create_model(f"{arch}_discriminator", image_size=size, **({"ndf": 8} if arch == "dcgan" else {}))
    z = torch.randn(5, 16)
    x = g(z)
    assert x.shape == (5, 1, size, size)
    assert x.min() >= -1 and x.max() <= 1
    assert d(x).shape == (5,)
    assert g.size_multiple == 1 and g.latent_dim == 16
    assert g.encode(z).shape[0] == 5
    # Both halves train: gradients reach every parameter of G through D.
    d(g(z)).mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.parameters())


def test_colour_output_channels():
    g = create_model("dcgan_generator", latent_dim=8, out_channels=3, image_size=32, ngf=8)
    assert g(torch.randn(2, 8)).shape == (2, 3, 32, 32)


def test_dcgan_rejects_sizes_that_are_not_base_times_power_of_two():
    with pytest.raises(ValueError, match="28, 32, 64"):
        create_model("dcgan_generator", image_size=30)
    with pytest.raises(ValueError):
        create_model("dcgan_discriminator", image_size=7)
