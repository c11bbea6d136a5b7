"""ganctl translate on images and folders: names, tree and sizes kept, bad files skipped, any size and mode."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganctl.translate.pipeline as translate_pipeline
from ganctl.checkpoint import save_checkpoint
from ganctl.errors import GanctlError, OptionError
from ganctl.models import create_model, model_spec, register_model
from ganctl.models.registry import unregister_model
from ganctl.translate import Translator, adapter_for, load_translator, translate_path

TINY = "test_translate_tiny"


class TinyGenerator(torch.nn.Module):
    """A 1x1 channel mix plus a 3x3 conv; refuses inputs that are not a multiple of ``size_multiple``."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, multiple: int = 8):
        super().__init__()
        self.size_multiple = multiple
        self.mix = torch.nn.Conv2d(in_channels, out_channels, 1)
        self.context = torch.nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] % self.size_multiple or x.shape[-1] % self.size_multiple:
            raise ValueError(f"input {tuple(x.shape)} is not a multiple of {self.size_multiple}")
        return (self.mix(x) + self.context(x)).clamp(-1, 1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.mix(x)


@pytest.fixture(autouse=True)
def tiny_network():
    """TinyGenerator registered as ``TINY`` for the test (and unregistered after), so checkpoints can name it."""
    register_model(TINY, kind="generator")(TinyGenerator)
    yield TINY
    unregister_model(TINY)


def negate(net: TinyGenerator) -> TinyGenerator:
    """Weights that make the generator output -mean(input) per pixel: the image negative, exactly."""
    with torch.no_grad():
        cin = net.mix.in_channels
        net.mix.weight.fill_(-1.0 / cin)
        net.mix.bias.zero_()
        net.context.weight.zero_()
    return net


def make_checkpoint(path: Path, channels=(3, 3), random_context: bool = False, kind: str = "cyclegan") -> Path:
    """A cyclegan checkpoint whose G_A/G_B are negating tiny generators (optionally with a random 3x3 conv)."""
    a, b = channels
    torch.manual_seed(0)
    nets, specs = {}, {}
    for name, (cin, cout) in {"G_A": (a, b), "G_B": (b, a)}.items():
        specs[name] = model_spec(TINY, in_channels=cin, out_channels=cout, multiple=8)
        net = negate(create_model(**specs[name]))
        if random_context:
            torch.nn.init.normal_(net.context.weight, std=0.2)
        nets[name] = net
    config = {"kind": kind, "networks": specs, "channels": {"A": a, "B": b}, "image_size": 32}
    return save_checkpoint(path, nets, config)


def rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.int16)


def negative(image: Image.Image | np.ndarray) -> np.ndarray:
    """What the negating generator makes of an image: 255 - the channel mean, as float."""
    arr = np.asarray(image, dtype=np.float64)
    return 255 - (arr.mean(axis=2) if arr.ndim == 3 else arr)


@pytest.fixture
def model(tmp_path) -> Path:
    return make_checkpoint(tmp_path / "model.safetensors")


