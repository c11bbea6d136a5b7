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
b (:func:`ganctl.color.frame_rgb_to_lab`), with L from the current output, which is the input's own -- so no detail is
smoothed away, and the average can be long (:data:`CHROMA_STRENGTH`). Other models blend RGB, more briefly
(:data:`RGB_STRENGTH`): every warp resamples the picture, and a long average would soften its texture.
"""

from __future__ import annotations

import numpy as np

from ganctl.color import frame_lab_to_rgb, frame_rgb_to_lab
from ganctl.flow import Motion, opencv, warp

# The previous output's share on consistent pixels (measured: docs/benchmarks.md, "Temporal video").
CHROMA_STRENGTH = 0.9
RGB_STRENGTH = 0.8
# Gaussian sigma (pixels) of the blur that softens the consistency mask's edges.
MASK_SIGMA = 1.5


class TemporalBlender:
    """Blends each output frame with the previous (blended) one, following :class:`~ganctl.flow.Motion`."""

    def __init__(self, chroma_only: bool = False, strength: float | None = None):
        self.cv2 = opencv()
        self.chroma_only = chroma_only
        self.strength = strength if strength is not None else CHROMA_STRENGTH if chroma_only else RGB_STRENGTH
        # The last blended output, float32: Lab when blending chroma (warped as it is: one conversion a frame
        # saved), else RGB (or gray) 0-255.
        self.previous: np.ndarray | None = None

    def __call__(self, output: np.ndarray, motion: Motion) -> np.ndarray:
        """The output frame (uint8 H x W [x 3]) to write, given the model's frame and the input's motion."""
        chroma = self.chroma_only and output.ndim == 3
        current = frame_rgb_to_lab(output) if chroma else output.astype(np.float32)
        previous, self.previous = self.previous, current
        if motion.cut or motion.flow is None or previous is None or previous.shape != current.shape:
            return output
        weight = self.cv2.GaussianBlur(motion.consistent.astype(np.float32), (0, 0), MASK_SIGMA) * self.strength
        warped = warp(previous, motion.flow)
        if chroma:
            w = weight[..., None]
            current[..., 1:] = w * warped[..., 1:] + (1 - w) * current[..., 1:]
            return np.clip(frame_lab_to_rgb(current) + 0.5, 0, 255).astype(np.uint8)
        w = weight[..., None] if output.ndim == 3 else weight
        current[...] = w * warped + (1 - w) * current
        return np.clip(current + 0.5, 0, 255).astype(np.uint8)
