"""The photo domain classifier per dataset: training time, held-out accuracy and the bounds of domain_accuracy.

For each dataset folder (trainA/ trainB/ [testA/ testB/]) it trains ``ganctl train domain-classifier`` with its
default settings (what ``eval run`` trains on first use) into a scratch weights cache, then prints one row:
images, wall and process CPU seconds, the accuracy on the test split (or held-out share), and the two bounds
``eval run`` reports beside ``domain_accuracy`` for each direction: the share of the untranslated inputs taken
for the target domain (``domain_accuracy_input``) and of the real target images (``domain_accuracy_real``).

    python benchmarks/domain_classifier.py ../shared/data/horse2zebra ../shared/data/monet2photo_kaggle
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def measure(data: Path) -> dict:
    """Train (timed) and judge the test split of one dataset."""
    from ganctl import console
    from ganctl.data.domains import inspect_domain_folders
    from ganctl.metrics import classifier_cache
    from ganctl.metrics.domain import share_taken_for, split_files
    from ganctl.metrics.evaluation import read_images
    from ganctl.training.domain_classifier import DomainClassifierOptions

    wall, cpu = time.perf_counter(), time.process_time()
    quiet = console.is_quiet()
    console.set_quiet(True)
    try:
        judge = classifier_cache.get_domain_classifier(data)
    finally:
        console.set_quiet(quiet)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    folders = inspect_domain_folders(data)
    defaults = DomainClassifierOptions()
    _, test, how = split_files(folders.files, defaults.holdout, defaults.seed)
    images = {d: read_images(test[d], "RGB", folders.root, f"test{d}").images for d in "AB"}

    def share(d: str, domain: str) -> float:
        return share_taken_for(judge.model, images[d], judge.size, domain)

    return {"dataset": folders.name, "train": f"{len(folders.files['trainA'])}/{len(folders.files['trainB'])}",
            "wall": wall, "cpu": cpu, "accuracy": judge.accuracy, "A": judge.info["accuracy_A"],
            "B": judge.info["accuracy_B"], "on": how,
            "a2b_input": share("A", "B"), "a2b_real": share("B", "B"),
            "b2a_input": share("B", "A"), "b2a_real": share("A", "A")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--home", type=Path, default=None, help="weights cache ($GANCTL_HOME; default: a temp dir, "
                        "so every classifier is trained and timed)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="ganctl-domain-bench-"))
    os.environ["GANCTL_HOME"] = str(home)
    rows = [measure(d) for d in args.datasets]
    print("| dataset | train A/B | accuracy (A, B) | measured on | wall s | CPU s | a2b input / real | "
          "b2a input / real |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['dataset']} | {r['train']} | {r['accuracy']:.2%} ({r['A']:.2%}, {r['B']:.2%}) | {r['on']} | "
              f"{r['wall']:.0f} | {r['cpu']:.0f} | {r['a2b_input']:.2%} / {r['a2b_real']:.2%} | "
              f"{r['b2a_input']:.2%} / {r['b2a_real']:.2%} |")


if __name__ == "__main__":
    main()
