"""Every registered recipe, through the real ``ganctl`` app: two steps, checkpoint, step-exact resume, use.

A new recipe is tested here by registering it: its ``smoke`` preset (tiny networks, two steps) runs on data
of its ``data_kind`` made in the test (or real MNIST), the trained model is used the way its kind is
used (translate, generate, or the metrics that read the digit classifier), and ``ganctl eval run`` measures
its run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from training_data import make_recipe_data, one_torch_thread  # noqa: F401

from ganctl.checkpoint import load_checkpoint
from ganctl.training import get_recipe, list_recipes
from ganctl.training.runner import train

RECIPES = list_recipes()


@pytest.fixture(scope="module")
def data_for(tmp_path_factory, request):
    """``data_for(recipe)``: the ``--data`` (and options) a recipe's data kind needs."""
    made: dict[str, dict] = {}

    def make(recipe) -> dict:
        kind = recipe.data_kind
        if kind not in made:
            real = request.getfixturevalue("mnist_source") if kind == "mnist" else None  # the real digits
            made[kind] = make_recipe_data(kind, tmp_path_factory.mktemp(kind), mnist_source=real)
        return made[kind]

    return make


def _translates(config: dict) -> bool:
    """True when ``ganctl translate`` serves models of this checkpoint config."""
    from ganctl.errors import GanctlError
    from ganctl.translate import adapter_for

    try:
        adapter_for(config, "a2b")
    except GanctlError:
        return False
    return True


def _weights(run: Path) -> dict[str, dict[str, torch.Tensor]]:
    return load_checkpoint(run / "checkpoints" / "latest.safetensors").networks


def test_every_recipe_is_a_train_command_with_its_options_in_help(cli):
    listing = cli("train", "--help")
    assert listing.exit_code == 0
    for name in RECIPES:
        recipe = get_recipe(name)
        assert name in listing.output
        assert "smoke" in recipe.presets and recipe.data_kind
        text = cli("train", name, "--help").output
        for option in ("--preset", "--resume", "--config", "--json", "--max-steps", "--seed", "--precision",
                       "--logger"):
            assert option in text, (name, option)


@pytest.mark.parametrize("name", RECIPES)
def test_two_steps_checkpoint_and_step_exact_resume(name, data_for, tmp_path, cli):
    recipe = get_recipe(name)
    data = data_for(recipe)
    options = {"out": str(tmp_path / "clf.safetensors")} if "out" in recipe.options.names() else {}
    args = ["--data", data["data"], "--preset", "smoke", "--json"] + (["--source", data["source"]] if "source" in data
                                                                     else [])
    args += [f"--{k}={v}" for k, v in options.items()]
    result = cli("train", name, *args, "--run", tmp_path / "straight")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["step"] == 2 and Path(summary["checkpoint"]).is_file()
    config = json.loads((tmp_path / "straight" / "config.json").read_text())
    assert config["kind"] == name and config["preset"] == "smoke" and "--preset" in config["preset_reason"]
    ckpt = load_checkpoint(tmp_path / "straight" / "checkpoints" / "latest.safetensors")
    assert ckpt.config["kind"] == name and ckpt.config["step"] == 2
    assert set(ckpt.networks) == set(ckpt.config["networks"])
    assert (tmp_path / "straight" / "samples" / "epoch_0001.png").is_file()

    def interrupt(step: int) -> None:
        if step == 1:
            raise KeyboardInterrupt  # as a second Ctrl-C would: the loop saves where it stands

    part = train(name, run=tmp_path / "part", preset="smoke", on_step_end=interrupt, **data,
                 **{k: v.replace("clf", "clf_part") for k, v in options.items()})
    assert part.interrupted and part.step == 1
    resumed = cli("train", name, "--resume", tmp_path / "part")
    assert resumed.exit_code == 0, resumed.output
    straight, again = _weights(tmp_path / "straight"), _weights(tmp_path / "part")
    for net in straight:
        for key in straight[net]:
            assert torch.equal(straight[net][key], again[net][key]), f"{name}: {net}.{key} differs after resume"


