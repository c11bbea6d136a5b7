"""Weight initialisation of the published GAN recipes: conv weights ~ N(0, 0.02), norm scales ~ N(1, 0.02)."""

from __future__ import annotations

from torch import nn


def init_weights(net: nn.Module, gain: float = 0.02) -> nn.Module:
    """Initialise ``net`` in place as the CycleGAN/pix2pix papers do and return it.

    Convolutions and linear layers get weights from N(0, gain) and zero biases; affine normalisation
    layers get scales from N(1, gain) and zero shifts.
    """
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(module.weight, 0.0, gain)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d, nn.GroupNorm)) and module.weight is not None:
            nn.init.normal_(module.weight, 1.0, gain)
            nn.init.zeros_(module.bias)
    return net


def norm_layer(kind: str, channels: int) -> nn.Module:
    """A 2-D normalisation layer by name: ``instance`` (affine-free, as published), ``batch`` or ``none``."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; use instance, batch or none")


def uses_bias(kind: str) -> bool:
    """Convolutions before a batch norm need no bias (the norm's shift replaces it); others keep one."""
    return kind != "batch"
