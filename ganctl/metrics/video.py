"""How much a translated video flickers, and how close it is to the true video: ``ganctl eval video``.

``warp_error``: for each pair of consecutive frames, the output's previous frame is warped to the current one
by the *input's* flow (:mod:`ganctl.flow`, the motion ``translate --temporal`` follows too) and compared with
the current output frame, on the pixels where the input itself is consistent (forward-backward check and
the input agreeing with its own warped previous frame). It is the mean absolute difference over all those
pixels of all pairs; scene cuts (too few consistent pixels) are left out and counted. A gray input (every
frame black and white, :func:`ganctl.data.frames.looks_gray`) is measured on chroma only (Lab a and b: the
colour that was added), a colour input on RGB (0-255). A perfectly steady translation of a still scene
scores 0; compression noise alone gives about 1.

With a reference video (the true translation, e.g. the colour original of a grayed clip): PSNR (dB) and
SSIM per frame (torchmetrics, as ``eval ssim``) and their means.

Frames pair by order; the input (and reference) are resized to the output's size when they differ (an
output made with ``translate --size``); frame counts must match.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganctl.color import frame_rgb_to_lab
from ganctl.data.frames import looks_gray
from ganctl.data.video import iter_frames
from ganctl.errors import InputError
from ganctl.flow import MotionTracker, opencv, warp
from ganctl.metrics.ssim import psnr_values, ssim_values


def _frames(path: Path) -> Iterator[np.ndarray]:
    for _, frame in iter_frames(path):
        yield frame


def _to_tensor(frame: np.ndarray) -> torch.Tensor:
    """uint8 or float H x W x 3 (0-255) -> 1 x 3 x H x W float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frame, dtype=np.float32)).permute(2, 0, 1)[None] / 255.0


def _ab(frame: np.ndarray) -> np.ndarray:
    """Lab a and b (H x W x 2) of an RGB frame."""
    return frame_rgb_to_lab(frame)[..., 1:]


def _fit(frame: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``frame`` resized to ``like``'s size where it differs (area filter)."""
    if frame.shape[:2] == like.shape[:2]:
        return frame
    cv2 = opencv()
    return cv2.resize(frame, (like.shape[1], like.shape[0]), interpolation=cv2.INTER_AREA)


def video_consistency(output: str | os.PathLike, input: str | os.PathLike,
                      reference: str | os.PathLike | None = None) -> dict[str, Any]:
    """``warp_error`` of ``output`` along ``input``'s motion, and PSNR/SSIM against ``reference`` when given.

    Returns a dict: ``frames``, ``pairs`` (consecutive pairs measured), ``cuts``, ``gray_input``,
    ``warp_error_on`` (``ab`` or ``rgb``), ``warp_error``, ``consistent_fraction`` (mean share of consistent
    pixels), and with a reference ``psnr``/``ssim`` ({mean, per_frame}).
    """
    output, input = Path(output), Path(input)
    reference = Path(reference) if reference is not None else None
    tracker = MotionTracker()
    sums = {"ab": 0.0, "rgb": 0.0}
    pixels, pairs, cuts, fraction, frames = 0, 0, 0, 0.0, 0
    gray_input = True
    psnr: list[float] = []
    ssim: list[float] = []
    previous = None
    refs = _frames(reference) if reference is not None else None
    ins = _frames(input)
    for out in _frames(output):
        source = next(ins, None)
        if source is None:
            raise InputError(input, f"has fewer frames than {output.name} ({frames}); eval video pairs frames by order")
        source = _fit(source, out)
        gray_input = gray_input and looks_gray(source)
        motion = tracker(source)
        out_f = out.astype(np.float32)
        if previous is not None:
            if motion.cut:
                cuts += 1
            else:
                mask = motion.consistent
                warped = warp(previous, motion.flow)
                sums["rgb"] += float(np.abs(out_f - warped)[mask].mean(axis=1).sum())
                sums["ab"] += float(np.abs(_ab(out_f) - _ab(warped))[mask].mean(axis=1).sum())
                pixels += int(mask.sum())
                fraction += motion.fraction
                pairs += 1
        previous = out_f
        if refs is not None:
            ref = next(refs, None)
            if ref is None:
                raise InputError(reference, f"has fewer frames than {output.name} ({frames})")
            ref_t, out_t = _to_tensor(_fit(ref, out)), _to_tensor(out)
            psnr.append(float(psnr_values(ref_t, out_t)[0]))
            ssim.append(float(ssim_values(ref_t, out_t)[0]))
        frames += 1
    if frames == 0:
        raise InputError(output, "no video frames could be decoded")
    for path, rest in ((input, ins), (reference, refs)):
        if rest is not None and next(rest, None) is not None:
            raise InputError(path, f"has more frames ({frames + 1 + sum(1 for _ in rest)}) than {output.name} "
                                   f"({frames}); eval video pairs frames by order")
    on = "ab" if gray_input else "rgb"
    result: dict[str, Any] = {
        "output": str(output), "input": str(input), "frames": frames, "pairs": pairs, "cuts": cuts,
        "gray_input": gray_input, "warp_error_on": on,
        "warp_error": sums[on] / pixels if pixels else None,
        "consistent_fraction": fraction / pairs if pairs else None,
    }
    if reference is not None:
        result["reference"] = str(reference)
        result["psnr"] = {"mean": float(np.mean(psnr)), "per_frame": psnr}
        result["ssim"] = {"mean": float(np.mean(ssim)), "per_frame": ssim}
    return result
