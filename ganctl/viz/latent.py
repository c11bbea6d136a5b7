"""Where the generators put the two domains: bottleneck features projected to 2-D and plotted.

Any model that translates (its kind has a translate adapter) can be plotted if its generators have
``encode(x)`` (the architecture contract): each generator (cyclegan: ``G_A`` and ``G_B``; cut, pix2pix,
colorize: ``G``) encodes test images of *both* domains, read as it reads its input in ``ganctl translate``
(the other domain's images converted to its input channels, gray <-> colour, then its adapter's
``prepare``: colorize's Lab lightness) and run in translate's test mode. Its bottleneck feature map is
averaged over space, and the features are projected to 2-D with PCA (torch SVD) or t-SNE (scikit-learn,
optional). Points are coloured by domain and, where ``dataset.json`` has labels, drawn as their digit.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ganctl import console
from ganctl.checkpoint import resolve_checkpoint_path
from ganctl.data.imageio import read_image
from ganctl.errors import GanctlError, OptionError
from ganctl.runs import run_dataset
from ganctl.viz.figures import check_figure_path, new_figure, save_figure
from ganctl.viz.loading import (
    checkpoint_config,
    domain_channels,
    load_batch,
    pick_images,
    read_labels,
    run_folder_of,
    to_channels,
)

METHODS = ("pca", "tsne")
DOMAIN_COLOURS = {"A": "#1f77b4", "B": "#d62728"}
_CHUNK = 64


@torch.no_grad()
def encode_features(net: torch.nn.Module, images: torch.Tensor, batch_size: int = 128,
                    device: torch.device | str = "cpu") -> torch.Tensor:
    """``net.encode`` of a batch in [-1, 1], averaged over space: an N x C float tensor on the CPU."""
    if not callable(getattr(net, "encode", None)):
        raise GanctlError(f"network {type(net).__name__} has no encode(x); it cannot be used for viz latent")
    feats = []
    for start in range(0, images.shape[0], batch_size):
        z = net.encode(images[start : start + batch_size].to(device)).float()
        feats.append((z.flatten(2).mean(2) if z.ndim > 2 else z).cpu())
    return torch.cat(feats)


def pca_2d(features: torch.Tensor) -> tuple[np.ndarray, tuple[float, float]]:
    """Project N x D features on their first two principal axes (exact SVD, signs fixed).

    Returns the N x 2 coordinates and the fraction of variance each axis explains.
    """
    x = features.double()
    x = x - x.mean(0, keepdim=True)
    _, s, vh = torch.linalg.svd(x, full_matrices=False)
    axes = vh[:2]
    if axes.shape[0] < 2:  # one feature dimension: the second axis carries nothing
        axes = torch.cat([axes, torch.zeros_like(axes)])
    # SVD signs are arbitrary; fix them so the same features always give the same picture.
    signs = torch.sign(axes.gather(1, axes.abs().argmax(1, keepdim=True)))
    signs[signs == 0] = 1
    axes = axes * signs
    total = float((s**2).sum()) or 1.0
    ratios = [float(v**2) / total for v in s[:2]] + [0.0] * (2 - min(2, s.numel()))
    return (x @ axes.T).numpy(), (ratios[0], ratios[1])


def tsne_2d(features: torch.Tensor, seed: int = 0) -> np.ndarray:
    """t-SNE of N x D features to 2-D with scikit-learn (PCA to 50 dimensions first, as usual)."""
    try:
        from sklearn.manifold import TSNE
    except ImportError:
        raise OptionError("--method", "tsne needs scikit-learn: pip install 'ganctl[tsne]' (or use --method pca)") \
            from None
    n = features.shape[0]
    if n < 5:
        raise OptionError("--method", f"tsne needs at least 5 points, got {n}")
    x = features.double()
    if x.shape[1] > 50:
        x = x - x.mean(0, keepdim=True)
        _, _, vh = torch.linalg.svd(x, full_matrices=False)
        x = x @ vh[:50].T
    perplexity = min(30.0, (n - 1) / 3)
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(x.numpy())


def project_2d(features: torch.Tensor, method: str = "pca", seed: int = 0) -> tuple[np.ndarray, tuple[str, str]]:
    """2-D coordinates of the features and the axis names for ``method`` (pca or tsne)."""
    if method == "pca":
        coords, (r1, r2) = pca_2d(features)
        return coords, (f"PC 1 ({r1:.1%} of variance)", f"PC 2 ({r2:.1%} of variance)")
    if method == "tsne":
        return tsne_2d(features, seed), ("t-SNE 1", "t-SNE 2")
    raise OptionError("--method", f"unknown method {method!r}; use {' or '.join(METHODS)}")


def _scatter(ax, coords: np.ndarray, domains: np.ndarray, labels: np.ndarray | None) -> None:
    """Points coloured by domain; drawn as their digit when labels exist."""
    for domain, colour in DOMAIN_COLOURS.items():
        mask = domains == domain
        if labels is None:
            ax.scatter(coords[mask, 0], coords[mask, 1], s=12, c=colour, alpha=0.6, linewidths=0)
            continue
        for digit in np.unique(labels[mask]):
            sel = mask & (labels == digit)
            ax.scatter(coords[sel, 0], coords[sel, 1], s=42, c=colour, alpha=0.75, marker=f"${int(digit)}$",
                       linewidths=0)
    ax.grid(True, alpha=0.25)
    ax.tick_params(labelsize=8)


def _encoders(ckpt: Path, config: dict, device: torch.device) -> list:
    """The model's generators, one per direction it translates, as translate runs them (a :class:`Translator`
    each: its ``network`` and ``adapter``); one clear error for a model that does not translate."""
    from ganctl.translate.adapters import adapter_directions, adapter_kinds
    from ganctl.translate.translator import load_translator

    directions = adapter_directions(config)
    if not directions:
        raise OptionError("--model", f"{ckpt}: viz latent plots the generators of a model that translates images "
                                     f"({', '.join(adapter_kinds())}); this one is a {config.get('kind', 'unknown')} "
                                     "model")
    return [load_translator(ckpt, d, device=str(device), precision="fp32") for d in directions]


def plot_latent(model: str | os.PathLike, out: str | os.PathLike | None = None, data: str | None = None,
                method: str = "pca", n: int = 2000, split: str = "test", device: str = "auto",
                seed: int = 0, overwrite: bool = False) -> Path:
    """Encode ``n`` test images (half per domain) with the model's generators and plot their 2-D projection.

    ``model`` is a run folder or checkpoint of a model that translates (cyclegan: both generators, one
    panel each; cut, pix2pix, colorize: its one generator); ``out`` defaults to ``RUN/latent_<method>.png``;
    an existing file is replaced only with ``overwrite``.
    """
    from ganctl.device import resolve_device

    if method not in METHODS:
        raise OptionError("--method", f"unknown method {method!r}; use {' or '.join(METHODS)}")
    if n < 4:
        raise OptionError("--n", "must be at least 4 (two images per domain)")
    ckpt = resolve_checkpoint_path(model)
    run_dir = run_folder_of(model)
    if out is None:
        if run_dir is None:
            raise OptionError("--out", "give --out FILE.png when --model is a checkpoint file")
        out = run_dir / f"latent_{method}.png"
    out_path = check_figure_path(out, overwrite=overwrite)
    dev = resolve_device(device)
    config = checkpoint_config(ckpt)
    encoders = _encoders(ckpt, config, dev)
    data_dir = run_dataset(run_dir, data)
    labels_by_name = read_labels(data_dir)
    ch = dict(zip("AB", domain_channels(config)))
    mult = max(enc.multiple for enc in encoders)
    files = {d: pick_images(data_dir, f"{split}{d}", n // 2, seed) for d in "AB"}
    size = config.get("image_size") or min(read_image(files["A"][0]).shape[-2:])
    domains = np.array([d for d in "AB" for _ in files[d]])
    found = [labels_by_name.get(p.relative_to(data_dir).as_posix()) for d in "AB" for p in files[d]]
    labels = np.array(found) if found and all(v is not None for v in found) else None

    # Chunks keep memory flat for large photos; each chunk goes through every encoder.
    feats: list[list[torch.Tensor]] = [[] for _ in encoders]
    with console.progress(f"encoding images from {data_dir.name}", total=len(domains), unit="img") as advance:
        for d in "AB":
            for start in range(0, len(files[d]), _CHUNK):
                chunk = files[d][start : start + _CHUNK]
                x = load_batch(chunk, ch[d], size, mult).add_(1).div_(2)  # [0, 1], as translate's adapters take it
                for enc, out_feats in zip(encoders, feats):
                    prepared = enc.adapter.prepare(to_channels(x, 1 if enc.in_mode == "L" else 3))
                    out_feats.append(encode_features(enc.network, prepared, device=dev))
                advance(len(chunk))
    if method == "tsne":  # once, not once per generator
        each = f", for each of {len(encoders)} encoders" if len(encoders) > 1 else ""
        console.info(f"t-SNE of {len(domains)} points{each} (may take a minute on a CPU)")
    panels = []
    for enc, enc_feats in zip(encoders, feats):
        features = torch.cat(enc_feats)
        coords, axis_names = project_2d(features, method, seed)
        src, dst = enc.adapter.domains
        panels.append((f"{enc.adapter.network} encoder ({src} → {dst})", features.shape[1], coords, axis_names))

    fig = new_figure(6.5 * len(panels), 6.4, layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (title, dims, coords, axis_names) in zip(axes, panels):
        _scatter(ax, coords, domains, labels)
        ax.set_title(f"{title}, {dims} features", fontsize=11)
        ax.set_xlabel(axis_names[0], fontsize=9)
        ax.set_ylabel(axis_names[1], fontsize=9)
    _legend(fig, axes[-1], files, split, labels is not None)
    name = run_dir.resolve().name if run_dir else ckpt.stem
    fig.suptitle(f"{name}: generator bottleneck features, {method.upper() if method == 'pca' else 't-SNE'} "
                 f"of {len(domains)} {split} images", fontsize=12)
    return save_figure(fig, out_path)


def _legend(fig, ax, files: dict[str, list[Path]], split: str, digits: bool) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="", marker="o", markersize=8, color=DOMAIN_COLOURS[d],
                      label=f"domain {d} ({split}{d}, {len(files[d])})") for d in "AB"]
    if digits:
        handles.append(Line2D([], [], linestyle="", marker="$7$", markersize=9, color="0.3",
                              label="points drawn as their digit label"))
    ax.legend(handles=handles, loc="best", fontsize=9, framealpha=0.9)
