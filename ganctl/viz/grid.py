"""The results figure of a run: real test images and what the model made of them at chosen epochs.

* a model that translates (its kind has a translate adapter: cyclegan, cut, pix2pix, colorize): one panel
  per direction it translates (cyclegan: A -> B and B -> A); rows are test images, columns are the input,
  its translation by each chosen epoch's checkpoint, run exactly as ``ganctl translate`` runs it, and the
  true translation where the data are paired (pix2pix's targets, colorize's colour photos). What a
  direction reads and whether it has a truth is its adapter's answer (:attr:`ModelAdapter.examples`).
* gan: one panel of a fixed noise batch through each chosen epoch's generator.
* any other run (classifier), or one without per-epoch checkpoints: the training's own
  ``samples/epoch_NNNN.png`` of the chosen epochs, side by side.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ganctl import console
from ganctl.data.imageio import open_image, pil_to_tensor, to_mode
from ganctl.errors import InputError, OptionError
from ganctl.runs import run_dataset
from ganctl.viz.figures import check_figure_path, new_figure, save_figure
from ganctl.viz.loading import (
    checkpoint_config,
    epoch_checkpoints,
    load_networks,
    parse_epochs,
    read_labels,
    square_crop,
)

_SAMPLE_FILE = re.compile(r"^epoch_(\d+)\.(png|jpg|jpeg)$")
_PAD = 2
# Small images (digits) are drawn bigger so they stay readable; large photos smaller so the figure fits.
_TILE_TARGET_PX = 96


def sample_images(run_dir: str | os.PathLike) -> dict[int, Path]:
    """The per-epoch sample grids the training wrote, ``{epoch: path}`` sorted by epoch."""
    folder = Path(run_dir) / "samples"
    if not folder.is_dir():
        return {}
    found = {int(m.group(1)): p for p in folder.iterdir() if (m := _SAMPLE_FILE.match(p.name))}
    return dict(sorted(found.items()))


def _to_display(x: torch.Tensor) -> torch.Tensor:
    """A batch in [-1, 1] (1 or 3 channels) as RGB in [0, 1]."""
    x = x.detach().float().cpu().clamp(-1, 1).add(1).div(2)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x[:, :3]


def _tile_matrix(columns: list[torch.Tensor]) -> np.ndarray:
    """Columns of N x 3 x H x W images as one H x W x 3 array: row i = image i across the columns,
    every image framed by ``_PAD`` white pixels."""
    grid = torch.stack(columns, dim=1)  # N x K x 3 x H x W
    n, k, c, h, w = grid.shape
    grid = torch.nn.functional.pad(grid, (_PAD, 0, _PAD, 0), value=1.0)
    grid = grid.permute(0, 3, 1, 4, 2).reshape(n * (h + _PAD), k * (w + _PAD), c)
    grid = torch.nn.functional.pad(grid, (0, 0, 0, _PAD, 0, _PAD), value=1.0)
    return grid.numpy()


def _draw_panel(ax, image, n_rows: int, n_cols: int, tile: int, col_labels: list[str],
                row_labels: list[str] | None, title: str) -> None:
    ax.imshow(image, interpolation="nearest" if tile < 128 else "antialiased")
    step = tile + _PAD
    ax.set_xticks([_PAD + step * i + tile / 2 for i in range(n_cols)], col_labels, fontsize=9)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    if row_labels:
        ax.set_yticks([_PAD + step * i + tile / 2 for i in range(n_rows)], row_labels, fontsize=9)
        ax.set_ylabel("label (dataset.json)", fontsize=9)
    else:
        ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title:
        ax.set_title(title, fontsize=11, fontweight="bold", pad=18)


def _tile_scale(tile: int) -> float:
    """Screen pixels per image pixel for a matrix of ``tile``-sized images."""
    return _TILE_TARGET_PX / tile if tile < _TILE_TARGET_PX or tile > 160 else 1.0


def _panel_figure(panels: list[dict[str, Any]], suptitle: str, scale: float):
    """One figure with the panels side by side, each an image matrix with column (and row) labels."""
    widths = [p["image"].shape[1] * scale / 100 for p in panels]
    titles = any(p["title"] for p in panels)
    height = max(p["image"].shape[0] for p in panels) * scale / 100 + (1.2 if titles else 0.9)
    margin = sum(0.6 if p.get("row_labels") else 0.2 for p in panels) + 0.3
    # Never narrower than the title needs (about 0.09 inch per character at 12 pt).
    fig = new_figure(max(sum(widths) + margin, 0.09 * len(suptitle) + 0.4), height, layout="constrained")
    axes = fig.subplots(1, len(panels), width_ratios=widths, squeeze=False)[0]
    for ax, p in zip(axes, panels):
        _draw_panel(ax, p["image"], p["rows"], p["cols"], p["tile"], p["col_labels"], p.get("row_labels"), p["title"])
    fig.suptitle(suptitle, fontsize=12)
    return fig


def _pick(items: list[Any], n: int, seed: int) -> list[Any]:
    """Up to ``n`` of ``items``: a seeded random subset kept in order (all when fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[i] for i in sorted(random.Random(seed).sample(range(len(items)), n))]


