"""Recipe options: one dataclass per recipe is the source of defaults, help, checks, presets and resume rules."""

from __future__ import annotations

import json
import re

import pytest
import torch
import typer
from training_data import make_ab_dataset, one_torch_thread  # noqa: F401

from ganctl.checkpoint import load_checkpoint
from ganctl.cli import app
from ganctl.cli.train import format_value
from ganctl.errors import OptionError
from ganctl.runs import MetricsLog
from ganctl.training import get_recipe, list_recipes
from ganctl.training.options import flag_name, merge_options
from ganctl.training.runner import train

TINY = dict(preset="digits", ngf=4, ndf=4, batch_size=4, epochs=1, decay_epochs=1, log_every=1, samples=2)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_ab_dataset(tmp_path_factory.mktemp("ab"))


def _option_help(command: str) -> dict[str, str]:
    """``{"--lr": "Adam learning rate. [default: ...]", ...}`` of ``ganctl train <command>``, as click holds it."""
    click_command = typer.main.get_command(app).commands["train"].commands[command]
    return {opt: " ".join((param.help or "").replace("\\[", "[").split()) for param in click_command.params
            for opt in getattr(param, "opts", [])}


@pytest.mark.parametrize("name", list_recipes())
def test_help_states_every_presets_defaults_from_the_options_dataclass(name):
    recipe = get_recipe(name)
    helps = _option_help(name)
    defaults = recipe.options.defaults()
    for option, info in recipe.options.option_info().items():
        text = helps[flag_name(option)]
        assert info.help.split(".")[0] in text, (name, option)
        first, *others = recipe.presets.items()
        shown = first[1].get(option, defaults[option])
        stated = re.search(r"\[default: ([^\]]*)\]", text)
        if shown is None and info.derived is None:
            continue
        assert stated, (name, option, text)
        assert (info.derived if shown is None else format_value(shown)) in stated.group(1), (name, option, text)
        for preset, values in others:
            if option in values and values[option] != shown:
                value = info.derived if values[option] is None else format_value(values[option])
                assert f"{preset} preset: {value}" in stated.group(1), (name, option, preset, text)


@pytest.mark.parametrize("name", list_recipes())
def test_every_preset_is_a_valid_set_of_options(name):
    recipe = get_recipe(name)
    for preset, values in recipe.presets.items():
        assert set(values) <= recipe.options.names(), (name, preset)
        merge_options(recipe.options, values).check()


@pytest.mark.parametrize("name", list_recipes())
def test_bad_values_are_one_line_naming_the_flag_before_any_work(name, cli, tmp_path):
    data = [] if get_recipe(name).options.defaults()["data"] else ["--data", tmp_path]  # checked before the data
    for args, flag in ((["--batch-size", "0"], "--batch-size"), (["--precision", "fp8"], "--precision"),
                       (["--preset", "nope"], "--preset"), (["--lr", "-1"], "--lr")):
        result = cli("train", name, *data, *args, "--run", tmp_path / "run")
        assert result.exit_code == 2, (name, args, result.output)
        assert flag in result.output and "Traceback" not in result.output, (name, args, result.output)
        assert not (tmp_path / "run").exists()


def test_merge_order_is_defaults_preset_file_flags():
    options = get_recipe("cyclegan").options
    merged = merge_options(options, {"lr": 1.0, "ngf": 2}, {"lr": 2.0, "ndf": 3}, {"lr": 3.0, "ndf": None})
    assert (merged.lr, merged.ngf, merged.ndf, merged.batch_size) == (3.0, 2, 3, 1)


def test_the_preset_is_asked_for_or_follows_the_dataset_kind():
    recipe = get_recipe("cyclegan")
    assert recipe.choose_preset("smoke", "mnist-color") == ("smoke", "asked for with --preset")
    assert recipe.choose_preset(None, "mnist-rotate")[0] == "digits"
    assert recipe.choose_preset(None, "grayscale")[0] == "photo"
    assert recipe.choose_preset(None, None)[0] == "photo"
    with pytest.raises(OptionError, match="--preset.*known: photo, quick, digits, smoke"):
        recipe.choose_preset("digit", None)


