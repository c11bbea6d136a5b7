"""``ganctl eval run``: translate a run's test split both ways in memory and report every metric that applies.

For each direction (``a2b``: testA through ``G_A`` against testB; ``b2a``: testB through ``G_B`` against testA):

* ``fid``, ``kid_mean``, ``kid_std``: translated images vs the real images of the target domain, on digit
  features for MNIST-based sets and Inception features otherwise (``features``);
* ``digit_accuracy`` (labelled digit sets): the classifier reads the source image's digit in the translation;
  a rotated target (mnist-rotate) is rotated back first;
* ``colour_accuracy`` (target palette with more than one colour): the translated digit has its digit's colour;
* ``ssim``, ``psnr`` (+ ``_std``) for paired test sets (same relative names in testA and testB);
* ``colourfulness_fake`` / ``colourfulness_real`` when the target domain is colour.

The results go to ``RUN/eval.json`` and, flattened (``a2b_fid``, ...), into ``RUN/metrics.jsonl`` as a
``{"kind": "eval"}`` record.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganctl import console
from ganctl.checkpoint import load_checkpoint, resolve_checkpoint_path
from ganctl.data.imageio import list_images
from ganctl.device import resolve_device
from ganctl.errors import GanctlError, InputError, OptionError
from ganctl.fsutil import atomic_write_json
from ganctl.metrics import colour as colour_metrics
from ganctl.metrics.fid import FeatureDistance, WeightsMissing, make_extractor
from ganctl.metrics.images import ReadStats, iter_decoded, report_skipped
from ganctl.metrics.ssim import psnr_values, ssim_values, summarize
from ganctl.runs import MetricsLog, read_config, run_dataset

DIRECTIONS = {"a2b": ("A", "B"), "b2a": ("B", "A")}
SPLITS = ("test", "train")


@dataclass
class DomainImages:
    """The images of one split folder (e.g. testA): relative names and uint8 tensors C x H x W."""

    names: list[str]
    images: list[torch.Tensor]


def _read_split(folder: Path, mode: str, root: Path, limit: int | None = None) -> DomainImages:
    files = list_images(folder) if folder.is_dir() else []
    if not files:
        raise InputError(folder, "no images to evaluate on")
    files = files[:limit] if limit is not None else files
    stats = ReadStats()
    names, images = [], []
    for path, item in iter_decoded(files, mode):
        if isinstance(item, Exception):
            stats.skipped.append((str(path), item.problem))
            continue
        names.append(path.relative_to(root).as_posix())
        images.append(item)
    report_skipped(stats, str(folder))
    return DomainImages(names, images)


def _translate(translator: Any, images: list[torch.Tensor], batch_size: int, label: str) -> list[torch.Tensor]:
    """Run the translator over uint8 C x H x W images, batching consecutive images of one size."""
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


def _palette(meta: dict[str, Any], domain: str) -> list[tuple[int, int, int]] | None:
    """The digit palette of a domain from dataset.json: a record ``{"name", "colors"}``, a list, or a name."""
    value = (meta.get("palettes") or {}).get(domain)
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("colors") or value.get("colours") or value.get("name")
    if isinstance(value, str):
        from ganctl.data.palettes import get_palette

        return get_palette(value)
    colours = []
    for c in value:
        if isinstance(c, str):  # "#rrggbb"
            h = c.lstrip("#")
            colours.append((int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)))
        else:
            colours.append((int(c[0]), int(c[1]), int(c[2])))
    return colours


def _rotation_angles(meta: dict[str, Any], names: list[str]) -> list[float | None] | None:
    """Angles (degrees, counter-clockwise) the target images of ``names`` were rotated by, for mnist-rotate."""
    if meta.get("kind") != "mnist-rotate":
        return None
    fixed = (meta.get("options") or {}).get("angle")
    per_image = meta.get("angles") or {}
    return [float(fixed) if fixed is not None else per_image.get(n) for n in names]


def _stack_float(images: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(images).float().div_(255.0)


def _digit_accuracy(fakes: list[torch.Tensor], labels: list[int], angles: list[float | None] | None,
                    classifier: torch.nn.Module) -> float:
    from ganctl.metrics.digits import predict_digits

    keep = [i for i in range(len(fakes)) if angles is None or angles[i] is not None]
    if not keep:
        return math.nan
    x = _stack_float([fakes[i] for i in keep])
    if angles is not None:
        from ganctl.data.mnist_rotate import rotate_digits

        gray = (x.amax(dim=1) * 255).round().to(torch.uint8)
        back = torch.tensor([-float(angles[i]) for i in keep])  # type: ignore[arg-type]
        x = rotate_digits(gray, back).float().div_(255.0).unsqueeze(1)
    predicted = predict_digits(classifier, x)
    return float((predicted == torch.tensor([labels[i] for i in keep])).float().mean())


def _distance(dist: FeatureDistance, real: list[torch.Tensor], fake: list[torch.Tensor], batch_size: int) -> dict:
    dist.fid.reset()
    if dist.kid is not None:
        dist.kid.reset()
    dist.counts = {True: 0, False: 0}
    for images, is_real in ((real, True), (fake, False)):
        by_shape: dict[tuple[int, ...], list[torch.Tensor]] = {}
        for img in images:
            by_shape.setdefault(tuple(img.shape[1:]), []).append(img if img.shape[0] == 3 else img.expand(3, -1, -1))
        for group in by_shape.values():
            for start in range(0, len(group), batch_size):
                dist.add_images(torch.stack(group[start:start + batch_size]), is_real)
    fid, kid_mean, kid_std = dist.compute()
    return {"fid": fid, "kid_mean": kid_mean, "kid_std": kid_std}


def _paired_scores(fakes: list[torch.Tensor], src_names: list[str], target: DomainImages,
                   src_split: str, dst_split: str) -> dict[str, float]:
    index = {Path(n).with_suffix("").as_posix(): i for i, n in enumerate(target.names)}
    ssim, psnr = [], []
    for fake, name in zip(fakes, src_names):
        key = Path(dst_split + name[len(src_split):]).with_suffix("").as_posix()
        j = index.get(key)
        if j is None:
            continue
        ref = target.images[j]
        if ref.shape[1:] != fake.shape[1:]:
            raise InputError(name, f"translation size {tuple(fake.shape[1:])} differs from {target.names[j]}")
        a = ref.float().div(255.0).expand(3, -1, -1)[None]
        b = fake.float().div(255.0).expand(3, -1, -1)[None]
        ssim.append(float(ssim_values(a, b)[0]))
        psnr.append(float(psnr_values(a, b)[0]))
    s, p = summarize(ssim), summarize(psnr)
    return {"ssim": s["mean"], "ssim_std": s["std"], "psnr": p["mean"], "psnr_std": p["std"], "pairs": s["count"]}


def evaluate_run(run: str | os.PathLike, *, split: str = "test", data: str | os.PathLike | None = None,
                 features: str = "auto", weights: str | os.PathLike | None = None, batch_size: int = 64,
                 device: str = "auto", limit: int | None = None, write: bool = True) -> dict[str, Any]:
    """Evaluate a CycleGAN run on its dataset's ``split`` (see the module docstring); returns the results."""
    from ganctl.translate import load_translator

    start = time.perf_counter()
    if split not in SPLITS:
        raise OptionError("--split", f"must be one of {', '.join(SPLITS)}, got {split!r}")
    if batch_size < 1:
        raise OptionError("--batch-size", "must be at least 1")
    run_dir = Path(run)
    if not run_dir.is_dir():
        raise InputError(run_dir, "no such run folder")
    ckpt_path = resolve_checkpoint_path(run_dir)
    ck_config = load_checkpoint(ckpt_path, with_state=False).config
    if ck_config.get("kind") != "cyclegan":
        raise GanctlError(f"{ckpt_path}: eval run evaluates cyclegan runs, this is a {ck_config.get('kind')!r} model")
    config = read_config(run_dir)
    root = run_dataset(run_dir, data)
    from ganctl.data.dataset_meta import read_dataset_meta

    meta = read_dataset_meta(root) or {}
    channels = {d: int(c) for d, c in (ck_config.get("channels") or {"A": 3, "B": 3}).items()}
    torch_device = resolve_device(device)
    kind = str(meta.get("kind") or "")
    digits = kind.startswith("mnist") or bool(config.get("digits"))
    feature_name = ("digits" if digits else "inception") if features == "auto" else features

    domains = {}
    for d in ("A", "B"):
        domains[d] = _read_split(root / f"{split}{d}", "L" if channels[d] == 1 else "RGB", root, limit)

    dist = None
    try:
        dist = FeatureDistance(make_extractor(feature_name, weights=weights, device=torch_device), kid=True,
                               device=torch_device)
    except WeightsMissing as exc:
        if features != "auto":
            raise
        console.warn(f"FID/KID skipped: {exc}")
    labels = meta.get("labels") or {}
    classifier = None
    if labels:
        from ganctl.metrics.classifier_cache import get_classifier

        classifier = get_classifier(torch_device).model

    results: dict[str, Any] = {}
    for direction, (src, dst) in DIRECTIONS.items():
        translator = load_translator(ckpt_path, direction, device=str(torch_device), precision="fp32")
        source, target = domains[src], domains[dst]
        fakes = _translate(translator, source.images, batch_size, f"{split}{src} ({direction})")
        res: dict[str, Any] = {"count": len(fakes)}
        if dist is not None:
            res.update(_distance(dist, target.images, fakes, batch_size))
        else:
            res.update(fid=None, kid_mean=None, kid_std=None)
        src_labels = [labels.get(n) for n in source.names]
        if classifier is not None and all(v is not None for v in src_labels):
            angles = _rotation_angles(meta, [f"{split}{dst}" + n[len(split) + 1:] for n in source.names]) \
                if dst == "B" else None
            res["digit_accuracy"] = _digit_accuracy(fakes, [int(v) for v in src_labels], angles, classifier)
            palette = _palette(meta, dst)
            if palette is not None and colour_metrics.palette_is_informative(palette):
                correct = colour_metrics.colour_correct(_stack_float(fakes), torch.tensor(src_labels), palette)
                res["colour_accuracy"] = float(correct.float().mean())
        if meta.get("paired") or meta.get("paired_test"):
            res.update(_paired_scores(fakes, source.names, target, f"{split}{src}", f"{split}{dst}"))
        if channels[dst] == 3:
            res["colourfulness_fake"] = _mean_colourfulness(fakes)
            res["colourfulness_real"] = _mean_colourfulness(target.images)
        results[direction] = res

    step = int(ck_config.get("step", 0))
    epoch = int(ck_config.get("epoch", 0))
    report = {"run": str(run_dir), "checkpoint": str(ckpt_path), "step": step, "epoch": epoch, "split": split,
              "dataset": str(root), "dataset_kind": kind or None,
              "features": feature_name if dist is not None else None,
              **results, "seconds": round(time.perf_counter() - start, 2)}
    if write:
        atomic_write_json(run_dir / "eval.json", report)
        flat = {f"{d}_{k}": v for d in DIRECTIONS for k, v in results[d].items()}
        MetricsLog(run_dir / "metrics.jsonl").append(step, epoch, kind="eval", split=split,
                                                     features=report["features"], **flat)
    return report


def _mean_colourfulness(images: list[torch.Tensor]) -> float:
    """Mean colourfulness over uint8 images, computed in batches of one size."""
    by_shape: dict[tuple[int, ...], list[torch.Tensor]] = {}
    for img in images:
        by_shape.setdefault(tuple(img.shape), []).append(img)
    values = torch.cat([colour_metrics.colourfulness(_stack_float(group)) for group in by_shape.values()])
    return float(values.mean())
