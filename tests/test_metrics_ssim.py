"""SSIM/PSNR of paired real photos agree with torchmetrics; pairing by relative path; colour metrics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from ganctl.data.imageio import list_images
from ganctl.errors import InputError
from ganctl.metrics import colour
from ganctl.metrics.ssim import compute_ssim, pair_images


@pytest.fixture(scope="module")
def photo_pairs(real_data, tmp_path_factory):
    """Six horse2zebra photos (one in a subfolder) and a JPEG re-compressed copy of each, saved as .jpg."""
    src = sorted((real_data / "horse2zebra" / "testA").glob("*.jpg"))[:6]
    root = tmp_path_factory.mktemp("pairs")
    ref, out = root / "ref", root / "out"
    for i, path in enumerate(src):
        sub = "sub/" if i == 0 else ""
        (ref / sub).mkdir(parents=True, exist_ok=True)
        (out / sub).mkdir(parents=True, exist_ok=True)
        img = Image.open(path).convert("RGB")
        img.save(ref / f"{sub}{path.stem}.png")
        img.save(out / f"{sub}{path.stem}.jpg", quality=30)
    return ref, out


def _tensor(path):
    return torch.from_numpy(np.array(Image.open(path).convert("RGB"))).permute(2, 0, 1).float().div(255)[None]


def test_ssim_and_psnr_equal_torchmetrics_on_real_photos(photo_pairs):
    ref, out = photo_pairs
    result = compute_ssim(ref, out, psnr=True)
    ssim_tm, psnr_tm = [], []
    for ref_path in list_images(ref):
        out_path = out / ref_path.relative_to(ref).with_suffix(".jpg")
        a, b = _tensor(ref_path), _tensor(out_path)
        ssim_tm.append(float(StructuralSimilarityIndexMeasure(data_range=1.0)(b, a)))
        psnr_tm.append(float(PeakSignalNoiseRatio(data_range=1.0)(b, a)))
    assert result["pairs"] == 6 and result["ssim"]["count"] == 6
    assert result["ssim"]["mean"] == pytest.approx(np.mean(ssim_tm), abs=1e-6)
    assert result["ssim"]["std"] == pytest.approx(np.std(ssim_tm), abs=1e-6)
    assert result["psnr"]["mean"] == pytest.approx(np.mean(psnr_tm), abs=1e-5)
    assert 0.5 < result["ssim"]["mean"] < 0.99 and 20 < result["psnr"]["mean"] < 40  # JPEG q30: clearly lossy


def test_identical_images_score_one_and_infinite_psnr(photo_pairs):
    ref, _ = photo_pairs
    result = compute_ssim(ref, ref, psnr=True)
    assert result["ssim"]["mean"] == pytest.approx(1.0, abs=1e-5)
    assert math.isinf(result["psnr"]["mean"])


def test_pairing_lists_unpaired_and_ambiguous(tmp_path):
    ref, out = tmp_path / "ref", tmp_path / "out"
    for folder, names in ((ref, ["a.png", "b.jpg", "only_ref.png", "d/x.png", "dup.png"]),
                          (out, ["a.jpg", "b.png", "only_out.png", "d/x.webp", "dup.png", "dup.jpg"])):
        for name in names:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (8, 8)).save(folder / name)
    pairing = pair_images(ref, out)
    assert [(p.name, q.name) for p, q in pairing.pairs] == [("a.png", "a.jpg"), ("b.jpg", "b.png"),
                                                            ("x.png", "x.webp")]
    assert pairing.only_ref == ["only_ref"] and pairing.only_out == ["only_out"]
    assert pairing.ambiguous == ["dup"]


def test_cli_json_and_size_mismatch(cli, photo_pairs, tmp_path):
    ref, out = photo_pairs
    result = cli("eval", "ssim", ref, out, "--psnr", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["pairs"] == 6 and {"ssim", "ssim_std", "psnr", "psnr_std"} <= set(data)  # as eval run says them
    assert 0.5 < data["ssim"] < 1 and data["unpaired_ref"] == []

    small_ref, small_out = tmp_path / "r", tmp_path / "o"
    small_ref.mkdir()
    small_out.mkdir()
    Image.new("RGB", (16, 16)).save(small_ref / "x.png")
    Image.new("RGB", (16, 12)).save(small_out / "x.png")
    bad = cli("eval", "ssim", small_ref, small_out)
    assert bad.exit_code == 2 and "16x12 differs" in bad.output and "Traceback" not in bad.output
    with pytest.raises(InputError, match="no image pairs"):
        compute_ssim(small_ref, tmp_path)


def test_colourfulness_closed_form_and_gray():
    img = torch.zeros(1, 3, 4, 4)
    img[:, 0, :2] = 1.0  # top half pure red, bottom half black
    # rg: 255 on half the pixels (mean 127.5, std 127.5); yb: 127.5 on half (mean 63.75, std 63.75)
    expected = 1.3 * math.hypot(127.5, 63.75)
    assert float(colour.colourfulness(img)[0]) == pytest.approx(expected, rel=1e-5)
    gray = torch.rand(2, 1, 5, 5).expand(-1, 3, -1, -1)
    assert torch.allclose(colour.colourfulness(gray), torch.zeros(2), atol=1e-4)


def test_colourfulness_of_real_photos_exceeds_their_gray_versions(photo_pairs):
    ref, _ = photo_pairs
    x = torch.cat([_tensor(p) for p in list_images(ref)])
    gray = x.mean(dim=1, keepdim=True).expand(-1, 3, -1, -1)
    assert colour.colourfulness(x).mean() > 10 * colour.colourfulness(gray).mean() + 1


def test_digit_colour_accuracy_against_palette(mnist_source):
    from ganctl.data.mnist import load_mnist
    from ganctl.data.mnist_color import colorize_digits
    from ganctl.data.palettes import get_palette

    data = load_mnist(mnist_source)
    digits, labels = data.test_images[:200], data.test_labels[:200]
    palette = get_palette("mnist1")
    coloured = colorize_digits(digits, labels, palette).permute(0, 3, 1, 2).float().div(255)
    assert colour.colour_correct(coloured, labels, palette).float().mean() > 0.98
    shifted = (labels + 1) % 10
    assert colour.colour_correct(coloured, shifted, palette).float().mean() < 0.05
    assert not colour.palette_is_informative(get_palette("gray"))
