"""ganctl export to ONNX and translate --model FILE.onnx, through the real app.

Every kind translate serves is trained for two steps (``smoke``) and exported in each of its directions, plus a
gan's generator from noise; each file is checked for its metadata, run on odd sizes against the PyTorch translate
path, and used by ``translate`` on a folder with a broken file and on a video. Bad inputs are one line, exit 2,
nothing written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from test_frames import make_video
from training_data import make_recipe_data, one_torch_thread  # noqa: F401
from typer.testing import CliRunner

from ganctl import console
from ganctl.cli import app
from ganctl.export.onnx_export import adaptive_avg_pool2d_any_size
from ganctl.generate import load_generator, pixels_from_noise
from ganctl.training import get_recipe
from ganctl.training.runner import train
from ganctl.translate import load_translator
from ganctl.translate.adapters import adapter_directions, adapter_kinds
from ganctl.translate.padding import pad_for_network, padded_size

EXPORTS = [(kind, direction) for kind in adapter_kinds() for direction in adapter_directions({"kind": kind})]
ONE_SIDED = next(kind for kind, _ in EXPORTS if adapter_directions({"kind": kind}) == ("a2b",))


def invoke(*args) -> object:
    """The real app in-process (module-scoped fixtures cannot use the ``cli`` fixture)."""
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line(result) -> str:
    """The error line of a failed command, checked to be the only line (no traceback)."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(" ".join(lines)) < 400, result.output
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A two-step run of every kind translate serves, and of gan: kind -> run folder."""
    root = tmp_path_factory.mktemp("runs")
    data: dict[str, dict] = {}
    made = {}
    console.set_quiet(True)
    try:
        for kind in [*adapter_kinds(), "gan"]:
            data_kind = get_recipe(kind).data_kind
            if data_kind not in data:
                data[data_kind] = make_recipe_data(data_kind, root / data_kind, train_images=16)
            made[kind] = train(kind, run=root / kind, preset="smoke", **data[data_kind]).run_dir
    finally:
        console.set_quiet(False)
    return made


@pytest.fixture(scope="module")
def exported(runs) -> dict[tuple[str, str], Path]:
    """Every (kind, direction) of EXPORTS, and ("gan", "noise"), exported through the app: -> .onnx file."""
    files = {}
    for kind, direction in [*EXPORTS, ("gan", "noise")]:
        args = ["export", runs[kind], "--format", "onnx"] + (["--direction", direction] if kind != "gan" else [])
        result = invoke(*args, "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout.strip().splitlines()[0])
        assert report["max_difference"] <= 1e-3 and "max difference" in result.output
        files[kind, direction] = Path(report["path"])
    return files


def odd_images(channels: int, sizes=((23, 41), (7, 9)), seed: int = 0) -> list[np.ndarray]:
    """Random float32 N x C x H x W batches in [0, 1] of odd sizes (7 x 9: smaller than a U-Net's multiple)."""
    rng = np.random.default_rng(seed)
    return [rng.random((2, channels, h, w), dtype=np.float32) for h, w in sizes]


@pytest.mark.parametrize("kind, direction", EXPORTS)
def test_export_carries_metadata_and_matches_the_torch_translate_path(kind, direction, runs, exported):
    path = exported[kind, direction]
    assert path == runs[kind] / f"{kind}_{direction}.onnx"
    model = onnx.load(str(path))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["format"] == "ganctl-onnx" and meta["kind"] == kind and meta["direction"] == direction
    assert meta["ganctl_version"] and json.loads(meta["config"])["kind"] == kind
    assert meta["value_range"] == "0 1" and meta["input"] == "image"
    translator = load_translator(runs[kind], direction, device="cpu", precision="fp32", eval_mode=True)
    gray_graph = translator.adapter.graph_mode == "L" or translator.in_mode == "L"
    assert meta["input_channels"] == ("1" if gray_graph else "3")
    assert meta["output_channels"] == str(translator.adapter.out_channels)
    assert (meta.get("test_mode") == "eval") == (translator.test_mode is not None)

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (arg,) = session.get_inputs()
    assert arg.name == "image" and isinstance(arg.shape[0], str) and all(isinstance(d, str) for d in arg.shape[2:])
    for x in odd_images(int(meta["input_channels"])):
        got = session.run(None, {"image": x})[0]
        full = torch.from_numpy(x).expand(-1, 3, -1, -1) if translator.in_mode == "RGB" else torch.from_numpy(x)
        with torch.inference_mode():
            want = translator._forward_images(full).numpy()
        assert got.shape == want.shape and got.min() >= 0 and got.max() <= 1
        assert np.abs(got - want).max() <= 1e-3, (kind, direction, x.shape)


@pytest.mark.parametrize("kind, direction", EXPORTS)
def test_translate_with_the_onnx_file_mirrors_a_folder_and_skips_a_broken_file(kind, direction, runs, exported,
                                                                              tmp_path, cli):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (21, 13), np.uint8)).convert("RGB").save(src / "a.png")
    Image.fromarray(rng.integers(0, 256, (30, 35), np.uint8)).save(src / "sub" / "b.png")
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    onnx_out, torch_out = tmp_path / "onnx", tmp_path / "torch"
    result = cli("translate", src, "--out", onnx_out, "--model", exported[kind, direction])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "translated 2 images, skipped 1" in text and "broken.png" in text and "onnxruntime-cpu" in text
    same = cli("translate", src, "--out", torch_out, "--model", runs[kind], "--direction", direction, "--eval-mode",
               "--precision", "fp32", "--device", "cpu")
    assert same.exit_code == 0, same.output
    for name in ("a.png", "sub/b.png"):
        got, want = (np.asarray(Image.open(folder / name), np.int16) for folder in (onnx_out, torch_out))
        assert got.shape == want.shape and np.abs(got - want).max() <= 1, name  # 1e-3 of 255 rounds to one level


