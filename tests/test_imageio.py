"""Image I/O: every common format to a float tensor, typed errors, atomic writes that never overwrite."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from ganctl.data import imageio
from ganctl.data.imageio import list_images, read_image, write_image
from ganctl.data.pngwriter import encode_png, write_png
from ganctl.errors import ImageReadError, OutputError


def _rgb(h=20, w=30, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("ext", ["png", "jpg", "webp", "bmp", "tiff"])
def test_read_formats_rgb(tmp_path, ext):
    arr = _rgb()
    path = tmp_path / f"img.{ext}"
    Image.fromarray(arr).save(path)
    t = read_image(path, "RGB")
    assert t.shape == (3, 20, 30) and t.dtype == torch.float32
    assert 0.0 <= t.min() and t.max() <= 1.0
    if ext in ("png", "bmp", "tiff"):
        assert torch.equal((t * 255).round().byte().permute(1, 2, 0), torch.from_numpy(arr))


def test_read_modes_and_conversions(tmp_path):
    gray = np.arange(0, 200, dtype=np.uint8).reshape(10, 20)
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    assert read_image(tmp_path / "g.png", "RGB").shape == (3, 10, 20)
    g = read_image(tmp_path / "g.png", "L")
    assert g.shape == (1, 10, 20)
    assert torch.allclose(g[0] * 255, torch.from_numpy(gray).float(), atol=0.5)

    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:4, :, 3] = 255  # top half opaque red, bottom transparent -> white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    t = read_image(tmp_path / "a.png", "RGB")
    assert torch.allclose(t[:, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(t[:, 7, 0], torch.tensor([1.0, 1.0, 1.0]))
    assert read_image(tmp_path / "a.png", "RGBA").shape == (4, 8, 8)

    pal = Image.fromarray(_rgb(), "RGB").convert("P", palette=Image.Palette.ADAPTIVE)
    pal.save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png", "RGB").shape == (3, 20, 30)


def test_read_16bit_png(tmp_path):
    arr = (np.linspace(0, 65535, 16 * 16).reshape(16, 16)).astype(np.uint16)
    Image.fromarray(arr).save(tmp_path / "deep.png")
    t = read_image(tmp_path / "deep.png", "L")
    assert t.shape == (1, 16, 16)
    assert t.max() == 1.0 and t.min() == 0.0
    assert abs(t[0, 8, 0].item() - arr[8, 0] / 65535) < 1 / 255


def test_exif_rotation_applied(tmp_path):
    img = Image.fromarray(_rgb(10, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    img.save(tmp_path / "rot.jpg", exif=exif)
    assert read_image(tmp_path / "rot.jpg").shape == (3, 30, 10)


def test_corrupt_jpeg_raises_typed_error(tmp_path):
    good = tmp_path / "good.jpg"
    Image.fromarray(_rgb(64, 64)).save(good, quality=90)
    data = good.read_bytes()
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError) as info:
        read_image(bad)
    assert "truncated.jpg" in str(info.value)


def test_non_image_and_missing(tmp_path):
    txt = tmp_path / "notes.png"
    txt.write_text("hello, I am not a picture")
    with pytest.raises(ImageReadError, match="notes.png"):
        read_image(txt)
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.png")


def test_real_photo_reads(real_data):
    path = sorted((real_data / "horse2zebra" / "trainB").glob("*.jpg"))[0]
    t = read_image(path)
    assert t.shape == (3, 256, 256)


def test_write_is_atomic_and_never_overwrites(tmp_path):
    t = torch.rand(3, 12, 16)
    out = write_image(t, tmp_path / "sub" / "x.png")
    back = read_image(out)
    assert torch.allclose(back, t, atol=1 / 255 + 1e-6)
    with pytest.raises(OutputError, match="exists already"):
        write_image(t, out)
    write_image(torch.zeros(3, 12, 16), out, overwrite=True)
    assert read_image(out).max() == 0
    with pytest.raises(OutputError, match="input"):
        write_image(t, out, overwrite=True, protect=[out])
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["x.png"]  # no temp files left


def test_write_failure_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        write_image(torch.rand(5, 4, 4), tmp_path / "bad.png")
    assert list(tmp_path.iterdir()) == []


def test_list_images_recursive_sorted(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for rel in ["z.png", "a.JPG", "b/c.webp", "notes.txt", ".hidden/x.png"]:
        (tmp_path / rel).write_bytes(b"x")
    names = [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)]
    assert names == ["a.JPG", "b/c.webp", "z.png"]


@pytest.mark.parametrize("shape", [(9, 13), (9, 13, 3), (9, 13, 4)])
def test_the_one_png_writer_is_lossless_for_arrays_and_pil_images(tmp_path, shape):
    arr = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    write_png(arr, tmp_path / "a.png")
    write_png(Image.fromarray(arr), tmp_path / "b.png")
    for name in ("a.png", "b.png"):
        with Image.open(tmp_path / name) as img:
            assert img.format == "PNG" and np.array_equal(np.asarray(img), arr)
    assert bytes(encode_png(arr)[:8]) == b"\x89PNG\r\n\x1a\n"
    mode = (tmp_path / "a.png").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # what open() would give, not a fixed 0o644


def test_write_image_png_goes_through_the_one_writer(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(imageio, "write_png", lambda image, path: calls.append(path) or write_png(image, path))
    out = write_image(torch.rand(3, 5, 7), tmp_path / "x.png")
    assert len(calls) == 1 and read_image(out).shape == (3, 5, 7)
    write_image(torch.rand(3, 5, 7), tmp_path / "x.jpg")
    assert len(calls) == 1
