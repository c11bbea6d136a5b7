"""Generators with batch norm or dropout translate as the pix2pix reference tests them, or in eval mode on request.

The reference's default test (no ``--eval``, batch size 1): dropout on, batch norm on the statistics of the
image being translated. ganctl's: the same, each image on its own statistics whatever its batch, dropout from a
fixed seed (the same output every run); ``--eval-mode``: running statistics, no dropout.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from ganctl.checkpoint import save_checkpoint
from ganctl.models import create_model, model_spec
from ganctl.translate import Translator, load_translator
from ganctl.translate.adapters import cyclegan_adapter
from ganctl.translate.test_mode import has_test_statistics

ADAPTER = cyclegan_adapter({"channels": {"A": 3, "B": 3}}, "a2b")


def _unet(dropout: float, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    net = create_model("unet_32", in_channels=3, out_channels=3, ngf=4, dropout=dropout)
    with torch.no_grad():  # running statistics far from any image's own, so eval mode is told apart
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    return net


def _images(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(n)]


def _as_input(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255 * 2 - 1


def _as_output(y: torch.Tensor) -> np.ndarray:
    return ((y[0] + 1) * 0.5).clamp(0, 1).mul(255).add(0.5).to(torch.uint8).permute(1, 2, 0).numpy()


def test_without_dropout_the_default_is_the_reference_test_of_one_image_in_training_mode():
    net = _unet(dropout=0.0)
    images = _images(3)
    translated = Translator(net, ADAPTER, device="cpu", precision="fp32")(images)
    for image, out in zip(images, translated):
        with torch.no_grad():
            reference = _as_output(net.train()(_as_input(image)))  # the reference: train mode, batch of one
        assert np.abs(out.astype(int) - reference.astype(int)).max() <= 1
    with torch.no_grad():
        eval_out = _as_output(net.eval()(_as_input(images[0])))
    assert np.array_equal(Translator(net, ADAPTER, device="cpu", precision="fp32", test_mode="eval")(images[:1])[0],
                          eval_out)
    assert not np.array_equal(translated[0], eval_out)


def test_an_image_translates_the_same_in_any_batch_and_on_every_run():
    images = _images(4)
    first = Translator(_unet(dropout=0.5), ADAPTER, device="cpu", precision="fp32")
    assert first.test_mode == "reference"
    alone = first(images[:1])[0]
    assert np.array_equal(first(images)[0], alone)  # with three other images in its batch
    assert np.array_equal(first(images[::-1])[-1], alone)  # last of the batch
    again = Translator(_unet(dropout=0.5), ADAPTER, device="cpu", precision="fp32")(images[:1])[0]
    assert np.array_equal(again, alone)  # a new translator (another run): the same dropout
    no_dropout = Translator(_unet(dropout=0.0), ADAPTER, device="cpu", precision="fp32")(images[:1])[0]
    assert not np.array_equal(no_dropout, alone)  # dropout is on


def test_the_network_given_is_left_as_it_was():
    net = _unet(dropout=0.5)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    Translator(net, ADAPTER, device="cpu", precision="fp32")(_images(2))
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


def test_networks_without_batch_norm_or_dropout_have_no_test_mode():
    torch.manual_seed(0)
    resnet = create_model("resnet_6blocks", in_channels=3, out_channels=3, ngf=4)
    assert not has_test_statistics(resnet) and has_test_statistics(_unet(dropout=0.0))
    translator = Translator(resnet, ADAPTER, device="cpu", precision="fp32")
    assert translator.test_mode is None
    images = _images(2)
    assert np.array_equal(translator(images)[0],
                          Translator(resnet, ADAPTER, device="cpu", precision="fp32", test_mode="eval")(images)[0])


@pytest.fixture
def old_unet_cyclegan(tmp_path):
    """A cyclegan run as an older ganctl wrote it with --generator unet_32: batch norm and dropout 0.5."""
    spec = model_spec("unet_32", in_channels=3, out_channels=3, ngf=4)
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"kind": "cyclegan"}))
    net = _unet(dropout=0.5)
    save_checkpoint(run / "checkpoints" / "latest.safetensors", {"G_A": net, "G_B": net},
                    config={"kind": "cyclegan", "networks": {"G_A": spec, "G_B": spec},
                            "channels": {"A": 3, "B": 3}, "image_size": 32})
    return run


def test_translate_says_which_test_mode_and_eval_mode_asks_for_the_other(cli, old_unet_cyclegan, tmp_path):
    image = tmp_path / "in.png"
    Image.fromarray(_images(1)[0]).save(image)
    outputs = {}
    for flags, mode in (((), "reference"), (("--eval-mode",), "eval")):
        result = cli("translate", image, "--out", tmp_path / mode, "--model", old_unet_cyclegan, "--device", "cpu",
                     *flags)
        assert result.exit_code == 0, result.output
        assert f"{mode} test mode" in result.output
        outputs[mode] = np.asarray(Image.open(tmp_path / mode / "in.png"))
    assert not np.array_equal(outputs["reference"], outputs["eval"])
    expected = load_translator(old_unet_cyclegan, device="cpu", precision="fp32", eval_mode=True)
    assert np.array_equal(outputs["eval"], expected([np.asarray(Image.open(image))])[0])
    assert "--eval-mode" in cli("translate", "--help").output
