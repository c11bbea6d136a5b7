"""SSIM and PSNR between paired images (reference vs output), computed by torchmetrics.

Pairs are found by relative path without the extension (``testB/a/x.jpg`` pairs with ``out/a/x.png``), so a
translated folder written as PNG pairs with its JPEG ground truth. Both images are read as RGB in [0, 1] (a gray
image has three equal channels, which gives the same SSIM/PSNR as one channel), must have the same size, and
are scored one pair at a time: SSIM with torchmetrics' defaults (Gaussian window 11, sigma 1.5), PSNR with
``data_range=1``; the reported values are the mean, standard deviation and count over pairs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganctl import console
from ganctl.data.imageio import read_image
from ganctl.data.pairs import images_by_name
from ganctl.errors import InputError


@dataclass
class Pairing:
    """Files of two folders matched by relative path minus extension."""

    pairs: list[tuple[Path, Path]]
    only_ref: list[str] = field(default_factory=list)
    only_out: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)


def pair_images(ref: str | os.PathLike, out: str | os.PathLike) -> Pairing:
    """Match the images of ``ref`` and ``out`` by relative path without extension; ambiguous stems are left out."""
    ref, out = Path(ref), Path(out)
    for folder in (ref, out):
        if not folder.is_dir():
            raise InputError(folder, "no such folder" if not folder.exists() else "is not a folder")
    ref_files, amb_ref = images_by_name(ref)
    out_files, amb_out = images_by_name(out)
    ambiguous = sorted(set(amb_ref) | set(amb_out))
    keys = sorted((set(ref_files) & set(out_files)) - set(ambiguous))
    return Pairing(
        pairs=[(ref_files[k], out_files[k]) for k in keys],
        only_ref=sorted(set(ref_files) - set(out_files)),
        only_out=sorted(set(out_files) - set(ref_files)),
        ambiguous=ambiguous,
    )


def ssim_values(ref: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Per-image SSIM of two N x C x H x W batches in [0, 1] (torchmetrics, data_range 1)."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    return structural_similarity_index_measure(out, ref, data_range=1.0, reduction="none").reshape(-1)


def psnr_values(ref: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB of two N x C x H x W batches in [0, 1] (torchmetrics, data_range 1)."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    return peak_signal_noise_ratio(out, ref, data_range=1.0, reduction="none", dim=(1, 2, 3)).reshape(-1)


def summarize(values: Sequence[float]) -> dict[str, float | int]:
    """``mean``, ``std`` (population) and ``count`` of a list of values (inf PSNR of identical pairs kept)."""
    t = torch.tensor(list(values), dtype=torch.float64)
    if len(t) == 0:
        return {"mean": math.nan, "std": math.nan, "count": 0}
    same = bool((t == t[0]).all())  # e.g. PSNR inf for every pair of identical images: spread 0, not nan
    return {"mean": float(t.mean()), "std": 0.0 if same else float(t.std(unbiased=False)), "count": len(t)}


def flat_scores(summaries: dict[str, dict[str, float | int]]) -> dict[str, float | int]:
    """``{"ssim": {mean, std, count}, ...}`` as the keys every command's JSON uses for scores: ``ssim``,
    ``ssim_std``, ``psnr``, ``psnr_std``, ... and ``pairs``."""
    out: dict[str, float | int] = {}
    for name, summary in summaries.items():
        out[name], out[f"{name}_std"] = summary["mean"], summary["std"]
        out["pairs"] = summary["count"]
    return out


def score_pairs(pairs: Sequence[tuple[Path, Path]], psnr: bool = True,
                reader: Callable[[Path], torch.Tensor] | None = None) -> dict[str, list[float]]:
    """Per-pair ``ssim`` (and ``psnr``) values, in pair order; a size mismatch is an InputError naming both files."""
    reader = reader or (lambda p: read_image(p, "RGB"))
    values: dict[str, list[float]] = {"ssim": []}
    if psnr:
        values["psnr"] = []
    for ref_path, out_path in console.track(pairs, "scoring pairs", unit="pair"):
        a, b = reader(ref_path), reader(out_path)
        if a.shape != b.shape:
            raise InputError(out_path, f"size {b.shape[2]}x{b.shape[1]} differs from its reference {ref_path} "
                                       f"({a.shape[2]}x{a.shape[1]})")
        values["ssim"].append(float(ssim_values(a[None], b[None])[0]))
        if psnr:
            values["psnr"].append(float(psnr_values(a[None], b[None])[0]))
    return values


def compute_ssim(ref: str | os.PathLike, out: str | os.PathLike, psnr: bool = False) -> dict[str, Any]:
    """SSIM (and PSNR) statistics over the paired images of two folders, plus the unpaired names."""
    pairing = pair_images(ref, out)
    if not pairing.pairs:
        raise InputError(out, f"no image pairs with {ref} (images are paired by relative path without extension)")
    values = score_pairs(pairing.pairs, psnr=psnr)
    result: dict[str, Any] = {"pairs": len(pairing.pairs), "ssim": summarize(values["ssim"])}
    if psnr:
        result["psnr"] = summarize(values["psnr"])
    result.update(unpaired_ref=pairing.only_ref, unpaired_out=pairing.only_out, ambiguous=pairing.ambiguous)
    return result
