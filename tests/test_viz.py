"""ganctl viz: results grids, latent plots and the HTML report, on small fake runs built here."""

from __future__ import annotations

import base64
import gzip
import io
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from ganctl.checkpoint import save_checkpoint
from ganctl.data.imageio import write_image
from ganctl.errors import GanctlError, InputError, OptionError
from ganctl.fsutil import atomic_write_json
from ganctl.models import create_model, model_spec, register_model
from ganctl.models.registry import unregister_model
from ganctl.runs import MetricsLog, write_config
from ganctl.viz import build_grid, plot_latent, write_report
from ganctl.viz.curves import group_losses, plot_losses
from ganctl.viz.latent import DOMAIN_COLOURS, pca_2d, project_2d
from ganctl.viz.loading import parse_epochs

GEN = "viz_test_generator"
MLP = "viz_test_mlp_generator"
SIZE = 16


class TinyGenerator(nn.Module):
    """Two stride-2 convolutions down, two up: enough to have a bottleneck for encode()."""

    size_multiple = 4

    def __init__(self, in_channels: int = 1, out_channels: int = 3, width: int = 4):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(in_channels, width, 4, 2, 1), nn.ReLU(),
                                 nn.Conv2d(width, 2 * width, 4, 2, 1))
        self.dec = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(width, out_channels, 4, 2, 1), nn.Tanh())

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.enc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dec(self.enc(x))


