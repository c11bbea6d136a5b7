"""Samples from a trained unconditional GAN: ``ganctl generate RUN --n 64 --out DIR|FILE.png``.

The generator is rebuilt from the checkpoint alone (its config holds the network spec and the latent
size). The noise comes from a seeded generator, so the same ``--seed`` gives the same images. A target
with an image extension gets one grid; any other target is a folder receiving ``sample_00000.png``, ...
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torchvision.utils import make_grid

from ganctl import console
from ganctl.checkpoint import load_checkpoint, resolve_checkpoint_path
from ganctl.data.imageio import is_image_path, write_image
from ganctl.device import resolve_device
from ganctl.errors import CheckpointError, OptionError, OutputError
from ganctl.fsutil import check_output_parent
from ganctl.models import create_model


@dataclass
class GenerateResult:
    """What :func:`generate_samples` wrote."""

    checkpoint: Path
    count: int
    paths: list[Path] = field(default_factory=list)
    grid: bool = False


def load_generator(model: str | os.PathLike, device: torch.device | str = "cpu") -> tuple[torch.nn.Module, dict]:
    """The generator ``G`` of a ``gan`` run folder or checkpoint, in eval mode on ``device``, and its config."""
    path = resolve_checkpoint_path(model)
    ckpt = load_checkpoint(path, device="cpu", with_state=False)
    config = ckpt.config
    if config.get("kind") != "gan":
        hint = "; use 'ganctl translate' for it" if config.get("kind") in ("cyclegan", "colorize") else ""
        raise CheckpointError(path, f"is a {config.get('kind', 'unknown')!r} model, not a gan model{hint}")
    spec = (config.get("networks") or {}).get("G")
    if not spec or "latent_dim" not in config:
        raise CheckpointError(path, "has no generator spec or latent size in its config")
    net = create_model(**spec)
    ckpt.load_into({"G": net})
    return net.eval().requires_grad_(False).to(resolve_device(device) if isinstance(device, str) else device), config


def pixels_from_noise(net: torch.nn.Module, noise: torch.Tensor) -> torch.Tensor:
    """The generator's images for ``noise`` (N x latent), as pixels in [0, 1] (float32)."""
    return (net(noise).float().clamp(-1, 1) + 1) / 2


@torch.inference_mode()
def sample_images(net: torch.nn.Module, latent_dim: int, n: int, seed: int = 0, batch_size: int = 256) -> torch.Tensor:
    """``n`` images in [0, 1] (N x C x H x W, on the CPU) from seeded standard normal noise."""
    device = next(net.parameters()).device
    noise = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))
    return torch.cat([pixels_from_noise(net, noise[i: i + batch_size].to(device)).cpu()
                      for i in range(0, n, batch_size)])


def generate_samples(model: str | os.PathLike, out: str | os.PathLike, n: int = 64, *, seed: int = 0,
                     device: str = "auto", batch_size: int = 256, overwrite: bool = False) -> GenerateResult:
    """Write ``n`` samples of a gan model: one grid when ``out`` is an image file name, else files in a folder."""
    if n <= 0:
        raise OptionError("--n", f"must be positive, got {n}")
    if batch_size <= 0:
        raise OptionError("--batch-size", f"must be positive, got {batch_size}")
    out = Path(out)
    check_output_parent(out)
    as_grid = is_image_path(out)
    if as_grid and out.is_dir():
        raise OutputError(out, "is a folder; a grid needs a file name (or drop the extension for a folder)")
    if not as_grid and out.suffix and not out.is_dir():
        raise OptionError("--out", f"{out.name}: a grid needs an image file name (.png, .jpg),"
                                   " a folder of samples a name without extension")
    if not as_grid and out.exists() and not out.is_dir():
        raise OutputError(out, "exists and is not a folder")
    net, config = load_generator(model, device)
    checkpoint = resolve_checkpoint_path(model)
    images = sample_images(net, int(config["latent_dim"]), n, seed, batch_size)
    result = GenerateResult(checkpoint=checkpoint, count=n, grid=as_grid)
    if as_grid:
        grid = make_grid(images, nrow=math.ceil(math.sqrt(n)), padding=2, pad_value=1.0)
        result.paths.append(write_image(grid, out, overwrite=overwrite))
        return result
    names = [out / f"sample_{i:05d}.png" for i in range(n)]
    if not overwrite:
        taken = [p for p in names if p.exists()]
        if taken:  # refuse before writing anything, so a folder is never half overwritten
            raise OutputError(taken[0], f"exists already ({len(taken)} of the {n} names are taken; use --overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    with console.progress("writing samples", total=n, unit="img") as advance:
        for image, path in zip(images, names):
            result.paths.append(write_image(image, path, overwrite=True))
            advance()
    return result
