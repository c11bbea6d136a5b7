"""FID/KID: digit features on real MNIST folders, agreement with torchmetrics, Inception weights offline."""

from __future__ import annotations

import json
import shutil
import unittest.mock
import urllib.error

import numpy as np
import pytest
import torch
from PIL import Image

from ganctl.data.mnist_color import prepare_mnist_color
from ganctl.errors import InputError, OptionError
from ganctl.metrics import digits, fid
from ganctl.metrics.images import image_files


@pytest.fixture(scope="module")
def mnist(mnist_subset):
    return mnist_subset(1920, 120)


@pytest.fixture(scope="module")
def trained(mnist, quick_classifier):
    return quick_classifier(mnist, max_steps=30)


@pytest.fixture(scope="module")
def digit_sets(mnist, tmp_path_factory):
    """A real colour-MNIST folder: testA gray digits, testB the same digits coloured, trainA other gray digits."""
    out = tmp_path_factory.mktemp("fid") / "mnist-color"
    prepare_mnist_color(out, a="gray", b="mnist1", limit=120, mnist=mnist)
    return out


@pytest.fixture
def with_classifier(trained):
    """The module's classifier saved where ``--features digits`` looks for it (this test's $GANCTL_HOME)."""
    digits.save_classifier(trained)
    return trained


def test_fid_of_a_set_with_itself_is_zero(with_classifier, digit_sets):
    result = fid.compute_fid(digit_sets / "testA", digit_sets / "testA", features="digits", device="cpu")
    assert abs(result.fid) < 1e-2
    assert result.real_count == result.fake_count == 120


def test_fid_gray_vs_colour_is_large(with_classifier, digit_sets):
    same_domain = fid.compute_fid(digit_sets / "testA", digit_sets / "trainA", features="digits").fid
    gray_vs_colour = fid.compute_fid(digit_sets / "testA", digit_sets / "testB", features="digits").fid
    # Two gray sets of 120 digits differ by sampling alone (FID is biased upwards for small sets).
    assert gray_vs_colour > 100
    assert gray_vs_colour > 2 * same_domain


def test_digit_fid_equals_torchmetrics_in_a_plain_loop(with_classifier, digit_sets):
    from torchmetrics.image.fid import FrechetInceptionDistance

    ours = fid.compute_fid(digit_sets / "testA", digit_sets / "testB", features="digits", batch_size=50).fid
    metric = FrechetInceptionDistance(feature=digits.DigitFeatures(digits.load_classifier().model))
    for folder, real in ((digit_sets / "testA", True), (digit_sets / "testB", False)):
        for start in range(0, 120, 32):
            batch = [torch.from_numpy(np.array(Image.open(p).convert("RGB"))).permute(2, 0, 1)
                     for p in image_files(folder)[start:start + 32]]
            metric.update(torch.stack(batch), real=real)
    assert ours == pytest.approx(float(metric.compute()), rel=1e-3)