class TinyMLPGenerator(nn.Module):
    """Noise (N x latent_dim) to flat 1 x SIZE x SIZE images, like a fully connected digit GAN."""

    def __init__(self, latent_dim: int = 8):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, 32), nn.ReLU(), nn.Linear(32, SIZE * SIZE), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class TinyConvGenerator(nn.Module):
    """Noise as N x latent_dim x 1 x 1 to 1 x SIZE x SIZE, like a DCGAN generator."""

    def __init__(self, latent_dim: int = 8):
        super().__init__()
        self.net = nn.Sequential(nn.ConvTranspose2d(latent_dim, 8, SIZE // 2), nn.ReLU(),
                                 nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


CONV = "viz_test_conv_generator"
TEST_NETWORKS = {GEN: TinyGenerator, MLP: TinyMLPGenerator, CONV: TinyConvGenerator}


@pytest.fixture(scope="module", autouse=True)
def _tiny_networks():
    """The tiny generators above, in the network registry for this module's tests only."""
    for name, factory in TEST_NETWORKS.items():
        register_model(name, kind="generator")(factory)
    yield
    for name in TEST_NETWORKS:
        unregister_model(name)


# ---------------------------------------------------------------- fake datasets and runs

def make_dataset(root: Path, gray: np.ndarray, labels: np.ndarray | None) -> Path:
    """testA = gray images, testB = the same shapes tinted by label (or by index); optional labels."""
    palette = torch.tensor([[1, .2, .2], [.2, 1, .2], [.2, .4, 1], [1, 1, .2], [1, .3, 1],
                            [.2, 1, 1], [1, .6, .2], [.6, .2, 1], [.6, 1, .6], [1, .8, .8]])
    names = {}
    for i, img in enumerate(gray):
        t = torch.from_numpy(img).float().div(255)[None]
        label = int(labels[i]) if labels is not None else i
        for dom, image in (("A", t), ("B", t * palette[label % 10].view(3, 1, 1))):
            rel = f"test{dom}/{i:05d}.png"
            write_image(image, root / rel)
            names[rel] = label
    meta = {"name": "fake", "channels": {"A": 1, "B": 3}}
    if labels is not None:
        meta["labels"] = names
    atomic_write_json(root / "dataset.json", meta)
    return root


def blobs(n: int, size: int = SIZE, seed: int = 0) -> np.ndarray:
    """Bright discs at varying places on black: a stand-in for digits."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = []
    for _ in range(n):
        cy, cx, r = rng.uniform(4, size - 4), rng.uniform(4, size - 4), rng.uniform(2, 5)
        out.append(((yy - cy) ** 2 + (xx - cx) ** 2 < r * r).astype(np.uint8) * 255)
    return np.stack(out)


def make_cyclegan_run(run: Path, data: Path, epochs=(0, 1, 2), size: int = SIZE, eval_json: bool = True) -> Path:
    """A run folder as the cyclegan trainer writes it, with untrained but different weights per epoch."""
    specs = {"G_A": model_spec(GEN, in_channels=1, out_channels=3), "G_B": model_spec(GEN, in_channels=3,
                                                                                       out_channels=1)}
    write_config(run, {"kind": "cyclegan", "options": {"data": str(data), "epochs": len(epochs), "lr": 2e-4,
                                                       "batch_size": 4, "lambda_cycle": 10.0, "seed": 0},
                       "dataset": str(data)})
    log = MetricsLog(run / "metrics.jsonl")
    step = 0
    for epoch in epochs:
        torch.manual_seed(epoch)
        nets = {name: create_model(**spec) for name, spec in specs.items()}
        config = {"kind": "cyclegan", "networks": specs, "channels": {"A": 1, "B": 3}, "image_size": size,
                  "dataset": str(data), "step": step, "epoch": epoch}
        for path in (f"epoch_{epoch:04d}.safetensors", "latest.safetensors"):
            save_checkpoint(run / "checkpoints" / path, nets, config)
        for _ in range(30):
            step += 1
            decay = float(np.exp(-step / 30))
            log.append(step, epoch, kind="train", loss_G=2 + decay, loss_D_A=0.25 * decay, loss_D_B=0.3 * decay,
                       loss_cycle_A=decay, loss_cycle_B=1.1 * decay, loss_idt_A=0.5 * decay, loss_idt_B=0.4 * decay,
                       lr=2e-4)
        log.append(step, epoch, kind="epoch", loss_G=2 + decay)
        sample = torch.rand(3, 2 * (size + 2), 3 * (size + 2), generator=torch.Generator().manual_seed(epoch))
        write_image(sample, run / "samples" / f"epoch_{epoch:04d}.png")
    if eval_json:
        atomic_write_json(run / "eval.json", {"a2b": {"digit_kept_accuracy": 0.9731, "fid_digits": 3.5},
                                              "b2a": {"fid_digits": 2.25}})
    return run


@pytest.fixture
def fake_data(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "data", blobs(10), np.arange(10) % 5)


@pytest.fixture
def fake_run(tmp_path: Path, fake_data: Path) -> Path:
    return make_cyclegan_run(tmp_path / "runs" / "cyclegan" / "exp", fake_data)


def assert_plot(path: Path, min_std: float = 8.0) -> np.ndarray:
    """The file is a PNG picture with content (not one flat colour)."""
    assert path.exists() and path.stat().st_size > 2000
    with Image.open(path) as img:
        assert img.format == "PNG"
        arr = np.asarray(img.convert("RGB")).astype(np.float32)
    assert arr.shape[0] > 100 and arr.shape[1] > 100
    assert arr.std() > min_std, "the plot is (nearly) blank"
    return arr


def colour_pixels(arr: np.ndarray, hex_colour: str) -> int:
    """Pixels whose colour leans the way ``hex_colour`` does (markers are drawn translucent, so not exact)."""
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)
    target = (rgb - rgb.mean()) / np.linalg.norm(rgb - rgb.mean())
    centred = arr - arr.mean(-1, keepdims=True)
    strength = np.linalg.norm(centred, axis=-1)
    cosine = (centred @ target) / np.maximum(strength, 1e-6)
    return int(((strength > 40) & (cosine > 0.95)).sum())


# ---------------------------------------------------------------- grid

def test_parse_epochs_default_spread_and_last():
    available = list(range(16))
    assert parse_epochs(None, available) == [0, 5, 10, 15]
    assert parse_epochs("", [3, 4]) == [3, 4]
    assert parse_epochs("0,7,-1", available) == [0, 7, 15]
    with pytest.raises(OptionError, match="no checkpoint for epoch 99; available: 0, 1"):
        parse_epochs("0,99", available)
    with pytest.raises(OptionError, match="not an epoch number"):
        parse_epochs("seven", available)


def test_grid_cyclegan_columns_per_epoch(fake_run: Path, tmp_path: Path):
    one = assert_plot(build_grid(fake_run, out=tmp_path / "one.png", epochs="0", n=3))
    # Default epochs (all three here), default output beside the run.
    assert build_grid(fake_run, n=8) == fake_run / "grid.png"
    three = assert_plot(fake_run / "grid.png")
    assert three.shape[1] > one.shape[1] * 1.4, "each chosen epoch adds a column"
    assert three.shape[0] > one.shape[0] * 1.5, "each test image adds a row"


def test_grid_gan_and_sample_only_runs(tmp_path: Path):
    for arch in (MLP, CONV):
        gan = tmp_path / arch
        spec = model_spec(arch, latent_dim=8)
        write_config(gan, {"kind": "gan", "data": "mnist"})
        for epoch in (0, 1):
            torch.manual_seed(epoch)
            save_checkpoint(gan / "checkpoints" / f"epoch_{epoch:04d}.safetensors", {"G": create_model(**spec)},
                            {"kind": "gan", "networks": {"G": spec}, "latent_dim": 8, "channels": 1,
                             "image_size": SIZE})
        assert_plot(build_grid(gan, out=tmp_path / f"{arch}.png", n=6))

    colorize = tmp_path / "colorize"  # samples only, no per-epoch checkpoints
    write_config(colorize, {"kind": "colorize", "data": "flowers"})
    for epoch in (1, 2, 3, 4):
        write_image(torch.rand(3, 40, 120), colorize / "samples" / f"epoch_{epoch:04d}.png")
    assert_plot(build_grid(colorize, out=tmp_path / "colorize.png", epochs="1,4"))
    with pytest.raises(OptionError, match="available: 1, 2, 3, 4"):
        build_grid(colorize, out=tmp_path / "x.png", epochs="7")


def test_grid_colorize_run_from_checkpoints(tmp_path: Path):
    data = tmp_path / "photos"
    for i in range(4):
        write_image(torch.rand(3, 40, 48, generator=torch.Generator().manual_seed(i)), data / "testB" / f"{i}.png")
    run = tmp_path / "colorize"
    spec = model_spec("unet_32", in_channels=1, out_channels=2, ngf=4)
    write_config(run, {"kind": "colorize", "dataset": str(data)})
    for epoch in (1, 2):
        torch.manual_seed(epoch)
        save_checkpoint(run / "checkpoints" / f"epoch_{epoch:04d}.safetensors", {"G": create_model(**spec)},
                        {"kind": "colorize", "networks": {"G": spec}, "image_size": 32, "color_space": "lab",
                         "channels": {"A": 1, "B": 3}})
    arr = assert_plot(build_grid(run, out=tmp_path / "colorize.png", n=3))
    assert colour_pixels(arr, "#ff0000") + colour_pixels(arr, "#00ff00") + colour_pixels(arr, "#0000ff") > 100


def test_grid_bad_inputs(tmp_path: Path, fake_run: Path):
    with pytest.raises(InputError, match="no such run folder"):
        build_grid(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="neither per-epoch checkpoints nor samples"):
        build_grid(empty)
    with pytest.raises(OptionError, match="--out"):
        build_grid(fake_run, out=tmp_path / "grid.txt")


# ---------------------------------------------------------------- latent

def test_pca_matches_numpy_svd_and_separates_clusters():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, (50, 6)) + np.array([5, 0, 0, 0, 0, 0])
    b = rng.normal(0, 1, (50, 6)) - np.array([5, 0, 0, 0, 0, 0])
    x = np.concatenate([a, b])
    coords, (r1, r2) = pca_2d(torch.from_numpy(x))
    centred = x - x.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    ref = centred @ vt[:2].T
    for k in range(2):  # equal up to the sign of each axis
        assert np.allclose(np.abs(coords[:, k]), np.abs(ref[:, k]), atol=1e-8)
    assert r1 == pytest.approx(s[0] ** 2 / (s**2).sum()) and r1 > 0.8 > r2
    assert (np.sign(coords[:50, 0]) != np.sign(coords[50:, 0]).mean()).all(), "PC 1 splits the two clusters"
    again, _ = pca_2d(torch.from_numpy(x))
    assert np.array_equal(coords, again)


def test_tsne_runs_and_missing_sklearn_is_one_clear_error(monkeypatch):
    feats = torch.randn(30, 8, generator=torch.Generator().manual_seed(0))
    coords, names = project_2d(feats, "tsne")
    assert coords.shape == (30, 2) and np.isfinite(coords).all() and names[0] == "t-SNE 1"
    monkeypatch.setitem(sys.modules, "sklearn.manifold", None)
    with pytest.raises(OptionError, match="tsne needs scikit-learn"):
        project_2d(feats, "tsne")
    with pytest.raises(OptionError, match="unknown method"):
        project_2d(feats, "umap")


def test_latent_plot_coloured_by_domain(fake_run: Path, tmp_path: Path):
    path = plot_latent(fake_run, out=tmp_path / "latent.png", n=20, device="cpu")
    arr = assert_plot(path)
    assert colour_pixels(arr, DOMAIN_COLOURS["A"]) > 50 and colour_pixels(arr, DOMAIN_COLOURS["B"]) > 50
    # From a checkpoint file inside the run, the dataset still comes from the run's config.
    ckpt = fake_run / "checkpoints" / "epoch_0001.safetensors"
    assert_plot(plot_latent(ckpt, out=tmp_path / "from_ckpt.png", n=8, device="cpu"))


def test_latent_refuses_what_it_cannot_plot(tmp_path: Path, fake_run: Path):
    gan = tmp_path / "gan.safetensors"
    spec = model_spec(MLP, latent_dim=8)
    save_checkpoint(gan, {"G": create_model(**spec)}, {"kind": "gan", "networks": {"G": spec}})
    with pytest.raises(OptionError, match="plots the generators of a model that translates images.*this one is a gan"):
        plot_latent(gan, out=tmp_path / "x.png", device="cpu")
    with pytest.raises(GanctlError, match="no such run folder or checkpoint"):
        plot_latent(tmp_path / "nope", out=tmp_path / "x.png")
    with pytest.raises(OptionError, match="unknown method"):
        plot_latent(fake_run, method="umap")
    with pytest.raises(InputError, match="no such folder"):
        plot_latent(fake_run, data=str(tmp_path), out=tmp_path / "x.png", device="cpu")


def _read_mnist(folder: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    images = np.frombuffer(gzip.open(folder / "t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
    labels = np.frombuffer(gzip.open(folder / "t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
    return images.reshape(-1, 28, 28)[:n], labels[:n]


@pytest.mark.realdata
def test_latent_and_grid_on_real_mnist_digits(mnist_source: Path, tmp_path: Path):
    digits, labels = _read_mnist(mnist_source, 60)
    padded = np.pad(digits, ((0, 0), (2, 2), (2, 2)))
    data = make_dataset(tmp_path / "mnist", padded, labels)
    run = make_cyclegan_run(tmp_path / "run", data, epochs=(0, 3), size=32, eval_json=False)
    arr = assert_plot(plot_latent(run, n=120, device="cpu"))
    assert colour_pixels(arr, DOMAIN_COLOURS["A"]) > 200 and colour_pixels(arr, DOMAIN_COLOURS["B"]) > 200
    grid = assert_plot(build_grid(run, epochs="0,3", n=5))
    # The real digits are white strokes on black: the figure holds many dark and many bright pixels.
    assert (grid.mean(-1) < 30).mean() > 0.05 and (grid.mean(-1) > 225).mean() > 0.05


# ---------------------------------------------------------------- report

def test_group_losses_of_every_trainer():
    cyclegan = [{"loss_G": 1, "loss_D_A": 1, "loss_D_B": 1, "loss_cycle_A": 1, "loss_cycle_B": 1,
                 "loss_idt_A": 1, "loss_idt_B": 1, "lr": 1}]
    assert group_losses(cyclegan) == {"generator": ["loss_G"], "discriminator": ["loss_D_A", "loss_D_B"],
                                      "cycle": ["loss_cycle_A", "loss_cycle_B"],
                                      "identity": ["loss_idt_A", "loss_idt_B"]}
    colorize = [{"loss_G_GAN": 1, "loss_G_L1": 2, "loss_D_real": 1}, {"loss_D_fake": 0.5, "loss_L1": float("nan")}]
    assert group_losses(colorize) == {"generator": ["loss_G_GAN", "loss_G_L1"],
                                      "discriminator": ["loss_D_fake", "loss_D_real"]}
    assert group_losses([{"loss_gp": 0.1, "loss_G": 1}]) == {"generator": ["loss_G"], "other": ["loss_gp"]}
    assert plot_losses([]) is None


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs.extend(v for k, v in attrs if k in ("src", "href") and v is not None)


def check_references(html_path: Path) -> list[str]:
    """Every src/href resolves offline: a decodable data: image or a file that exists beside the page."""
    parser = _Refs()
    parser.feed(html_path.read_text(encoding="utf-8"))
    for ref in parser.refs:
        assert not ref.startswith(("http:", "https:", "//")), f"network reference {ref[:60]}"
        if ref.startswith("data:"):
            header, payload = ref.split(",", 1)
            assert header.endswith(";base64")
            with Image.open(io.BytesIO(base64.b64decode(payload))) as img:
                img.load()
                assert np.asarray(img.convert("L")).std() > 5
        else:
            assert (html_path.parent / unquote(ref)).is_file(), f"missing {ref}"
    return parser.refs


def test_report_is_self_contained_and_complete(fake_run: Path):
    build_grid(fake_run, n=2)
    path = write_report(fake_run)
    assert path == fake_run / "report.html"
    refs = check_references(path)
    assert len(refs) == 1 + 1 + 3 + 1, "loss curves, latest sample, 3 epoch samples, grid.png"
    assert all(r.startswith("data:image/png;base64,") for r in refs)
    text = path.read_text(encoding="utf-8")
    for expected in ("generator", "discriminator", "cycle", "identity", "loss_cycle_B",  # loss table
                     "a2b.digit_kept_accuracy", "0.9731", "b2a.fid_digits",  # eval.json
                     "lambda_cycle", "epoch_0002.safetensors", "grid.png", "cyclegan run"):
        assert expected in text, expected


def test_report_links_images_when_too_big_to_embed(fake_run: Path):
    path = write_report(fake_run, embed_limit=0)
    refs = check_references(path)
    linked = [r for r in refs if not r.startswith("data:")]
    assert sorted(set(linked)) == [f"samples/epoch_{e:04d}.png" for e in (0, 1, 2)]
    assert any(r.startswith("data:image/png") for r in refs), "the loss plot is always embedded"


def test_report_of_a_fresh_run_and_bad_folders(tmp_path: Path):
    run = tmp_path / "fresh"
    write_config(run, {"kind": "cyclegan", "data": "x"})
    text = write_report(run).read_text(encoding="utf-8")
    assert "No losses logged yet" in text and "No sample grids yet" in text and "ganctl eval run" in text
    with pytest.raises(InputError, match="no such run folder"):
        write_report(tmp_path / "missing")
    with pytest.raises(InputError, match="not a ganctl run folder"):
        write_report(tmp_path)
    (run / "eval.json").write_text("{broken")
    with pytest.raises(InputError, match="eval.json: is not valid JSON"):
        write_report(run)


# ---------------------------------------------------------------- CLI

def test_cli_grid_latent_report(cli, fake_run: Path, tmp_path: Path):
    result = cli("viz", "grid", fake_run, "--epochs", "0,2", "--n", "3", "--out", tmp_path / "g.png")
    assert result.exit_code == 0, result.output
    assert_plot(tmp_path / "g.png")
    result = cli("viz", "latent", "--model", fake_run, "--n", "12", "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert_plot(fake_run / "latent_pca.png")
    result = cli("viz", "report", fake_run)
    assert result.exit_code == 0, result.output
    refs = check_references(fake_run / "report.html")
    assert len(refs) == 1 + 1 + 3 + 1  # latent_pca.png is shown too; grid.png is not in the run folder


def test_cli_help_lists_the_commands(cli):
    result = cli("viz", "--help")
    assert result.exit_code == 0
    for name in ("latent", "grid", "report"):
        assert name in result.output


def test_cli_errors_are_one_line_exit_2(cli, fake_run: Path, tmp_path: Path):
    for args, needle in (
        (("viz", "grid", fake_run, "--epochs", "5"), "no checkpoint for epoch 5"),
        (("viz", "report", tmp_path / "missing"), "no such run folder"),
        (("viz", "latent", "--model", fake_run, "--method", "umap"), "unknown method"),
    ):
        result = cli(*args)
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and needle in lines[0], result.output
        assert "Traceback" not in result.output
