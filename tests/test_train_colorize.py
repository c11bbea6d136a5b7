"""train colorize: data discovery, short real runs, both stages, checkpoints, exact resume, colour output."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from training_data import make_photos

from ganctl.checkpoint import load_checkpoint
from ganctl.color import rgb_to_lab
from ganctl.data.domains import find_colour_photos
from ganctl.errors import InputError, OptionError
from ganctl.training import train_colorize
from ganctl.training.data import ImageFiles, Preprocess

TINY = dict(size=32, batch_size=8, ngf=8, ndf=8, n_layers=2, num_workers=0, log_every=2, samples=4)


pytestmark = pytest.mark.usefixtures("one_thread")


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(run / "checkpoints" / "latest.safetensors").networks["G"]


def test_find_colour_photos_plain_folder_skips_gray_and_dataset_layout_uses_B(tmp_path):
    photos = make_photos(tmp_path / "photos", 3)
    Image.new("L", (32, 32), 128).save(photos / "gray.png")
    found = find_colour_photos(photos)
    assert len(found.train) == 3 and found.skipped_gray == 1 and found.test == []

    ds = tmp_path / "ds"
    make_photos(ds / "trainB", 4)
    make_photos(ds / "testB", 2, seed=1)
    (ds / "trainA").mkdir()
    found = find_colour_photos(ds)
    assert [p.parent.name for p in found.train] == ["trainB"] * 4 and len(found.test) == 2

    only_gray = tmp_path / "gray"
    only_gray.mkdir()
    Image.new("L", (32, 32)).save(only_gray / "a.png")
    with pytest.raises(InputError, match="only grayscale"):
        find_colour_photos(only_gray)


def test_an_unreadable_photo_is_replaced_by_the_next_one(tmp_path, capsys):
    photos = make_photos(tmp_path / "p", 2)
    (photos / "000.png").write_bytes(b"not an image")
    images = ImageFiles(sorted(photos.iterdir()), 3, Preprocess(size=32, load_size=32))
    first = images.load(0, 7)
    assert torch.equal(first, images.load(1, 7)) and first.shape == (3, 32, 32)
    assert "000.png" in capsys.readouterr().err


def test_bad_options_are_refused_before_training(tmp_path):
    photos = make_photos(tmp_path / "p", 4)
    with pytest.raises(OptionError, match="--pretrain-steps"):
        train_colorize(photos, run=tmp_path / "r", pretrain_epochs=1, pretrain_steps=2)
    with pytest.raises(OptionError, match="--size"):
        train_colorize(photos, run=tmp_path / "r", size=48, num_workers=0)
    with pytest.raises(OptionError, match="--batch-size"):
        train_colorize(photos, run=tmp_path / "r", **{**TINY, "batch_size": 64})
    with pytest.raises(OptionError, match="unknown colorize option"):
        train_colorize(photos, arch="mlp")
    with pytest.raises(OptionError, match="--discriminator"):  # a network that does not take n_layers
        train_colorize(photos, run=tmp_path / "r", discriminator="digit_global", **{**TINY, "batch_size": 2})


def test_two_stages_checkpoints_and_exact_resume(tmp_path):
    photos = make_photos(tmp_path / "p", 16)
    opts = dict(TINY, pretrain_steps=2, epochs=2)  # 2 steps per epoch: 2 L1 steps, then 4 GAN steps

    full = train_colorize(photos, run=tmp_path / "full", **opts)
    assert full.step == 6 and not full.interrupted
    records = [r for r in map(json.loads, (tmp_path / "full" / "metrics.jsonl").read_text().splitlines())
               if r["kind"] == "train"]
    assert records[0]["step"] == 2 and records[0]["loss_D"] == 0.0 and records[0]["loss_G_L1"] > 0
    assert all(r["loss_D"] > 0 and r["loss_G_GAN"] > 0 for r in records[1:])
    ckpts = {p.name for p in (tmp_path / "full" / "checkpoints").iterdir()}
    assert {"latest.safetensors", "pretrained.safetensors", "epoch_0003.safetensors"} <= ckpts
    assert (tmp_path / "full" / "samples" / "epoch_0003.png").exists()
    ckpt = load_checkpoint(tmp_path / "full" / "checkpoints" / "latest.safetensors")
    assert ckpt.config["kind"] == "colorize" and ckpt.config["color_space"] == "lab"
    assert ckpt.config["networks"]["G"]["kwargs"]["in_channels"] == 1
    assert ckpt.config["networks"]["G"]["kwargs"]["out_channels"] == 2
    assert ckpt.config["step"] == 6 and ckpt.state["recipe"]["steps_done"] == 6

    # Ctrl-C during step 2 (the last pre-training step): the loop finishes it and saves; the resumed run
    # starts with the adversarial stage and ends with the very same weights.
    def interrupt(step: int) -> None:
        if step == 1:
            os.kill(os.getpid(), signal.SIGINT)

    part = train_colorize(photos, run=tmp_path / "part", on_step_end=interrupt, **opts)
    assert part.interrupted and part.step == 2
    assert load_checkpoint(tmp_path / "part" / "checkpoints" / "latest.safetensors").state["recipe"]["steps_done"] == 2
    resumed = train_colorize(resume=tmp_path / "part")
    assert resumed.step == 6
    pretrained = {name: load_checkpoint(run / "checkpoints" / "pretrained.safetensors").networks["G"]
                  for name, run in (("full", tmp_path / "full"), ("part", tmp_path / "part"))}
    assert all(torch.equal(pretrained["full"][k], pretrained["part"][k]) for k in pretrained["full"])
    a, b = _weights(tmp_path / "full"), _weights(tmp_path / "part")
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(OptionError, match="--lambda-l1"):
        train_colorize(resume=tmp_path / "part", lambda_l1=5.0)


def test_trained_model_colorizes_gray_images_through_translate(tmp_path):
    from ganctl.translate import load_translator

    photos = make_photos(tmp_path / "p", 32)
    train_colorize(photos, run=tmp_path / "run", **{**TINY, "pretrain_steps": 24, "epochs": 0, "lr": 2e-3})
    translator = load_translator(tmp_path / "run", device="cpu")
    colour = np.asarray(Image.open(photos / "000.png"))
    gray = np.asarray(Image.fromarray(colour).convert("L"))
    # A gray image at another size than the training one (the translator pads to the U-Net's multiple).
    gray = np.pad(gray, ((0, 8), (0, 3)), mode="edge")
    out = translator([np.stack([gray] * 3, axis=-1)])[0]
    assert out.shape == gray.shape + (3,)
    lab = rgb_to_lab(torch.from_numpy(out.copy()).permute(2, 0, 1).float() / 255)
    bright = torch.from_numpy(gray.copy()) > 128
    assert lab[1:].abs().mean() > 10  # not gray
    assert lab[2][bright].mean() > 10 and lab[2][~bright].mean() < -10  # yellow where bright, blue where dark


def test_real_flowers_short_run_through_the_cli(tmp_path, real_data, cli):
    run = tmp_path / "run"
    result = cli("train", "colorize", "--data", real_data / "flowers_128" / "tulip", "--size", "64", "--ngf", "8",
                 "--ndf", "8", "--batch-size", "4", "--pretrain-steps", "1", "--max-steps", "2", "--num-workers", "0",
                 "--run", run, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["step"] == 2 and Path(summary["checkpoint"]).exists()
    config = json.loads((run / "config.json").read_text())
    assert config["options"]["generator"] == "unet_64" and config["train_images"] == 100
    assert load_checkpoint(run / "checkpoints" / "latest.safetensors").config["image_size"] == 64
