"""Speed of ``ganctl eval fid`` against torchmetrics used directly in a plain loop, and that both agree.

Data: the 10,000 MNIST test digits as two folders of PNGs, gray (testA) and coloured with ``mnist1`` (testB),
made with ``prepare_mnist_color``. Both sides compute FID(testA, testB):

* ``ganctl``: :func:`ganctl.metrics.fid.compute_fid` (threaded decoding, same-size batches, one feature pass);
* ``plain loop``: ``FrechetInceptionDistance`` fed uint8 batches decoded one file after another with PIL.

Features: ``digits`` (ganctl's classifier; trained once and cached if missing) or ``inception``. Without the
real Inception weights (offline), ``--weights random`` writes a randomly initialised Inception state dict:
the network and its cost are the same, the FID values are not meaningful FIDs but must still agree.

    python benchmarks/fid.py --features digits --device cpu
    python benchmarks/fid.py --features inception --weights random --device cuda
"""

from __future__ import annotations

import argparse
import tempfile
import time
import unittest.mock
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def make_data(root: Path, source: str | None, limit: int | None) -> Path:
    from ganctl.data.mnist_color import prepare_mnist_color

    out = root / "mnist-color"
    if not (out / "testB").is_dir():
        prepare_mnist_color(out, source=source, a="gray", b="mnist1", limit=limit)
    return out


def random_inception(path: Path) -> Path:
    """A randomly initialised Inception v3 state dict in the FID weights' format."""
    import torch_fidelity.feature_extractor_inceptionv3 as tfi

    with unittest.mock.patch.object(tfi, "load_state_dict_from_url", lambda *a, **k: {}), \
            unittest.mock.patch.object(tfi.FeatureExtractorInceptionV3, "load_state_dict", lambda *a, **k: None):
        torch.manual_seed(0)
        net = tfi.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    torch.save(net.state_dict(), path)
    return path


def plain_loop(real: Path, fake: Path, features: str, weights: str | None, device: torch.device,
               batch_size: int) -> float:
    """torchmetrics as its documentation shows it: one metric, uint8 batches read file by file."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    from ganctl.data.imageio import list_images

    if features == "inception":
        metric = FrechetInceptionDistance(feature=2048, feature_extractor_weights_path=weights)
    else:
        from ganctl.metrics.classifier_cache import get_classifier
        from ganctl.metrics.digits import DigitFeatures

        metric = FrechetInceptionDistance(feature=DigitFeatures(get_classifier(device).model))
    metric = metric.to(device)
    for folder, is_real in ((real, True), (fake, False)):
        files = list_images(folder)
        for start in range(0, len(files), batch_size):
            batch = [torch.from_numpy(np.array(Image.open(p).convert("RGB"))).permute(2, 0, 1)
                     for p in files[start:start + batch_size]]
            metric.update(torch.stack(batch).to(device), real=is_real)
    return float(metric.compute())


def timed(fn, device: torch.device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    value = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", choices=("digits", "inception"), default="digits")
    parser.add_argument("--weights", default=None, help="Inception weights file, or 'random'")
    parser.add_argument("--images", type=int, default=None, help="images per set (default: all 10,000)")
    parser.add_argument("--source", default=None, help="MNIST IDX folder (default: the ganctl cache)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--workdir", default=None, help="where the PNG folders are made (default: a temp folder)")
    args = parser.parse_args()

    from ganctl import console
    from ganctl.device import resolve_device
    from ganctl.metrics.fid import compute_fid

    console.set_quiet(True)
    device = resolve_device(args.device)
    root = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="ganctl-bench-fid-"))
    root.mkdir(parents=True, exist_ok=True)
    data = make_data(root, args.source, args.images)
    real, fake = data / "testA", data / "testB"
    weights = args.weights
    if weights == "random":
        weights = str(random_inception(root / "random-inception.pth"))
    if args.features == "digits":  # train/load the classifier outside the timings
        from ganctl.metrics.classifier_cache import get_classifier

        get_classifier(device, source=args.source)
    n = len(list(real.iterdir())) + len(list(fake.iterdir()))

    rows = []
    for name, fn in (
        ("ganctl eval fid", lambda: compute_fid(real, fake, features=args.features, weights=weights,
                                                batch_size=args.batch_size, device=device).fid),
        ("torchmetrics plain loop", lambda: plain_loop(real, fake, args.features, weights, device, args.batch_size)),
    ):
        fn_value, seconds = timed(fn, device)
        rows.append((name, fn_value, seconds))

    base = rows[1][1]
    print(f"FID({real.name}, {fake.name}), {n} images, features={args.features}"
          f"{' (random weights)' if args.weights == 'random' else ''}, device={device}, batch={args.batch_size}")
    print(f"{'method':26s} {'FID':>12s} {'seconds':>9s} {'images/s':>10s} {'rel. diff':>10s}")
    for name, value, seconds in rows:
        print(f"{name:26s} {value:12.4f} {seconds:9.2f} {n / seconds:10.1f} {abs(value - base) / abs(base):10.2e}")


if __name__ == "__main__":
    main()
