"""What the viz commands read from a run: epoch checkpoints, rebuilt networks, test images and labels."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import torch

from ganctl.checkpoint import load_checkpoint, read_checkpoint_metadata
from ganctl.data.imageio import list_images, read_image
from ganctl.errors import CheckpointError, InputError, OptionError
from ganctl.models import create_model

_EPOCH_FILE = re.compile(r"^epoch_(\d+)\.safetensors$")


def epoch_checkpoints(run_dir: str | os.PathLike) -> dict[int, Path]:
    """The run's per-epoch checkpoints, ``{epoch: path}`` sorted by epoch (empty when there are none)."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return {}
    found = {int(m.group(1)): p for p in folder.iterdir() if (m := _EPOCH_FILE.match(p.name))}
    return dict(sorted(found.items()))


def parse_epochs(text: str | None, available: list[int], default_count: int = 4) -> list[int]:
    """Turn ``--epochs 1,8,16`` into a list of available epochs.

    ``None`` or ``""`` picks ``default_count`` evenly spaced epochs from first to last; ``-1`` means the last.
    An epoch without a checkpoint is an :class:`OptionError` listing the ones that exist.
    """
    if not available:
        raise OptionError("--epochs", "the run has no per-epoch checkpoints (checkpoints/epoch_NNNN.safetensors)")
    if not text:
        if len(available) <= default_count:
            return list(available)
        picks = {available[round(i * (len(available) - 1) / (default_count - 1))] for i in range(default_count)}
        return sorted(picks)
    epochs = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise OptionError("--epochs", f"{part!r} is not an epoch number (give e.g. 1,8,16)") from None
        if value == -1:
            value = available[-1]
        if value not in available:
            raise OptionError("--epochs", f"no checkpoint for epoch {value}; available: {_short_list(available)}")
        if value not in epochs:
            epochs.append(value)
    if not epochs:
        raise OptionError("--epochs", "no epoch given (give e.g. 1,8,16)")
    return epochs


def _short_list(values: list[int], limit: int = 12) -> str:
    if len(values) <= limit:
        return ", ".join(map(str, values))
    return ", ".join(map(str, values[: limit // 2])) + ", ..., " + ", ".join(map(str, values[-limit // 2 :]))


def checkpoint_config(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON model config stored in a checkpoint's metadata, without loading its tensors."""
    try:
        config = json.loads(read_checkpoint_metadata(path).get("config", "{}"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(path, f"has corrupt metadata ({exc})") from None
    return config if isinstance(config, dict) else {}


def load_networks(path: str | os.PathLike, names: list[str] | None = None,
                  device: torch.device | str = "cpu") -> tuple[dict[str, torch.nn.Module], dict[str, Any]]:
    """Rebuild the networks named in a checkpoint's config (default: every ``G*``) in eval mode.

    Returns ``(networks, config)``. A name the checkpoint lacks is a :class:`CheckpointError`.
    """
    ckpt = load_checkpoint(path, device="cpu", with_state=False)
    specs = ckpt.config.get("networks") or {}
    if names is None:
        names = [n for n in specs if n.startswith("G")]
    nets = {}
    for name in names:
        spec = specs.get(name)
        if not isinstance(spec, dict) or "name" not in spec:
            raise CheckpointError(path, f"has no network spec for {name!r} in its config")
        nets[name] = create_model(spec["name"], spec.get("kwargs") or {})
    try:
        ckpt.load_into(nets)
    except RuntimeError as exc:  # shapes differ: the spec no longer builds the network that was saved
        first = next((line.strip() for line in str(exc).splitlines()[1:] if line.strip()), str(exc))
        raise CheckpointError(path, f"weights do not fit the networks its config builds ({first}); was it saved "
                                    "by another ganctl version with different network defaults?") from None
    for net in nets.values():
        net.to(device).eval()
    return nets, ckpt.config


def run_folder_of(model: str | os.PathLike) -> Path | None:
    """The run folder of ``--model``: the folder itself, or the run a ``checkpoints/x.safetensors`` sits in."""
    p = Path(model)
    if p.is_dir():
        return p
    if p.parent.name == "checkpoints" and (p.parent.parent / "config.json").exists():
        return p.parent.parent
    return None


def read_labels(data_dir: Path) -> dict[str, int]:
    """Per-image labels from ``dataset.json`` (``{"testA/00001.png": 7}``); empty when there are none."""
    meta_path = data_dir / "dataset.json"
    if not meta_path.exists():
        return {}
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(meta_path, f"is not valid JSON ({exc})") from None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    if not isinstance(labels, dict):
        return {}
    return {str(k).replace("\\", "/"): int(v) for k, v in labels.items() if isinstance(v, (int, float))}


def pick_images(data_dir: Path, folder: str, n: int, seed: int = 0) -> list[Path]:
    """Up to ``n`` images of ``data_dir/folder``, a seeded random subset in name order (all when fewer)."""
    path = data_dir / folder
    if not path.is_dir():
        raise InputError(path, "no such folder (a dataset needs trainA/ trainB/ testA/ testB/)")
    files = list_images(path)
    if not files:
        raise InputError(path, "has no images")
    if len(files) > n:
        files = sorted(random.Random(seed).sample(files, n))
    return files


def load_batch(paths: list[Path], channels: int, size: int | None, multiple: int = 1) -> torch.Tensor:
    """Read images as one N x C x S x S batch in [-1, 1]: resize the short side to ``size``, centre crop.

    Without ``size`` the first image's short side is used; the side is rounded down to ``multiple``.
    """
    mode = "L" if channels == 1 else "RGB"
    images = [read_image(p, mode) for p in paths]
    side = int(size) if size else min(images[0].shape[-2:])
    side = max(multiple, side - side % max(1, multiple))
    return torch.stack([square_crop(img, side) for img in images]).clamp_(0, 1).mul_(2).sub_(1)


def square_crop(img: torch.Tensor, side: int) -> torch.Tensor:
    """Resize a C x H x W image so its short side is ``side`` (antialiased), then centre crop a square."""
    h, w = img.shape[-2:]
    if min(h, w) != side:
        scale = side / min(h, w)
        new = (max(side, round(h * scale)), max(side, round(w * scale)))
        img = torch.nn.functional.interpolate(img[None], size=new, mode="bilinear", antialias=True,
                                              align_corners=False)[0]
        h, w = new
    top, left = (h - side) // 2, (w - side) // 2
    return img[:, top : top + side, left : left + side]


def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Convert a batch between gray (1) and colour (3) channels (ITU-R 601 luma for colour -> gray)."""
    if x.shape[1] == channels:
        return x
    if x.shape[1] == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1).contiguous()
    if x.shape[1] == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * weights).sum(1, keepdim=True)
    raise ValueError(f"cannot convert {x.shape[1]} channels to {channels}")


def domain_channels(config: dict[str, Any]) -> tuple[int, int]:
    """Channels of domains A and B from a checkpoint config's ``channels`` (3 when missing)."""
    ch = config.get("channels") or {}
    return int(ch.get("A", 3)), int(ch.get("B", 3))
