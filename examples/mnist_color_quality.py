"""Measure a gray -> colour MNIST CycleGAN the way issue 4 asks, end to end.

    python examples/mnist_color_quality.py [RUN]

Without RUN it first trains one with the README's defaults (``ganctl train cyclegan --data mnist-color``,
which prepares the dataset on first use) and reports the training time. Then ``ganctl eval run`` translates
the 10,000 held-out MNIST test digits (testA) with the run's G_A and reports, next to FID/KID:

* **digit kept** (``digit_accuracy``): ganctl's digit classifier reads the translated digit as the source digit;
* **colour correct** (``colour_accuracy``): the colour of the translated digit's brightest stroke pixels is
  nearest (RGB) to the palette colour of its digit.

The targets of issue 4: colour correct >= 95 % and digit kept >= 97 % after at most 5 minutes of training
on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ganctl.metrics.run_eval import evaluate_run

TARGETS = {"colour_accuracy": 0.95, "digit_accuracy": 0.97}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", nargs="?", help="run folder (default: train one with the defaults)")
    args = parser.parse_args()
    summary: dict = {}
    run = args.run
    if run is None:
        from ganctl.training import train_cyclegan

        start = time.perf_counter()
        result = train_cyclegan("mnist-color")
        summary["training_seconds"] = round(time.perf_counter() - start, 1)
        summary["steps"] = result.step
        run = result.run_dir
    report = evaluate_run(Path(run))
    a2b = report["a2b"]
    summary.update(run=str(run), test_digits=a2b["count"], digit_kept=a2b.get("digit_accuracy"),
                   colour_correct=a2b.get("colour_accuracy"), fid_digits=a2b.get("fid"))
    summary["targets_met"] = all((a2b.get(k) or 0) >= v for k, v in TARGETS.items())
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
