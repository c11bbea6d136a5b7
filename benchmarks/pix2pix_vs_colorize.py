"""pix2pix against `train colorize` on the same gray -> colour task, with the same step budget.

Data: flowers_128 (500 colour photos, 128 px) made into a paired gray -> colour set by ``prepare grayscale``
(seed 0, 10 % held out: 50 photos). Both recipes train at the same size, batch size, widths and number of
steps, at a constant learning rate, with horizontal flips and no crops:

* ``pix2pix``: U-Net (gray photo -> RGB) and conditional PatchGAN, GAN + 100 x L1 from the first step;
* ``colorize``: U-Net in Lab (L -> ab), L1 pre-training for the first ``--pretrain-fraction`` of the steps,
  then the same conditional GAN step.

Each run is scored by ``ganctl eval run`` on the 50 held-out photos: PSNR and SSIM against the true colours
and the colourfulness of the outputs and of the true photos (pix2pix reads the gray copies of ``prepare
grayscale``, its luma; colorize makes its own gray from Lab lightness). FID/KID are added when the Inception
weights are in ``$GANCTL_HOME/weights`` (50 images: only a rough guide). Both translate as the papers test
(dropout on, each image's own batch-norm statistics).

    python benchmarks/pix2pix_vs_colorize.py --data ../shared/data/flowers_128 --work /tmp/p2p_bench --device cpu
    python benchmarks/pix2pix_vs_colorize.py --data ../shared/data/flowers_128 --work /tmp/p2p_smoke --smoke
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

SCORES = ("psnr", "ssim", "colourfulness_fake", "colourfulness_real", "l1", "fid")


def prepare(data: Path, work: Path) -> Path:
    """The paired gray -> colour set (made once): trainA/trainB 450, testA/testB 50."""
    from ganctl.data.grayscale import prepare_grayscale

    root = work / "flowers_gray"
    if not (root / "dataset.json").is_file():
        prepare_grayscale(data, root, test_fraction=0.1, seed=0)
    return root


def run_both(args: argparse.Namespace, data: Path) -> list[dict]:
    """Train pix2pix and colorize with one budget, evaluate each; one row per recipe."""
    from ganctl.metrics.run_eval import evaluate_run
    from ganctl.training import train

    common = dict(max_steps=args.steps, batch_size=args.batch_size, size=args.size, load_size=args.size,
                  ngf=args.ngf, ndf=args.ngf, num_workers=args.num_workers, device=args.device, log_every=50,
                  seed=args.seed)
    recipes = {
        "pix2pix": dict(preset="small", epochs=10**6, decay_epochs=0),
        "colorize": dict(pretrain_steps=int(args.steps * args.pretrain_fraction), epochs=10**6),
    }
    rows = []
    for name, options in recipes.items():
        run = Path(args.work) / f"{name}_run"
        shutil.rmtree(run, ignore_errors=True)  # this script's own run of an earlier call
        start = time.perf_counter()
        result = train(name, str(data), run=run, **common, **options)
        seconds = time.perf_counter() - start
        report = evaluate_run(run, device=args.device)
        rows.append({"recipe": name, "steps": result.step, "train_s": round(seconds, 1),
                     "s_per_step": round(result.seconds_per_step, 3), "count": report["count"],
                     **{k: report.get(k) for k in SCORES}})
    return rows


def print_table(rows: list[dict]) -> None:
    """The rows side by side, as a markdown table."""
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        cells = [f"{v:.4g}" if isinstance(v, float) else "-" if v is None else str(v) for v in row.values()]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    """Parse the arguments, prepare the data, train and evaluate both recipes, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/flowers_128", help="Folder of colour photos.")
    parser.add_argument("--work", default="/tmp/pix2pix_vs_colorize", help="Where the dataset and runs go.")
    parser.add_argument("--steps", type=int, default=1500, help="Training steps of each recipe.")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--ngf", type=int, default=32, help="Generator and discriminator width.")
    parser.add_argument("--pretrain-fraction", type=float, default=0.2, help="colorize's L1-only share of steps.")
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="4 steps of narrow nets at 64 px: does it run?")
    parser.add_argument("--json", action="store_true", help="Print the rows as JSON instead of a table.")
    args = parser.parse_args()
    if args.smoke:
        args.steps, args.ngf, args.size, args.batch_size, args.num_workers = 4, 8, 64, 2, 0
    Path(args.work).mkdir(parents=True, exist_ok=True)
    rows = run_both(args, prepare(Path(args.data), Path(args.work)))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"gray -> colour on {args.data}: {args.steps} steps of batch {args.batch_size} at {args.size} px, "
              f"width {args.ngf}, device {args.device}")
        print_table(rows)


if __name__ == "__main__":
    main()
