"""Cost of one training step: CycleGAN vs CUT vs FastCUT with their published networks (the ``photo`` presets).

    python benchmarks/unpaired_step_cost.py [--size 128] [--batch 1] [--steps 10] [--device cpu|cuda] [--data DIR]

Each method runs in its own process (so its peak memory is its own): the recipe is built exactly as
``ganctl train`` builds it (photo preset, ``--size``), a few warm-up steps, then ``--steps`` timed steps on
the same staged batches (real horse2zebra crops with ``--data``, random images without). Prints seconds per
image pair, the ratio to CycleGAN, and peak memory: the process's peak RSS on the CPU, peak allocated device
memory on a GPU. The issue's goal: CUT <= 0.7x CycleGAN's time per pair.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import types
from pathlib import Path

METHODS = {"cyclegan": ("cyclegan", {}), "cut": ("cut", {"mode": "cut"}), "fastcut": ("cut", {"mode": "fastcut"})}


def batches(data: Path | None, size: int, batch: int, count: int = 4) -> list:
    """``count`` (A, B) batches in [-1, 1]: resized crops of real photos, or seeded random images."""
    import torch

    if data is None:
        g = torch.Generator().manual_seed(0)
        return [(torch.rand(batch, 3, size, size, generator=g) * 2 - 1,
                 torch.rand(batch, 3, size, size, generator=g) * 2 - 1) for _ in range(count)]
    from ganctl.data.imageio import list_images, read_image

    files = {d: list_images(data / f"train{d}") for d in ("A", "B")}
    out = []
    for i in range(count):
        pair = []
        for d in ("A", "B"):
            imgs = [read_image(files[d][(i * batch + j) % len(files[d])], "RGB") for j in range(batch)]
            x = torch.stack([torch.nn.functional.interpolate(im[None], size=(size, size), mode="bilinear",
                                                             antialias=True)[0] for im in imgs])
            pair.append(x * 2 - 1)
        out.append(tuple(pair))
    return out


def measure(method: str, size: int, batch: int, steps: int, warmup: int, device: str, data: Path | None) -> dict:
    """Time ``steps`` steps of ``method`` (in this process) and report its peak memory."""
    import torch

    from ganctl.training import get_recipe
    from ganctl.training.context import TrainContext
    from ganctl.training.options import merge_options

    kind, extra = METHODS[method]
    recipe_class = get_recipe(kind)
    torch.manual_seed(0)
    ctx = TrainContext.create(device, "fp32", False, None)
    opts = merge_options(recipe_class.options, recipe_class.presets["photo"],
                         dict(data="bench", size=size, batch_size=batch, **extra))
    recipe = recipe_class(opts, ctx, types.SimpleNamespace(channels={"A": 3, "B": 3}, image_size=size, name="bench"))
    recipe.resolve()
    recipe.build(steps_per_epoch=1000)
    staged = [tuple(ctx.to_device(x) for x in b) for b in batches(data, size, batch)]

    def sync() -> None:
        if ctx.device.type == "cuda":
            torch.cuda.synchronize()

    for i in range(warmup):
        recipe.train_step(staged[i % len(staged)])
    sync()
    start = time.perf_counter()
    for i in range(steps):
        recipe.train_step(staged[i % len(staged)])
    sync()
    seconds = (time.perf_counter() - start) / steps
    if ctx.device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
        where = "device"
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        where = "RSS"
    params = sum(p.numel() for net in recipe.networks.values() for p in net.parameters())
    return {"method": method, "size": size, "batch": batch, "s_per_pair": seconds / batch, "peak_mib": peak,
            "memory": where, "params_m": params / 1e6, "threads": torch.get_num_threads(),
            "device": torch.cuda.get_device_name() if ctx.device.type == "cuda" else "cpu"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data", type=Path, help="a folder with trainA/ trainB/ (default: random images)")
    parser.add_argument("--one", choices=METHODS, help=argparse.SUPPRESS)  # the child process of one method
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.size, args.batch, args.steps, args.warmup, args.device, args.data)))
        return
    rows = []
    for method in METHODS:
        cmd = [sys.executable, __file__, "--one", method, "--size", str(args.size), "--batch", str(args.batch),
               "--steps", str(args.steps), "--warmup", str(args.warmup), "--device", args.device]
        if args.data:
            cmd += ["--data", str(args.data)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    base = rows[0]["s_per_pair"]
    print(f"{rows[0]['device']}, {args.size} px, batch {args.batch}, {args.steps} timed steps, "
          f"{rows[0]['threads']} threads")
    print(f"{'method':10s} {'s/pair':>8s} {'vs cyclegan':>11s} {'peak MiB':>9s} {'params M':>9s}")
    for r in rows:
        print(f"{r['method']:10s} {r['s_per_pair']:8.3f} {r['s_per_pair'] / base:10.2f}x "
              f"{r['peak_mib']:9.0f} {r['params_m']:9.2f}  ({r['memory']})")


if __name__ == "__main__":
    main()