def test_cli_json_with_kid_mixed_sizes_and_a_bad_file(cli, with_classifier, digit_sets, tmp_path):
    real, fake = tmp_path / "real", tmp_path / "fake" / "nested"
    for src, dst in ((digit_sets / "testA", real), (digit_sets / "testB", fake)):
        dst.mkdir(parents=True)
        for p in image_files(src)[:40]:
            shutil.copy(p, dst / p.name)
    Image.open(fake / "00001.png").resize((40, 40)).save(fake / "big.png")  # another size, in a batch of its own
    (fake / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = cli("eval", "fid", real, fake.parent, "--features", "digits", "--kid", "--json",
                 "--batch-size", "16", "--device", "cpu")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(out) >= {"fid", "kid_mean", "kid_std", "real_count", "fake_count", "skipped"}
    assert (out["real_count"], out["fake_count"], out["skipped"]) == (40, 41, 1)
    assert out["fid"] > 100 and out["kid_mean"] > 0 and out["kid_std"] >= 0
    assert "broken.png" in "".join(result.stderr.split())  # named in the warning (rich may wrap it)


def test_cli_identical_sets_score_zero_and_small_sets_are_warned(cli, with_classifier, digit_sets):
    """FID of a folder with itself is 0 (never -0.0001); KID prints its digits, and 120 images (fewer than the
    features) get a warning that FID is biased for so few."""
    folder = digit_sets / "testA"
    result = cli("eval", "fid", folder, folder, "--features", "digits", "--kid", "--json", "--device", "cpu")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["fid"] >= 0.0 and out["fid"] < 1e-2
    assert "FID/KID on 120 images: fewer than the" in " ".join(result.stderr.split())
    result = cli("eval", "fid", folder, folder, "--features", "digits", "--kid", "--device", "cpu")
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("FID 0.") and "FID -" not in line and "± 0.00000" not in line, line


def test_cli_unknown_resize_is_refused_before_any_work(cli, digit_sets):
    result = cli("eval", "fid", digit_sets / "testA", digit_sets / "testB", "--resize", "tf2", "--features", "digits")
    assert result.exit_code == 2 and "--resize: unknown resize 'tf2'; use antialias or tf1" in result.output


def test_missing_inception_weights_offline_is_one_line(cli, monkeypatch, digit_sets):
    def offline(url, dst):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(fid, "_download", offline)
    result = cli("eval", "fid", digit_sets / "testA", digit_sets / "testB")
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    message = lines[0]
    assert fid.INCEPTION_FILE in message and fid.INCEPTION_URL in message
    assert str(fid.inception_search_paths()[0].parent) in message
    assert "Traceback" not in result.output


def test_weights_option_must_exist(cli, digit_sets, tmp_path):
    result = cli("eval", "fid", digit_sets / "testA", digit_sets / "testB", "--weights", tmp_path / "nope.pth")
    assert result.exit_code == 2 and "no such weights file" in result.output


@pytest.fixture(scope="module")
def random_inception_file(tmp_path_factory):
    """A randomly initialised Inception state dict in the FID weights' format (the real file is 91 MB, online)."""
    import torch_fidelity.feature_extractor_inceptionv3 as tfi

    with unittest.mock.patch.object(tfi, "load_state_dict_from_url", lambda *a, **k: {}), \
            unittest.mock.patch.object(tfi.FeatureExtractorInceptionV3, "load_state_dict", lambda *a, **k: None):
        torch.manual_seed(0)
        net = tfi.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    path = tmp_path_factory.mktemp("weights") / "random-inception.pth"
    torch.save(net.state_dict(), path)
    return path


def test_inception_features_match_torchmetrics(random_inception_file, capsys):
    from torchmetrics.image.fid import NoTrainInceptionV3

    ours = fid.inception_extractor(random_inception_file)
    assert "not the standard FID Inception file" in " ".join(capsys.readouterr().err.split())
    reference = NoTrainInceptionV3(name="inception-v3-compat", features_list=["2048"],
                                   feature_extractor_weights_path=str(random_inception_file))
    images = torch.randint(0, 256, (1, 3, 37, 53), dtype=torch.uint8)
    with torch.inference_mode():
        expected = reference(images)
        assert ours(images).shape == (1, 2048)
        # Random weights give tiny features (~1e-7), so compare relative to their size.
        assert torch.allclose(ours(images), expected, rtol=1e-4, atol=1e-6 * float(expected.abs().max()))
        ours.use_antialias = False  # what resize="tf1" builds: torch-fidelity's TensorFlow-style bilinear resize
        assert not torch.allclose(ours(images), expected, rtol=1e-3, atol=0)
    with pytest.raises(OptionError, match="--resize"):
        fid.build_inception({}, resize="nearest")


def test_cached_weights_are_found_without_download(random_inception_file, monkeypatch):
    monkeypatch.setattr(fid, "_download", lambda url, dst: pytest.fail("must not download"))
    cached = fid.inception_search_paths()[1]  # torch-fidelity's name is accepted too
    cached.parent.mkdir(parents=True)
    shutil.copy(random_inception_file, cached)
    assert fid.find_inception_weights() == cached


class _NotATensor:
    pass


def test_weights_pickle_with_objects_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"x": _NotATensor()}, path)
    with pytest.raises(InputError, match="cannot be read as Inception weights"):
        fid.load_inception_state(path)
