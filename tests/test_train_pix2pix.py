"""train pix2pix: paired data in both layouts, the same augmentation on both images, direction, what the run records,
eval run against the true targets, and bad input as a user would give it (one line, exit 2, through the real app).

The recipe's two steps, step-exact resume, translate and eval run are tested with every recipe in test_recipes.py.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from PIL import Image
from training_data import make_ab_dataset, one_torch_thread  # noqa: F401

from ganctl.checkpoint import load_checkpoint
from ganctl.data.dataset_meta import write_dataset_meta
from ganctl.data.pairs import find_pairs
from ganctl.errors import InputError
from ganctl.metrics import fid
from ganctl.metrics.run_eval import evaluate_run
from ganctl.training.data import AlignedPairs, Preprocess
from ganctl.training.runner import train

SMOKE = ["--preset", "smoke", "--device", "cpu"]


def _one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(lines) == 1, result.output
    return lines[0]


def _save(array: np.ndarray, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _side_by_side(root, n: int = 6, width: int = 32, splits=("train", "test"), seed: int = 0):
    """train/ [test/] of A|B images: A a gray ramp in colour, B its negative (each half ``width // 2`` wide)."""
    rng = np.random.default_rng(seed)
    for split in splits:
        for i in range(n):
            a = rng.integers(0, 256, (16, width // 2, 3), dtype=np.uint8)
            _save(np.concatenate([a, 255 - a], axis=1) if width % 2 == 0 else
                  np.concatenate([a, 255 - a, a[:, :1]], axis=1), root / split / f"{i}.png")
    return root


def test_folders_pair_by_name_whatever_the_extension_and_side_by_side_images_split_in_halves(tmp_path):
    root = make_ab_dataset(tmp_path / "ab", n_train=3, n_test=0)
    Image.open(root / "trainB" / "001.png").convert("RGB").save(root / "trainB" / "001.jpg")
    (root / "trainB" / "001.png").unlink()
    pairs = find_pairs(root)
    assert [(p.a.name, p.b.name) for p in pairs.train] == [("000.png", "000.png"), ("001.png", "001.jpg"),
                                                            ("002.png", "002.png")]
    assert pairs.channels == {"A": 1, "B": 3} and pairs.test == [] and pairs.test_split is None
    assert pairs.unpaired_note() is None

    sbs = find_pairs(_side_by_side(tmp_path / "sbs"))
    assert sbs.layout == "side-by-side" and len(sbs.train) == 6 and sbs.test_split == "test/"
    assert sbs.image_size == 16 and sbs.channels == {"A": 3, "B": 3}
    reader = AlignedPairs(sbs.train, (3, 3), Preprocess(size=16, load_size=16, augment=False))
    a, b = reader.load(0, None)
    assert torch.allclose(a, -b, atol=1e-6)  # B is A's negative: the halves are A and B
    b_first, a_second = AlignedPairs(sbs.train, (3, 3), reader.pre, swap=True).load(0, None)
    assert torch.equal(b_first, b) and torch.equal(a_second, a)


def test_both_images_of_a_pair_get_the_same_crop_and_flip(tmp_path):
    sbs = find_pairs(_side_by_side(tmp_path / "sbs", n=1, width=64))
    reader = AlignedPairs(sbs.train, (3, 3), Preprocess(size=24, load_size=36))
    flips = set()
    for seed in range(12):
        a, b = reader.load(0, seed)
        assert a.shape == (3, 24, 24) and torch.allclose(a, -b, atol=0.05)  # bicubic rounding apart
        rng = random.Random(seed)
        rng.randint(0, 12), rng.randint(0, 12)
        flips.add(rng.random() < 0.5)
    assert flips == {True, False}


def test_a_run_records_pairs_direction_and_test_mode_and_translates_one_way(cli, tmp_path):
    data = _side_by_side(tmp_path / "sbs")
    run = tmp_path / "run"
    result = cli("train", "pix2pix", "--data", data, "--direction", "BtoA", *SMOKE, "--run", run)
    assert result.exit_code == 0, result.output
    config = json.loads((run / "config.json").read_text())
    assert config["layout"] == "side-by-side" and config["train_pairs"] == 6 and config["test_pairs"] == 6
    assert config["options"]["direction"] == "BtoA" and config["test_mode"].startswith("reference")
    model = load_checkpoint(run / "checkpoints" / "latest.safetensors", with_state=False).config
    assert model["direction"] == "BtoA" and model["test_mode"] == "reference"
    assert model["networks"]["D"]["kwargs"]["in_channels"] == 6 and model["networks"]["G"]["kwargs"]["dropout"] == 0.5
    image = tmp_path / "in.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(image)
    translated = cli("translate", image, "--out", tmp_path / "out", "--model", run, "--device", "cpu")
    assert translated.exit_code == 0 and "reference test mode" in translated.output, translated.output
    assert "one way only" in _one_line_error(cli("translate", image, "--out", tmp_path / "o2", "--model", run,
                                                 "--direction", "b2a"))


def test_partly_paired_data_warns_with_the_count_and_trains_on_the_pairs(cli, tmp_path):
    data = make_ab_dataset(tmp_path / "ab", n_train=6)
    for name in ("004.png", "005.png"):
        (data / "trainB" / name).rename(data / "trainB" / f"x{name}")
    result = cli("train", "pix2pix", "--data", data, *SMOKE, "--run", tmp_path / "run")
    assert result.exit_code == 0, result.output
    assert "4 training image(s) have no partner" in " ".join(result.output.split())
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train_pairs"] == 4


def test_bad_input_is_one_line_exit_2(cli, tmp_path):
    unpaired = make_ab_dataset(tmp_path / "unpaired", n_train=3)
    for path in (unpaired / "trainB").iterdir():
        path.rename(path.with_name("b" + path.name))
    line = _one_line_error(cli("train", "pix2pix", "--data", unpaired, *SMOKE, "--run", tmp_path / "r1"))
    assert "none of the 3 images in trainA/" in line and "cyclegan" in line

    write_dataset_meta(unpaired, {"name": "facades", "kind": "cyclegan-download"})  # an older ganctl's facades
    line = _one_line_error(cli("train", "pix2pix", "--data", unpaired, *SMOKE))
    assert "ganctl prepare download facades --overwrite" in line

    digits_like = make_ab_dataset(tmp_path / "mnist-color", n_train=3)  # same names, but not pairs
    write_dataset_meta(digits_like, {"kind": "mnist-color", "paired_test": True})
    assert "unpaired dataset" in _one_line_error(cli("train", "pix2pix", "--data", digits_like, *SMOKE))

    odd = _side_by_side(tmp_path / "odd", width=33)
    assert "even" in _one_line_error(cli("train", "pix2pix", "--data", odd, *SMOKE, "--run", tmp_path / "r2"))

    line = _one_line_error(cli("train", "pix2pix", "--data", tmp_path / "nothing-here", "--direction", "AtB"))
    assert "--direction" in line and "AtoB, BtoA" in line

    empty = tmp_path / "empty"
    empty.mkdir()
    assert "holds no pairs" in _one_line_error(cli("train", "pix2pix", "--data", empty, *SMOKE))
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()


def test_a_dataset_without_test_split_trains_but_eval_run_asks_for_split_train(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(fid, "_download", lambda url, dst: (_ for _ in ()).throw(OSError("offline")))
    data = _side_by_side(tmp_path / "sbs", splits=("train",))
    run = tmp_path / "run"
    assert cli("train", "pix2pix", "--data", data, *SMOKE, "--run", run).exit_code == 0
    assert "--split train" in _one_line_error(cli("eval", "run", run, "--device", "cpu"))
    result = cli("eval", "run", run, "--device", "cpu", "--split", "train", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["images"] == "training pairs" and report["count"] == 6 and report["fid"] is None


def test_a_perfect_translation_gets_perfect_scores(tmp_path, monkeypatch):
    """A and B identical and the model replaced by the identity: SSIM 1, PSNR inf, L1 0, same colourfulness."""
    import ganctl.translate

    monkeypatch.setattr(fid, "_download", lambda url, dst: (_ for _ in ()).throw(OSError("offline")))
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for i in range(4):
            a = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            _save(a, tmp_path / "same" / f"{split}A" / f"{i}.png")
            _save(a, tmp_path / "same" / f"{split}B" / f"{i}.bmp")  # another extension, the same pixels
    run = train("pix2pix", tmp_path / "same", run=tmp_path / "run", preset="smoke").run_dir
    monkeypatch.setattr(ganctl.translate, "load_translator", lambda path, direction, **kw: lambda batch: batch)
    report = evaluate_run(run, device="cpu", write=False)
    assert report["count"] == 4 and report["images"] == "test pairs (testA/ testB/)"
    assert report["ssim"] == pytest.approx(1.0, abs=1e-4) and report["psnr"] == float("inf") and report["l1"] == 0
    assert report["colourfulness_fake"] == pytest.approx(report["colourfulness_real"])


def test_the_data_are_checked_before_anything_is_written(tmp_path):
    (tmp_path / "s" / "train").mkdir(parents=True)
    with pytest.raises(InputError, match="contains no images"):
        train("pix2pix", tmp_path / "s", run=tmp_path / "run", preset="smoke")
    assert not (tmp_path / "run").exists()
