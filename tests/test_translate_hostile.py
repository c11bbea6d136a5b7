"""Nothing aborts translate: a messy photo folder, images down to 1 x 1, an image that fails, a full disk.

The hostile folder is made in the test and translated by a tiny trained CycleGAN through the app: every
readable image is written at its own size (EXIF rotation applied), every other file is named and skipped,
and the exit code is 0; ``--strict`` stops at the first skip with exit 2.
"""

from __future__ import annotations

import errno
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from test_translate import make_checkpoint, tiny_network  # noqa: F401  (the fixture registers the net)
from training_data import make_ab_dataset, one_torch_thread  # noqa: F401

from ganctl.models import create_model, list_models
from ganctl.training.runner import train
from ganctl.translate import Translator, adapter_for


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb(path: Path, side: int = 40_000) -> None:
    """A PNG of a few hundred bytes that says it is ``side`` x ``side`` pixels (1.6 gigapixels)."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit gray
    rows = zlib.compress(b"\x00" * (side + 1) * 4)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows)
                     + _png_chunk(b"IEND", b""))


def pattern(width: int, height: int, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(width * 1000 + height)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).convert(mode)


def hostile_folder(root: Path) -> tuple[dict[str, tuple[int, int]], set[str]]:
    """Make the folder; returns (output name -> (width, height) expected, names expected to be skipped)."""
    root.mkdir(parents=True)
    written: dict[str, tuple[int, int]] = {}
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.jpg").write_text("this is text, not a JPEG\n")
    (root / "album.jpg").mkdir()  # a folder named like an image: walked into
    pattern(12, 9).save(root / "album.jpg" / "inside.png")
    written["album.jpg/inside.png"] = (12, 9)
    pattern(20, 12, "CMYK").save(root / "cmyk.jpg")
    written["cmyk.png"] = (20, 12)
    pattern(17, 11).quantize(16).save(root / "palette.png")
    written["palette.png"] = (17, 11)
    pattern(15, 10, "LA").save(root / "gray_alpha.png")
    written["gray_alpha.png"] = (15, 10)
    Image.fromarray((np.arange(14 * 10, dtype=np.uint16).reshape(10, 14) * 400)).save(root / "deep16.tif")
    written["deep16.png"] = (14, 10)
    frames = [pattern(9, 7), pattern(9, 7).rotate(180)]
    frames[0].save(root / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    written["anim.png"] = (9, 7)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to show; a viewer shows it 10 wide, 30 high
    pattern(30, 10).save(root / "rotated.jpg", exif=exif)
    written["rotated.png"] = (10, 30)
    pattern(16, 8).save(root / "UPPER.PNG")
    written["UPPER.png"] = (16, 8)
    pattern(8, 16).save(root / "Photo.JPG")
    written["Photo.png"] = (8, 16)
    pattern(10, 10).save(root / "café ☕ été.png")
    written["café ☕ été.png"] = (10, 10)
    pattern(11, 13).save(root / "[draft] (1) {copy}.png")
    written["[draft] (1) {copy}.png"] = (11, 13)
    decompression_bomb(root / "bomb.png")
    (root / "link.png").symlink_to(root / "UPPER.PNG")
    written["link.png"] = (16, 8)
    (root / "dangling.png").symlink_to(root / "gone.png")
    for w, h in ((1, 1), (2, 3), (1, 37), (41, 1)):
        pattern(w, h).save(root / f"tiny_{w}x{h}.png")
        written[f"tiny_{w}x{h}.png"] = (w, h)
    return written, {"empty.jpg", "notes.jpg", "bomb.png", "dangling.png"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A CycleGAN after the two steps of its smoke preset (ResNet generators: they need a 2 x 2 bottleneck)."""
    root = tmp_path_factory.mktemp("trained")
    return train("cyclegan", data=make_ab_dataset(root / "ab"), run=root / "run", preset="smoke",
                 device="cpu").run_dir


