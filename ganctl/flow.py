"""Motion between consecutive video frames: optical flow (OpenCV's DIS), warping by it, and where it holds.

The one place for flow knowledge, shared by ``translate --temporal`` (:mod:`ganctl.translate.temporal`) and
``eval video`` (:mod:`ganctl.metrics.video`), so the measure judges consistency by the same motion the
method follows.

For each new frame a :class:`MotionTracker` computes the flow from it back to the previous frame (DIS,
OpenCV's fast dense flow, no weights) and the flow forward, and keeps a pixel as *consistent* when

* the forward-backward check holds (Sundaram et al. 2010, as in Ruder et al.'s video style transfer):
  following the backward flow and then the forward flow returns within ``0.01 * (|b|^2 + |f|^2) + 0.5`` px;
* the warped previous frame matches the current one within :data:`PHOTO_TOLERANCE` gray levels (the input
  itself agrees there: no occlusion, no lighting change);
* the flow points inside the previous frame.

A pair with fewer than :data:`CUT_FRACTION` consistent pixels is a scene cut. Flow runs on the gray frames,
scaled down to :data:`FLOW_MAX_SIDE` pixels on the longer side (motion between consecutive frames is
smooth enough; full HD flow would cost more than the model). OpenCV comes from the ``video`` extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ganctl.errors import GanctlError

INSTALL_HINT = "pip install 'ganctl[video]' (OpenCV: opencv-python-headless)"
# Gray levels (0-255) within which the warped previous input frame counts as the same picture.
PHOTO_TOLERANCE = 12.0
# Below this share of consistent pixels, a frame pair is a scene cut.
CUT_FRACTION = 0.3
# Flow is computed at most this many pixels on the longer side.
FLOW_MAX_SIDE = 512
# Frames smaller than this on either side get no flow (DIS works on 8x8 patches).
MIN_FLOW_SIDE = 16


def opencv() -> Any:
    """The ``cv2`` module, or a GanctlError saying how to install it."""
    try:
        import cv2
    except ImportError:
        raise GanctlError(f"temporal video translation and eval video need OpenCV: {INSTALL_HINT}") from None
    return cv2


def opencv_available() -> bool:
    """Whether OpenCV can be imported."""
    try:
        opencv()
    except GanctlError:
        return False
    return True


def to_gray(frame: np.ndarray) -> np.ndarray:
    """A uint8 H x W gray image from an H x W or H x W x 3 (RGB) uint8 frame."""
    if frame.ndim == 3 and frame.shape[2] == 3:
        return opencv().cvtColor(np.ascontiguousarray(frame), opencv().COLOR_RGB2GRAY)
    # PyAV's arrays of odd widths are views into padded rows; OpenCV's flow needs contiguous memory.
    return np.ascontiguousarray(frame if frame.ndim == 2 else frame[:, :, 0])


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` (the previous frame, H x W [x C]) moved to the current frame: pixel x takes image[x + flow[x]]."""
    cv2 = opencv()
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


@dataclass
class Motion:
    """How the current frame relates to the previous one.

    ``flow``: H x W x 2 float32, current pixel x sits at x + flow[x] in the previous frame (None at the first
    frame, after a cut or for frames too small for flow); ``consistent``: H x W bool, where the flow holds and
    the input agrees; ``cut``: a scene cut (or no previous frame) -- nothing carries over.
    """

    flow: np.ndarray | None
    consistent: np.ndarray | None
    cut: bool

    @property
    def fraction(self) -> float:
        """The share of consistent pixels (0 without flow)."""
        return float(self.consistent.mean()) if self.consistent is not None else 0.0


class MotionTracker:
    """Feed it the input frames in order; for each it returns the :class:`Motion` from the previous one."""

    def __init__(self, max_side: int = FLOW_MAX_SIDE):
        cv2 = opencv()
        self.cv2 = cv2
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self.max_side = max_side
        self.previous: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the previous frame (the next one starts a new shot)."""
        self.previous = None

    def __call__(self, frame: np.ndarray) -> Motion:
        """The motion from the previous frame to ``frame`` (uint8 H x W or H x W x 3)."""
        gray = to_gray(frame)
        previous, self.previous = self.previous, gray
        if previous is None or previous.shape != gray.shape or min(gray.shape) < MIN_FLOW_SIDE:
            return Motion(None, None, cut=True)
        flow, consistent = self._flow(previous, gray)
        motion = Motion(flow, consistent, cut=False)
        motion.cut = motion.fraction < CUT_FRACTION
        return motion

    def _flow(self, previous: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cv2 = self.cv2
        h, w = current.shape
        scale = min(1.0, self.max_side / max(h, w))
        if scale < 1.0:
            size = (max(MIN_FLOW_SIDE, round(w * scale)), max(MIN_FLOW_SIDE, round(h * scale)))
            small_prev = cv2.resize(previous, size, interpolation=cv2.INTER_AREA)
            small_cur = cv2.resize(current, size, interpolation=cv2.INTER_AREA)
        else:
            small_prev, small_cur = previous, current
        backward = self.dis.calc(small_cur, small_prev, None)
        forward = self.dis.calc(small_prev, small_cur, None)
        if scale < 1.0:
            sy, sx = h / small_cur.shape[0], w / small_cur.shape[1]
            backward = cv2.resize(backward, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32([sx, sy])
            forward = cv2.resize(forward, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32([sx, sy])
        forward_there = warp(forward, backward)
        round_trip = np.sum((backward + forward_there) ** 2, axis=2)
        holds = round_trip <= 0.01 * (np.sum(backward ** 2, axis=2) + np.sum(forward_there ** 2, axis=2)) + 0.5
        grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        x, y = grid_x + backward[..., 0], grid_y + backward[..., 1]
        inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
        agrees = np.abs(warp(previous, backward).astype(np.float32) - current) <= PHOTO_TOLERANCE
        return backward, holds & inside & agrees
