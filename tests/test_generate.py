"""ganctl generate: grids and folders of samples from a gan checkpoint, seeded, with safe outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ganctl.checkpoint import save_checkpoint
from ganctl.errors import CheckpointError, OptionError, OutputError
from ganctl.generate import generate_samples, load_generator
from ganctl.models import create_model, model_spec
from ganctl.models.gan_nets import dcgan_generator

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def gan_run(tmp_path):
    """A run folder holding a (randomly initialised) dcgan checkpoint, as ``train gan`` writes it."""
    torch.manual_seed(0)
    spec_g = model_spec("dcgan_generator", latent_dim=8, out_channels=1, image_size=28, ngf=8)
    spec_d = model_spec("dcgan_discriminator", in_channels=1, image_size=28, ndf=8)
    nets = {"G": create_model(**spec_g), "D": create_model(**spec_d)}
    # Train-mode BatchNorm statistics are not what eval uses; make them differ from the defaults.
    nets["G"](torch.randn(16, 8))
    run = tmp_path / "run"
    save_checkpoint(run / "checkpoints" / "latest.safetensors", nets,
                    {"kind": "gan", "networks": {"G": spec_g, "D": spec_d}, "latent_dim": 8, "image_size": 28})
    return run


def test_grid_file(gan_run, tmp_path):
    result = generate_samples(gan_run, tmp_path / "grid.png", n=10, device="cpu")
    assert result.grid and result.count == 10
    img = Image.open(tmp_path / "grid.png")
    assert img.size == (4 * 30 + 2, 3 * 30 + 2)  # ceil(sqrt(10)) = 4 per row, 3 rows, 2 px padding


def test_folder_of_files_is_seeded_and_matches_the_generator(gan_run, tmp_path):
    out = tmp_path / "samples"
    result = generate_samples(gan_run, out, n=3, seed=5, device="cpu")
    assert sorted(p.name for p in out.iterdir()) == ["sample_00000.png", "sample_00001.png", "sample_00002.png"]
    assert not result.grid and len(result.paths) == 3
    net, _ = load_generator(gan_run, "cpu")
    noise = torch.randn(3, 8, generator=torch.Generator().manual_seed(5))
    expected = ((net(noise).clamp(-1, 1) + 1) / 2 * 255).round()[:, 0].numpy()
    got = np.stack([np.asarray(Image.open(p), dtype=np.float32) for p in result.paths])
    assert np.abs(got - expected).max() <= 1
    again = generate_samples(gan_run, tmp_path / "again", n=3, seed=5, device="cpu")
    assert all(np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))
               for a, b in zip(result.paths, again.paths))
    other = generate_samples(gan_run, tmp_path / "other", n=1, seed=6, device="cpu")
    assert not np.array_equal(np.asarray(Image.open(other.paths[0])), np.asarray(Image.open(result.paths[0])))


def test_refuses_overwriting_and_non_gan_models(gan_run, tmp_path):
    generate_samples(gan_run, tmp_path / "g.png", n=4, device="cpu")
    with pytest.raises(OutputError, match="exists already"):
        generate_samples(gan_run, tmp_path / "g.png", n=4, device="cpu")
    generate_samples(gan_run, tmp_path / "g.png", n=4, device="cpu", overwrite=True)
    with pytest.raises(OptionError, match="--n"):
        generate_samples(gan_run, tmp_path / "x", n=0)
    other = tmp_path / "colorize.safetensors"
    save_checkpoint(other, {"G": dcgan_generator(latent_dim=8, ngf=8)}, {"kind": "colorize", "networks": {}})
    with pytest.raises(CheckpointError, match="not a gan model; use 'ganctl translate'"):
        generate_samples(other, tmp_path / "y.png")


def test_cli(cli, gan_run, tmp_path):
    result = cli("generate", gan_run, "--n", "5", "--out", tmp_path / "d", "--device", "cpu", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["count"] == 5 and not payload["grid"] and len(payload["paths"]) == 5
