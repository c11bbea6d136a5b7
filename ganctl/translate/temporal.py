"""Temporally consistent video translation: each output frame blended with the previous one, moved by the input's flow.

Frame-by-frame GAN output flickers: the model answers each frame on its own, so where the input barely
changes the colours still jump. :class:`TemporalBlender` takes each new output and, where the input's motion
(:mod:`ganctl.flow`, computed on the *input* frames, so it does not depend on the model) says the pixel is
the same surface as before, mixes in the previous *blended* output warped to the current frame:

    out_t = w * warp(out_{t-1}) + (1 - w) * model_t,   w = strength on consistent pixels, 0 elsewhere

Recursion makes it a running average along motion paths (about 1 / (1 - strength) frames long); new
content, occlusions and lighting changes (where the input does not agree) take the model's answer at once,
and a scene cut starts afresh. The consistency mask is blurred a little so blended and unblended regions
do not meet at a seam.

Colourisation (models that keep the input's lightness, ``keeps_lightness``) blends only the chroma: Lab a and
b (:mod:`ganctl.color`), with L from the current output, which is the input's own -- so no detail is
smoothed away, and the average can be long (:data:`CHROMA_STRENGTH`). Other models blend RGB, more briefly
(:data:`RGB_STRENGTH`): every warp resamples the picture, and a long average would soften its texture.
"""

from __future__ import annotations

import numpy as np
import torch

from ganctl.color import lab_to_rgb, rgb_to_lab
from ganctl.flow import Motion, opencv, warp

# The previous output's share on consistent pixels (measured: docs/benchmarks.md, "Temporal video").
CHROMA_STRENGTH = 0.9
RGB_STRENGTH = 0.8
# Gaussian sigma (pixels) of the blur that softens the consistency mask's edges.
MASK_SIGMA = 1.5


def _lab(rgb: np.ndarray) -> torch.Tensor:
    """uint8 or float H x W x 3 RGB (0-255) -> 3 x H x W float32 Lab."""
    return rgb_to_lab(torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1) / 255.0)


class TemporalBlender:
    """Blends each output frame with the previous (blended) one, following :class:`~ganctl.flow.Motion`."""

    def __init__(self, chroma_only: bool = False, strength: float | None = None):
        self.cv2 = opencv()
        self.chroma_only = chroma_only
        self.strength = strength if strength is not None else CHROMA_STRENGTH if chroma_only else RGB_STRENGTH
        self.previous: np.ndarray | None = None  # the last blended output, float32 RGB (or gray) 0-255

    def __call__(self, output: np.ndarray, motion: Motion) -> np.ndarray:
        """The output frame (uint8 H x W [x 3]) to write, given the model's frame and the input's motion."""
        previous = self.previous
        if motion.cut or motion.flow is None or previous is None or previous.shape[:2] != output.shape[:2] \
                or previous.ndim != output.ndim:
            self.previous = output.astype(np.float32)
            return output
        weight = self.cv2.GaussianBlur(motion.consistent.astype(np.float32), (0, 0), MASK_SIGMA) * self.strength
        warped = warp(previous, motion.flow)
        current = output.astype(np.float32)
        if self.chroma_only and output.ndim == 3:
            lab_now, lab_then = _lab(current), _lab(warped)
            w = torch.from_numpy(weight)
            lab_now[1:] = w * lab_then[1:] + (1 - w) * lab_now[1:]
            blended = lab_to_rgb(lab_now).permute(1, 2, 0).numpy() * 255.0
        else:
            w = weight[..., None] if output.ndim == 3 else weight
            blended = w * warped + (1 - w) * current
        self.previous = blended
        return np.clip(blended + 0.5, 0, 255).astype(np.uint8)