def test_translate_a_video_with_an_onnx_file(exported, tmp_path, cli):
    import av

    source = tmp_path / "clip.mp4"
    make_video(source, frames=5, rate=5, size=(36, 28))
    result = cli("translate", source, "--out", tmp_path / "out", "--model", exported[EXPORTS[0]])
    assert result.exit_code == 0, result.output
    assert "translated 5 frames" in " ".join(result.output.split())
    with av.open(str(tmp_path / "out" / "clip.mp4")) as container:
        frames = [f for f in container.decode(video=0)]
    assert len(frames) == 5 and (frames[0].width, frames[0].height) == (36, 28)


def test_temporal_video_with_a_colorize_onnx_file_blends_its_chroma(exported, runs, tmp_path, cli):
    from ganctl.translate.onnx_translator import load_onnx_translator

    path = exported["colorize", "a2b"]
    assert load_onnx_translator(path).keeps_lightness and load_translator(runs["colorize"]).keeps_lightness
    assert not load_onnx_translator(exported[EXPORTS[0]]).keeps_lightness or EXPORTS[0][0] == "colorize"
    source = tmp_path / "clip.mp4"
    make_video(source, frames=4, rate=5, size=(40, 32))
    result = cli("translate", source, "--out", tmp_path / "out", "--model", path, "--temporal")
    assert result.exit_code == 0, result.output
    assert "translated 4 frames" in " ".join(result.output.split())


def test_gan_generator_exports_from_noise(runs, exported, cli, tmp_path):
    path = exported["gan", "noise"]
    assert path == runs["gan"] / "gan_generator.onnx"
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["kind"] == "gan" and meta["input"] == "noise" and "direction" not in meta
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    net, config = load_generator(runs["gan"])
    noise = torch.randn(5, int(config["latent_dim"]), generator=torch.Generator().manual_seed(3))
    got = session.run(None, {"noise": noise.numpy()})[0]
    with torch.inference_mode():
        want = pixels_from_noise(net, noise).numpy()
    assert got.shape == want.shape and np.abs(got - want).max() <= 1e-3
    image = tmp_path / "x.png"
    Image.new("L", (9, 9)).save(image)
    assert "from noise" in one_line(cli("translate", image, "--out", tmp_path / "o", "--model", path))


def test_a_checkpoint_file_exports_beside_itself(runs, cli):
    checkpoint = runs[ONE_SIDED] / "checkpoints" / "latest.safetensors"
    result = cli("export", checkpoint)
    assert result.exit_code == 0, result.output
    assert (checkpoint.parent / "latest_a2b.onnx").is_file()


def test_a_fixed_size_export_takes_that_size_only(runs, cli, tmp_path):
    kind, direction = EXPORTS[0]
    target = tmp_path / "fixed.onnx"
    result = cli("export", runs[kind], "--direction", direction, "--size", "24x40", "--out", target)
    assert result.exit_code == 0, result.output
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[2:] == [24, 40]
    assert {p.key: p.value for p in onnx.load(str(target)).metadata_props}["size"] == "24x40"
    mode = "L" if session.get_inputs()[0].shape[1] == 1 else "RGB"
    Image.new(mode, (40, 24), 90).save(tmp_path / "right.png")
    assert cli("translate", tmp_path / "right.png", "--out", tmp_path / "o", "--model", target).exit_code == 0
    Image.new(mode, (13, 21), 90).save(tmp_path / "wrong.png")
    assert "24 x 40" in one_line(cli("translate", tmp_path / "wrong.png", "--out", tmp_path / "o2", "--model", target))