def test_a_hostile_folder_is_translated_without_aborting(trained, tmp_path, cli):
    written, skipped = hostile_folder(tmp_path / "in")
    result = cli("translate", tmp_path / "in", "--out", tmp_path / "out", "--model", trained, "--device", "cpu",
                 "--batch-size", "3")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Traceback" not in result.output and "dangling.png: a symbolic link to a file that is not there" in text
    for name, size in written.items():
        out = tmp_path / "out" / name
        assert out.is_file(), f"{name} not written: {text}"
        assert Image.open(out).size == size, name
    for name in skipped:
        assert f"skipped {name}" in text, name
        assert not list((tmp_path / "out").glob(Path(name).stem + ".*"))
    assert f"translated {len(written)} images, skipped {len(skipped)}" in text
    assert Image.open(tmp_path / "out" / "gray_alpha.png").mode in ("LA", "RGBA")  # alpha kept
    leftovers = [p.name for p in (tmp_path / "out").rglob("*") if p.name.startswith(".")]
    assert not leftovers, leftovers

    strict = cli("translate", tmp_path / "in", "--out", tmp_path / "strict", "--model", trained, "--strict")
    assert strict.exit_code == 2
    assert any(name in strict.output for name in skipped) and "Traceback" not in strict.output


@pytest.mark.parametrize("name", list_models("generator"))
def test_every_generator_translates_images_down_to_one_pixel(name):
    net = create_model(name, ngf=4)
    cin = net.encoder[1].in_channels if hasattr(net, "encoder") else net.down[0].in_channels
    adapter = adapter_for({"kind": "cyclegan", "channels": {"A": cin, "B": 3}}, "a2b")
    translator = Translator(net, adapter, device="cpu", precision="fp32")
    shape = (lambda h, w: (h, w)) if cin == 1 else (lambda h, w: (h, w, 3))
    for h, w in ((1, 1), (2, 3), (1, 9), (9, 1), (5, 7)):
        out = translator([np.full(shape(h, w), 100, np.uint8)] * 2)
        assert [o.shape for o in out] == [(h, w, 3)] * 2, (name, h, w)


def test_an_image_that_fails_is_named_and_counted_and_the_rest_are_written(tmp_path, cli, monkeypatch):
    model = make_checkpoint(tmp_path / "m.safetensors")
    (tmp_path / "in").mkdir()
    for i in range(3):
        pattern(16, 8).save(tmp_path / "in" / f"good{i}.png")
    pattern(13, 8).save(tmp_path / "in" / "bad1.png")
    pattern(13, 8).save(tmp_path / "in" / "bad2.png")
    real_call = Translator.__call__

    def fail_13_wide(self, images):
        if images[0].shape[1] == 13:
            raise torch.OutOfMemoryError("CUDA out of memory (as the device said)")
        return real_call(self, images)

    monkeypatch.setattr(Translator, "__call__", fail_13_wide)
    result = cli("translate", tmp_path / "in", "--out", tmp_path / "out", "--model", model)
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "failed bad1.png" in text and "failed bad2.png" in text and "out of memory" in text
    assert "translated 3 images" in text and "2 readable images not translated" in text
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good0.png", "good1.png", "good2.png"]
    strict = cli("translate", tmp_path / "in", "--out", tmp_path / "strict", "--model", model, "--strict")
    assert strict.exit_code == 2 and "bad1.png" in strict.output


def test_a_full_disk_is_one_line_and_leaves_no_partial_file(tmp_path, cli, monkeypatch):
    model = make_checkpoint(tmp_path / "m.safetensors")
    (tmp_path / "in").mkdir()
    for i in range(4):
        pattern(16, 8).save(tmp_path / "in" / f"{i}.png")

    def full(image, path):
        Path(path).write_bytes(b"\x89PNG partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("ganctl.translate.images.write_png", full)
    result = cli("translate", tmp_path / "in", "--out", tmp_path / "out", "--model", model, "--num-workers", "1")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert text.count("no space left on device") == 1 and "Traceback" not in result.output
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