@pytest.mark.parametrize("name", RECIPES)
def test_a_trained_model_is_used_as_its_kind_is(name, data_for, tmp_path, cli):
    recipe = get_recipe(name)
    data = data_for(recipe)
    options = {"out": str(tmp_path / "clf.safetensors")} if "out" in recipe.options.names() else {}
    result = train(name, run=tmp_path / "run", preset="smoke", **data, **options)
    kind = load_checkpoint(result.checkpoint, with_state=False).config["kind"]
    assert kind == name
    if _translates(load_checkpoint(result.checkpoint, with_state=False).config):
        image = tmp_path / "in.png"
        Image.fromarray(np.full((21, 13, 3), 128, np.uint8)).save(image)  # an odd size
        used = cli("translate", image, "--out", tmp_path / "out", "--model", tmp_path / "run")
        assert used.exit_code == 0, used.output
        assert Image.open(tmp_path / "out" / "in.png").size == (13, 21)
    elif kind == "gan":
        used = cli("generate", tmp_path / "run", "--n", "4", "--out", tmp_path / "grid.png")
        assert used.exit_code == 0, used.output
        assert (tmp_path / "grid.png").is_file()
    elif kind == "classifier":
        from ganctl.metrics.digits import load_classifier

        installed = load_classifier(options["out"])
        assert 0.0 <= installed.test_accuracy <= 1.0
        assert installed.model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    elif kind == "domain-classifier":
        from ganctl.metrics.domain import load_domain_classifier

        installed = load_domain_classifier(options["out"])
        assert 0.0 <= installed.accuracy <= 1.0 and "test split" in installed.measured_on
        assert installed.model(torch.zeros(2, 3, installed.size, installed.size)).shape == (2, 2)
    else:
        raise AssertionError(f"test_recipes.py does not know how a {kind} model is used: add it here")


# What eval run reports at least, per recipe (a recipe not listed here must report some score).
DOMAIN_SCORES = {"domain_accuracy", "domain_accuracy_input", "domain_accuracy_real", "content_ssim"}
EVAL_SCORES = {
    "cyclegan": {"a2b_count", "a2b_fid", "a2b_kid_mean", "a2b_kid_std", "b2a_count", "b2a_fid",
                 "domain_classifier_accuracy", *(f"{d}_{k}" for d in ("a2b", "b2a") for k in DOMAIN_SCORES)},
    "cut": {"a2b_count", "a2b_fid", "domain_classifier_accuracy", *(f"a2b_{k}" for k in DOMAIN_SCORES)},
    "domain-classifier": {"count", "test_accuracy", "test_accuracy_A", "test_accuracy_B"},
    "colorize": {"count", "fid", "kid_mean", "kid_std", "ssim", "ssim_std", "psnr", "psnr_std",
                 "colourfulness_fake", "colourfulness_real"},
    "gan": {"count", "fid", "kid_mean", "kid_std", "digit_share", "digit_coverage_entropy"},
    "classifier": {"count", "test_accuracy"},
    "pix2pix": {"count", "fid", "kid_mean", "kid_std", "ssim", "ssim_std", "psnr", "psnr_std", "l1",
                "colourfulness_fake", "colourfulness_real"},
}


@pytest.fixture(scope="module")
def digit_judge(mnist_subset, quick_classifier):
    """A barely trained digit classifier (5 steps), installed by the tests that read digits: nothing trains the
    full one."""
    return quick_classifier(mnist_subset(640, 100), max_steps=5)


@pytest.mark.parametrize("name", RECIPES)
def test_every_recipe_run_is_evaluated_by_eval_run(name, data_for, tmp_path, cli, monkeypatch, request):
    from ganctl.metrics import digits, fid
    from ganctl.metrics.run_eval import ABOUT, RUN_KEYS, flat_scores
    from ganctl.runs import MetricsLog

    monkeypatch.setattr(fid, "_download", lambda url, dst: (_ for _ in ()).throw(OSError("offline")))
    recipe = get_recipe(name)
    data = data_for(recipe)
    if recipe.data_kind == "mnist":
        digits.save_classifier(request.getfixturevalue("digit_judge"))
    options = {"out": str(tmp_path / "clf.safetensors")} if "out" in recipe.options.names() else {}
    run = train(name, run=tmp_path / "run", preset="smoke", **data, **options).run_dir

    result = cli("eval", "run", run, "--json", "--limit", "8", "--device", "cpu")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {k: report[k] for k in ("kind", "step", "split")} == {"kind": name, "step": 2, "split": "test"}
    assert set(ABOUT) <= set(report) and isinstance(report["images"], str)
    scores = {k: v for k, v in report.items() if k not in (*RUN_KEYS, *ABOUT, "seconds")}
    flat = flat_scores(scores)
    assert flat and EVAL_SCORES.get(name, set()) <= set(flat), sorted(flat)
    assert all(v <= 8 for k, v in flat.items() if k.endswith("count"))
    saved = json.loads((run / "eval.json").read_text())
    assert set(saved) == set(report) and saved["kind"] == name
    record = MetricsLog(run / "metrics.jsonl").read()[-1]
    assert record["kind"] == "eval" and record["step"] == 2 and set(flat) <= set(record)

    table = cli("eval", "run", run, "--limit", "8", "--device", "cpu")
    assert table.exit_code == 0, table.output
    assert f"{name} at step 2" in table.stdout and all(k in table.stdout for k in scores if k != "count")
