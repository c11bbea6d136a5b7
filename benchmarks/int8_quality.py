"""What ``ganctl export --quantize int8`` costs in quality: trained cyclegan runs, scored with fp32 and int8.

For each run and direction: the generator is exported twice (fp32, and int8 calibrated by default on the run's
training images of the input domain), and the run's test split is translated by ganctl's torch path (fp32),
the fp32 ONNX file and the int8 one. Printed per direction: the int8 outputs against the torch outputs (PSNR,
SSIM, mean difference in 8-bit levels), and ``ganctl eval run``'s measures of the translations (domain
accuracy and content SSIM) for the torch path and for the int8 file, computed by the same evaluation.

    GANCTL_HOME=... python benchmarks/int8_quality.py runs/cyclegan/h2z runs/cyclegan/monet
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganctl import console  # noqa: E402
from ganctl.data.imageio import list_images  # noqa: E402
from ganctl.export.onnx_export import export_onnx  # noqa: E402
from ganctl.metrics import evaluation  # noqa: E402
from ganctl.metrics.run_eval import evaluate_run  # noqa: E402
from ganctl.metrics.ssim import psnr_values, ssim_values  # noqa: E402
from ganctl.runs import run_dataset  # noqa: E402
from ganctl.translate import load_translator  # noqa: E402
from ganctl.translate.images import decode_image  # noqa: E402
from ganctl.translate.onnx_translator import load_onnx_translator  # noqa: E402

DOMAIN_OF = {"a2b": "A", "b2a": "B"}


def scores_with(run: Path, translators: dict[str, object]) -> dict[str, dict]:
    """``eval run``'s per-direction scores, the translations made by ``translators[direction]``."""
    original = evaluation.RunToEvaluate.translator
    evaluation.RunToEvaluate.translator = lambda self, direction="a2b": translators[direction]
    try:
        report = evaluate_run(run, device="cpu", write=False)
        return {d: report[d] for d in ("a2b", "b2a")}
    finally:
        evaluation.RunToEvaluate.translator = original


def as_batch(images: list[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="cyclegan run folders")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    console.set_quiet(True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ganctl-int8-quality-") as tmp:
        for run in args.runs:
            torch_paths, int8_paths, fp32_paths = {}, {}, {}
            checks = {}
            for direction in ("a2b", "b2a"):
                fp32 = export_onnx(run, Path(tmp) / f"{run.name}_{direction}.onnx", direction=direction)
                int8 = export_onnx(run, Path(tmp) / f"{run.name}_{direction}_int8.onnx", direction=direction,
                                   quantize="int8")
                checks[direction] = int8.int8
                torch_paths[direction] = load_translator(run, direction, device="cpu", precision="fp32")
                fp32_paths[direction] = load_onnx_translator(fp32.path, device="cpu")
                int8_paths[direction] = load_onnx_translator(int8.path, device="cpu")
            measured = {name: scores_with(run, paths) for name, paths in
                        (("torch", torch_paths), ("int8", int8_paths))}
            data = run_dataset(run)
            for direction in ("a2b", "b2a"):
                files = list_images(data / f"test{DOMAIN_OF[direction]}")
                images = [decode_image(f, "RGB").pixels for f in files]
                want = as_batch(torch_paths[direction](images))
                got = as_batch(int8_paths[direction](images))
                fp32_got = as_batch(fp32_paths[direction](images))
                t, q = measured["torch"][direction], measured["int8"][direction]
                rows.append((run.name, direction, len(files), checks[direction].calibration_images,
                             float(psnr_values(want, fp32_got).mean()), float(psnr_values(want, got).mean()),
                             float(ssim_values(want, got).mean()), float((want - got).abs().mean() * 255),
                             t["domain_accuracy"], q["domain_accuracy"], t["content_ssim"], q["content_ssim"]))
    print(f"\n{'run':<14} {'dir':<4} {'test':>4} {'calib':>5} {'fp32 onnx PSNR':>14} {'int8 PSNR':>9} "
          f"{'int8 SSIM':>9} {'levels':>6}  {'domain acc torch/int8':>21}  {'content SSIM torch/int8':>23}")
    for name, direction, n, calib, p32, p8, s8, lv, dt, dq, ct, cq in rows:
        print(f"{name:<14} {direction:<4} {n:>4} {calib:>5} {p32:>11.1f} dB {p8:>6.1f} dB {s8:>9.4f} {lv:>6.2f}  "
              f"{dt:>10.3f} / {dq:.3f}  {ct:>12.3f} / {cq:.3f}")


if __name__ == "__main__":
    main()
