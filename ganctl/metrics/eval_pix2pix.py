"""``eval run`` for pix2pix runs: translate the test inputs and compare each output with its true target.

The pairs are the run's dataset's test split (``testA/ testB/``, or ``test/`` else ``val/`` of side-by-side
images; ``--split train``: the training pairs). A dataset without a test split is refused rather than
evaluated on the pairs the model learned (``--split train`` asks for that explicitly). Both images of a pair
are resized to the run's training size, as the reference tests (load size = crop size), and the input is
translated exactly as ``ganctl translate`` does (:func:`ganctl.translate.load_translator`: the reference's
test mode for batch norm and dropout). Measured against the true targets:

* ``psnr``, ``ssim`` (+ ``_std``): torchmetrics, one pair at a time (:func:`ganctl.metrics.evaluation.pair_scores`);
* ``l1``: the mean absolute difference in [0, 1] (the training L1 is on [-1, 1]: twice this);
* ``fid``, ``kid_mean``, ``kid_std`` on Inception features (``--features``), None when the weights are missing;
* ``colourfulness_fake`` / ``colourfulness_real`` when the targets are colour images;
* ``count``: the pairs evaluated.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ganctl import console
from ganctl.errors import ImageReadError, InputError
from ganctl.metrics.evaluation import (
    RunScores,
    RunToEvaluate,
    distance_scores,
    feature_distance,
    mean_colourfulness,
    pair_scores,
    translate_all,
)


def _uint8(img: Image.Image, channels: int, size: int) -> torch.Tensor:
    """A decoded image as uint8 C x size x size (C = ``channels``), resized as the reference's test does."""
    from ganctl.data.imageio import to_mode

    img = to_mode(img, "L" if channels == 1 else "RGB")
    if img.size != (size, size):
        img = img.resize((size, size), Image.BICUBIC)
    arr = np.asarray(img, dtype=np.uint8).reshape(size, size, channels)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)


def mean_l1(references: list[torch.Tensor], outputs: list[torch.Tensor]) -> float:
    """Mean absolute difference in [0, 1] over every pixel of uint8 (reference, output) pairs of equal size."""
    per_image = [(out.float() - ref.float()).abs().mean().item() / 255 for ref, out in zip(references, outputs)]
    return float(np.mean(per_image))


def evaluate_pix2pix(run: RunToEvaluate) -> RunScores:
    """Evaluate a pix2pix run on its dataset's test pairs (see the module docstring)."""
    from ganctl.data.pairs import find_pairs, open_pair

    data = find_pairs(run.dataset())
    if run.split == "train":
        chosen, images = data.train, "training pairs"
    elif data.test:
        chosen, images = data.test, f"test pairs ({data.test_split})"
    else:
        raise InputError(data.root, "has no test split to evaluate on (testA/ and testB/ with the same names, or "
                                    "test/ or val/ of side-by-side images); --split train evaluates on the training "
                                    "pairs")
    config = run.model_config
    src, dst = ("A", "B") if config.get("direction", "AtoB") == "AtoB" else ("B", "A")
    channels = config.get("channels") or data.channels
    size = int(config.get("image_size") or data.image_size)
    inputs, targets, names, skipped = [], [], [], 0
    for pair in console.track(run.first(chosen), f"reading {images}", unit="pair"):
        try:
            a, b = open_pair(pair)
        except ImageReadError as exc:
            console.warn(f"{exc} (skipped)")
            skipped += 1
            continue
        given, wanted = (a, b) if src == "A" else (b, a)
        inputs.append(_uint8(given, int(channels[src]), size))
        targets.append(_uint8(wanted, int(channels[dst]), size))
        names.append(pair.a.relative_to(data.root).as_posix())
    if not inputs:
        raise InputError(data.root, f"no readable pair among the {images}")
    feature_name = run.feature_name("inception")
    distance = feature_distance(run, feature_name)
    translator = run.translator("a2b")
    fakes = translate_all(translator, inputs, run.batch_size, f"{images} ({src} -> {dst})")
    scores = {"count": len(fakes), **distance_scores(distance, targets, fakes, run.batch_size)}
    paired = pair_scores(targets, fakes, names)
    scores.update({k: v for k, v in paired.items() if k != "pairs"})
    scores["l1"] = mean_l1(targets, fakes)
    if int(channels[dst]) == 3:
        scores.update(colourfulness_fake=mean_colourfulness(fakes), colourfulness_real=mean_colourfulness(targets))
    if skipped:
        images += f", {skipped} unreadable skipped"
    return RunScores(scores, images=images, dataset=str(data.root), dataset_kind=data.kind,
                     features=feature_name if distance is not None else None)
