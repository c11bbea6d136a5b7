"""Flicker, quality and speed of ``ganctl translate VIDEO --temporal`` against frame by frame.

Three clips from the test data (``$GANCTL_TEST_DATA``, default /work/shared/data/video):

* **bunny**: ``--frames`` frames of big_buck_bunny_0_30.webm from ``--start`` s (past the 0-18 s the
  colorize model below was trained on), shorter side ``--size``, written as the true-colour clip and as its
  gray version (ITU luma, as a black-and-white film stores it); the gray clip is colourised by ``--colorize``
  both ways and compared with the true colours (PSNR/SSIM per frame, averaged), warp error on chroma (Lab a,
  b; the true colours' own warp error is the floor the codec and the flow leave), and timed: ``--repeats``
  runs each, interleaved (frame by frame, temporal, frame by frame, ...) since the machine is shared, the
  best kept (other work only ever makes a run slower);
* **chaplin**: the first ``--frames`` frames of chaplin.mp4 (a black-and-white film, no truth: warp error
  only), colourised by the same model;
* **cyclegan**: the true-colour bunny clip through ``--cyclegan`` (RGB warp error; PSNR/SSIM here say how
  far the output is from the *input*, not a quality).

For every clip, "SSIM to frame by frame" says how much the temporal output departs from the model's own
frame-by-frame answer (1: not at all; a soft, smeared output would score low).

The warp error and PSNR/SSIM are ``ganctl eval video``'s (:mod:`ganctl.metrics.video`).

    python benchmarks/temporal_video.py --colorize runs/colorize/bbb64 --cyclegan runs/cyclegan/h2z64
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ganctl import console  # noqa: E402
from ganctl.data.video import iter_frames  # noqa: E402
from ganctl.metrics.video import video_consistency  # noqa: E402
from ganctl.translate import load_translator  # noqa: E402
from ganctl.translate.video import translate_video  # noqa: E402


def write_clip(path: Path, frames: list[np.ndarray], rate: Fraction, gray: bool = False) -> Path:
    """Frames (RGB uint8) as an H.264 video, almost lossless (crf 12); ``gray``: luma only, chroma neutral."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate, options={"crf": "12", "preset": "fast"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for pixels in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            if gray:
                frame = av.VideoFrame.from_ndarray(frame.to_ndarray(format="gray"), format="gray")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def take(path: Path, start: float, frames: int, size: int) -> list[np.ndarray]:
    """``frames`` frames of a video from ``start`` s, shorter side ``size`` (even width and height)."""
    out = []
    for _, frame in iter_frames(path, start=start, size=size):
        h, w = frame.shape[:2]
        out.append(frame[: h - h % 2, : w - w % 2])
        if len(out) == frames:
            break
    return out


def run(source: Path, out_dir: Path, translator, temporal: bool) -> tuple[Path, float]:
    """Translate ``source`` one way; the output and the seconds it took."""
    target = out_dir / f"{source.stem}_{'temporal' if temporal else 'frames'}.mp4"
    target.unlink(missing_ok=True)
    start = time.perf_counter()
    translate_video(source, target, translator, temporal=temporal, batch_size=8)
    return target, time.perf_counter() - start


def compare(name: str, source: Path, out_dir: Path, translator, repeats: int, truth: Path | None) -> list[dict]:
    """Both ways, timed interleaved; one row per way."""
    times: dict[bool, list[float]] = {False: [], True: []}
    outputs: dict[bool, Path] = {}
    for _ in range(repeats):
        for temporal in (False, True):
            outputs[temporal], seconds = run(source, out_dir, translator, temporal)
            times[temporal].append(seconds)
    rows = []
    for temporal in (False, True):
        report = video_consistency(outputs[temporal], source, truth)
        rows.append({"clip": name, "way": "temporal" if temporal else "frame by frame",
                     "seconds": min(times[temporal]), "frames": report["frames"],
                     "warp_error": report["warp_error"], "on": report["warp_error_on"], "cuts": report["cuts"],
                     "consistent": report["consistent_fraction"],
                     "psnr": report.get("psnr", {}).get("mean"), "ssim": report.get("ssim", {}).get("mean")})
    base, temp = rows
    temp["ssim_to_frames"] = video_consistency(outputs[True], source, outputs[False])["ssim"]["mean"]
    temp["warp_change"] = temp["warp_error"] / base["warp_error"] - 1
    temp["speed"] = base["seconds"] / temp["seconds"]
    if temp["psnr"] is not None:
        temp["psnr_change"] = temp["psnr"] - base["psnr"]
    return rows


def print_table(rows: list[dict]) -> None:
    """The results as a Markdown table."""
    print("| clip | way | frames | warp error | vs frame by frame | PSNR dB | SSIM | SSIM to frame by frame "
          "| s (best) | speed |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        change = f"{r['warp_change']:+.0%}" if "warp_change" in r else ""
        psnr = "" if r["psnr"] is None else f"{r['psnr']:.2f}" + (
            f" ({r['psnr_change']:+.2f})" if "psnr_change" in r else "")
        ssim = "" if r["ssim"] is None else f"{r['ssim']:.4f}"
        speed = f"{r['speed']:.2f}x" if "speed" in r else ""
        agree = f"{r['ssim_to_frames']:.4f}" if "ssim_to_frames" in r else ""
        seconds = "" if r["seconds"] is None else f"{r['seconds']:.2f}"
        print(f"| {r['clip']} | {r['way']} | {r['frames']} | {r['warp_error']:.3f} ({r['on']}) | {change} | {psnr} "
              f"| {ssim} | {agree} | {seconds} | {speed} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--colorize", type=Path, required=True, help="A train colorize run or checkpoint.")
    parser.add_argument("--cyclegan", type=Path, help="A train cyclegan run or checkpoint (G_A runs).")
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("GANCTL_TEST_DATA", "/work/shared/data")) / "video")
    parser.add_argument("--start", type=float, default=20.0, help="Bunny clip start, seconds.")
    parser.add_argument("--frames", type=int, default=72)
    parser.add_argument("--size", type=int, default=128, help="Shorter side of the clips, pixels.")
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs of each way (interleaved).")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    console.set_quiet(True)
    colorize = load_translator(args.colorize, device=args.device, precision="fp32")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bunny = take(args.data / "big_buck_bunny_0_30.webm", args.start, args.frames, args.size)
        rate = Fraction(24)
        truth = write_clip(tmp / "bunny_true.mp4", bunny, rate)
        gray = write_clip(tmp / "bunny_gray.mp4", bunny, rate, gray=True)
        rows += compare("bunny, gray -> colorize", gray, tmp, colorize, args.repeats, truth)
        floor = video_consistency(truth, gray)
        rows.append({"clip": "bunny, the true colours", "way": "(the codec's floor)", "seconds": None,
                     "frames": floor["frames"], "warp_error": floor["warp_error"], "on": floor["warp_error_on"],
                     "psnr": None, "ssim": None})
        chaplin = write_clip(tmp / "chaplin.mp4", take(args.data / "chaplin.mp4", 0.0, args.frames, args.size),
                             Fraction(25))
        rows += compare("chaplin -> colorize", chaplin, tmp, colorize, 1, None)
        if args.cyclegan is not None:
            cyclegan = load_translator(args.cyclegan, device=args.device, precision="fp32")
            rows += compare("bunny colour -> cyclegan", truth, tmp, cyclegan, args.repeats, truth)
    print_table(rows)


if __name__ == "__main__":
    main()
