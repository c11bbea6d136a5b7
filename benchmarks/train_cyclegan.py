"""CycleGAN training throughput: a reference-style step vs ganctl's fastest setting, plus a loss-curve check.

    python benchmarks/train_cyclegan.py [--data DIR] [--size 256] [--batch-sizes 16,32] [--curve-steps 500]

Both run ganctl's own CycleGAN step (ResNet-9 generators + 70x70 PatchGANs, LSGAN, cycle and identity
losses, image pools, Adam) on 256x256 crops of real photos (``--data``: a folder with trainA/ trainB/;
random images without it), staged on the device so the numbers measure the step, not JPEG decoding.

* reference: fp32, batch 1, eager, NCHW -- the published defaults;
* ganctl fast: bf16 autocast + channels_last + torch.compile + fused Adam, at each ``--batch-sizes``.

Then ``--curve-steps`` steps from the same seed and data order in fp32 (eager) and in the fast setting at
``--curve-batch``, printing the loss means per window of 50 steps and their largest relative gap.
Prints pairs/s (image pairs A+B per second) in a table. Needs a CUDA GPU for the fast rows.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import types
from pathlib import Path

import torch

from ganctl.data.imageio import list_images, read_image
from ganctl.training.context import TrainContext
from ganctl.training.cyclegan import PRESETS, CycleGAN, CycleGANOptions
from ganctl.training.options import merge_options


def load_pool(folder: Path | None, size: int, count: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """``count`` random 256 crops (after resize to 286) of each domain, in [-1, 1], as CPU tensors."""
    rng = random.Random(seed)
    out = {}
    for d in ("A", "B"):
        if folder is None:
            out[d] = torch.rand(count, 3, size, size, generator=torch.Generator().manual_seed(seed + ord(d))) * 2 - 1
            continue
        files = list_images(folder / f"train{d}")
        load = round(size * 286 / 256)
        imgs = []
        for i in range(count):
            img = read_image(files[i % len(files)], "RGB").unsqueeze(0)
            img = torch.nn.functional.interpolate(img, size=(load, load), mode="bicubic", align_corners=False)
            x, y = rng.randint(0, load - size), rng.randint(0, load - size)
            crop = img[0, :, y:y + size, x:x + size]
            imgs.append(crop.flip(-1) if rng.random() < 0.5 else crop)
        out[d] = torch.stack(imgs).clamp(0, 1) * 2 - 1
    return out


DEVICE = "cuda"


def sync() -> None:
    """Wait for queued GPU work (no-op on the CPU)."""
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()


def build(batch: int, precision: str, compile: bool, channels_last: bool, size: int, seed: int = 0) -> tuple:
    """ganctl's CycleGAN recipe on the device with the given setting."""
    torch.manual_seed(seed)
    ctx = TrainContext.create(DEVICE, precision, compile, channels_last)
    opts = merge_options(CycleGANOptions, PRESETS["photo"], dict(data="bench", batch_size=batch, size=size, seed=seed))
    data = types.SimpleNamespace(channels={"A": 3, "B": 3}, name="bench", image_size=size)
    recipe = CycleGAN(opts, ctx, data)
    recipe.resolve()
    recipe.build(steps_per_epoch=1000)
    return recipe, ctx


def batches(pool: dict[str, torch.Tensor], batch: int, ctx: TrainContext, seed: int = 0):
    """An endless, seeded stream of (A, B) batches moved to the device."""
    g = torch.Generator().manual_seed(seed)
    n = len(pool["A"])
    while True:
        ia, ib = torch.randint(0, n, (batch,), generator=g), torch.randint(0, n, (batch,), generator=g)
        yield ctx.to_device(pool["A"][ia]), ctx.to_device(pool["B"][ib])


def throughput(pool, batch: int, precision: str, compile: bool, channels_last: bool, size: int,
               warmup: int, steps: int) -> dict:
    """Pairs per second of the steady state (after ``warmup`` steps, which include compilation)."""
    recipe, ctx = build(batch, precision, compile, channels_last, size)
    stream = batches(pool, batch, ctx)
    t = time.perf_counter()
    for _ in range(warmup):
        recipe.train_step(next(stream))
    sync()
    warm_s = time.perf_counter() - t
    data = [next(stream) for _ in range(min(steps, 8))]
    sync()
    t = time.perf_counter()
    for i in range(steps):
        recipe.train_step(data[i % len(data)])
    sync()
    dt = time.perf_counter() - t
    return {"batch": batch, "precision": ctx.precision.mode, "channels_last": channels_last, "compile": compile,
            "pairs_s": batch * steps / dt, "ms_step": 1000 * dt / steps, "warmup_s": warm_s,
            "peak_mem_gb": torch.cuda.max_memory_allocated() / 2**30 if DEVICE.startswith("cuda") else 0.0}


