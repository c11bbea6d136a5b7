"""Quality of `train colorize` and `train gan`: short real runs, then the numbers of issue 7, as tables.

colorize: flowers_128 split 90/10 (every 10th file, sorted, is held out). One run trains the U-Net with
L1 only (kept as checkpoints/pretrained.safetensors), then the GAN stage. On the held-out photos made gray:
PSNR / SSIM (torchmetrics) against the true colours, the mean ab error (Lab units) and the colourfulness
(Hasler-Suesstrunk) of (a) the gray input, (b) the L1-only U-Net, (c) the GAN, and of the true photos.

gan: mlp and dcgan trained for the same number of steps; FID on ganctl's digit-classifier features of
10,000 samples against the 10,000 MNIST test digits (``ganctl.metrics.fid``, ``--features digits``).

    python benchmarks/colorize_gan.py colorize --data ../shared/data/flowers_128 --work /tmp/bench
    python benchmarks/colorize_gan.py gan --source ../shared/data/mnist --work /tmp/bench
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch


def split_flowers(data: Path, work: Path, every: int = 10) -> Path:
    """A trainB/ testB/ dataset of symlinks to the photos (nothing copied): every ``every``-th file is test."""
    from ganctl.data.imageio import list_images

    files = list_images(data)
    root = work / "flowers_split"
    for i, path in enumerate(files):
        split = "testB" if i % every == 0 else "trainB"
        link = root / split / f"{path.parent.name}_{path.name}"
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(path.resolve())
    return root


def colorize_table(args: argparse.Namespace) -> list[dict]:
    """Train one colorize run and score gray / L1-only / GAN outputs on the held-out photos."""
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    from ganctl.color import lab_to_rgb, rgb_to_lab
    from ganctl.data.imageio import list_images, read_image
    from ganctl.metrics.colour import colourfulness
    from ganctl.training import train_colorize
    from ganctl.translate import load_translator

    root = split_flowers(Path(args.data), Path(args.work))
    run = Path(args.work) / "colorize_run"
    t0 = time.perf_counter()
    result = train_colorize(root, run=run, size=args.size, ngf=args.ngf, ndf=args.ngf, batch_size=16,
                            pretrain_epochs=args.pretrain_epochs, epochs=args.epochs, num_workers=0,
                            device=args.device, log_every=25)
    train_s = time.perf_counter() - t0
    real = torch.stack([read_image(p) for p in list_images(root / "testB")])
    if real.shape[-1] != args.size:
        real = torch.nn.functional.interpolate(real, size=(args.size, args.size), mode="bicubic",
                                               antialias=True).clamp(0, 1)
    real_u8 = (real * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    light = rgb_to_lab(real)[:, :1]
    # (a) the gray input: L of the photo with a = b = 0, i.e. what the models see.
    gray = lab_to_rgb(torch.cat([light, torch.zeros_like(light), torch.zeros_like(light)], 1))
    outputs = {"gray input": gray}
    for name, ckpt in (("L1-only U-Net", run / "checkpoints" / "pretrained.safetensors"),
                       ("GAN (L1 + adversarial)", run / "checkpoints" / "latest.safetensors")):
        translator = load_translator(ckpt, device=args.device, precision="fp32")
        out = np.stack(translator([img for img in real_u8]))
        outputs[name] = torch.from_numpy(out).permute(0, 3, 1, 2).float() / 255
    outputs["true colours"] = real
    rows = []
    true_ab = rgb_to_lab(real)[:, 1:]
    for name, images in outputs.items():
        rows.append({
            "output": name,
            "psnr_db": float(peak_signal_noise_ratio(images, real, data_range=1.0)),
            "ssim": float(structural_similarity_index_measure(images, real, data_range=1.0)),
            "ab_l1": float((rgb_to_lab(images)[:, 1:] - true_ab).abs().mean()),
            "colourfulness": float(colourfulness(images).mean()),
        })
    print(f"colorize: {len(real)} held-out photos at {args.size}px; trained {result.step} steps "
          f"({args.pretrain_epochs} L1 + {args.epochs} GAN epochs) in {train_s:.0f} s on {args.device}")
    return rows


def gan_table(args: argparse.Namespace) -> list[dict]:
    """Train mlp and dcgan for the same steps; FID (digit features) of 10k samples vs MNIST test."""
    from ganctl.data.mnist import load_mnist
    from ganctl.generate import load_generator, sample_images
    from ganctl.metrics.classifier_cache import get_classifier
    from ganctl.metrics.fid import FeatureDistance, digit_extractor
    from ganctl.training import train_gan

    test = load_mnist(args.source).test_images.unsqueeze(1)
    get_classifier(args.device, source=args.source)  # trained on the local MNIST once, then cached
    extractor = digit_extractor(args.device)
    rows = []
    for arch in ("mlp", "dcgan"):
        run = Path(args.work) / f"gan_{arch}"
        t0 = time.perf_counter()
        result = train_gan("mnist", source=args.source, arch=arch, run=run, max_steps=args.steps,
                           ngf=args.ngf, ndf=args.ngf, device=args.device, log_every=100)
        train_s = time.perf_counter() - t0
        net, config = load_generator(run, args.device)
        fake = (sample_images(net, config["latent_dim"], args.samples, seed=1) * 255).round().to(torch.uint8)
        dist = FeatureDistance(extractor, device=args.device)
        for i in range(0, len(test), 1000):
            dist.add_images(test[i: i + 1000], real=True)
        for i in range(0, len(fake), 1000):
            dist.add_images(fake[i: i + 1000], real=False)
        fid, _, _ = dist.compute()
        rows.append({"arch": arch, "steps": result.step, "train_s": round(train_s, 1),
                     "G_params": sum(p.numel() for p in net.parameters()), "fid_digits": fid,
                     "samples": args.samples})
    # Reference: real training digits against the test digits (the floor of this FID).
    train_digits = load_mnist(args.source).train_images.unsqueeze(1)[: args.samples]
    dist = FeatureDistance(extractor, device=args.device)
    for i in range(0, len(test), 1000):
        dist.add_images(test[i: i + 1000], real=True)
    for i in range(0, len(train_digits), 1000):
        dist.add_images(train_digits[i: i + 1000], real=False)
    rows.append({"arch": "MNIST train digits (reference)", "steps": 0, "train_s": 0, "G_params": 0,
                 "fid_digits": dist.compute()[0], "samples": args.samples})
    return rows


def print_table(rows: list[dict]) -> None:
    """A Markdown table of ``rows``."""
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("| " + " | ".join("---" for _ in keys) + " |")
    for r in rows:
        print("| " + " | ".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in keys) + " |")


def main() -> None:
    """Parse the command line, run one benchmark, print its table (and JSON with --json)."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    c = sub.add_parser("colorize")
    c.add_argument("--data", default="../shared/data/flowers_128")
    c.add_argument("--size", type=int, default=64)
    c.add_argument("--ngf", type=int, default=32)
    c.add_argument("--pretrain-epochs", type=int, default=8)
    c.add_argument("--epochs", type=int, default=6)
    g = sub.add_parser("gan")
    g.add_argument("--source", default="../shared/data/mnist")
    g.add_argument("--steps", type=int, default=1500)
    g.add_argument("--ngf", type=int, default=32)
    g.add_argument("--samples", type=int, default=10000)
    for q in (c, g):
        q.add_argument("--work", default="/tmp/ganctl_bench")
        q.add_argument("--device", default="cpu")
        q.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
        q.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    Path(args.work).mkdir(parents=True, exist_ok=True)
    rows = colorize_table(args) if args.what == "colorize" else gan_table(args)
    print_table(rows)
    if args.json:
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
