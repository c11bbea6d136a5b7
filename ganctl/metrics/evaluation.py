"""What every kind of ``eval run`` shares: the run being evaluated, what an evaluation returns, and helpers.

:func:`ganctl.metrics.run_eval.evaluate_run` opens the run and checks the options once into a
:class:`RunToEvaluate`; the run's recipe (:meth:`ganctl.training.Recipe.evaluate`) measures it with one of the
``eval_<kind>`` modules and returns :class:`RunScores`. The helpers below are the steps several kinds take:
reading test images, running a translator over them, FID/KID on one feature space, SSIM/PSNR of pairs and
colourfulness. This module imports nothing of ganctl.training, so a recipe's evaluation can use it freely.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganctl import console
from ganctl.errors import InputError
from ganctl.metrics import colour as colour_metrics
from ganctl.metrics.fid import FeatureDistance, WeightsMissing, make_extractor
from ganctl.metrics.images import ReadStats, iter_decoded, report_skipped
from ganctl.metrics.ssim import flat_scores, psnr_values, ssim_values, summarize
from ganctl.runs import run_dataset


@dataclass
class RunToEvaluate:
    """A run folder and the ``eval run`` options, checked: what a recipe's evaluation works from."""

    run_dir: Path
    checkpoint: Path
    model_config: dict[str, Any]  # the checkpoint's config (kind, networks, ...)
    config: dict[str, Any]  # the run's config.json
    split: str = "test"  # "test" or "train"
    data: str | os.PathLike | None = None  # --data: where the run's data is now, when it moved
    features: str = "auto"  # "auto", "digits", "inception" or "domain"
    weights: str | os.PathLike | None = None  # --weights: the Inception weights file
    batch_size: int = 64
    device: torch.device = torch.device("cpu")
    limit: int | None = None  # --limit: the first N images only
    eval_mode: bool = False  # --eval-mode: batch norm/dropout generators in eval mode, not the reference test mode

    @property
    def step(self) -> int:
        """The training step of the evaluated checkpoint."""
        return int(self.model_config.get("step", 0))

    @property
    def epoch(self) -> int:
        """The epoch of the evaluated checkpoint."""
        return int(self.model_config.get("epoch", 0))

    def translator(self, direction: str = "a2b") -> Any:
        """The run's model ready to translate ``direction`` in fp32 on the evaluation device."""
        from ganctl.translate import load_translator

        return load_translator(self.checkpoint, direction, device=str(self.device), precision="fp32",
                               eval_mode=self.eval_mode)

    def dataset(self) -> Path:
        """The dataset folder the run trained on (``--data`` wins), see :func:`ganctl.runs.run_dataset`."""
        return run_dataset(self.run_dir, self.data)

    def mnist_source(self) -> str | None:
        """MNIST's IDX folder for a run trained on MNIST: ``--data``, else the run's ``--source`` (None: the cache)."""
        if self.data is not None and str(self.data):
            return str(self.data)
        return (self.config.get("options") or {}).get("source")

    def feature_name(self, auto: str) -> str:
        """The FID/KID feature space: ``--features``, or ``auto`` (the kind's choice) under ``--features auto``."""
        return auto if self.features == "auto" else self.features

    def first(self, items: Sequence[Any]) -> Sequence[Any]:
        """``items`` cut to ``--limit``."""
        return items if self.limit is None else items[: self.limit]


@dataclass
class RunScores:
    """What a recipe's evaluation measured and on what.

    ``scores``: metric name -> value (a number, a list of numbers, or None when skipped), or a group name
    (cyclegan's direction ``a2b``) -> such a dict. ``images``: what was evaluated, in words. ``dataset``,
    ``dataset_kind`` and ``features`` (the FID/KID feature space, None when FID was skipped) go into the
    report beside the scores.
    """

    scores: dict[str, Any]
    images: str
    dataset: str | None = None
    dataset_kind: str | None = None
    features: str | None = None


@dataclass
class LoadedImages:
    """Images read for an evaluation: names relative to the dataset folder and uint8 tensors C x H x W."""

    names: list[str]
    images: list[torch.Tensor]


def read_images(files: Sequence[Path], mode: str, root: Path, where: str) -> LoadedImages:
    """Decode ``files`` as ``mode`` (``L`` or ``RGB``); unreadable ones are skipped with one warning about ``where``."""
    if not files:
        raise InputError(where, "no images to evaluate on")
    stats = ReadStats()
    names, images = [], []
    for path, item in iter_decoded(files, mode):
        if isinstance(item, Exception):
            stats.skipped.append((str(path), item.problem))
            continue
        names.append(path.relative_to(root).as_posix())
        images.append(item)
    report_skipped(stats, where)
    return LoadedImages(names, images)


