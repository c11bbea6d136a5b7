"""Padding an image batch up to a generator's size multiple: reflect, or replicate when the image is too small.

One definition for :class:`~ganctl.translate.translator.Translator` and the graphs ``ganctl export`` writes.
It is written with index arithmetic on tensors (no Python branch on a size), so a traced graph keeps it for
every input size: the pad widths and the choice between reflect and replicate are computed from the input's
shape when the graph runs.
"""

from __future__ import annotations

import torch


def _reflect_index(size: int | torch.Tensor, pad: int | torch.Tensor, device: torch.device) -> torch.Tensor:
    """Source rows (or columns) of ``size`` + ``pad`` reflected ones; negative where ``pad`` >= ``size``."""
    i = torch.arange(size + pad, device=device)
    return torch.where(i < size, i, 2 * (size - 1) - i)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """``x`` (N x C x H x W) padded at the bottom and right to H and W multiples of ``multiple``.

    Reflect padding (as ``F.pad(..., mode="reflect")``), or replicate padding on both sides when the image is
    too small to reflect (a pad as wide as the image side). Crop the result back with ``[..., :H, :W]``.
    """
    h, w = x.shape[-2], x.shape[-1]
    ph, pw = (-h) % multiple, (-w) % multiple
    rows, cols = _reflect_index(h, ph, x.device), _reflect_index(w, pw, x.device)
    reflect = (rows.min() >= 0) & (cols.min() >= 0)
    rows = torch.where(reflect, rows, torch.arange(h + ph, device=x.device).clamp(max=h - 1))
    cols = torch.where(reflect, cols, torch.arange(w + pw, device=x.device).clamp(max=w - 1))
    return x.index_select(-2, rows).index_select(-1, cols)
