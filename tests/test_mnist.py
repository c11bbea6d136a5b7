"""MNIST IDX reading (real files and synthetic ones), the cache, palettes and the digit transforms."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
import torch

from ganctl.data.mnist import MNIST_FILES, encode_idx, find_idx_file, load_mnist, parse_idx, read_idx
from ganctl.data.mnist_color import colorize_digits, pad_to, split_train_halves
from ganctl.data.mnist_rotate import parse_angle_range, rotate_digits
from ganctl.data.palettes import PALETTES, get_palette, palette_channels
from ganctl.errors import InputError, OptionError
from ganctl.paths import raw_dir


def write_synthetic_mnist(folder, n_train=12, n_test=6, gz=True, dotted=False):
    """Four small IDX files with known content; returns the arrays."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3 % 10).astype(np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        fname = name.replace("-idx", ".idx") if dotted else name
        data = encode_idx(array)
        if gz:
            (folder / f"{fname}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / fname).write_bytes(data)
    return arrays


@pytest.fixture(scope="module")
def real_mnist(mnist_source):
    return load_mnist(mnist_source)


def test_real_mnist_matches_the_official_counts(real_mnist):
    assert real_mnist.train_images.shape == (60000, 28, 28)
    assert real_mnist.train_images.dtype == torch.uint8
    assert real_mnist.test_images.shape == (10000, 28, 28)
    assert real_mnist.train_labels.dtype == torch.int64
    assert real_mnist.train_labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert real_mnist.train_labels.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851,
                                                           5949]
    assert real_mnist.test_labels.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # white digits on black: corners are background
    assert real_mnist.train_images[:, 0, 0].max() == 0
    assert real_mnist.train_images.max() == 255


@pytest.mark.parametrize("gz,dotted", [(True, False), (False, False), (False, True), (True, True)])
def test_synthetic_idx_gz_or_plain(tmp_path, gz, dotted):
    arrays = write_synthetic_mnist(tmp_path, gz=gz, dotted=dotted)
    data = load_mnist(tmp_path)
    assert torch.equal(data.train_images, torch.from_numpy(arrays["train-images-idx3-ubyte"]))
    assert data.test_labels.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()


def test_missing_file_names_folder_and_file(tmp_path):
    write_synthetic_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(InputError) as err:
        load_mnist(tmp_path)
    assert str(tmp_path) in str(err.value) and "t10k-labels-idx1-ubyte" in str(err.value)
    with pytest.raises(InputError, match="no such MNIST folder"):
        load_mnist(tmp_path / "nope")


def test_malformed_idx_is_refused(tmp_path):
    with pytest.raises(InputError, match="bad magic"):
        parse_idx(b"\x1f\x00\x08\x01" + b"\x00" * 8)
    good = encode_idx(np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(InputError, match="expected"):
        parse_idx(good[:-5])
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(good)[:-10])
    with pytest.raises(InputError):
        read_idx(path)


def test_labels_must_match_images(tmp_path):
    write_synthetic_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(encode_idx(np.zeros(5, np.uint8))))
    with pytest.raises(InputError, match="expected 12 labels"):
        load_mnist(tmp_path)


def test_cache_preseeded_with_real_files_is_used_without_network(mnist_source, monkeypatch):
    cache = raw_dir("mnist")
    cache.mkdir(parents=True)
    for name in MNIST_FILES:
        (cache / f"{name}.gz").symlink_to(mnist_source / f"{name}.gz")
    monkeypatch.setenv("GANCTL_MNIST_MIRRORS", "http://127.0.0.1:9/")  # nothing listens there
    data = load_mnist()
    assert data.train_images.shape == (60000, 28, 28)
    assert find_idx_file(cache, "train-images-idx3-ubyte").name == "train-images-idx3-ubyte.gz"


def test_builtin_palettes():
    assert set(PALETTES) == {"gray", "mnist1", "mnist2"}
    m1, m2 = get_palette("mnist1"), get_palette("mnist2")
    assert len(set(m1)) == 10 and len(set(m2)) == 10
    assert all(m1[d] != m2[d] for d in range(10))
    assert get_palette("gray") == [(255, 255, 255)] * 10
    assert palette_channels(get_palette("gray")) == 1 and palette_channels(m1) == 3


def test_palette_file_list_and_hex(tmp_path):
    path = tmp_path / "p.json"
    colors = [[d * 20, 255 - d * 20, 7] for d in range(10)]
    colors[3] = "#102030"
    path.write_text(json.dumps({"colors": colors}))
    palette = get_palette(path)
    assert palette[0] == (0, 255, 7) and palette[3] == (16, 32, 48)
    path.write_text(json.dumps([[1, 2, 3]] * 9))
    with pytest.raises(OptionError, match="10 colours"):
        get_palette(path)
    path.write_text(json.dumps([[1, 2, 300]] * 10))
    with pytest.raises(OptionError, match="0-255"):
        get_palette(path)
    with pytest.raises(OptionError, match="unknown palette"):
        get_palette("mnist3")
    with pytest.raises(OptionError, match="no such palette file"):
        get_palette(tmp_path / "missing.json")


def test_colorize_digits_scales_colour_by_intensity():
    images = torch.tensor([[[0, 255], [128, 64]], [[255, 255], [0, 10]]], dtype=torch.uint8)
    labels = torch.tensor([2, 7])
    palette = get_palette("mnist1")
    out = colorize_digits(images, labels, palette)
    assert out.shape == (2, 2, 2, 3) and out.dtype == torch.uint8
    assert out[0, 0, 1].tolist() == list(palette[2])
    assert out[0, 0, 0].tolist() == [0, 0, 0]
    expected = [round(128 * c / 255) for c in palette[2]]
    assert out[0, 1, 0].tolist() == expected
    assert out[1, 0, 0].tolist() == list(palette[7])
    gray = colorize_digits(images, labels, get_palette("gray"))
    assert gray.shape == (2, 2, 2) and torch.equal(gray, images)


def test_pad_and_split():
    padded = pad_to(torch.full((3, 28, 28), 9, dtype=torch.uint8), 32)
    assert padded.shape == (3, 32, 32) and padded[:, :2].sum() == 0 and padded[:, 2:30, 2:30].min() == 9
    a, b = split_train_halves(100, seed=3)
    assert len(set(a.tolist()) | set(b.tolist())) == 100 and not set(a.tolist()) & set(b.tolist())
    a2, _ = split_train_halves(100, seed=3)
    assert torch.equal(a, a2)


def test_rotation_matches_rot90_and_angle_range_parsing():
    digits = torch.randint(0, 256, (4, 32, 32), dtype=torch.uint8)
    rotated = rotate_digits(digits, torch.full((4,), 90.0))
    assert (rotated.int() - torch.rot90(digits, 1, (1, 2)).int()).abs().max() <= 1
    assert torch.equal(rotate_digits(digits, torch.zeros(4)), digits)
    assert parse_angle_range("-45:45") == (-45.0, 45.0)
    for bad in ("45", "a:b", "10:-10"):
        with pytest.raises(OptionError):
            parse_angle_range(bad)
