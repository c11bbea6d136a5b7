"""CIFAR-10 colourisation in Lab: a U-Net predicts a and b from L, judged by a PatchGAN, on 32 x 32 photos.

    python examples/cifar10_colorize.py [--data DIR] [--full]

Data: the named ``cifar10`` set (``ganctl prepare download cifar10``: 50,000 train and 10,000 test photos as
gray -> colour pairs, downloaded once, about 170 MB), or ``--data DIR``: a folder prepared the same way (or by
``ganctl prepare grayscale``) or any folder of colour photos, for machines without network.

Quick default (a few minutes on 2 CPU cores): ``ganctl train colorize`` for 200 L1-only steps, then 200 steps of
GAN + 100 x L1 (batch 16, ngf/ndf 32), measured on the first 1,000 test photos. ``--full``: ganctl's defaults
(5 L1 epochs + 20 GAN epochs, 78,125 steps: a GPU job), measured on all test photos.

``ganctl eval run`` makes each test photo gray (its Lab L), colourises it and reports SSIM and PSNR against the
true colours and the colourfulness of the results against that of the real photos (a colourizer trained with L1
alone tends to wash colours out; the GAN stage should bring colourfulness closer to the real photos'). No target
was set for this experiment.
"""

from __future__ import annotations

from pathlib import Path

import common

QUICK_PRETRAIN_STEPS, QUICK_STEPS = 200, 400
QUICK_EVAL_PHOTOS = 1000


def main() -> None:
    p = common.parser(__doc__, "cifar10_colorize")
    p.add_argument("--data", type=Path, help="a local gray -> colour dataset or folder of colour photos "
                   "(default: the named cifar10 set, downloaded once)")
    p.add_argument("--size", type=int, help="training size in pixels (default: the photos' own, 32 for CIFAR-10)")
    args = p.parse_args()
    mode = common.mode(args)
    if args.data is None:
        from ganctl.paths import datasets_dir

        if not (datasets_dir() / "cifar10" / "dataset.json").exists():
            common.ganctl("prepare", "download", "cifar10", as_json=False)  # once: into ganctl's cache
    data = args.data or "cifar10"
    length = {"full": [], "smoke": common.SMOKE, "quick": ["--pretrain-steps", QUICK_PRETRAIN_STEPS, "--max-steps",
                                                           QUICK_STEPS, "--ngf", 32, "--ndf", 32]}[mode]
    size = ["--size", args.size] if args.size else []
    run = common.fresh(args.work / f"colorize_{mode}")
    trained = common.train("colorize", "--data", data, *size, *length, "--run", run)
    scores = common.ganctl("eval", "run", run, *([] if mode == "full" else ["--limit", QUICK_EVAL_PHOTOS]))
    common.report({"mode": mode, "data": str(data), "run": str(run), "steps": trained["step"],
                   "training_seconds": trained["seconds"], "test_photos": scores.get("count"),
                   **{k: scores.get(k) for k in ("ssim", "psnr", "colourfulness_fake", "colourfulness_real", "fid")}})


if __name__ == "__main__":
    main()
