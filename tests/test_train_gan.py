"""train gan: short real MNIST runs of both architectures, checkpoints, samples, exact resume, the CLI."""

from __future__ import annotations

import json
import os
import signal

import pytest
import torch
from PIL import Image

from ganctl.checkpoint import load_checkpoint
from ganctl.errors import OptionError
from ganctl.models import create_model
from ganctl.training import train_gan
from ganctl.training.data import BatchOrder, MemoryBatches, load_digits

TINY = dict(batch_size=16, ngf=8, ndf=8, log_every=2, samples=9)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits(mnist_source):
    return load_digits(str(mnist_source), 28)


def test_digits_in_memory_come_in_an_order_fixed_by_seed_and_epoch():
    images = torch.arange(40, dtype=torch.uint8).view(40, 1, 1, 1).expand(40, 1, 2, 2).contiguous()
    loader = MemoryBatches(BatchOrder([40], batch_size=8, seed=3), [(images,)])
    assert loader.steps_per_epoch == 5
    epoch = [b[:, 0, 0, 0] for b in loader.epoch(1)]
    assert torch.equal(torch.cat(epoch).add(1).mul(127.5).round().sort().values, torch.arange(40.0))
    assert torch.equal(next(loader.epoch(1, start=2)), list(loader.epoch(1))[2])
    assert not torch.equal(next(loader.epoch(0)), next(loader.epoch(1)))
    ranks = [next(MemoryBatches(BatchOrder([40], 4, 3, world_size=2, rank=r), [(images,)]).epoch(1)) for r in (0, 1)]
    assert torch.equal(torch.cat(ranks)[:, 0, 0, 0], epoch[0])  # two ranks split the single-process batch


def test_load_digits_resizes(digits, mnist_source):
    assert digits.shape == (60000, 1, 28, 28) and digits.dtype == torch.uint8
    assert load_digits(str(mnist_source), 32)[:5].shape == (5, 1, 32, 32)


def test_bad_options(tmp_path):
    with pytest.raises(OptionError, match="--arch"):
        train_gan("mnist", arch="vae")
    with pytest.raises(OptionError, match="--size"):
        train_gan("mnist", arch="dcgan", size=30)
    with pytest.raises(OptionError, match="--data"):
        train_gan("cifar10")


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_short_run_checkpoint_samples_and_exact_resume(tmp_path, mnist_source, arch):
    opts = dict(TINY, source=str(mnist_source), arch=arch, max_steps=4)
    full = train_gan("mnist", run=tmp_path / "full", **opts)
    assert full.step == 4 and set(full.losses) == {"loss_G", "loss_D", "D_real", "D_fake"}
    ckpt = load_checkpoint(tmp_path / "full" / "checkpoints" / "latest.safetensors")
    assert ckpt.config["kind"] == "gan" and ckpt.config["latent_dim"] == 64 and ckpt.config["arch"] == arch
    G = create_model(**ckpt.config["networks"]["G"])
    ckpt.load_into({"G": G})
    assert G.eval()(torch.randn(2, 64)).shape == (2, 1, 28, 28)
    grid = Image.open(tmp_path / "full" / "samples" / "epoch_0001.png")
    assert grid.size == (3 * 30 + 2, 3 * 30 + 2)  # 9 samples: 3 x 3 tiles of 28 px, 2 px padding

    def interrupt(step: int) -> None:
        if step == 1:
            os.kill(os.getpid(), signal.SIGINT)

    part = train_gan("mnist", run=tmp_path / "part", on_step_end=interrupt, **opts)
    assert part.interrupted and part.step == 2
    assert train_gan(resume=tmp_path / "part").step == 4
    for name in ("G", "D"):
        a = ckpt.networks[name]
        b = load_checkpoint(tmp_path / "part" / "checkpoints" / "latest.safetensors").networks[name]
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_cli_trains_and_refuses_bad_arch(tmp_path, mnist_source, cli):
    run = tmp_path / "run"
    result = cli("train", "gan", "--source", mnist_source, "--arch", "dcgan", "--ngf", "8", "--ndf", "8",
                 "--max-steps", "2", "--run", run, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["step"] == 2
    config = json.loads((run / "config.json").read_text())
    assert config["options"]["arch"] == "dcgan" and config["model"]["networks"]["G"]["name"] == "dcgan_generator"
    bad = cli("train", "gan", "--arch", "nope")
    assert bad.exit_code == 2 and "--arch" in bad.output and "mlp, dcgan" in bad.output
