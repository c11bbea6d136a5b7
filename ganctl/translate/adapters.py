"""How each kind of checkpoint is translated: which network runs, which image mode it reads, and how.

A :class:`ModelAdapter` per checkpoint ``kind``, made by a factory registered with :func:`register_adapter`:

* ``cyclegan``: ``a2b`` runs ``G_A`` (domain A -> B), ``b2a`` runs ``G_B``; images in [-1, 1];
* ``colorize``: image -> Lab lightness -> ``G`` -> ab -> colour image. Images are decoded as RGB, so a
  gray image arrives with three equal channels and a colour image is made gray by keeping only its Lab
  lightness (the exact L the model was trained on, not PIL's luma). The output keeps the input's L and
  takes a and b from the generator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ganctl.color import lab_normalized_to_rgb, rgb_to_lab_normalized
from ganctl.errors import GanctlError, OptionError


@dataclass
class ModelAdapter:
    """How one kind of model reads images and writes them back.

    ``prepare`` maps a float batch N x C x H x W in [0, 1] (C = 1 for ``in_mode`` ``L``, 3 for ``RGB``)
    to the network input; ``finish`` maps (prepared input, network output) to images in [0, 1] with
    1 or 3 channels. Both run on the model's device.
    """

    network: str
    in_mode: str
    out_channels: int
    prepare: Callable[[torch.Tensor], torch.Tensor]
    finish: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


AdapterFactory = Callable[[dict[str, Any], str], ModelAdapter]
_ADAPTERS: dict[str, AdapterFactory] = {}


def register_adapter(kind: str) -> Callable[[AdapterFactory], AdapterFactory]:
    """Decorator: the adapter factory ``(config, direction) -> ModelAdapter`` for checkpoints of ``kind``."""

    def decorator(factory: AdapterFactory) -> AdapterFactory:
        _ADAPTERS[kind] = factory
        return factory

    return decorator


def adapter_for(config: dict[str, Any], direction: str) -> ModelAdapter:
    """The adapter for a checkpoint config (its ``kind``), or a GanctlError naming the kinds known."""
    if direction not in ("a2b", "b2a"):
        raise OptionError("--direction", f"must be a2b or b2a, got {direction!r}")
    kind = config.get("kind")
    if kind not in _ADAPTERS:
        known = ", ".join(sorted(_ADAPTERS))
        raise GanctlError(f"cannot translate with a {kind!r} model; translate serves: {known}")
    return _ADAPTERS[kind](config, direction)


def _mode_for(channels: int) -> str:
    if channels not in (1, 3):
        raise GanctlError(f"model works on {channels}-channel images; only 1 (gray) and 3 (colour) are supported")
    return "L" if channels == 1 else "RGB"


@register_adapter("cyclegan")
def cyclegan_adapter(config: dict[str, Any], direction: str) -> ModelAdapter:
    """CycleGAN: ``a2b`` runs ``G_A`` (domain A -> B), ``b2a`` runs ``G_B``; images in [-1, 1]."""
    channels = config.get("channels") or {}
    src, dst = ("A", "B") if direction == "a2b" else ("B", "A")
    return ModelAdapter(
        network="G_A" if direction == "a2b" else "G_B",
        in_mode=_mode_for(int(channels.get(src, 3))),
        out_channels=int(channels.get(dst, 3)),
        prepare=lambda x: x * 2 - 1,
        finish=lambda _x, y: (y + 1) * 0.5,
    )


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


@register_adapter("cut")
def cut_adapter(config: dict[str, Any], direction: str) -> ModelAdapter:
    """CUT / FastCUT: one-sided, ``G`` maps A -> B (images in [-1, 1]); there is no B -> A generator."""
    if direction != "a2b":
        raise OptionError("--direction", "a cut model is one-sided: it translates A -> B only (a2b)")
    channels = config.get("channels") or {}
    return ModelAdapter(network="G", in_mode=_mode_for(int(channels.get("A", 3))),
                        out_channels=int(channels.get("B", 3)), prepare=lambda x: x * 2 - 1,
                        finish=lambda _x, y: (y + 1) * 0.5)


@register_adapter("pix2pix")
def pix2pix_adapter(config: dict[str, Any], direction: str) -> ModelAdapter:
    """pix2pix: ``G`` maps the input side to the target side it was trained on (``direction`` AtoB or BtoA)."""
    trained = config.get("direction", "AtoB")
    if direction != "a2b":
        raise OptionError("--direction", f"a pix2pix model translates one way only, the way it was trained "
                                         f"({trained}): use a2b, or train one with the other --direction")
    channels = config.get("channels") or {}
    src, dst = ("A", "B") if trained == "AtoB" else ("B", "A")
    return ModelAdapter(network="G", in_mode=_mode_for(int(channels.get(src, 3))),
                        out_channels=int(channels.get(dst, 3)), prepare=lambda x: x * 2 - 1,
                        finish=lambda _x, y: (y + 1) * 0.5)