@pytest.fixture
def mixed_tree(tmp_path, real_data) -> Path:
    """Real photos of odd sizes, RGBA, palette, gray, 16-bit, a truncated JPEG, a text file, a subfolder."""
    root = tmp_path / "photos"
    (root / "sub" / "deeper").mkdir(parents=True)
    flowers = sorted((real_data / "iphone2dslr_flower" / "testA").glob("*.jpg"))
    odd = [p for p in flowers if Image.open(p).size[1] not in (270, 360, 480)][:1] + flowers[:2]
    shutil.copy(odd[0], root / "odd.jpg")
    shutil.copy(odd[1], root / "sub" / "flower.jpg")
    shutil.copy(odd[2], root / "sub" / "deeper" / "flower2.jpeg")
    photo = Image.open(flowers[3]).convert("RGB")
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(photo.size))
    rgba.save(root / "sub" / "alpha.png")
    photo.convert("L").save(root / "gray.jpg")
    photo.convert("P", palette=Image.Palette.ADAPTIVE).save(root / "palette.png")
    Image.fromarray((np.asarray(photo.convert("L"), np.uint16) * 257)).save(root / "deep16.png")
    data = flowers[4].read_bytes()
    (root / "sub" / "broken.jpg").write_bytes(data[: len(data) // 3])
    (root / "notes.txt").write_text("not an image\n")
    (root / ".hidden.png").write_bytes(b"ignored")
    return root


GOOD = ["odd.jpg", "sub/flower.jpg", "sub/deeper/flower2.jpeg", "sub/alpha.png", "gray.jpg", "palette.png",
        "deep16.png"]


def test_mixed_real_tree_keeps_names_tree_and_sizes(cli, mixed_tree, model, tmp_path):
    out = tmp_path / "out"
    result = cli("translate", mixed_tree, "--out", out, "--model", model, "--batch-size", "3",
                 "--precision", "fp32")
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == sorted(str(Path(n).with_suffix(".png")) for n in GOOD)
    for name in GOOD:
        src, dst = Image.open(mixed_tree / name), Image.open((out / name).with_suffix(".png"))
        assert dst.size == src.size, name
    # The negating model: every output is the negative of its (RGB, alpha over white) input.
    for name in ("odd.jpg", "sub/flower.jpg", "gray.jpg", "palette.png"):
        expected = negative(Image.open(mixed_tree / name).convert("RGB"))
        got = rgb((out / name).with_suffix(".png"))
        assert np.abs(got - expected[:, :, None]).max() <= 1.0, name
    deep = np.asarray(Image.open(out / "deep16.png").convert("L"), np.int16)
    expected = 255 - (np.asarray(Image.open(mixed_tree / "deep16.png"), np.int32) // 257)
    assert np.abs(deep - expected).max() <= 2
    alpha_out = Image.open(out / "sub" / "alpha.png")
    assert alpha_out.mode == "RGBA"
    assert np.array_equal(np.asarray(alpha_out.getchannel("A")),
                          np.asarray(Image.open(mixed_tree / "sub" / "alpha.png").getchannel("A")))
    text = " ".join(result.output.split())
    assert "sub/broken.jpg" in "".join(text.split()) and "notes.txt" in text
    assert "translated 7 images" in text and "skipped 2" in text
    assert ".hidden" not in text


def test_strict_stops_at_a_bad_file(cli, mixed_tree, model, tmp_path):
    result = cli("translate", mixed_tree, "--out", tmp_path / "out", "--model", model, "--strict")
    assert result.exit_code == 2
    assert "notes.txt" in result.output or "broken.jpg" in result.output
    assert "Traceback" not in result.output


def test_existing_outputs_kept_unless_overwrite(tmp_path, real_data, model, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    for p in sorted((real_data / "horse2zebra" / "testA").glob("*.jpg"))[:3]:
        shutil.copy(p, src / p.name)
    out = tmp_path / "out"
    monkeypatch.setattr(translate_pipeline, "PROCESS_ENCODE_MIN_IMAGES", 1)  # encode in worker processes
    first = translate_path(src, out, model, device="cpu", precision="fp32", num_workers=2)
    assert first.translated == 3
    for p in first.outputs:
        expected = negative(Image.open(src / (p.stem + ".jpg")).convert("RGB"))
        assert np.abs(rgb(p) - expected[:, :, None]).max() <= 1.0
    victim = out / first.outputs[0].name
    victim.write_bytes(b"keep me")
    second = translate_path(src, out, model, device="cpu", precision="fp32")
    assert second.translated == 0 and len(second.skipped) == 3
    assert "skipped 3 (3 written before; --overwrite replaces them)" in second.line()
    assert victim.read_bytes() == b"keep me"
    third = translate_path(src, out, model, device="cpu", precision="fp32", overwrite=True)
    assert third.translated == 3
    assert Image.open(victim).size == (256, 256)


def test_several_inputs_json_and_an_empty_folder(tmp_path, real_data, model, cli):
    photos = sorted((real_data / "horse2zebra" / "testA").glob("*.jpg"))[:3]
    first, second = tmp_path / "first", tmp_path / "second folder"
    for folder, chosen in ((first, photos[:2]), (second, photos[2:])):
        folder.mkdir()
        for p in chosen:
            shutil.copy(p, folder / p.name)
    out = tmp_path / "out"
    result = cli("translate", first, second, photos[0], "--out", out, "--model", model, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["translated"] == 4 and report["skipped"] == {} and report["failed"] == {}
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == sorted([f"first/{photos[0].stem}.png", f"first/{photos[1].stem}.png",
                              f"second folder/{photos[2].stem}.png", f"{photos[0].stem}.png"])
    assert sorted(report["outputs"]) == sorted(str(out / w) for w in written)
    again = cli("translate", first, second, "--out", out, "--model", model, "--json")
    report = json.loads(again.stdout.strip().splitlines()[-1])
    assert again.exit_code == 0 and report["translated"] == 0
    assert report["skipped"] == {f"first/{photos[0].name}": "exists", f"first/{photos[1].name}": "exists",
                                 f"second folder/{photos[2].name}": "exists"}
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("translate", empty, "--out", tmp_path / "o", "--model", model)
    assert result.exit_code == 2 and "empty: has no images to translate" in result.output
    (empty / "notes.txt").write_text("no image")
    result = cli("translate", empty, "--out", tmp_path / "o", "--model", model)
    assert result.exit_code == 2 and "has no images to translate (1 other file skipped)" in result.output
    result = cli("translate", first, tmp_path / "elsewhere" / "first", "--out", out, "--model", model)
    assert result.exit_code == 2 and "no such file or folder" in result.output


def test_gray_and_colour_models_convert_inputs(tmp_path, real_data):
    ckpt = make_checkpoint(tmp_path / "gray2rgb.safetensors", channels=(1, 3))
    photo = sorted((real_data / "horse2zebra" / "testB").glob("*.jpg"))[0]
    out = tmp_path / "out"
    to_colour = translate_path(photo, out / "a2b", ckpt, direction="a2b", device="cpu", precision="fp32")
    assert Image.open(to_colour.outputs[0]).mode == "RGB"
    to_gray = translate_path(photo, out / "b2a", ckpt, direction="b2a", device="cpu", precision="fp32")
    gray = Image.open(to_gray.outputs[0])
    assert gray.mode == "L" and gray.size == Image.open(photo).size
    assert np.abs(np.asarray(gray, np.float64) - negative(Image.open(photo).convert("RGB"))).max() <= 1.0


def test_batching_sizes_and_order_do_not_change_outputs(tmp_path, real_data):
    ckpt = make_checkpoint(tmp_path / "ctx.safetensors", random_context=True)
    src = tmp_path / "in"
    src.mkdir()
    for p in sorted((real_data / "iphone2dslr_flower" / "testB").glob("*.jpg"))[:5]:
        shutil.copy(p, src / p.name)
    fp32 = {"device": "cpu", "precision": "fp32"}
    one = translate_path(src, tmp_path / "b1", ckpt, batch_size=1, num_workers=1, **fp32)
    four = translate_path(src, tmp_path / "b4", ckpt, batch_size=4, num_workers=3, **fp32)
    assert one.translated == four.translated == 5
    for p in one.outputs:
        diff = np.abs(rgb(p) - rgb(tmp_path / "b4" / p.name))
        assert diff.max() <= 1, p.name


def test_large_images_are_tiled_and_match_the_whole_image(tmp_path, real_data, capsys):
    ckpt = make_checkpoint(tmp_path / "m.safetensors")
    image = np.asarray(Image.open(sorted((real_data / "iphone2dslr_flower" / "testA").glob("*.jpg"))[0]))
    whole = load_translator(ckpt, device="cpu", precision="fp32")([image])[0]
    tiled_translator = load_translator(ckpt, device="cpu", precision="fp32", max_pixels=100 * 100, tile_size=96,
                                       overlap=16)
    tiled = tiled_translator([image])[0]
    assert tiled.shape == image.shape
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1
    assert "tiles" in capsys.readouterr().err


def test_out_of_memory_splits_the_batch(tmp_path, real_data, capsys):
    class FlakyOnBigBatches(TinyGenerator):
        def forward(self, x):
            if x.shape[0] > 2:
                raise torch.OutOfMemoryError("pretend the device is full")
            return super().forward(x)

    net = negate(FlakyOnBigBatches())
    translator = Translator(net, adapter_for({"kind": "cyclegan", "channels": {"A": 3, "B": 3}}, "a2b"), "cpu", "fp32")
    images = [np.asarray(Image.open(p)) for p in sorted((real_data / "horse2zebra" / "testA").glob("*.jpg"))[:5]]
    outs = translator(images)
    assert len(outs) == 5
    assert all(np.abs(o - negative(i)[:, :, None]).max() <= 1.0 for o, i in zip(outs, images))
    assert "out of memory" in capsys.readouterr().err


def test_run_folder_single_image_size_and_formats(tmp_path, real_data, cli):
    run = tmp_path / "runs" / "cyclegan" / "exp"
    make_checkpoint(run / "checkpoints" / "latest.safetensors")
    photo = sorted((real_data / "iphone2dslr_flower" / "testA").glob("*.jpg"))[0]
    w, h = Image.open(photo).size
    result = cli("translate", photo, "--out", tmp_path / "o", "--model", run, "--size", "100", "--format", "jpg")
    assert result.exit_code == 0, result.output
    out = Image.open(tmp_path / "o" / (photo.stem + ".jpg"))
    assert min(out.size) == 100 and abs(out.size[0] / out.size[1] - w / h) < 0.02
    # --format same, and two inputs whose outputs would clash (a.jpg, a.png -> a.png).
    src = tmp_path / "clash"
    src.mkdir()
    shutil.copy(photo, src / "a.jpg")
    Image.open(photo).save(src / "a.png")
    summary = translate_path(src, tmp_path / "same", run, fmt="same", device="cpu", precision="fp32")
    assert sorted(p.name for p in (tmp_path / "same").iterdir()) == ["a.jpg", "a.png"]
    clash = translate_path(src, tmp_path / "png", run, device="cpu", precision="fp32")
    assert summary.translated == 2 and clash.translated == 1 and "name clash" in clash.line()


def test_bad_models_and_options_are_one_line_errors(tmp_path, real_data, cli):
    photo = sorted((real_data / "horse2zebra" / "testA").glob("*.jpg"))[0]
    gan = make_checkpoint(tmp_path / "gan.safetensors", kind="gan")
    result = cli("translate", photo, "--out", tmp_path / "o", "--model", gan, "--precision", "fp32")
    assert result.exit_code == 2 and "'gan' model" in result.output
    good = make_checkpoint(tmp_path / "good.safetensors")
    for option, value in (("--direction", "sideways"), ("--size", "tiny"), ("--format", "gif"),
                          ("--precision", "fp8")):
        result = cli("translate", photo, "--out", tmp_path / "o", "--model", good, option, value)
        assert result.exit_code == 2, (option, result.output)
        assert option in result.output and "Traceback" not in result.output
    not_image = tmp_path / "fake.png"
    not_image.write_text("hello")
    result = cli("translate", not_image, "--out", tmp_path / "o2", "--model", good, "--precision", "fp32")
    assert result.exit_code == 2 and "fake.png" in result.output
    with pytest.raises(GanctlError, match="inside the input"):
        translate_path(tmp_path, tmp_path / "x", good)


def test_folder_gif_is_an_image_and_videos_are_skipped(tmp_path, model):
    src = tmp_path / "in"
    src.mkdir()
    frames = [Image.new("RGB", (40, 24), (40 * i, 90, 200)) for i in range(3)]
    frames[0].save(src / "anim.gif", save_all=True, append_images=frames[1:])
    from test_frames import make_video

    make_video(src / "clip.m4v", frames=3)
    summary = translate_path(src, tmp_path / "out", model, device="cpu", precision="fp32")
    assert [p.name for p in summary.outputs] == ["anim.png"]  # the gif's first frame, as an image
    assert summary.skipped == {"clip.m4v": "video file (translate it on its own)"}
    assert "1 video" in summary.line()


def test_precision_auto_is_fp32_on_the_cpu_and_fp16_needs_a_gpu(tmp_path, model, cli, real_data):
    assert load_translator(model, device="cpu").precision_name == "fp32"
    with pytest.raises(OptionError, match="fp16"):
        load_translator(model, device="cpu", precision="fp16")
    photo = sorted((real_data / "horse2zebra" / "testA").glob("*.jpg"))[0]
    result = cli("translate", photo, "--out", tmp_path / "o", "--model", model, "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "(fp32)" in result.output
    help_text = " ".join(cli("translate", "--help").output.replace("│", " ").split())
    assert "auto (bf16 on CUDA GPUs that support it, else fp32)" in help_text


def test_precision_fast_is_bf16_only_on_cpus_that_run_it_natively(monkeypatch):
    from ganctl import precision

    cpu = torch.device("cpu")
    monkeypatch.setattr(precision, "cpu_runs_bf16", lambda: True)
    assert precision.resolve_precision("fast", cpu) == "bf16"
    assert precision.resolve_precision("auto", cpu) == "fp32"  # auto stays fp32 on every CPU
    monkeypatch.setattr(precision, "cpu_runs_bf16", lambda: False)
    assert precision.resolve_precision("fast", cpu) == "fp32"


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="no oneDNN (bf16) on this CPU")
def test_bf16_matches_fp32_within_tolerance(tmp_path, real_data):
    ckpt = make_checkpoint(tmp_path / "m.safetensors", random_context=True)
    images = [np.asarray(Image.open(p)) for p in sorted((real_data / "horse2zebra" / "testA").glob("*.jpg"))[:2]]
    fp32 = load_translator(ckpt, device="cpu", precision="fp32")(images)
    bf16_translator = load_translator(ckpt, device="cpu", precision="bf16")
    assert bf16_translator.precision_name == "bf16"
    bf16 = bf16_translator(images)
    for a, b in zip(fp32, bf16):
        diff = np.abs(a.astype(int) - b.astype(int))
        assert diff.mean() < 1.0 and diff.max() <= 8


def test_old_d_spelling_of_direction_still_works_and_says_so(tmp_path, real_data, cli):
    """-d means --data across ganctl; translate's old ``-d b2a`` keeps working, with a note, and is not in help."""
    ckpt = make_checkpoint(tmp_path / "gray2rgb.safetensors", channels=(1, 3))
    photo = sorted((real_data / "horse2zebra" / "testB").glob("*.jpg"))[0]
    result = cli("translate", photo, "--out", tmp_path / "old", "--model", ckpt, "-d", "b2a", "--precision", "fp32")
    assert result.exit_code == 0, result.output
    assert "old spelling of --direction b2a" in " ".join(result.output.split())
    assert Image.open(tmp_path / "old" / f"{photo.stem}.png").mode == "L"  # G_B ran: colour -> gray
    result = cli("translate", photo, "--out", tmp_path / "o", "--model", ckpt, "-d", "b2a", "--direction", "a2b")
    assert result.exit_code == 2 and "given twice" in result.output
    assert " -d " not in cli("translate", "--help").output