def test_unknown_options_get_a_did_you_mean(dataset):
    with pytest.raises(OptionError, match="--lambda-cyle.*did you mean '--lambda-cycle'"):
        train("cyclegan", dataset, lambda_cyle=3)
    with pytest.raises(OptionError, match="unknown training recipe 'cyclegn'"):
        train("cyclegn", dataset)


def test_a_config_file_may_name_the_preset_and_run(dataset, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(f'[cyclegan]\npreset = "smoke"\nrun = "{tmp_path / "from-file"}"\nseed = 4\n')
    result = train("cyclegan", dataset, config=config)
    saved = json.loads((tmp_path / "from-file" / "config.json").read_text())
    assert result.step == 2 and saved["preset"] == "smoke" and saved["options"]["seed"] == 4
    result = train("cyclegan", dataset, config=config, run=tmp_path / "flag", preset="digits", max_steps=1,
                   batch_size=4)
    saved = json.loads((tmp_path / "flag" / "config.json").read_text())  # flags win over the file
    assert result.step == 1 and saved["preset"] == "digits" and saved["options"]["seed"] == 4


def test_resume_with_more_epochs_follows_the_new_schedule(dataset, tmp_path):
    run = tmp_path / "run"
    train("cyclegan", dataset, run=run, **TINY)  # 2 epochs of 3 steps: lr decays to 0 at step 6
    result = train("cyclegan", resume=run, epochs=2)  # 1 more constant epoch, then the decay epoch
    assert result.step == 9
    lrs = [r["lr"] for r in MetricsLog(run / "metrics.jsonl").read() if r["kind"] == "train"]
    assert lrs[6] > 0 and lrs[-1] == 0.0


def test_steps_set_the_schedule_whatever_the_datasets_size(dataset, tmp_path):
    schedule = {k: v for k, v in TINY.items() if k not in ("epochs", "decay_epochs")}
    result = train("cyclegan", dataset, run=tmp_path / "run", steps=5, **schedule)  # epochs of 3 steps
    assert result.step == 5
    lrs = [r["lr"] for r in MetricsLog(tmp_path / "run" / "metrics.jsonl").read() if r["kind"] == "train"]
    assert lrs[0] == lrs[1] == lrs[2] > lrs[3] > lrs[4]  # 3 steps constant, then 2 decaying to 0


def test_epochs_given_over_a_preset_in_steps_replace_the_steps():
    recipe = get_recipe("cyclegan")
    quick = recipe.presets["quick"]
    assert merge_options(recipe.options, quick).steps == quick["steps"]
    merged = merge_options(recipe.options, quick, {"epochs": 2})
    assert (merged.steps, merged.epochs, merged.decay_epochs) == (None, 2, None)
    merged.check()
    with pytest.raises(OptionError, match="--epochs"):
        merge_options(recipe.options, quick, {"epochs": 0}).check()


def test_a_run_written_before_presets_resumes_exactly(dataset, tmp_path):
    """v1 config.json: no preset (its digit runs said "digits": true) and fewer options."""
    straight = train("cyclegan", dataset, run=tmp_path / "straight", **TINY)
    part = train("cyclegan", dataset, run=tmp_path / "v1", max_steps=4, **TINY)
    config_path = part.run_dir / "config.json"
    config = json.loads(config_path.read_text())
    for key in ("preset", "preset_reason"):
        del config[key]
    del config["options"]["augment"]
    config["digits"] = True
    config_path.write_text(json.dumps(config))
    assert train("cyclegan", resume=part.run_dir, max_steps=6).step == 6
    a = load_checkpoint(straight.checkpoint).networks
    b = load_checkpoint(part.run_dir / "checkpoints" / "latest.safetensors").networks
    assert all(torch.equal(a[n][k], b[n][k]) for n in a for k in a[n])
    assert json.loads(config_path.read_text())["preset"] == "digits"