def _square_uint8(images: list[Image.Image], mode: str, side: int) -> list[np.ndarray]:
    """Decoded images in ``mode`` (L or RGB), short side resized to ``side`` and centre-cropped: uint8 arrays."""
    out = []
    for img in images:
        square = square_crop(pil_to_tensor(to_mode(img, mode)), side)
        arr = square.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
        out.append(arr[:, :, 0] if arr.shape[2] == 1 else arr)
    return out


def _arrays_display(arrays: list[np.ndarray]) -> torch.Tensor:
    """uint8 images (H x W or H x W x C) of one size as an RGB batch in [0, 1]."""
    x = torch.stack([torch.from_numpy(a if a.ndim == 3 else a[:, :, None]) for a in arrays])
    x = x.permute(0, 3, 1, 2).float().div(255)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x[:, :3]


def _translates(config: dict[str, Any]) -> bool:
    """True when every direction of the checkpoint's kind says what it translates in a dataset (its adapter's
    ``examples``): the grid then shows real inputs and their translations."""
    from ganctl.translate.adapters import adapter_directions, adapter_for

    directions = adapter_directions(config)
    return bool(directions) and all(adapter_for(config, d).examples is not None for d in directions)


@dataclass
class _DirectionPanel:
    """One direction of a translation figure: what it translates, the chosen examples and the columns so far."""

    examples: Any  # the adapter's Examples
    chosen: list[Any]  # the Example rows
    inputs: list[np.ndarray]  # uint8, as the translator takes them
    truths: list[np.ndarray] | None
    fakes: list[torch.Tensor] = field(default_factory=list)  # one RGB batch per chosen epoch


def _direction_panel(config: dict[str, Any], direction: str, data_dir: Path, split: str, n: int,
                     seed: int) -> _DirectionPanel:
    """The examples of one direction (its adapter's answer), ``n`` of them chosen and cut to squares."""
    from ganctl.translate.adapters import adapter_for

    adapter = adapter_for(config, direction)
    examples = adapter.examples(data_dir, split)
    chosen = _pick(examples.items, n, seed)
    if not chosen:
        raise InputError(data_dir, f"has no images for {examples.title}")
    opened = [example.open() for example in chosen]
    side = int(config.get("image_size") or min(opened[0][0].size))
    inputs = _square_uint8([source for source, _ in opened], adapter.in_mode, side)
    truths = None
    if examples.truth_label is not None and all(truth is not None for _, truth in opened):
        truths = _square_uint8([truth for _, truth in opened], "L" if adapter.out_channels == 1 else "RGB", side)
    return _DirectionPanel(examples, chosen, inputs, truths)


@torch.no_grad()
def _translation_panels(run_dir: Path, epochs: list[int], ckpts: dict[int, Path], n: int, split: str,
                        data: str | None, device: torch.device, seed: int) -> list[dict[str, Any]]:
    """One panel per direction the model translates: its inputs | their translation by each chosen epoch's
    checkpoint (run as ``ganctl translate`` runs it) | their true translations, where the dataset has them."""
    from ganctl.translate.adapters import adapter_directions
    from ganctl.translate.translator import load_translator

    config = checkpoint_config(ckpts[epochs[0]])
    data_dir = run_dataset(run_dir, data)
    labels = read_labels(data_dir)
    directions = {d: _direction_panel(config, d, data_dir, split, n, seed) for d in adapter_directions(config)}
    for epoch in console.track(epochs, "translating with each epoch", unit="epoch"):
        for direction, panel in directions.items():
            translator = load_translator(ckpts[epoch], direction, device=str(device), precision="fp32")
            panel.fakes.append(_arrays_display(translator(panel.inputs)))

    panels = []
    for panel in directions.values():
        found = [labels.get(example.name) for example in panel.chosen]
        row_labels = [str(v) for v in found] if all(v is not None for v in found) else None
        columns = [_arrays_display(panel.inputs), *panel.fakes]
        cols = [panel.examples.input_label] + [f"epoch {e}" for e in epochs]
        if panel.truths is not None:
            columns.append(_arrays_display(panel.truths))
            cols.append(panel.examples.truth_label)
        panels.append({"image": _tile_matrix(columns), "rows": len(panel.chosen), "cols": len(cols),
                       "tile": columns[0].shape[-1], "col_labels": cols, "row_labels": row_labels,
                       "title": panel.examples.title})
    return panels