def curve(pool, batch: int, precision: str, compile: bool, channels_last: bool, size: int, steps: int) -> list:
    """Per-step losses over ``steps`` steps from seed 0 (same data order for every setting)."""
    recipe, ctx = build(batch, precision, compile, channels_last, size)
    stream = batches(pool, batch, ctx, seed=1)
    rows = []
    for _ in range(steps):
        losses = recipe.train_step(next(stream))
        rows.append(torch.stack([losses[k] for k in KEYS]))
    return torch.stack(rows).float().cpu().tolist()


KEYS = ("loss_G", "loss_G_A", "loss_G_B", "loss_D_A", "loss_D_B", "loss_cycle_A", "loss_cycle_B", "loss_idt_A",
        "loss_idt_B")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, help="folder with trainA/ trainB/ (default: random images)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch-sizes", default="16,32")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per setting")
    parser.add_argument("--curve-steps", type=int, default=500)
    parser.add_argument("--curve-batch", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--device", default="cuda", help="cuda (default); cpu only to smoke-test this script")
    parser.add_argument("--no-compile", action="store_true", help="fast rows without torch.compile")
    args = parser.parse_args()
    global DEVICE
    DEVICE = args.device
    if DEVICE.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("needs a CUDA GPU (or --device cpu for a smoke test)")
    fast_compile = not args.no_compile
    torch._dynamo.config.automatic_dynamic_shapes = False  # one static graph per batch size
    pool = load_pool(args.data, args.size, 64)
    rows = [dict(setting="reference", **throughput(pool, 1, "fp32", False, False, args.size, 5, args.steps))]
    print(rows[-1], flush=True)
    for b in (int(x) for x in args.batch_sizes.split(",")):
        fast = throughput(pool, b, "bf16", fast_compile, True, args.size, 6, args.steps)
        rows.append(dict(setting="ganctl fast", **fast))
        print(rows[-1], flush=True)
    name = torch.cuda.get_device_name() if DEVICE.startswith("cuda") else "cpu"
    result = {"device": name, "torch": torch.__version__, "rows": rows}
    if args.curve_steps:
        ref = curve(pool, args.curve_batch, "fp32", False, False, args.size, args.curve_steps)
        fast = curve(pool, args.curve_batch, "bf16", fast_compile, True, args.size, args.curve_steps)
        window = 50
        gaps = {}
        fast_name = "bf16+channels_last" + ("+compile" if fast_compile else "")
        print(f"\nloss means per {window} steps (fp32 eager | {fast_name}), batch {args.curve_batch}")
        for k, key in enumerate(KEYS[:7]):
            r = [sum(x[k] for x in ref[i:i + window]) / window for i in range(0, len(ref), window)]
            f = [sum(x[k] for x in fast[i:i + window]) / window for i in range(0, len(fast), window)]
            gaps[key] = max(abs(a - b) / max(abs(a), 1e-3) for a, b in zip(r, f))
            print(f"{key:13s} " + " ".join(f"{a:.3f}|{b:.3f}" for a, b in zip(r, f)))
        result["curve"] = {"batch": args.curve_batch, "steps": args.curve_steps, "max_rel_gap_per_window": gaps,
                           "fp32": ref, "fast": fast}
    print(f"\n{'setting':12s} {'batch':>5s} {'prec':>5s} {'NHWC':>5s} {'compile':>7s} {'pairs/s':>8s} "
          f"{'ms/step':>8s} {'mem GB':>6s}")
    for r in rows:
        print(f"{r['setting']:12s} {r['batch']:5d} {r['precision']:>5s} {str(r['channels_last']):>5s} "
              f"{str(r['compile']):>7s} {r['pairs_s']:8.1f} {r['ms_step']:8.1f} {r['peak_mem_gb']:6.1f}")
    if args.curve_steps:
        print("largest relative gap of 50-step loss means, fast vs fp32: "
              + ", ".join(f"{k}={v:.3f}" for k, v in result["curve"]["max_rel_gap_per_window"].items()))
    if args.json:
        args.json.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