def translate_all(translator: Any, images: list[torch.Tensor], batch_size: int, label: str) -> list[torch.Tensor]:
    """Run a :class:`ganctl.translate.Translator` over uint8 C x H x W images, batching images of one size."""
    out: list[torch.Tensor | None] = [None] * len(images)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, img in enumerate(images):
        by_shape.setdefault(tuple(img.shape), []).append(i)
    with console.progress(f"translating {label}", len(images), unit="img") as advance:
        for idx in by_shape.values():
            for start in range(0, len(idx), batch_size):
                chunk = idx[start:start + batch_size]
                arrays = [images[i].permute(1, 2, 0).numpy() for i in chunk]
                arrays = [a[:, :, 0] if a.shape[2] == 1 else a for a in arrays]
                for i, res in zip(chunk, translator(arrays)):
                    t = torch.from_numpy(np.ascontiguousarray(res))
                    out[i] = t.unsqueeze(0) if t.ndim == 2 else t.permute(2, 0, 1)
                advance(len(chunk))
    return out  # type: ignore[return-value]


def feature_distance(run: RunToEvaluate, name: str) -> FeatureDistance | None:
    """FID/KID on the feature space ``name``, or None when the Inception weights are missing under
    ``--features auto`` (warned once: those scores are skipped, not the evaluation)."""
    try:
        extractor = make_extractor(name, weights=run.weights, device=run.device,
                                   data=run.dataset() if name == "domain" else None)
    except WeightsMissing as exc:
        if run.features != "auto":
            raise
        console.warn(f"FID/KID skipped: {exc}")
        return None
    return FeatureDistance(extractor, kid=True, device=run.device)


def distance_scores(distance: FeatureDistance | None, real: Sequence[torch.Tensor], fake: Sequence[torch.Tensor],
                    batch_size: int) -> dict[str, float | None]:
    """``fid``, ``kid_mean``, ``kid_std`` between uint8 C x H x W image lists (None each without ``distance``)."""
    if distance is None:
        return {"fid": None, "kid_mean": None, "kid_std": None}
    distance.fid.reset()
    if distance.kid is not None:
        distance.kid.reset()
    distance.counts = {True: 0, False: 0}
    for images, is_real in ((real, True), (fake, False)):
        by_shape: dict[tuple[int, ...], list[torch.Tensor]] = {}
        for img in images:
            by_shape.setdefault(tuple(img.shape[1:]), []).append(img if img.shape[0] == 3 else img.expand(3, -1, -1))
        for group in by_shape.values():
            for start in range(0, len(group), batch_size):
                distance.add_images(torch.stack(group[start:start + batch_size]), is_real)
    fid, kid_mean, kid_std = distance.compute()
    return {"fid": fid, "kid_mean": kid_mean, "kid_std": kid_std}


def pair_scores(references: Sequence[torch.Tensor], outputs: Sequence[torch.Tensor],
                names: Sequence[str]) -> dict[str, float | int]:
    """``ssim``, ``psnr`` (mean, ``_std``) and ``pairs`` over uint8 (reference, output) pairs of equal size, as RGB."""
    ssim, psnr = [], []
    for ref, out, name in zip(references, outputs, names):
        if ref.shape[1:] != out.shape[1:]:
            raise InputError(name, f"output size {tuple(out.shape[1:])} differs from its reference "
                                   f"{tuple(ref.shape[1:])}")
        a = ref.float().div(255.0).expand(3, -1, -1)[None]
        b = out.float().div(255.0).expand(3, -1, -1)[None]
        ssim.append(float(ssim_values(a, b)[0]))
        psnr.append(float(psnr_values(a, b)[0]))
    return flat_scores({"ssim": summarize(ssim), "psnr": summarize(psnr)})


def as_float(images: Sequence[torch.Tensor]) -> torch.Tensor:
    """uint8 C x H x W images of one size -> one float batch in [0, 1]."""
    return torch.stack(list(images)).float().div_(255.0)


def mean_colourfulness(images: Sequence[torch.Tensor]) -> float:
    """Mean colourfulness (:func:`ganctl.metrics.colour.colourfulness`) of uint8 images, in batches of one size."""
    by_shape: dict[tuple[int, ...], list[torch.Tensor]] = {}
    for img in images:
        by_shape.setdefault(tuple(img.shape), []).append(img)
    values = torch.cat([colour_metrics.colourfulness(as_float(group)) for group in by_shape.values()])
    return float(values.mean())
