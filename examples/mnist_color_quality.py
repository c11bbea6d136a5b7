"""Measure a gray -> colour MNIST CycleGAN the way issue 4 asks, end to end.

    python examples/mnist_color_quality.py [RUN|CHECKPOINT] [--source DIR] [--dataset DIR] [--classifier FILE]

For every MNIST test digit (the held-out 10,000), the run's G_A (A -> B) colours the gray digit; then

* **keeps its digit**: a small CNN trained on gray MNIST (here, in about a minute, cached next to the
  run as ``digit_cnn.safetensors``) classifies the translation, turned back to gray (max over channels,
  scaled to the image's peak), and is compared with the true label;
* **takes its digit's colour**: the mean RGB of the translation's bright pixels (>= half its peak) is
  matched to the nearest palette colour (by direction in RGB, so intensity does not matter) and compared
  with the palette colour of the true digit.

Without a RUN argument it first trains one with the defaults (``ganctl train cyclegan --data
mnist-color``), which prepares the dataset on first use.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganctl.checkpoint import load_checkpoint, resolve_checkpoint_path, save_checkpoint
from ganctl.data.mnist import load_mnist
from ganctl.data.palettes import get_palette
from ganctl.models import create_model


def digit_cnn() -> nn.Module:
    """A small MNIST classifier for 32x32 gray digits in [0, 1]."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def pad32(images: torch.Tensor) -> torch.Tensor:
    """uint8 N x 28 x 28 -> float N x 1 x 32 x 32 in [0, 1] (the mnist-color layout)."""
    return F.pad(images.float().div(255).unsqueeze(1), (2, 2, 2, 2))


def train_classifier(mnist, path: Path, epochs: int = 2) -> nn.Module:
    """Train (or load) the test-side digit classifier."""
    net = digit_cnn()
    if path.exists():
        load_checkpoint(path).load_into({"cnn": net})
        return net.eval()
    x, y = pad32(mnist.train_images), mnist.train_labels.long()
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 128):
            idx = perm[i: i + 128]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    save_checkpoint(path, {"cnn": net}, {"kind": "digit_cnn"})
    return net.eval()


@torch.no_grad()
def measure(run: Path, source: str | None, dataset: Path | None, classifier: Path | None = None) -> dict:
    """Digit and colour accuracy of the run's (or checkpoint's) A -> B generator on the MNIST test digits."""
    path = resolve_checkpoint_path(run)
    ckpt = load_checkpoint(path, with_state=False)
    G = create_model(**ckpt.config["networks"]["G_A"])
    ckpt.load_into({"G_A": G})
    G.eval()
    meta = json.loads((dataset / "dataset.json").read_text()) if dataset else None
    if meta:
        palette = [tuple(int(c[i: i + 2], 16) for i in (1, 3, 5)) for c in meta["palettes"]["B"]["colors"]]
    else:
        palette = get_palette("mnist1")
    mnist = load_mnist(source)
    clf = train_classifier(mnist, classifier or path.parent.parent / "digit_cnn.safetensors")
    x, y = pad32(mnist.test_images), mnist.test_labels.long()
    clf_acc = (clf(x).argmax(1) == y).float().mean().item()
    colours = F.normalize(torch.tensor(palette, dtype=torch.float32), dim=1)
    kept = coloured = 0
    for i in range(0, len(x), 500):
        out = (G(x[i: i + 500] * 2 - 1).clamp(-1, 1) + 1) / 2  # N x 3 x 32 x 32 in [0, 1]
        peak = out.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
        gray = out.amax(dim=1, keepdim=True) / peak
        kept += (clf(gray).argmax(1) == y[i: i + 500]).sum().item()
        bright = (out.amax(dim=1, keepdim=True) >= 0.5 * peak).float()
        mean_rgb = (out * bright).sum(dim=(2, 3)) / bright.sum(dim=(2, 3)).clamp_min(1)
        nearest = (F.normalize(mean_rgb, dim=1) @ colours.T).argmax(1)
        coloured += (nearest == y[i: i + 500]).sum().item()
    n = len(x)
    return {"checkpoint": str(path), "step": ckpt.config.get("step"), "test_digits": n, "classifier_accuracy": clf_acc,
            "digit_kept": kept / n, "colour_correct": coloured / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", nargs="?", help="run folder (default: train one with the defaults)")
    parser.add_argument("--source", help="folder with the MNIST IDX files (default: the ganctl cache)")
    parser.add_argument("--dataset", help="the mnist-color folder (for its palette; default mnist1)")
    parser.add_argument("--classifier", help="where the digit classifier is cached (default: in the run folder)")
    args = parser.parse_args()
    run = args.run
    if run is None:
        from ganctl.training import train_cyclegan

        t = time.perf_counter()
        result = train_cyclegan("mnist-color")
        print(f"trained {result.step} steps in {time.perf_counter() - t:.0f} s -> {result.run_dir}")
        run = result.run_dir
    print(json.dumps(measure(Path(run), args.source, Path(args.dataset) if args.dataset else None,
                             Path(args.classifier) if args.classifier else None), indent=2))


if __name__ == "__main__":
    main()
