"""``eval run`` for cyclegan runs: translate the dataset's split both ways and measure every metric that applies.

For each direction (``a2b``: testA through ``G_A`` against testB; ``b2a``: testB through ``G_B`` against testA):

* ``fid``, ``kid_mean``, ``kid_std``: translated images vs the real images of the target domain, on digit
  features for MNIST-based sets and Inception features otherwise (``--features``);
* ``digit_accuracy`` (labelled digit sets): the classifier reads the source image's digit in the translation;
  a rotated target (mnist-rotate) is rotated back first;
* ``colour_accuracy`` (target palette with more than one colour): the translated digit has its digit's colour;
* ``ssim``, ``psnr`` (+ ``_std``) and ``pairs`` for paired test sets (same relative names in testA and testB);
* ``colourfulness_fake`` / ``colourfulness_real`` when the target domain is colour;
* ``count``: the images translated.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ganctl.data.imageio import list_images
from ganctl.metrics import colour as colour_metrics
from ganctl.metrics.evaluation import (
    LoadedImages,
    RunScores,
    RunToEvaluate,
    as_float,
    distance_scores,
    feature_distance,
    mean_colourfulness,
    pair_scores,
    read_images,
    translate_all,
)

DIRECTIONS = {"a2b": ("A", "B"), "b2a": ("B", "A")}


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


def _digit_accuracy(fakes: list[torch.Tensor], labels: list[int], angles: list[float | None] | None,
                    classifier: torch.nn.Module) -> float:
    from ganctl.metrics.digits import predict_digits

    keep = [i for i in range(len(fakes)) if angles is None or angles[i] is not None]
    if not keep:
        return math.nan
    x = as_float([fakes[i] for i in keep])
    if angles is not None:
        from ganctl.data.mnist_rotate import rotate_digits

        gray = (x.amax(dim=1) * 255).round().to(torch.uint8)
        back = torch.tensor([-float(angles[i]) for i in keep])  # type: ignore[arg-type]
        x = rotate_digits(gray, back).float().div_(255.0).unsqueeze(1)
    predicted = predict_digits(classifier, x)
    return float((predicted == torch.tensor([labels[i] for i in keep])).float().mean())


def _paired_scores(fakes: list[torch.Tensor], src_names: list[str], target: LoadedImages,
                   src_split: str, dst_split: str) -> dict[str, float | int]:
    """SSIM/PSNR of each translation against the target image of the same relative name (if there is one)."""
    index = {Path(n).with_suffix("").as_posix(): i for i, n in enumerate(target.names)}
    refs, outs, names = [], [], []
    for fake, name in zip(fakes, src_names):
        j = index.get(Path(dst_split + name[len(src_split):]).with_suffix("").as_posix())
        if j is not None:
            refs.append(target.images[j])
            outs.append(fake)
            names.append(name)
    return pair_scores(refs, outs, names)


def evaluate_cyclegan(run: RunToEvaluate, directions: tuple[str, ...] = tuple(DIRECTIONS)) -> RunScores:
    """Evaluate a cyclegan run on its dataset's split, both directions (see the module docstring).

    One-sided models (cut) are evaluated the same way in the ``a2b`` direction only.
    """
    from ganctl.data.dataset_meta import read_dataset_meta

    root = run.dataset()
    meta = read_dataset_meta(root) or {}
    channels = {d: int(c) for d, c in (run.model_config.get("channels") or {"A": 3, "B": 3}).items()}
    kind = str(meta.get("kind") or "")
    digits = kind.startswith("mnist") or run.config.get("preset") == "digits" or bool(run.config.get("digits"))
    feature_name = run.feature_name("digits" if digits else "inception")
    split = run.split

    domains = {}
    for d in ("A", "B"):
        folder = root / f"{split}{d}"
        files = list_images(folder) if folder.is_dir() else []
        domains[d] = read_images(run.first(files), "L" if channels[d] == 1 else "RGB", root, str(folder))

    distance = feature_distance(run, feature_name)
    labels = meta.get("labels") or {}
    classifier = None
    if labels:
        from ganctl.metrics.classifier_cache import get_classifier

        classifier = get_classifier(run.device).model

    results: dict[str, Any] = {}
    for direction in directions:
        src, dst = DIRECTIONS[direction]
        translator = run.translator(direction)
        source, target = domains[src], domains[dst]
        fakes = translate_all(translator, source.images, run.batch_size, f"{split}{src} ({direction})")
        res: dict[str, Any] = {"count": len(fakes)}
        res.update(distance_scores(distance, target.images, fakes, run.batch_size))
        src_labels = [labels.get(n) for n in source.names]
        if classifier is not None and all(v is not None for v in src_labels):
            angles = _rotation_angles(meta, [f"{split}{dst}" + n[len(split) + 1:] for n in source.names]) \
                if dst == "B" else None
            res["digit_accuracy"] = _digit_accuracy(fakes, [int(v) for v in src_labels], angles, classifier)
            palette = _palette(meta, dst)
            if palette is not None and colour_metrics.palette_is_informative(palette):
                correct = colour_metrics.colour_correct(as_float(fakes), torch.tensor(src_labels), palette)
                res["colour_accuracy"] = float(correct.float().mean())
        if meta.get("paired") or meta.get("paired_test"):
            res.update(_paired_scores(fakes, source.names, target, f"{split}{src}", f"{split}{dst}"))
        if channels[dst] == 3:
            res["colourfulness_fake"] = mean_colourfulness(fakes)
            res["colourfulness_real"] = mean_colourfulness(target.images)
        results[direction] = res
    images = f"{split}A <-> {split}B" if len(directions) == 2 else f"{split}A -> {split}B"
    return RunScores(results, images=images, dataset=str(root), dataset_kind=kind or None,
                     features=feature_name if distance is not None else None)