@torch.no_grad()
def _gan_panels(epochs: list[int], ckpts: dict[int, Path], n: int, seed: int,
                device: torch.device) -> list[dict[str, Any]]:
    columns = []
    z = None
    for epoch in console.track(epochs, "sampling with each epoch", unit="epoch"):
        nets, config = load_networks(ckpts[epoch], names=["G"], device=device)
        if z is None:
            latent_dim = int(config.get("latent_dim", 64))
            z = torch.randn(n, latent_dim, generator=torch.Generator().manual_seed(seed))
        try:
            out = nets["G"](z.to(device))
        except RuntimeError:  # convolutional (DCGAN) generators take the noise as N x latent x 1 x 1
            out = nets["G"](z[:, :, None, None].to(device))
        if out.ndim == 2:  # a fully connected generator may return flat images
            ch = _image_channels(config)
            side = int(config.get("image_size") or round((out.shape[1] / ch) ** 0.5))
            out = out.view(n, ch, side, side)
        columns.append(_to_display(out))
    tile = columns[0].shape[-1]
    image = _tile_matrix(columns)
    return [{"image": image, "rows": n, "cols": len(epochs), "tile": tile,
             "col_labels": [f"epoch {e}" for e in epochs], "title": f"{n} fixed noise vectors"}]


def _image_channels(config: dict[str, Any]) -> int:
    """Channels of a gan run's images: ``channels`` as a number or a one-entry dict, else 1."""
    ch = config.get("channels", 1)
    if isinstance(ch, dict):
        ch = next(iter(ch.values()), 1)
    return int(ch)


def _sample_panels(epochs: list[int], samples: dict[int, Path]) -> list[dict[str, Any]]:
    panels = []
    for epoch in epochs:
        image = np.asarray(to_mode(open_image(samples[epoch]), "RGB"))
        panels.append({"image": image, "rows": 1, "cols": 1, "tile": max(image.shape[:2]),
                       "col_labels": [f"epoch {epoch}"], "title": ""})
    return panels


def _epochs_text(epochs: list[int]) -> str:
    return ("epochs " if len(epochs) > 1 else "epoch ") + ", ".join(map(str, epochs))


def build_grid(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, epochs: str | None = None,
               n: int = 8, split: str = "test", data: str | None = None, device: str = "cpu",
               seed: int = 0, overwrite: bool = False) -> Path:
    """Draw the run's results figure for the chosen ``epochs`` ("1,8,16"; default: up to 4 spread out).

    ``out`` defaults to ``RUN/grid.png``; an existing file is replaced only with ``overwrite``. Returns the
    written path.
    """
    from ganctl.device import resolve_device
    from ganctl.runs import read_config

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(run_dir, "no such run folder")
    if n < 1:
        raise OptionError("--n", "must be at least 1")
    out_path = check_figure_path(out or run_dir / "grid.png", overwrite=overwrite)
    ckpts = epoch_checkpoints(run_dir)
    config = checkpoint_config(ckpts[next(iter(ckpts))]) if ckpts else {}
    kind = config.get("kind")
    if kind is None and (run_dir / "config.json").exists():
        kind = read_config(run_dir).get("kind")
    name = run_dir.resolve().name
    dev = resolve_device(device)
    if ckpts and _translates(config):
        chosen = parse_epochs(epochs, list(ckpts))
        panels = _translation_panels(run_dir, chosen, ckpts, n, split, data, dev, seed)
        title = f"{name}: {split} images translated by the generators of {_epochs_text(chosen)}"
        scale = _tile_scale(panels[0]["tile"])
    elif ckpts and kind == "gan":
        chosen = parse_epochs(epochs, list(ckpts))
        panels = _gan_panels(chosen, ckpts, n, seed, dev)
        title = f"{name}: generated images over training"
        scale = _tile_scale(panels[0]["tile"])
    else:
        samples = sample_images(run_dir)
        if not samples:
            raise InputError(run_dir, "has neither per-epoch checkpoints nor samples/epoch_NNNN.png to draw")
        chosen = parse_epochs(epochs, list(samples), default_count=3)
        panels = _sample_panels(chosen, samples)
        title = f"{name}: training samples at {_epochs_text(chosen)}"
        # Fit the saved grids side by side in about 1200 pixels, never enlarged more than 4x.
        scale = min(4.0, 1200 / sum(p["image"].shape[1] for p in panels))
    console.info(title)
    for panel in panels:
        if panel["title"]:
            console.info(f"  {panel['title']}: {' | '.join(panel['col_labels'])}")
    fig = _panel_figure(panels, title, scale)
    return save_figure(fig, out_path)
