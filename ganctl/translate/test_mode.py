"""How a generator with batch norm or dropout translates: as the pix2pix reference tests it, or in eval mode.

The reference (junyanz/pytorch-CycleGAN-and-pix2pix) tests without ``--eval`` by default: its networks stay
in training mode, so dropout stays on and batch norm normalises with the statistics of the batch being
translated, a batch of one image. pix2pix relies on it (its dropout is its noise, and its batch norm was
trained at batch size 1, so running statistics fit its images poorly). ``ganctl translate`` and ``eval run``
do the same by default (:data:`REFERENCE`), with two differences that make the result a function of the
image alone:

* each image is normalised with its own statistics whatever the batch it is translated in (batch norm of
  one image is instance norm with the batch norm's weights: :class:`ImageStatisticsNorm`);
* dropout draws its mask from a fixed seed per layer (:class:`SeededDropout`), the same for every image of
  a size, so a translation is the same on every run, device and batch.

:data:`EVAL` (``--eval-mode``) runs the network in eval mode: running statistics, no dropout. Generators
without batch norm or dropout (the ResNets with instance norm) give the same output either way.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

REFERENCE = "reference"
EVAL = "eval"
TEST_MODES = (REFERENCE, EVAL)


def has_test_statistics(network: nn.Module) -> bool:
    """True when ``network`` has batch norm or dropout, so that its test mode changes its output."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) or (isinstance(m, nn.Dropout) and m.p > 0)
               for m in network.modules())


class ImageStatisticsNorm(nn.Module):
    """A batch-norm layer normalising each image with its own statistics (its affine weights kept)."""

    def __init__(self, norm: nn.modules.batchnorm._BatchNorm):
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)


class SeededDropout(nn.Module):
    """Dropout whose mask comes from ``seed`` (drawn on the CPU, so every device gets the same), one per image size."""

    def __init__(self, p: float, seed: int):
        super().__init__()
        self.p, self.seed = p, seed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        generator = torch.Generator().manual_seed(self.seed)
        keep = torch.rand((1, *x.shape[1:]), generator=generator) >= self.p
        return x * keep.to(device=x.device, dtype=x.dtype) / (1 - self.p)


def use_reference_test_mode(network: nn.Module, seed: int = 0) -> nn.Module:
    """Make ``network`` (in place) translate as the reference tests (see the module docstring); returns it."""
    layer = 0
    for parent in list(network.modules()):
        for name, child in parent.named_children():
            if isinstance(child, nn.modules.batchnorm._BatchNorm):
                setattr(parent, name, ImageStatisticsNorm(child))
            elif isinstance(child, nn.Dropout) and child.p > 0:
                setattr(parent, name, SeededDropout(child.p, seed * 1000 + layer))
                layer += 1
    return network