def _calibration_folder(root: Path) -> Path:
    """A messy folder to calibrate with: colour and gray photos of odd sizes, a 16-bit PNG, a broken file."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(5)
    for i, (h, w) in enumerate([(37, 29), (24, 50), (31, 31), (45, 20), (28, 33), (40, 40), (26, 38), (33, 27)]):
        Image.fromarray(rng.integers(0, 256, (h, w, 3), np.uint8)).save(root / f"photo {i}.png")
    Image.fromarray(rng.integers(0, 256, (30, 22), np.uint8)).save(root / "gray.png")
    Image.fromarray(rng.integers(0, 65535, (27, 35), np.uint16)).save(root / "deep.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    return root


def _node_types(path: Path) -> list[str]:
    return [node.op_type for node in onnx.load(str(path)).graph.node]


@pytest.mark.parametrize("kind, direction", EXPORTS)
def test_int8_export_quantizes_the_inner_convolutions_and_translates_a_folder(kind, direction, runs, exported,
                                                                             tmp_path, cli):
    target = tmp_path / "int8.onnx"
    # The run's own training images calibrate by default; pix2pix's paired data is not a domain folder.
    calibrate = ["--calibrate", _calibration_folder(tmp_path / "calib")] if kind == "pix2pix" else []
    result = cli("export", runs[kind], "--direction", direction, "--quantize", "int8", "--out", target,
                 "--calibration-images", 8, *calibrate, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[0])
    check = report["int8"]
    assert report["quantization"] == "int8" and check["calibration_images"] == 6 and check["check_images"] == 2
    assert check["calibration"].endswith("calib" if kind == "pix2pix" else ("trainB" if direction == "b2a" or
                                                                           kind == "colorize" else "trainA"))
    assert 0 < check["mean_difference"] <= check["max_difference"] and check["psnr"] > 15
    assert "PSNR" in result.stderr and "held-out" in result.stderr

    # Every Conv but the first and the last convolution is int8; transposed convolutions stay fp32.
    types, fp32_types = _node_types(target), _node_types(exported[kind, direction])
    convolutions = [t for t in fp32_types if t in ("Conv", "ConvTranspose")]
    ends = [convolutions[0], convolutions[-1]].count("Conv")
    assert types.count("QLinearConv") == fp32_types.count("Conv") - ends > 0
    assert types.count("Conv") == ends and types.count("ConvTranspose") == fp32_types.count("ConvTranspose")
    meta = {p.key: p.value for p in onnx.load(str(target)).metadata_props}
    assert meta["quantization"] == "int8" and meta["calibration_images"] == "6" and meta["kind"] == kind
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    fp32 = ort.InferenceSession(str(exported[kind, direction]), providers=["CPUExecutionProvider"])
    assert [(a.name, a.type, a.shape) for a in session.get_inputs()] == [
        (a.name, a.type, a.shape) for a in fp32.get_inputs()]
    for x in odd_images(int(meta["input_channels"])):
        got, want = session.run(None, {"image": x})[0], fp32.run(None, {"image": x})[0]
        assert got.shape == want.shape and got.min() >= 0 and got.max() <= 1
        assert np.abs(got - want).mean() < 0.1, (kind, x.shape)

    src = _calibration_folder(tmp_path / "in")
    out = tmp_path / "out"
    result = cli("translate", src, "--out", out, "--model", target)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "translated 10 images, skipped 1" in text and "onnxruntime-cpu (int8" in text


def test_a_fixed_size_int8_export_calibrates_at_that_size(runs, tmp_path, cli):
    kind, direction = EXPORTS[0]
    target = tmp_path / "fixed_int8.onnx"
    result = cli("export", runs[kind], "--direction", direction, "--size", "24x40", "--quantize", "int8",
                 "--calibrate", _calibration_folder(tmp_path / "calib"), "--out", target)
    assert result.exit_code == 0, result.output
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[2:] == [24, 40] and "QLinearConv" in _node_types(target)


@pytest.mark.parametrize("device", ["auto", "cuda"])
def test_an_int8_file_stays_on_the_cpu_where_cuda_has_no_int8_convolution(device, runs, tmp_path, monkeypatch,
                                                                          capsys):
    import ganctl.translate.onnx_translator as onnx_translator

    kind, direction = EXPORTS[0]
    target = tmp_path / "int8.onnx"
    assert invoke("export", runs[kind], "--direction", direction, "--quantize", "int8", "--calibrate",
                  _calibration_folder(tmp_path / "calib"), "--out", target).exit_code == 0
    opened = []

    class CudaSession:  # what a session of onnxruntime-gpu reports, around a real CPU session
        def __init__(self, session):
            self.session = session

        def __getattr__(self, name):
            return getattr(self.session, name)

        def get_providers(self):
            return ["CUDAExecutionProvider", "CPUExecutionProvider"]

    def open_session(path, providers, **kwargs):
        opened.append(list(providers))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return CudaSession(session) if "cuda" in str(providers).lower() else session

    monkeypatch.setattr(onnx_translator, "onnx_providers", lambda d: (["CUDAExecutionProvider"], "cuda:0"))
    monkeypatch.setattr(onnx_translator, "open_session", open_session)
    translator = onnx_translator.load_onnx_translator(target, device=device)
    if device == "auto":
        assert opened == [["CUDAExecutionProvider"], ["CPUExecutionProvider"]]
        assert translator.device == "onnxruntime-cpu"
    else:
        assert opened == [["CUDAExecutionProvider"]] and "int8" in capsys.readouterr().err


def test_int8_is_refused_for_a_gan_generator_which_has_no_convolution_to_quantize(runs, cli, tmp_path):
    assert "fp32" in one_line(cli("export", runs["gan"], "--quantize", "int8", "--out", tmp_path / "g.onnx"))
    assert not list(tmp_path.glob("*.onnx"))


def _read_only_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root writes anyway
        folder.chmod(0o755)
        pytest.skip("running as a user who can write into read-only folders (root)")
    return folder


@pytest.mark.parametrize("case", ["no checkpoint", "unknown format", "b2a on a one-sided model", "read-only folder",
                                  "folder is a file", "file exists", "opset too old", "bad size", "old -d b2a",
                                  "-d and --direction differ", "unknown quantization", "calibrate without int8",
                                  "no calibration folder", "empty calibration folder", "no run data to calibrate"])
def test_bad_export_input_is_one_line_exit_2_and_writes_nothing(case, runs, tmp_path, cli):
    run, target, extra = runs[ONE_SIDED], tmp_path / "out" / "model.onnx", []
    if case == "no checkpoint":
        run = tmp_path / "empty-run"
        run.mkdir()
        expected = "checkpoints/latest.safetensors"
    elif case == "unknown format":
        extra, expected = ["--format", "tflite"], "--format"
    elif case == "b2a on a one-sided model":
        extra, expected = ["--direction", "b2a"], "--direction"
    elif case == "read-only folder":
        target, expected = _read_only_folder(tmp_path) / "model.onnx", "cannot write"
    elif case == "folder is a file":
        (tmp_path / "notes").write_text("a file")
        target, expected = tmp_path / "notes" / "model.onnx", "cannot write"
    elif case == "file exists":
        target.parent.mkdir()
        target.write_bytes(b"keep me")
        expected = "exists"
    elif case == "opset too old":
        extra, expected = ["--opset", "9"], "--opset"
    elif case == "old -d b2a":  # the old spelling still reaches the same check
        extra, expected = ["-d", "b2a"], "--direction"
    elif case == "-d and --direction differ":
        extra, expected = ["-d", "a2b", "--direction", "b2a"], "given twice"
    elif case == "unknown quantization":
        extra, expected = ["--quantize", "int4"], "--quantize"
    elif case == "calibrate without int8":
        extra, expected = ["--calibrate", tmp_path], "--quantize int8"
    elif case == "no calibration folder":
        extra, expected = ["--quantize", "int8", "--calibrate", tmp_path / "no such folder"], "no such folder"
    elif case == "empty calibration folder":
        (tmp_path / "empty").mkdir()
        extra, expected = ["--quantize", "int8", "--calibrate", tmp_path / "empty"], "contains no images"
    elif case == "no run data to calibrate":  # a checkpoint copied out of its run folder
        run = tmp_path / "copied.safetensors"
        run.write_bytes((runs[ONE_SIDED] / "checkpoints" / "latest.safetensors").read_bytes())
        extra, expected = ["--quantize", "int8"], "--calibrate"
    else:
        extra, expected = ["--size", "big"], "--size"
    before = sorted(p.name for p in tmp_path.rglob("*"))
    line = one_line(cli("export", run, "--out", target, *extra))
    assert expected in line, line
    after = sorted(p.name for p in tmp_path.rglob("*"))
    assert after == before  # no file, no temporary file
    if case == "file exists":
        assert target.read_bytes() == b"keep me"


class _Invert(torch.nn.Module):
    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return 1 - image


class _TwoInputs(torch.nn.Module):
    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return image * mask


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's note on its TorchScript-based exporter
def test_a_plain_onnx_file_runs_when_it_follows_the_convention_and_is_one_line_when_not(tmp_path, cli):
    plain = tmp_path / "invert.onnx"
    torch.onnx.export(_Invert(), (torch.rand(1, 3, 8, 8),), str(plain), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n", 2: "h", 3: "w"}}, dynamo=False)
    image = tmp_path / "in.png"
    pixels = np.random.default_rng(2).integers(0, 256, (11, 7, 3), np.uint8)
    Image.fromarray(pixels).save(image)
    result = cli("translate", image, "--out", tmp_path / "out", "--model", plain)
    assert result.exit_code == 0, result.output
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "in.png")), 255 - pixels)
    assert "--direction" in one_line(cli("translate", image, "--out", tmp_path / "o2", "--model", plain,
                                         "--direction", "b2a"))

    fixed = tmp_path / "fixed.onnx"  # batch 1 and 8 x 8 fixed, as many files in the wild
    torch.onnx.export(_Invert(), (torch.rand(1, 3, 8, 8),), str(fixed), dynamo=False)
    folder = tmp_path / "eights"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(pixels[:8, :7].repeat(2, axis=1)[:, :8] + i).save(folder / f"{i}.png")
    result = cli("translate", folder, "--out", tmp_path / "out8", "--model", fixed, "--batch-size", "2")
    assert result.exit_code == 0, result.output
    for i in range(3):
        assert np.array_equal(np.asarray(Image.open(tmp_path / "out8" / f"{i}.png")),
                              255 - np.asarray(Image.open(folder / f"{i}.png")))

    two = tmp_path / "two.onnx"
    torch.onnx.export(_TwoInputs(), (torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)), str(two),
                      input_names=["image", "mask"], dynamo=False)
    assert "2 inputs" in one_line(cli("translate", image, "--out", tmp_path / "o3", "--model", two))
    flat = tmp_path / "flat.onnx"
    torch.onnx.export(_Invert(), (torch.rand(2, 5),), str(flat), dynamo=False)
    assert "flat.onnx" in one_line(cli("translate", image, "--out", tmp_path / "o4", "--model", flat))
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf at all")
    assert "not an ONNX model" in one_line(cli("translate", image, "--out", tmp_path / "o5", "--model", junk))
    assert not any((tmp_path / name).exists() for name in ("o2", "o3", "o4", "o5"))


def test_without_onnxruntime_export_and_translate_say_what_to_install(runs, tmp_path, cli, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)
    line = one_line(cli("export", runs[ONE_SIDED], "--out", tmp_path / "m.onnx"))
    assert "pip install 'ganctl[onnx]'" in line and not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("h, w", [(37, 29), (8, 8), (3, 2), (1, 6), (1, 1)])
def test_padding_is_reflection_repeated_as_far_as_needed(h, w):
    x = torch.rand(2, 3, h, w)
    want = x
    for axis, n in ((-2, h), (-1, w)):  # reflect in steps, as far as the target; a side of 1 pixel repeated
        while want.shape[axis] < padded_size(n, 8, 16):
            have = want.shape[axis]
            add = min(padded_size(n, 8, 16) - have, max(have - 1, 1))
            pad = (0, 0, 0, add) if axis == -2 else (0, add, 0, 0)
            want = F.pad(want, pad, mode="reflect" if have > 1 else "replicate")
    got = pad_for_network(x, 8, 16)
    assert got.shape[-2:] == (padded_size(h, 8, 16), padded_size(w, 8, 16)) and torch.equal(got, want)


@pytest.mark.parametrize("h, w, out", [(13, 11, 4), (16, 16, 4), (7, 9, 1), (3, 5, (2, 4))])
def test_adaptive_pooling_for_any_size_equals_pytorchs(h, w, out):
    x = torch.rand(2, 5, h, w)
    assert torch.allclose(adaptive_avg_pool2d_any_size(x, out), F.adaptive_avg_pool2d(x, out), atol=1e-6)
