"""`ganctl prepare grayscale`: paired gray/colour copies, deterministic split, bad images skipped."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ganctl.data.dataset_meta import read_dataset_meta
from ganctl.data.grayscale import luma, output_names, split_test


def make_photos(folder, n=12):
    """n colour JPEG/PNG photos in nested folders, one gray photo, one corrupt file."""
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = folder / ("sub" if i % 2 else "") / ("deeper" if i % 3 == 0 else "")
        sub.mkdir(parents=True, exist_ok=True)
        arr = rng.integers(0, 256, (20 + i, 30, 3), dtype=np.uint8)
        Image.fromarray(arr).save(sub / f"photo {i}.{'png' if i % 4 == 0 else 'jpg'}")
    Image.fromarray(np.full((10, 10), 77, np.uint8)).save(folder / "gray.png")
    Image.fromarray(np.full((10, 10, 3), 120, np.uint8)).save(folder / "gray_rgb.jpg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (folder / "notes.txt").write_text("ignored")


def test_pairs_split_and_skips(cli, tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    make_photos(src)
    result = cli("prepare", "grayscale", src, "--out", out, "--test-fraction", "0.25", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "broken.jpg" in result.output
    meta = read_dataset_meta(out)
    counts = meta["counts"]
    assert counts["trainA"] == counts["trainB"] and counts["testA"] == counts["testB"]
    assert counts["trainA"] + counts["testA"] == 12 and counts["testA"] >= 2
    assert meta["skipped"]["grayscale"] == 2 and meta["skipped"]["unreadable"][0].startswith("broken.jpg")
    assert meta["channels"] == {"A": 1, "B": 3} and meta["seed"] == 3
    pngs_a = sorted(p.relative_to(out / "trainA") for p in (out / "trainA").rglob("*.png"))
    pngs_b = sorted(p.relative_to(out / "trainB") for p in (out / "trainB").rglob("*.png"))
    assert pngs_a == pngs_b and len(pngs_a) == counts["trainA"]
    for split in ("train", "test"):
        for a_path in (out / f"{split}A").rglob("*.png"):
            b_path = out / f"{split}B" / a_path.relative_to(out / f"{split}A")
            with Image.open(a_path) as a, Image.open(b_path) as b:
                assert a.mode == "L" and b.mode == "RGB" and a.size == b.size
                assert np.array_equal(np.asarray(a), luma(np.asarray(b)))
    # the colour copy of a PNG source is lossless
    b_copies = [p for split in ("trainB", "testB") for p in (out / split).rglob("photo 0.png")]
    assert len(b_copies) == 1
    with Image.open(src / "deeper" / "photo 0.png") as original, Image.open(b_copies[0]) as copy:
        assert np.array_equal(np.asarray(copy), np.asarray(original))
    # the same seed gives the same split
    out2 = tmp_path / "out2"
    assert cli("prepare", "grayscale", src, "--out", out2, "--test-fraction", "0.25", "--seed", "3").exit_code == 0
    assert sorted(p.name for p in (out2 / "testA").rglob("*.png")) == \
        sorted(p.name for p in (out / "testA").rglob("*.png"))


def test_strict_and_refusals(cli, tmp_path):
    src = tmp_path / "src"
    make_photos(src, n=3)
    result = cli("prepare", "grayscale", src, "--out", tmp_path / "o", "--strict")
    assert result.exit_code == 2 and "broken.jpg" in result.output
    assert not (tmp_path / "o").exists()
    result = cli("prepare", "grayscale", src, "--out", src / "inside")
    assert result.exit_code == 2 and "inside the input folder" in result.output
    assert not (src / "inside").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("prepare", "grayscale", empty, "--out", tmp_path / "o2")
    assert result.exit_code == 2 and "no images" in result.output
    result = cli("prepare", "grayscale", tmp_path / "missing", "--out", tmp_path / "o3")
    assert result.exit_code == 2 and "missing" in result.output
    result = cli("prepare", "grayscale", src, "--out", tmp_path / "o4", "--test-fraction", "1.5")
    assert result.exit_code == 2 and "--test-fraction" in result.output


def test_real_photos_with_gray_ones_and_odd_names(cli, tmp_path, real_data):
    src = tmp_path / "real"
    src.mkdir()
    train_b = real_data / "horse2zebra" / "trainB"
    gray_names = ["n02391049_226.jpg", "n02391049_2341.jpg"]
    colour = [p for p in sorted(train_b.glob("*.jpg")) if p.name not in gray_names][:4]
    flowers = sorted((real_data / "iphone2dslr_flower" / "testB").glob("*.jpg"))[:2]  # names with spaces/colons
    for path in colour + flowers + [train_b / n for n in gray_names]:
        (src / path.name).symlink_to(path)
    out = tmp_path / "out"
    result = cli("prepare", "grayscale", src, "--out", out, "--test-fraction", "0.2")
    assert result.exit_code == 0, result.output
    meta = read_dataset_meta(out)
    assert meta["skipped"]["grayscale"] == 2
    assert meta["counts"]["trainB"] + meta["counts"]["testB"] == 6 and meta["counts"]["testB"] >= 1
    flower = flowers[0].with_suffix(".png").name
    assert (out / "trainA" / flower).exists() or (out / "testA" / flower).exists()


def test_split_and_name_helpers():
    names = [f"{i}.jpg" for i in range(10)]
    assert split_test(names, 0.3, 1) == split_test(list(reversed(names)), 0.3, 1)
    assert len(split_test(names, 0.3, 1)) == 3 and split_test(names, 0.3, 1) != split_test(names, 0.3, 2)
    assert len(split_test(names[:3], 0.1, 0)) == 1 and split_test(names, 0.0, 0) == set()
    assert output_names(["a.jpg", "a.png", "b.jpg"]) == {"a.jpg": "a.jpg.png", "a.png": "a.png.png",
                                                          "b.jpg": "b.png"}


@pytest.mark.parametrize("shape", [(5, 7, 3), (1, 1, 3)])
def test_luma_matches_pillow(shape):
    arr = np.random.default_rng(2).integers(0, 256, shape, dtype=np.uint8)
    assert np.array_equal(luma(arr), np.asarray(Image.fromarray(arr).convert("L")))


def test_a_full_disk_is_one_line_and_leaves_no_partial_dataset(cli, tmp_path, monkeypatch):
    import errno
    import os

    src, out = tmp_path / "src", tmp_path / "out"
    make_photos(src)
    written = []

    def full(image, path):
        if written:  # the second image finds the disk full
            open(path, "wb").write(b"\x89PNG partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(path)
        Image.fromarray(np.zeros((2, 2), np.uint8)).save(path)

    monkeypatch.setattr("ganctl.data.grayscale.write_png", full)
    result = cli("prepare", "grayscale", src, "--out", out)
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert text.count("no space left on device") == 1 and str(out) in text and "Traceback" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # no dataset, no hidden staging folder


def test_the_dataset_folders_follow_the_umask(cli, tmp_path):
    import os

    src, out = tmp_path / "src", tmp_path / "out"
    make_photos(src, n=4)
    before = os.umask(0o022)
    try:
        assert cli("prepare", "grayscale", src, "--out", out).exit_code == 0
    finally:
        os.umask(before)
    assert out.stat().st_mode & 0o777 == 0o755
    assert next((out / "trainB").rglob("*.png")).stat().st_mode & 0o777 == 0o644
