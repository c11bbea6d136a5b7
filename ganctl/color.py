"""RGB <-> CIE Lab in torch: vectorised, batched (N x 3 x H x W or 3 x H x W) and differentiable.

The conversion is sRGB (IEC 61966-2-1 transfer curve) with the D65 white point and the 2-degree
observer, the same constants scikit-image's ``rgb2lab``/``lab2rgb`` use, so results agree with it
to a small fraction of a Lab unit (checked in ``tests/test_color.py``).

Ranges: RGB in [0, 1]; L in [0, 100]; a and b roughly in [-86, 98] and [-108, 95] for sRGB colours.
Networks see Lab scaled to [-1, 1] (the checkpoint config of a colorize model says ``"color_space":
"lab"``): ``L / 50 - 1`` and ``ab / AB_SCALE`` with ``AB_SCALE = 110``, chosen because it is the
smallest round number that keeps every sRGB colour's a and b inside [-1, 1] (so a tanh output can
reach them all), while /128 would waste a seventh of the output range.
"""

from __future__ import annotations

import torch

AB_SCALE = 110.0
"""ab / AB_SCALE maps every sRGB colour's a and b into [-1, 1]."""

# D65 reference white (2-degree observer), X and Z relative to Y = 1.
_WHITE_D65 = (0.95047, 1.0, 1.08883)
# Linear sRGB -> XYZ (D65), rows X, Y, Z; the inverse is computed once so both directions match exactly.
_RGB_TO_XYZ = torch.tensor(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=torch.float64,
)
_XYZ_TO_RGB = torch.linalg.inv(_RGB_TO_XYZ)

_EPSILON = 0.008856  # (6/29)^3: below it the Lab cube root is replaced by a line
_KAPPA_SLOPE = 7.787  # slope of that line, (29/6)^2 / 3
_OFFSET = 16.0 / 116.0


def _channels_dim(x: torch.Tensor) -> int:
    """The channel dimension of a C x H x W or N x C x H x W tensor, checked to hold 3 channels."""
    if x.ndim not in (3, 4):
        raise ValueError(f"expected a 3 x H x W or N x 3 x H x W tensor, got shape {tuple(x.shape)}")
    dim = x.ndim - 3
    if x.shape[dim] != 3:
        raise ValueError(f"expected 3 channels, got {x.shape[dim]} (shape {tuple(x.shape)})")
    return dim


def _apply_matrix(matrix: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Multiply every pixel's 3-vector (the channel dimension, third from the end) by ``matrix``."""
    return torch.einsum("ij,...jhw->...ihw", matrix.to(device=x.device, dtype=x.dtype), x)


def _srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    # Clamp the argument of pow so the untaken branch of torch.where has finite gradients.
    curve = ((x.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4
    return torch.where(x > 0.04045, curve, x / 12.92)


def _linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    curve = 1.055 * x.clamp(min=0.0031308) ** (1.0 / 2.4) - 0.055
    return torch.where(x > 0.0031308, curve, x * 12.92)


def _lab_f(t: torch.Tensor) -> torch.Tensor:
    cube_root = t.clamp(min=_EPSILON) ** (1.0 / 3.0)
    return torch.where(t > _EPSILON, cube_root, _KAPPA_SLOPE * t + _OFFSET)


def _lab_f_inverse(t: torch.Tensor) -> torch.Tensor:
    # 0.2068966 = (6/29): the value of _lab_f at _EPSILON.
    return torch.where(t > 0.2068966, t**3, (t - _OFFSET) / _KAPPA_SLOPE)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1] (N x 3 x H x W or 3 x H x W) -> Lab with L in [0, 100] (D65), same shape."""
    dim = _channels_dim(rgb)
    linear = _srgb_to_linear(rgb)
    xyz = _apply_matrix(_RGB_TO_XYZ, linear)
    white = torch.tensor(_WHITE_D65, device=rgb.device, dtype=rgb.dtype).view(3, 1, 1)
    fx, fy, fz = _lab_f(xyz / white).unbind(dim)
    lightness = 116.0 * fy - 16.0
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    return torch.stack([lightness, a, b], dim=dim)


def lab_to_rgb(lab: torch.Tensor, clamp: bool = True) -> torch.Tensor:
    """Lab (L in [0, 100], D65) -> sRGB, same shape; clamped to [0, 1] unless ``clamp=False``.

    Lab colours outside the sRGB gamut come back clipped, as scikit-image's ``lab2rgb`` does.
    """
    dim = _channels_dim(lab)
    lightness, a, b = lab.unbind(dim)
    fy = (lightness + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = (fy - b / 200.0).clamp(min=0.0)  # negative Z has no meaning; scikit-image clips it too
    white = torch.tensor(_WHITE_D65, device=lab.device, dtype=lab.dtype).view(3, 1, 1)
    xyz = _lab_f_inverse(torch.stack([fx, fy, fz], dim=dim)) * white
    rgb = _linear_to_srgb(_apply_matrix(_XYZ_TO_RGB, xyz))
    return rgb.clamp(0.0, 1.0) if clamp else rgb


def rgb_to_gray(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB in [0, 1] -> the Lab lightness as a one-channel gray image in [0, 1] (what colorize sees)."""
    dim = _channels_dim(rgb)
    return rgb_to_lab(rgb).narrow(dim, 0, 1) / 100.0


def normalize_l(lightness: torch.Tensor) -> torch.Tensor:
    """L in [0, 100] -> [-1, 1] (the generator's input)."""
    return lightness / 50.0 - 1.0


def denormalize_l(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> L in [0, 100]."""
    return (x + 1.0) * 50.0


def normalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """a, b in Lab units -> roughly [-1, 1] (divided by :data:`AB_SCALE`)."""
    return ab / AB_SCALE


def denormalize_ab(x: torch.Tensor) -> torch.Tensor:
    """Scaled ab back to Lab units."""
    return x * AB_SCALE


def rgb_to_lab_normalized(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Batched sRGB in [0, 1] (N x 3 x H x W) -> (L, ab) scaled to [-1, 1]: N x 1 x H x W and N x 2 x H x W."""
    lab = rgb_to_lab(rgb)
    dim = lab.ndim - 3
    return normalize_l(lab.narrow(dim, 0, 1)), normalize_ab(lab.narrow(dim, 1, 2))


def lab_normalized_to_rgb(l_norm: torch.Tensor, ab_norm: torch.Tensor) -> torch.Tensor:
    """(L, ab) scaled to [-1, 1] -> sRGB in [0, 1]; the inverse of :func:`rgb_to_lab_normalized`."""
    dim = l_norm.ndim - 3
    lab = torch.cat([denormalize_l(l_norm), denormalize_ab(ab_norm)], dim=dim)
    return lab_to_rgb(lab)
