"""`ganctl train cyclegan` end to end: CLI, presets, photo data, config files, errors, DDP with 2 gloo processes."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from training_data import make_ab_dataset, one_torch_thread  # noqa: F401

from ganctl.checkpoint import load_checkpoint
from ganctl.data.dataset_meta import write_dataset_meta
from ganctl.models import create_model
from ganctl.training import train_cyclegan

TINY = ["--batch-size", "4", "--epochs", "1", "--decay-epochs", "0"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_ab_dataset(tmp_path_factory.mktemp("ab"))


def test_cli_trains_and_says_where_the_run_is(cli, dataset, tmp_path):
    config = tmp_path / "small.toml"
    config.write_text('preset = "digits"\nngf = 4\nndf = 4\nlog-every = 1\nlambda-cycle = 7\n')
    run = tmp_path / "run"
    result = cli("train", "cyclegan", "--data", dataset, "--run", run, "--config", config, *TINY, "--max-steps", "2",
                 "--lambda-cycle", "9")
    assert result.exit_code == 0, result.output
    assert str(run) in result.output and "samples" in result.output
    saved = json.loads((run / "config.json").read_text())
    assert saved["options"]["ngf"] == 4 and saved["options"]["max_steps"] == 2  # config file + flags
    assert saved["options"]["lambda_cycle"] == 9.0  # preset 20 < file 7 < flag 9
    assert saved["preset"] == "digits" and saved["options"]["generator"] == "digit_resnet_grid"
    assert saved["options"]["cycle_noise"] == 0.2 and saved["options"]["augment"] is False
    ckpt = load_checkpoint(run / "checkpoints" / "latest.safetensors", with_state=False)
    assert ckpt.config["step"] == 2
    assert (run / "samples" / "epoch_0001.png").exists()
    report = (run / "report.html").read_text()  # written at the end of every run
    assert "epoch_0001" in report or "data:image/png;base64" in report


def test_cli_resume_continues_the_run(cli, dataset, tmp_path):
    run = tmp_path / "run"
    small = ["--preset", "digits", "--batch-size", "4", "--epochs", "1", "--decay-epochs", "1"]
    assert cli("train", "cyclegan", "--data", dataset, "--run", run, *small, "--max-steps", "1").exit_code == 0
    result = cli("train", "cyclegan", "--resume", run, "--max-steps", "2")
    assert result.exit_code == 0, result.output
    assert load_checkpoint(run / "checkpoints" / "latest.safetensors", with_state=False).config["step"] == 2
    result = cli("train", "cyclegan", "--resume", run, "--lambda-cycle", "3")
    assert result.exit_code == 2 and "--lambda-cycle" in result.output
    result = cli("train", "cyclegan", "--resume", run, "--preset", "photo")
    assert result.exit_code == 2 and "--preset" in result.output
    result = cli("train", "cyclegan", "--data", dataset, "--run", run)  # would mix two runs' files
    assert result.exit_code == 2 and "--resume" in result.output


@pytest.mark.parametrize("args, message", [
    (["--gan-loss", "wasserstein"], "--gan-loss"),
    (["--generator", "resnet_99blocks"], "--generator"),
    (["--batch-size", "0"], "--batch-size"),
    (["--cycle-noise", "-0.1"], "--cycle-noise"),
    (["--precision", "fp16", "--device", "cpu"], "--precision"),
    (["--size", "18", "--batch-size", "4"], "--size"),
    (["--size", "16", "--batch-size", "4", "--preset", "photo"], "too small for --discriminator patchgan"),
])
def test_bad_options_are_one_line_exit_2(cli, dataset, tmp_path, args, message):
    result = cli("train", "cyclegan", "--data", dataset, "--run", tmp_path / "r", "--max-steps", "1", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_missing_data_and_bad_config_are_clear(cli, tmp_path):
    result = cli("train", "cyclegan", "--data", tmp_path / "nope")
    assert result.exit_code == 2 and "nope" in result.output
    (tmp_path / "c.toml").write_text("lamda_cycle = 3\n")
    result = cli("train", "cyclegan", "--data", tmp_path, "--config", tmp_path / "c.toml")
    assert result.exit_code == 2 and "lambda-cycle" in result.output
    result = cli("train", "cyclegan")
    assert result.exit_code == 2 and "--data" in result.output


def test_help_has_an_example(cli):
    result = cli("train", "cyclegan", "--help")
    assert result.exit_code == 0 and "ganctl train cyclegan --data mnist-color" in result.output
    for option in ("--lambda-identity", "--pool-size", "--resume", "--compile", "--precision", "--num-workers"):
        assert option in result.output


def test_the_preset_comes_from_the_dataset_kind_never_from_the_image_size(dataset, tmp_path, capsys):
    """16 px images without a kind train the published photo recipe (and hear about it); mnist-color: digits."""
    common = dict(max_steps=1, ngf=4, ndf=4, batch_size=4, num_workers=0, samples=2, log_every=1, size=32)
    photo = train_cyclegan(dataset, run=tmp_path / "plain", **common)
    config = json.loads((photo.run_dir / "config.json").read_text())
    assert config["preset"] == "photo" and config["options"]["generator"] == "resnet_9blocks"
    assert "preset photo: the default" in capsys.readouterr().err

    digits = tmp_path / "digits"
    shutil.copytree(dataset, digits)
    write_dataset_meta(digits, {"name": "digits", "kind": "mnist-color", "channels": {"A": 1, "B": 3}})
    chosen = train_cyclegan(digits, run=tmp_path / "kind", **common)
    config = json.loads((chosen.run_dir / "config.json").read_text())
    assert config["preset"] == "digits" and config["preset_reason"] == "the dataset's kind is mnist-color"
    assert config["options"]["generator"] == "digit_resnet_grid" and config["options"]["lr"] == 1e-3
    assert "preset digits: the dataset's kind is mnist-color" in capsys.readouterr().err


def test_small_images_on_the_photo_preset_get_a_hint(dataset, tmp_path, capsys):
    train_cyclegan(dataset, run=tmp_path / "r", max_steps=1, size=64, generator="resnet_6blocks", ngf=4, ndf=4,
                   num_workers=0, samples=2)
    assert "the images are 16 px but training runs at 64 px" in capsys.readouterr().err


def test_photos_use_the_published_preprocessing_and_nets(real_data, tmp_path):
    """horse2zebra (256 px JPEGs, some gray in a colour domain): resize -> crop -> flip, ResNet + PatchGAN."""
    result = train_cyclegan(real_data / "horse2zebra", run=tmp_path / "h2z", size=32, load_size=36,
                            generator="resnet_6blocks", ngf=4, ndf=4, batch_size=2, max_steps=2, num_workers=0,
                            samples=2, log_every=1)
    assert result.step == 2
    ckpt = load_checkpoint(result.checkpoint)
    assert ckpt.config["channels"] == {"A": 3, "B": 3} and ckpt.config["image_size"] == 32
    assert ckpt.config["networks"]["D_A"]["name"] == "patchgan"
    saved = json.loads((tmp_path / "h2z" / "config.json").read_text())
    assert saved["options"]["load_size"] == 36 and saved["preset"] == "photo" and saved["options"]["augment"]
    assert saved["options"]["lambda_cycle"] == 10.0 and saved["options"]["cycle_noise"] == 0.0  # as published
    G = create_model(**ckpt.config["networks"]["G_B"])
    ckpt.load_into({"G_B": G})
    assert G(torch.zeros(1, 3, 32, 32)).shape == (1, 3, 32, 32)
    train = [r for r in (json.loads(x) for x in (tmp_path / "h2z" / "metrics.jsonl").read_text().splitlines())]
    assert train[0]["loss_idt_A"] > 0  # same channels on both sides: the identity loss is on


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, data: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), RANK=str(rank),
                      LOCAL_RANK=str(rank))
    os.environ["GANCTL_HOME"] = str(Path(out) / "home")
    torch.set_num_threads(1)
    result = train_cyclegan(data, run=Path(out) / "ddp", preset="digits", ngf=4, ndf=4, batch_size=2, epochs=1,
                            decay_epochs=0, log_every=1, samples=2, device="cpu")
    digest = {k: float(sum(p.double().sum() for p in net.parameters())) for k, net in result.networks.items()}
    (Path(out) / f"rank{rank}.json").write_text(json.dumps({"digest": digest, "step": result.step}))


def test_ddp_two_gloo_processes_stay_in_sync(dataset, tmp_path):
    # fork: the children skip re-importing torch (a minute on a busy 2-core machine); they only use gloo.
    mp.start_processes(_ddp_worker, args=(2, _free_port(), str(dataset), str(tmp_path)), nprocs=2, join=True,
                       start_method="fork")
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["step"] == r1["step"] == 3  # 12 pairs / (batch 2 x 2 processes)
    assert r0["digest"] == r1["digest"]  # averaged gradients keep the replicas identical
    config = json.loads((tmp_path / "ddp" / "config.json").read_text())
    assert config["world_size"] == 2 and config["steps_per_epoch"] == 3
    assert load_checkpoint(tmp_path / "ddp" / "checkpoints" / "latest.safetensors").config["step"] == 3


def test_a_unet_generator_is_built_as_the_reference_cyclegan_builds_it(dataset, tmp_path):
    """--generator unet_*: instance norm and no dropout (pix2pix's batch norm and dropout are not CycleGAN's)."""
    result = train_cyclegan(dataset, run=tmp_path / "unet", generator="unet_32", size=32, ngf=4, ndf=4, batch_size=4,
                            max_steps=1, num_workers=0, samples=2)
    spec = load_checkpoint(result.checkpoint, with_state=False).config["networks"]["G_A"]
    assert spec["kwargs"]["norm"] == "instance" and spec["kwargs"]["dropout"] == 0.0
    G = create_model(**spec)
    kinds = {type(m).__name__ for m in G.modules()}
    assert "InstanceNorm2d" in kinds and not {"BatchNorm2d", "Dropout"} & kinds
    with pytest.raises(Exception, match="--dropout.*no dropout layers"):
        train_cyclegan(dataset, run=tmp_path / "bad", preset="digits", dropout=0.5, batch_size=4, max_steps=1)

