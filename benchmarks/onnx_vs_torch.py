"""Images/s of ``ganctl translate`` through ONNX Runtime (an exported .onnx) against ganctl's torch path.

The same folder of 256x256 JPEGs of real photos as ``benchmarks/translate.py`` (horse2zebra/testA of the test
data, else crops of scikit-image's sample photos) and the same randomly initialised CycleGAN generator (speed
does not depend on the weights), exported with ``ganctl export`` (dynamic size, its self-check included).
Both paths run the library behind ``ganctl translate``: end to end (``translate_path`` on the folder: decode,
batch, encode) and forward only (the translator on decoded images, uint8 in and out). The torch path runs in
fp32 unless ``--precision`` says otherwise (the graph is fp32). The outputs of the two are compared on the
same images: max and mean difference in 8-bit levels, and the max difference of the float outputs of the
first batch. Interleaved repeats; the best time of each is kept.

``--quantize int8`` adds a third path: the same export with ``--quantize int8``, calibrated on 16 photos of
``--calibrate`` (horse2zebra/trainA of the test data: other photos than the timed ones). Its outputs are
compared with torch's the same way, plus their PSNR. With random weights that PSNR says little about a trained
model's; docs/benchmarks.md has int8's quality on trained models.

    python benchmarks/onnx_vs_torch.py --images 4 --batch-size 2 --generator resnet_6blocks   # a quick check
    taskset -c 0,1 python benchmarks/onnx_vs_torch.py --threads 2 --images 64 --batch-size 4 --repeat 3
    python benchmarks/onnx_vs_torch.py --device cuda --images 1024 --batch-size 32 --repeat 2   # onnxruntime-gpu
    python benchmarks/onnx_vs_torch.py --threads 2 --images 16 --batch-size 4 --repeat 2 --quantize int8
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from translate import make_checkpoint, make_folder, sync  # noqa: E402  (benchmarks/translate.py)

from ganctl import console  # noqa: E402
from ganctl.export.onnx_export import export_onnx  # noqa: E402
from ganctl.translate import load_translator, translate_path  # noqa: E402
from ganctl.translate.onnx_translator import OnnxTranslator, onnx_providers, onnxruntime, open_session  # noqa: E402


def forward_only(images: list[np.ndarray], translator, batch_size: int) -> tuple[float, list[np.ndarray]]:
    """Seconds for every batch through the translator (uint8 in and out; one warm-up batch first), and outputs."""
    translator(images[:batch_size])
    sync(torch.device("cuda") if "cuda" in str(translator.device) else torch.device("cpu"))
    outs = []
    start = time.perf_counter()
    for i in range(0, len(images), batch_size):
        outs += translator(images[i:i + batch_size])
    sync(torch.device("cuda") if "cuda" in str(translator.device) else torch.device("cpu"))
    return time.perf_counter() - start, outs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (ONNX Runtime's CUDA provider needed)")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None,
                        help="intra-op threads of torch and ONNX Runtime (default: each library's own)")
    parser.add_argument("--precision", default="fp32", help="the torch path's --precision (the graph is fp32)")
    parser.add_argument("--num-workers", type=int, default=None, help="decode/encode threads of both paths")
    parser.add_argument("--generator", default="resnet_9blocks")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("GANCTL_TEST_DATA", "/work/shared/data")))
    parser.add_argument("--quantize", default="none", help="none, or int8: also time an int8 export")
    parser.add_argument("--calibrate", type=Path, default=None,
                        help="calibration photos of --quantize int8 (default: DATA/horse2zebra/trainA)")
    args = parser.parse_args()
    console.set_quiet(True)
    if args.threads:
        torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory(prefix="ganctl-bench-onnx-") as tmp:
        tmp = Path(tmp)
        paths = make_folder(tmp / "in", args.images, args.data)
        ckpt = make_checkpoint(tmp / "model.safetensors", args.generator)
        exported = export_onnx(ckpt, tmp / "model.onnx", opset=args.opset)
        ours = load_translator(ckpt, device=args.device, precision=args.precision)
        providers, _ = onnx_providers(args.device)
        ort_translator = OnnxTranslator(open_session(exported.path, providers, threads=args.threads), exported.path)
        images = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
        paths_by_name = {"torch": ours, "onnxruntime": ort_translator}
        if args.quantize == "int8":
            int8 = export_onnx(ckpt, tmp / "int8.onnx", opset=args.opset, quantize="int8",
                               calibrate=args.calibrate or args.data / "horse2zebra" / "trainA")
            paths_by_name["ort int8"] = OnnxTranslator(open_session(int8.path, providers, threads=args.threads),
                                                       int8.path)

        # Warm-up of both (allocators, ONNX Runtime's first run) outside the timings.
        for translator in paths_by_name.values():
            translator(images[:args.batch_size])

        best: dict[tuple[str, str], tuple[int, float]] = {}

        def keep(who: str, what: str, n: int, secs: float) -> None:
            if (who, what) not in best or secs < best[(who, what)][1]:
                best[(who, what)] = (n, secs)

        outputs: dict[str, list[np.ndarray]] = {}
        for r in range(args.repeat):
            for who, translator in paths_by_name.items():
                summary = translate_path(tmp / "in", tmp / f"{who}{r}", translator, batch_size=args.batch_size,
                                         num_workers=args.num_workers)
                keep(who, "end to end", summary.translated, summary.seconds)
                secs, outputs[who] = forward_only(images, translator, args.batch_size)
                keep(who, "forward only", len(images), secs)

        x = np.stack(images[:args.batch_size]).transpose(0, 3, 1, 2).astype(np.float32) / 255
        with torch.inference_mode():
            want = ours._forward_images(torch.from_numpy(x).to(ours.device)).float().cpu().numpy()
        compared = {}
        for who in list(paths_by_name)[1:]:
            levels = np.stack([np.abs(a.astype(np.int16) - b) for a, b in zip(outputs["torch"], outputs[who])])
            mse = np.mean([np.mean((a / 255.0 - b / 255.0) ** 2) for a, b in zip(outputs["torch"], outputs[who])])
            float_diff = float(np.abs(paths_by_name[who].run(x) - want).max())
            compared[who] = (levels, 10 * np.log10(1 / mse) if mse else float("inf"), float_diff)

    where = (torch.cuda.get_device_name(0) if args.device.startswith("cuda") else
             f"CPU, torch {torch.get_num_threads()} threads, ONNX Runtime {args.threads or 'default'} threads")
    print(f"\n{where}; generator {args.generator}; 256x256 JPEG -> PNG; batch {args.batch_size}; torch "
          f"{torch.__version__} ({ours.precision_name}), onnxruntime {onnxruntime().__version__} (opset {args.opset}, "
          f"{ort_translator.device}); best of {args.repeat}")
    print(f"{'path':<12} {'what':<13} {'images':>7} {'seconds':>8} {'images/s':>9}")
    rate = {}
    for who in paths_by_name:
        for what in ("end to end", "forward only"):
            n, secs = best[(who, what)]
            rate[(who, what)] = n / secs
            print(f"{who:<12} {what:<13} {n:>7} {secs:>8.2f} {n / secs:>9.1f}")
    for who, (levels, psnr, float_diff) in compared.items():
        for what in ("end to end", "forward only"):
            print(f"{who} / torch, {what}: {rate[(who, what)] / rate[('torch', what)]:.2f}x")
        print(f"{who} outputs vs torch's, same {len(images)} images: max |diff| {int(levels.max())}, mean "
              f"{levels.mean():.4f} (8-bit levels), PSNR {psnr:.1f} dB; float outputs of the first batch: max "
              f"|diff| {float_diff:.2e}")


if __name__ == "__main__":
    main()
