"""RGB <-> Lab conversion (kornia's): agreement with scikit-image, round trips, batching, gradients, scaling."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from skimage.color import lab2rgb, rgb2lab

from ganctl.color import (
    AB_SCALE,
    lab_normalized_to_rgb,
    lab_to_rgb,
    rgb_to_lab,
    rgb_to_lab_normalized,
)


def _to_hwc(t: torch.Tensor) -> np.ndarray:
    return t.permute(1, 2, 0).double().numpy()


def test_rgb_to_lab_matches_skimage_on_random_and_extreme_colours():
    gen = torch.Generator().manual_seed(0)
    rgb = torch.rand(3, 3, 20, 20, generator=gen, dtype=torch.float64)
    rgb[0, :, 0, :8] = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)), dtype=torch.float64).T
    rgb[1, :, 0, 0] = 0.04  # just below the sRGB linear-segment threshold
    lab = rgb_to_lab(rgb)
    for i in range(rgb.shape[0]):
        expected = rgb2lab(_to_hwc(rgb[i]))
        assert np.abs(_to_hwc(lab[i]) - expected).max() < 1e-3


@pytest.mark.filterwarnings("ignore:Conversion from CIE-LAB")
def test_lab_to_rgb_matches_skimage():
    gen = torch.Generator().manual_seed(1)
    lab = torch.stack([
        torch.rand(16, 16, generator=gen) * 100,
        torch.rand(16, 16, generator=gen) * 160 - 80,
        torch.rand(16, 16, generator=gen) * 160 - 80,
    ]).double()
    expected = lab2rgb(_to_hwc(lab))  # out-of-gamut colours are clipped by both
    assert np.abs(_to_hwc(lab_to_rgb(lab)) - expected).max() < 1e-4


def test_round_trip_float32_batched_and_unbatched_agree():
    rgb = torch.rand(2, 3, 9, 7)
    assert torch.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-4)
    assert torch.allclose(rgb_to_lab(rgb[1]), rgb_to_lab(rgb)[1])


def test_white_black_and_gray_have_no_colour():
    gray = torch.linspace(0, 1, 11).view(1, 1, 1, 11).expand(1, 3, 1, 11)
    lab = rgb_to_lab(gray)
    assert lab[:, 1:].abs().max() < 0.01
    assert lab[0, 0, 0, 0].item() == pytest.approx(0.0, abs=1e-4)
    assert lab[0, 0, 0, -1].item() == pytest.approx(100.0, abs=1e-3)


def test_scaling_keeps_all_srgb_colours_in_unit_range_and_inverts():
    cube = torch.tensor(list(itertools.product(np.linspace(0, 1, 9), repeat=3)), dtype=torch.float32)
    rgb = cube.T.reshape(1, 3, 27, 27)
    l_norm, ab_norm = rgb_to_lab_normalized(rgb)
    assert l_norm.shape == (1, 1, 27, 27) and ab_norm.shape == (1, 2, 27, 27)
    assert l_norm.min() >= -1 - 1e-5 and l_norm.max() <= 1 + 1e-5
    assert ab_norm.abs().max() <= 1.0
    assert ab_norm.abs().max() > 90 / AB_SCALE  # the range is used, not wasted
    assert torch.allclose(lab_normalized_to_rgb(l_norm, ab_norm), rgb, atol=1e-4)


def test_out_of_gamut_lab_comes_back_clipped_to_unit_range():
    l_norm = torch.tensor([-1.0, 0.0, 1.0]).view(1, 1, 1, 3)
    ab_norm = torch.ones(1, 2, 1, 3)  # a = b = 110: far outside sRGB
    rgb = lab_normalized_to_rgb(l_norm, ab_norm)
    assert rgb.min() == 0.0 and rgb.max() == 1.0


def test_gradients_are_finite_including_black_and_thresholds():
    rgb = torch.rand(1, 3, 4, 4)
    rgb[0, :, 0, 0] = 0.0
    rgb[0, :, 0, 1] = 0.04045
    rgb.requires_grad_(True)
    l_norm, ab_norm = rgb_to_lab_normalized(rgb)
    (l_norm.sum() + ab_norm.square().sum()).backward()
    assert torch.isfinite(rgb.grad).all()
    ab = torch.zeros(1, 2, 3, 3, requires_grad=True)
    lab_normalized_to_rgb(torch.zeros(1, 1, 3, 3) - 1, ab).sum().backward()
    assert torch.isfinite(ab.grad).all()


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="3, H, W"):
        rgb_to_lab(torch.rand(1, 4, 2, 2))
    with pytest.raises(ValueError, match="3, H, W"):
        rgb_to_lab(torch.rand(3, 2))


def test_opencv_frame_lab_agrees_with_kornia_and_inverts():
    pytest.importorskip("cv2")
    from ganctl.color import frame_lab_to_rgb, frame_rgb_to_lab

    rgb = np.random.default_rng(0).integers(0, 256, (40, 50, 3)).astype(np.uint8)
    fast = frame_rgb_to_lab(rgb)
    exact = rgb_to_lab(torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)).permute(1, 2, 0).numpy()
    assert np.abs(fast - exact).max() < 0.35
    assert np.abs(frame_lab_to_rgb(fast) - rgb).max() < 1.0
