"""How ``translate`` runs a colorize model: image -> Lab lightness -> G -> ab -> colour image.

Images are decoded as RGB, so a gray image arrives with three equal channels and a colour image is
made gray by keeping only its Lab lightness (the exact L the model was trained on, not PIL's luma).
The output keeps the input's L and takes a and b from the generator; the translator pads to the
generator's ``size_multiple`` and crops back, so any image size works.
"""

from __future__ import annotations

from typing import Any

import torch

from ganctl.color import lab_normalized_to_rgb, rgb_to_lab_normalized
from ganctl.errors import OptionError
from ganctl.translate import ModelAdapter, register_adapter


def lightness_input(rgb: torch.Tensor) -> torch.Tensor:
    """RGB batch in [0, 1] (N x 3 x H x W, gray images as three equal channels) -> L scaled to [-1, 1]."""
    l_norm, _ = rgb_to_lab_normalized(rgb.float())
    return l_norm


def colour_output(l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    """L and predicted ab (both scaled to [-1, 1]) -> RGB in [0, 1]."""
    return lab_normalized_to_rgb(l_norm.float(), ab_norm.float().clamp(-1, 1))


@register_adapter("colorize")
def colorize_adapter(config: dict[str, Any], direction: str) -> ModelAdapter:
    """Adapter for ``"kind": "colorize"`` checkpoints: generator ``G`` maps L to ab in Lab scaled to [-1, 1]."""
    if direction != "a2b":
        raise OptionError("--direction", "a colorize model only translates gray -> colour (a2b)")
    space = config.get("color_space", "lab")
    if space != "lab":
        raise OptionError("--model", f"colorize model in colour space {space!r}; this ganctl knows only 'lab'")
    return ModelAdapter(network="G", in_mode="RGB", out_channels=3, prepare=lightness_input, finish=colour_output)
