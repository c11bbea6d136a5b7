"""Monet <-> photo (or any unpaired photo set) with CycleGAN's CPU preset, measured without Inception weights.

    python examples/photo_quick.py --data DIR [--run RUN] [--full] [--images docs/images]

Quick default: ``ganctl train cyclegan --data DIR --preset quick`` (128 px, ResNet-6 and PatchGAN at half width,
1,200 steps: a real translation after minutes of a laptop CPU, not the published recipe's days). ``--full``
trains the published ``photo`` preset (256 px, 200 epochs: days on a CPU). ``--run RUN`` measures a run
trained before instead of training. ``ganctl eval run`` then translates the test split both ways and asks
the dataset's domain classifier (trained by ganctl on the train split on first use) about the results:

* **domain accuracy** (``domain_accuracy``): the share of translations it takes for the target domain, next to
  its two bounds: the untranslated inputs (``domain_accuracy_input``) and real target images
  (``domain_accuracy_real``);
* **content SSIM** (``content_ssim``): mean SSIM of luminance between each input and its translation (how much
  of the picture is kept).

The goal issue 15 set for the quick preset on the shared horse2zebra and monet2photo subsets: domain accuracy
>= 0.6 with content SSIM >= 0.5. DIR is a folder with trainA/ trainB/ testA/ testB/ or a named dataset
(``monet2photo``, ``horse2zebra``: downloaded once).
"""

from __future__ import annotations

from pathlib import Path

import common

TARGETS = {"domain_accuracy": 0.6, "content_ssim": 0.5}
PICTURE_IMAGES = 6


def main() -> None:
    p = common.parser(__doc__, "photo_quick")
    p.add_argument("--data", default="monet2photo", help="dataset folder or named dataset (default: %(default)s)")
    p.add_argument("--run", type=Path, help="measure this run (trained before) instead of training one")
    args = p.parse_args()
    mode = common.mode(args)
    run, trained = args.run, None
    if run is None:
        preset = {"full": "photo", "quick": "quick", "smoke": "smoke"}[mode]
        run = common.fresh(args.work / f"cyclegan_{preset}")
        trained = common.train("cyclegan", "--data", args.data, "--preset", preset, "--run", run)
    scores = common.ganctl("eval", "run", run, *(["--limit", 4] if mode == "smoke" else []))
    if args.images:
        write_picture(run, Path(scores["dataset"]), args.work, args.images)
    result = {"mode": mode, "run": str(run), "dataset": scores["dataset"],
              "domain_classifier_accuracy": scores.get("domain_classifier_accuracy"), "targets": TARGETS}
    if trained:
        result.update(steps=trained["step"], training_seconds=trained["seconds"])
    for direction in ("a2b", "b2a"):
        keys = ("domain_accuracy", "domain_accuracy_input", "domain_accuracy_real", "content_ssim")
        result[direction] = {k: scores[direction].get(k) for k in keys}
        result[direction]["meets_targets"] = all((scores[direction].get(k) or 0) >= v for k, v in TARGETS.items())
    common.report(result)


def write_picture(run: Path, dataset: Path, work: Path, images: Path) -> None:
    """The README's picture: the first test images of A and of B (not chosen ones), each row under its
    translation (rows: A, A -> B, B, B -> A)."""
    rows = []
    for split, direction in (("testA", "a2b"), ("testB", "b2a")):
        picked = work / "picture" / split
        common.first_images(dataset / split, PICTURE_IMAGES, picked)
        out = work / "picture" / f"{split}_{direction}"
        common.ganctl("translate", picked, "--out", out, "--model", run, "--direction", direction, "--overwrite")
        rows += [common.images_in(picked), common.images_in(out)]
    common.write_strip(rows, images / "photo_quick.jpg", tile=112)


if __name__ == "__main__":
    main()
