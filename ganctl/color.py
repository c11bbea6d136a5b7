"""sRGB <-> CIE Lab for the colorize networks: kornia's conversion plus the scaling the networks see.

The conversion itself is ``kornia.color`` (sRGB transfer curve, D65 white, 2-degree observer, the
constants of scikit-image's ``rgb2lab``/``lab2rgb``; checked against scikit-image in
``tests/test_color.py``). It takes ``(*, 3, H, W)`` float tensors and is differentiable; ``lab_to_rgb``
clips to [0, 1] (out-of-gamut colours come back clipped, as scikit-image does) unless called with
``clip=False``. Half-precision handling differs between kornia versions, so callers pass float32.

Ranges: RGB in [0, 1]; L in [0, 100]; a and b roughly in [-86, 98] and [-108, 95] for sRGB colours.
Networks see Lab scaled to [-1, 1] (the checkpoint config of a colorize model says ``"color_space":
"lab"``): ``L / 50 - 1`` and ``ab / AB_SCALE`` with ``AB_SCALE = 110``, chosen because it is the
smallest round number that keeps every sRGB colour's a and b inside [-1, 1] (so a tanh output can
reach them all), while /128 would waste a seventh of the output range.
"""

from __future__ import annotations

import numpy as np
import torch
from kornia.color import lab_to_rgb, rgb_to_lab

__all__ = ["AB_SCALE", "frame_lab_to_rgb", "frame_rgb_to_lab", "lab_normalized_to_rgb", "lab_to_rgb", "rgb_to_lab",
           "rgb_to_lab_normalized"]

AB_SCALE = 110.0
"""ab / AB_SCALE maps every sRGB colour's a and b into [-1, 1]."""


def rgb_to_lab_normalized(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB in [0, 1] (``*, 3, H, W``) -> (L, ab) scaled to [-1, 1]: ``*, 1, H, W`` and ``*, 2, H, W``."""
    lab = rgb_to_lab(rgb)
    return lab[..., :1, :, :] / 50.0 - 1.0, lab[..., 1:, :, :] / AB_SCALE


def lab_normalized_to_rgb(l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    """(L, ab) scaled to [-1, 1] -> sRGB in [0, 1]; the inverse of :func:`rgb_to_lab_normalized`."""
    return lab_to_rgb(torch.cat([(l_norm + 1.0) * 50.0, ab_norm * AB_SCALE], dim=-3))


def frame_rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """A video frame, H x W x 3 RGB (uint8, or float 0-255) -> H x W x 3 float32 Lab, by OpenCV.

    For per-frame work on video (``translate --temporal``, ``eval video``): OpenCV converts a frame in one
    call, where kornia's dozen small torch operations, each spread over torch's threads, cost many times more
    on a busy CPU. Same white point and transfer curve; within 0.35 of :func:`rgb_to_lab` (tests/test_color.py).
    """
    from ganctl.flow import opencv

    cv2 = opencv()

    return cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32) / np.float32(255), cv2.COLOR_RGB2Lab)


def frame_lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """H x W x 3 float32 Lab -> H x W x 3 float32 RGB 0-255, by OpenCV: :func:`frame_rgb_to_lab`'s inverse."""
    from ganctl.flow import opencv

    cv2 = opencv()

    return cv2.cvtColor(np.ascontiguousarray(lab, dtype=np.float32), cv2.COLOR_Lab2RGB) * np.float32(255)
