"""Padding an image batch to what a generator takes: a multiple of its ``size_multiple``, at least its ``min_size``.

One definition for :class:`~ganctl.translate.translator.Translator` and the graphs ``ganctl export`` writes.
The padding is a mirror image, as the networks pad inside: reflection, repeated (mirror, mirror of the mirror, ...)
when the image is smaller than the pad, and a side of one pixel repeated. It is written as index arithmetic on
tensors (no Python branch on a size), so a traced graph keeps it for every input size.
"""

from __future__ import annotations

import torch


def size_rule(network: torch.nn.Module) -> tuple[int, int]:
    """(multiple, minimum) of the sides ``network`` runs on: its ``size_multiple`` and ``min_size`` (default 1)."""
    multiple = int(getattr(network, "size_multiple", 1) or 1)
    return multiple, max(multiple, int(getattr(network, "min_size", 1) or 1))


def padded_size(size: int, multiple: int, minimum: int = 1) -> int:
    """The side a generator runs on for an image side of ``size``: a multiple of ``multiple``, >= ``minimum``."""
    target = max(size, minimum)
    return target + (-target) % multiple


def _mirror_index(size: int | torch.Tensor, multiple: int, minimum: int, device: torch.device) -> torch.Tensor:
    """Source rows (or columns) of a side of ``size`` padded to :func:`padded_size`, mirrored periodically."""
    size = torch.as_tensor(size, device=device)
    minimum = padded_size(minimum, multiple)
    target = torch.clamp(size + (-size) % multiple, min=minimum)
    i = torch.arange(target, device=device)
    period = torch.clamp(2 * (size - 1), min=1)  # a side of 1 pixel: every index is 0
    j = torch.remainder(i, period)
    return torch.where(j < size, j, period - j)


def pad_for_network(x: torch.Tensor, multiple: int, minimum: int = 1) -> torch.Tensor:
    """``x`` (N x C x H x W) padded at the bottom and right to :func:`padded_size` of H and W (mirrored).

    Equal to ``F.pad(x, ..., mode="reflect")`` whenever reflection can reach; crop the result back with
    ``[..., :H, :W]``.
    """
    h, w = x.shape[-2], x.shape[-1]
    rows = _mirror_index(h, multiple, minimum, x.device)
    cols = _mirror_index(w, multiple, minimum, x.device)
    return x.index_select(-2, rows).index_select(-1, cols)
