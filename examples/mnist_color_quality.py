"""Colour MNIST (gray -> colour digits, issue 4) with CycleGAN, measured, plus the latent plot.

    python examples/mnist_color_quality.py [RUN] [--full] [--mnist DIR] [--images docs/images]

Quick default (a few minutes on 2 CPU cores): ``ganctl prepare mnist-color --limit 8000`` (8,000 digits per
split), then ``ganctl train cyclegan`` on it (the ``digits`` preset: two epochs, 1,000 steps). ``--full`` trains
the README's command instead (``ganctl train cyclegan --data mnist-color``: all 60,000 training digits, 3,750
steps, about 4 to 7 minutes on 2 idle cores). With RUN, that run is measured and nothing is trained.

``ganctl eval run`` then translates the test digits (testA) with the run's G_A and reports:

* **digit kept** (``digit_accuracy``): ganctl's digit classifier reads the translated digit as the source digit;
* **colour correct** (``colour_accuracy``): the colour of the translated digit's brightest stroke pixels is
  nearest (RGB) to the palette colour of its digit.

The targets of issue 4 (for ``--full``): colour correct >= 95 % and digit kept >= 97 % after at most 5 minutes
of training on 2 CPU cores. Last, ``ganctl viz latent`` plots where G_A's and G_B's encoders put the test digits.
"""

from __future__ import annotations

from pathlib import Path

import common

TARGETS = {"colour_accuracy": 0.95, "digit_accuracy": 0.97}
QUICK_LIMIT = 8000
SMOKE_LIMIT = 64


def main() -> None:
    p = common.parser(__doc__, "mnist_color")
    p.add_argument("run", nargs="?", type=Path, help="measure this run folder (default: train one)")
    p.add_argument("--mnist", type=Path, help="folder with MNIST's four IDX files (default: ganctl's cache, "
                   "downloaded once)")
    args = p.parse_args()
    work: Path = args.work
    mode = common.mode(args)
    summary: dict = {}
    run = args.run
    if run is None:
        summary["mode"] = mode
        if mode == "full":
            from ganctl.paths import datasets_dir

            data = "mnist-color"  # the named dataset in ganctl's cache, prepared on first use
            if args.mnist is not None and not (datasets_dir() / data / "dataset.json").exists():
                common.ganctl("prepare", data, *common.mnist_source(args.mnist), as_json=False)
        else:
            limit = SMOKE_LIMIT if mode == "smoke" else QUICK_LIMIT
            data = work / f"mnist-color-{limit}"
            if not (data / "dataset.json").exists():
                common.ganctl("prepare", "mnist-color", "--limit", limit, "--out", data,
                              *common.mnist_source(args.mnist), as_json=False)
        run = common.fresh(work / f"cyclegan_{mode}")
        trained = common.train("cyclegan", "--data", data, "--run", run, *(common.SMOKE if mode == "smoke" else []))
        summary.update(training_seconds=trained["seconds"], steps=trained["step"])
    a2b = common.ganctl("eval", "run", run)["a2b"]
    summary.update(run=str(run), test_digits=a2b["count"], digit_kept=a2b.get("digit_accuracy"),
                   colour_correct=a2b.get("colour_accuracy"), fid_digits=a2b.get("fid"))
    summary["targets"] = {"digit_kept": TARGETS["digit_accuracy"], "colour_correct": TARGETS["colour_accuracy"]}
    summary["targets_met"] = all((a2b.get(k) or 0) >= v for k, v in TARGETS.items())
    latent = args.images / "mnist_color_latent.png" if args.images else work / "latent.png"
    common.ganctl("viz", "latent", run, "--n", 1000, "--out", latent, "--overwrite")
    summary["latent_plot"] = str(latent)
    if args.images:
        common.shrink_png(latent)
        summary["picture"] = str(picture(Path(run), work, args.images / "mnist_color.png"))
    common.report(summary)


def picture(run: Path, work: Path, out: Path, n: int = 12) -> Path:
    """The first ``n`` test digits: gray input, G_A's colour translation, the true colour digit (rows)."""
    from ganctl.runs import run_dataset

    data = run_dataset(run)
    inputs, translated = work / "first_testA", work / "first_testA_translated"
    chosen = common.first_images(data / "testA", n, inputs)
    common.ganctl("translate", inputs, "--out", translated, "--model", run, "--overwrite", as_json=False)
    rows = [[folder / common.flat_name(rel) for rel in chosen] for folder in (inputs, translated)]
    return common.write_strip([*rows, [data / "testB" / rel for rel in chosen]], out, tile=40)


if __name__ == "__main__":
    main()
