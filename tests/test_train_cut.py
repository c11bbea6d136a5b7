"""`ganctl train cut`: PatchNCE, the encoder taps and heads, CUT vs FastCUT, channels, one-sided translate."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from training_data import make_ab_dataset, one_torch_thread  # noqa: F401

from ganctl.checkpoint import load_checkpoint
from ganctl.models import create_model
from ganctl.training.losses import patch_nce_loss
from ganctl.training.runner import train

TINY = dict(preset="smoke", max_steps=2, batch_size=4)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_ab_dataset(tmp_path_factory.mktemp("ab"))  # gray squares A, colour discs B, 16 px


def test_patch_nce_rewards_matching_patches_and_trains_only_the_query():
    g = torch.Generator().manual_seed(0)
    key = torch.nn.functional.normalize(torch.randn(2 * 32, 16, generator=g), dim=1)
    query = key.clone().requires_grad_(True)
    matched = patch_nce_loss(query, key, batch_size=2, temperature=0.07)
    shuffled = patch_nce_loss(query[torch.randperm(64, generator=g)], key, batch_size=2, temperature=0.07)
    assert matched < 0.1 < math.log(32) / 2 < shuffled  # chance level is about log(32) = 3.5
    key.requires_grad_(True)
    patch_nce_loss(query, key, 2, 0.07).backward()
    assert query.grad is not None and key.grad is None


def test_resnet_generators_expose_the_five_layers_cut_reads():
    G = create_model("resnet_9blocks", ngf=8)
    assert G.feature_layers == (0, 4, 7, 10, 14)  # padded input, 2 downsampling convs, residual blocks 1 and 5
    features = G.encode_features(torch.rand(2, 3, 64, 64))
    assert [f.shape[1] for f in features] == [3, 16, 32, 32, 32]
    heads = create_model("patch_mlp", channels=[f.shape[1] for f in features], units=8)
    projected, ids = heads(features, num_patches=10)
    assert [p.shape for p in projected] == [(20, 8)] * 5 and all(len(i) == 10 for i in ids)
    assert torch.allclose(projected[0].norm(dim=1), torch.ones(20))
    again, _ = heads(features, 10, ids)  # the same locations for the query features of the same step
    assert all(torch.equal(a, b) for a, b in zip(projected, again))


def test_cut_and_fastcut_train_and_translate_one_way(dataset, tmp_path, cli):
    cut = train("cut", dataset, run=tmp_path / "cut", **TINY)
    fast = train("cut", dataset, run=tmp_path / "fast", mode="fastcut", **TINY)
    assert cut.losses["loss_NCE_Y"] > 0 and fast.losses["loss_NCE_Y"] == 0  # FastCUT has no identity term
    options = {run: json.loads((tmp_path / run / "config.json").read_text())["options"] for run in ("cut", "fast")}
    assert (options["cut"]["lambda_nce"], options["cut"]["nce_idt"], options["cut"]["flip_equivariance"]) == \
        (1.0, True, False)
    assert (options["fast"]["lambda_nce"], options["fast"]["nce_idt"], options["fast"]["flip_equivariance"]) == \
        (10.0, False, True)
    ckpt = load_checkpoint(cut.checkpoint, with_state=False)
    assert set(ckpt.networks) == {"G", "D", "F"}
    # gray A and colour B: the generator maps like to like, both domains read with 3 channels
    assert ckpt.config["channels"] == {"A": 3, "B": 3}
    image = tmp_path / "gray.png"
    Image.fromarray(np.full((20, 12), 200, np.uint8)).save(image)
    result = cli("translate", image, "--out", tmp_path / "out", "--model", tmp_path / "cut")
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "out" / "gray.png").size == (12, 20)
    result = cli("translate", image, "--out", tmp_path / "out2", "--model", tmp_path / "cut", "--direction", "b2a")
    assert result.exit_code == 2 and "one-sided" in result.output and "Traceback" not in result.output


def test_a_non_resnet_generator_is_one_line(dataset, tmp_path, cli):
    result = cli("train", "cut", "--data", dataset, "--preset", "smoke", "--generator", "unet_32",
                 "--run", tmp_path / "r")
    assert result.exit_code == 2 and "--generator" in result.output and "PatchNCE" in result.output
    assert not (tmp_path / "r").exists()


def test_a_dataset_without_test_split_trains_and_is_told_at_eval(dataset, tmp_path, cli):
    no_test = tmp_path / "no_test"
    shutil.copytree(dataset, no_test, ignore=shutil.ignore_patterns("test*"))
    result = cli("train", "cut", "--data", no_test, "--preset", "smoke", "--run", tmp_path / "run")
    assert result.exit_code == 0, result.output  # the sample grid takes training images
    result = cli("eval", "run", tmp_path / "run", "--device", "cpu")
    assert result.exit_code == 2 and "testA" in result.output and "Traceback" not in result.output


def test_the_discriminator_pool_resumes_step_exact(dataset, tmp_path):
    options = dict(TINY, max_steps=4, pool_size=3)
    straight = train("cut", dataset, run=tmp_path / "straight", **options)

    def interrupt(step: int) -> None:
        if step == 2:
            raise KeyboardInterrupt

    part = train("cut", dataset, run=tmp_path / "part", on_step_end=interrupt, **options)
    assert part.interrupted and part.step == 2
    assert load_checkpoint(part.checkpoint).state["recipe"]["pool"]  # the pooled fakes travel with the checkpoint
    train("cut", resume=tmp_path / "part")
    a = load_checkpoint(straight.checkpoint, with_state=False).networks
    b = load_checkpoint(tmp_path / "part" / "checkpoints" / "latest.safetensors", with_state=False).networks
    assert all(torch.equal(a[net][key], b[net][key]) for net in a for key in a[net])
