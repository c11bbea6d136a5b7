"""`ganctl prepare mnist-color` / `mnist-rotate`, named datasets and `resolve_dataset`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ganctl.data import mnist_color, registry
from ganctl.data.dataset_meta import read_dataset_meta
from ganctl.data.mnist import encode_idx, load_mnist
from ganctl.data.palettes import get_palette
from ganctl.data.registry import resolve_dataset
from ganctl.errors import InputError, OptionError
from ganctl.paths import datasets_dir


def load_png(path) -> np.ndarray:
    with Image.open(path) as img:
        assert img.mode in ("L", "RGB")
        return np.asarray(img)


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    return lines[0]


@pytest.fixture(scope="module")
def mnist(mnist_source):
    return load_mnist(mnist_source)


def test_mnist_color_real_data(cli, tmp_path, mnist_source, mnist):
    out = tmp_path / "mc"
    result = cli("prepare", "mnist-color", "--source", mnist_source, "--out", out, "--limit", "25", "--b", "mnist2")
    assert result.exit_code == 0, result.output
    meta = read_dataset_meta(out)
    assert meta["kind"] == "mnist-color" and meta["counts"] == {"trainA": 25, "trainB": 25, "testA": 25, "testB": 25}
    assert meta["channels"] == {"A": 1, "B": 3}
    assert meta["palettes"]["B"]["name"] == "mnist2" and meta["seed"] == 0
    assert len(meta["labels"]) == 100
    palette = get_palette("mnist2")
    for name in ("00001.png", "00017.png"):
        a = load_png(out / "trainA" / name)
        b = load_png(out / "trainB" / name)
        assert a.shape == (32, 32) and b.shape == (32, 32, 3)
        # the brightest pixel of a coloured digit has its class colour
        label = meta["labels"][f"trainB/{name}"]
        flat = b.reshape(-1, 3)
        assert tuple(flat[flat.sum(1).argmax()]) == palette[label]
    # testA/testB are the same test digits, in order: gray == original MNIST test digit padded
    for i in (1, 25):
        name = f"{i:05d}.png"
        a = load_png(out / "testA" / name)
        assert np.array_equal(a[2:30, 2:30], mnist.test_images[i - 1].numpy())
        assert meta["labels"][f"testB/{name}"] == mnist.test_labels[i - 1].item()
        b = load_png(out / "testB" / name).astype(int)
        colour = np.array(palette[meta["labels"][f"testB/{name}"]])
        assert np.abs(b[2:30, 2:30] - np.round(a[2:30, 2:30, None] / 255 * colour)).max() == 0
    # A and B come from disjoint halves of MNIST train
    idx_a, idx_b = mnist_color.split_train_halves(60000, 0)
    assert meta["labels"]["trainA/00003.png"] == mnist.train_labels[idx_a[2]].item()
    assert meta["labels"]["trainB/00003.png"] == mnist.train_labels[idx_b[2]].item()
    assert np.array_equal(load_png(out / "trainA" / "00003.png")[2:30, 2:30], mnist.train_images[idx_a[2]].numpy())


@pytest.fixture
def small_mnist(tmp_path, mnist):
    """A 200/50-digit MNIST folder in IDX format (fast to prepare)."""
    folder = tmp_path / "small_mnist"
    folder.mkdir()
    parts = {"train-images-idx3-ubyte": mnist.train_images[:200], "train-labels-idx1-ubyte": mnist.train_labels[:200],
             "t10k-images-idx3-ubyte": mnist.test_images[:50], "t10k-labels-idx1-ubyte": mnist.test_labels[:50]}
    for name, tensor in parts.items():
        (folder / name).write_bytes(encode_idx(tensor.numpy().astype(np.uint8)))
    return folder


def test_mnist_color_custom_palette_size_28_and_seed(cli, tmp_path, small_mnist):
    palette = tmp_path / "pal.json"
    palette.write_text(json.dumps([[10 * d, 100, 200] for d in range(10)]))
    out = tmp_path / "custom"
    result = cli("prepare", "mnist-color", "--source", small_mnist, "--out", out, "--a", "mnist1", "--b", palette,
                 "--size", "28", "--seed", "5")
    assert result.exit_code == 0, result.output
    meta = read_dataset_meta(out)
    assert meta["counts"] == {"trainA": 100, "trainB": 100, "testA": 50, "testB": 50}
    assert meta["palettes"]["B"]["name"] == str(palette.resolve())
    assert meta["channels"] == {"A": 3, "B": 3} and meta["seed"] == 5
    assert load_png(out / "trainA" / "00001.png").shape == (28, 28, 3)
    # the train names of A and B never refer to the same source digit
    result2 = cli("prepare", "mnist-color", "--source", small_mnist, "--out", tmp_path / "other_seed", "--seed", "6")
    assert result2.exit_code == 0
    assert read_dataset_meta(tmp_path / "other_seed")["labels"] != read_dataset_meta(out)["labels"]


@pytest.mark.parametrize("args,needle", [
    (["--a", "rainbow"], "unknown palette"),
    (["--size", "30"], "--size"),
    (["--limit", "0"], "--limit"),
])
def test_mnist_color_bad_options(cli, tmp_path, small_mnist, args, needle):
    result = cli("prepare", "mnist-color", "--source", small_mnist, "--out", tmp_path / "x", *args)
    assert needle in one_line_error(result)
    assert not (tmp_path / "x").exists()


def test_missing_source_and_existing_out(cli, tmp_path, small_mnist):
    line = one_line_error(cli("prepare", "mnist-color", "--source", tmp_path / "nowhere", "--out", tmp_path / "o"))
    assert "nowhere" in line
    out = tmp_path / "o"
    assert cli("prepare", "mnist-color", "--source", small_mnist, "--out", out, "--limit", "3").exit_code == 0
    assert "exists already" in one_line_error(cli("prepare", "mnist-color", "--source", small_mnist, "--out", out))
    result = cli("prepare", "mnist-color", "--source", small_mnist, "--out", out, "--limit", "4", "--overwrite")
    assert result.exit_code == 0
    assert read_dataset_meta(out)["counts"]["trainA"] == 4
    # a user's own folder is never replaced, even with --overwrite
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "precious.txt").write_text("keep")
    result = cli("prepare", "mnist-color", "--source", small_mnist, "--out", mine, "--overwrite")
    assert "not a ganctl dataset" in one_line_error(result)
    assert (mine / "precious.txt").read_text() == "keep"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_mnist_rotate_fixed_angle_and_range(cli, tmp_path, small_mnist):
    out = tmp_path / "rot"
    assert cli("prepare", "mnist-rotate", "--source", small_mnist, "--out", out).exit_code == 0
    meta = read_dataset_meta(out)
    assert meta["kind"] == "mnist-rotate" and meta["channels"] == {"A": 1, "B": 1}
    assert meta["options"]["angle"] == 90.0
    a = torch.from_numpy(load_png(out / "testA" / "00007.png").copy())
    b = torch.from_numpy(load_png(out / "testB" / "00007.png").copy())
    assert (torch.rot90(a, 1).int() - b.int()).abs().max() <= 1
    out2 = tmp_path / "rot_range"
    assert cli("prepare", "mnist-rotate", "--source", small_mnist, "--out", out2, "--angle-range", "-30:30",
               "--limit", "10").exit_code == 0
    meta2 = read_dataset_meta(out2)
    angles = meta2["angles"]
    assert len(angles) == 20 and all(-30 <= v <= 30 for v in angles.values())
    assert len(set(angles.values())) > 5
    assert "either --angle" in one_line_error(cli("prepare", "mnist-rotate", "--source", small_mnist, "--out",
                                                  tmp_path / "r3", "--angle", "10", "--angle-range", "0:5"))


def test_named_dataset_is_prepared_once_in_the_cache(cli, monkeypatch, mnist):
    calls = []
    subset = type(mnist)(mnist.train_images[:100], mnist.train_labels[:100], mnist.test_images[:20],
                         mnist.test_labels[:20])

    def fake_load(source=None):
        calls.append(source)
        return subset

    monkeypatch.setattr(mnist_color, "load_mnist", fake_load)
    folder = resolve_dataset("mnist-color")
    assert folder == datasets_dir() / "mnist-color"
    meta = read_dataset_meta(folder)
    assert meta["options"] == {"a": "gray", "b": "mnist1", "size": 32, "limit": None}
    assert meta["counts"]["trainA"] == 50 and meta["counts"]["testB"] == 20
    assert resolve_dataset("mnist-color") == folder
    assert calls == [None]
    # the CLI default --out is the same named dataset
    assert "exists already" in one_line_error(cli("prepare", "mnist-color"))


def test_resolve_dataset_folders_and_errors(tmp_path):
    good = tmp_path / "good"
    (good / "trainA").mkdir(parents=True)
    (good / "trainB").mkdir()
    assert resolve_dataset(good) == good
    only_test = tmp_path / "only_test"
    (only_test / "testA").mkdir(parents=True)
    assert resolve_dataset(str(only_test)) == only_test
    with pytest.raises(InputError, match="not a dataset folder"):
        resolve_dataset(tmp_path)
    with pytest.raises(InputError, match="no such dataset folder"):
        resolve_dataset(tmp_path / "missing")
    with pytest.raises(OptionError) as err:
        resolve_dataset("horse2zebraa")
    assert "horse2zebra" in str(err.value) and "mnist-color" in str(err.value)
    assert {"mnist-color", "mnist-rotate", "mnist", "cifar10", "horse2zebra", "monet2photo"} <= set(registry.DATASETS)


def test_download_mnist_makes_the_one_domain_digits_set(cli, monkeypatch, mnist):
    from ganctl.data import mnist_digits

    subset = type(mnist)(mnist.train_images[:30], mnist.train_labels[:30], mnist.test_images[:10],
                         mnist.test_labels[:10])
    monkeypatch.setattr(mnist_digits, "load_mnist", lambda source=None: subset)
    result = cli("prepare", "download", "mnist")
    assert result.exit_code == 0, result.output
    folder = datasets_dir() / "mnist"
    meta = read_dataset_meta(folder)
    assert meta["kind"] == "mnist" and meta["counts"] == {"trainA": 30, "trainB": 0, "testA": 10, "testB": 0}
    assert meta["labels"]["testA/00010.png"] == mnist.test_labels[9].item()
    assert np.array_equal(load_png(folder / "trainA" / "00030.png"), mnist.train_images[29].numpy())
    assert resolve_dataset("mnist") == folder
