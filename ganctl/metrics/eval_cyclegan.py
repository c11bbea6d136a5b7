"""``eval run`` for cyclegan runs: translate the dataset's split both ways and measure every metric that applies.

For each direction (``a2b``: testA through ``G_A`` against testB; ``b2a``: testB through ``G_B`` against testA):

* ``fid``, ``kid_mean``, ``kid_std``: translated images vs the real images of the target domain, on digit
  features for MNIST-based sets and Inception features otherwise (``--features``);
* ``digit_accuracy`` (labelled digit sets): the classifier reads the source image's digit in the translation;
  a rotated target (mnist-rotate) is rotated back first;
* ``colour_accuracy`` (target palette with more than one colour): the translated digit has its digit's colour;
* ``ssim``, ``psnr`` (+ ``_std``) and ``pairs`` for paired test sets (same relative names in testA and testB);
* ``colourfulness_fake`` / ``colourfulness_real`` when the target domain is colour;
* photo sets (all but the MNIST-based ones): ``domain_accuracy``, the share of translations that the dataset's
  domain classifier (:mod:`ganctl.metrics.domain`, trained on first use) takes for the target domain, beside
  its two bounds: ``domain_accuracy_input``, the same share for the untranslated inputs, and
  ``domain_accuracy_real``, for the real images of the target domain; ``content_ssim``, the mean SSIM of the
  luminance of each input and its translation (how much of the input's structure is kept); and once, outside
  the directions, ``domain_classifier_accuracy`` (the classifier's own accuracy) and
  ``domain_classifier_accuracy_on`` (measured on what: the test split or a held-out share of train);
* ``count``: the images translated.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from ganctl import console
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


def _content_ssim(inputs: list[torch.Tensor], outputs: list[torch.Tensor]) -> float:
    """Mean SSIM of the luminance (ITU-R BT.601) of each input and its translation (same size, uint8)."""
    from kornia.color import rgb_to_grayscale

    from ganctl.metrics.ssim import ssim_values

    def luma(img: torch.Tensor) -> torch.Tensor:
        x = img.float().div(255.0)[None]
        return x if x.shape[1] == 1 else rgb_to_grayscale(x)

    values = [float(ssim_values(luma(a), luma(b))[0]) for a, b in zip(inputs, outputs)]
    return sum(values) / len(values) if values else math.nan


def _domain_judge(run: RunToEvaluate, root: Path) -> Any:
    """The dataset's domain classifier (trained on first use), or None with a warning when it cannot be had."""
    from ganctl.errors import GanctlError
    from ganctl.metrics.classifier_cache import get_domain_classifier

    try:
        return get_domain_classifier(root, run.device)
    except GanctlError as exc:
        console.warn(f"domain metrics skipped: {exc}")
        return None


def _domain_scores(judge: Any, source: list[torch.Tensor], target: list[torch.Tensor], fakes: list[torch.Tensor],
                   dst: str, batch_size: int) -> dict[str, float]:
    """``domain_accuracy`` of the translations and its two bounds, and ``content_ssim`` (see the module docstring)."""
    from ganctl.metrics.domain import share_taken_for

    def share(images: list[torch.Tensor]) -> float:
        return share_taken_for(judge.model, images, judge.size, dst, batch_size)

    return {"domain_accuracy": share(fakes), "domain_accuracy_input": share(source),
            "domain_accuracy_real": share(target), "content_ssim": _content_ssim(source, fakes)}


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
    judge = None if digits else _domain_judge(run, root)
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
        if judge is not None:
            res.update(_domain_scores(judge, source.images, target.images, fakes, dst, run.batch_size))
        results[direction] = res
    if judge is not None:
        results.update(domain_classifier_accuracy=judge.accuracy, domain_classifier_accuracy_on=judge.measured_on)
    images = f"{split}A <-> {split}B" if len(directions) == 2 else f"{split}A -> {split}B"
    return RunScores(results, images=images, dataset=str(root), dataset_kind=kind or None,
                     features=feature_name if distance is not None else None)
