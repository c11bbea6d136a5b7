"""What a new user meets across commands (issue 20): outputs checked before any work, true advice in errors,
one convention for options and numbers. Each case goes through the real ``ganctl`` app."""

from __future__ import annotations

import pytest
from training_data import one_torch_thread  # noqa: F401


def one_line_error(result) -> str:
    """The single error line of a refused command (exit 2, no traceback); whitespace of wrapping undone."""
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "unexpected" not in text, result.output
    return text


@pytest.mark.parametrize("command", [
    ("prepare", "mnist-color", "--limit", "10", "--out", "{bad}"),
    ("prepare", "mnist-rotate", "--limit", "10", "--out", "{bad}"),
    ("prepare", "grayscale", "{photos}", "--out", "{bad}"),
    ("prepare", "frames", "{photos}/x.mp4", "--out", "{bad}"),
    ("prepare", "download", "mnist", "--out", "{bad}"),
    ("train", "cyclegan", "--data", "{photos}", "--run", "{bad}"),
    ("generate", "{photos}", "--out", "{bad}"),
    ("viz", "grid", "{photos}", "--out", "{bad}/grid.png"),
], ids=lambda c: " ".join(c[:2]))
def test_output_below_a_file_is_refused_before_any_work(cli, tmp_path, command):
    """``--out digits.png/sub`` (or --run): one line naming the file in the way, before data or models are read
    (the inputs here are not even valid, and nothing is downloaded)."""
    (tmp_path / "digits.png").write_bytes(b"not a folder")
    (tmp_path / "photos").mkdir()
    values = {"bad": tmp_path / "digits.png" / "sub", "photos": tmp_path / "photos"}
    result = cli(*(part.format(**values) for part in command))
    assert "digits.png is a file, not a folder" in one_line_error(result)


def test_generate_refuses_an_out_name_that_is_neither_image_nor_folder(cli, tmp_path):
    result = cli("generate", tmp_path, "--out", tmp_path / "out.txt")
    assert "a grid needs an image file name" in one_line_error(result)
    assert not (tmp_path / "out.txt").exists()


def test_a_run_that_went_nan_before_its_first_checkpoint_says_so_and_can_start_again(cli, tmp_path):
    from training_data import make_ab_dataset

    data, run = make_ab_dataset(tmp_path / "data", n_train=4, n_test=2), tmp_path / "run"
    common = ("train", "cyclegan", "--data", data, "--preset", "smoke", "--device", "cpu", "--run", run)
    result = cli(*common, "--lr", "1e30")
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "Traceback" not in said, result.output  # a stopped run, not a bad input
    assert "became NaN" in said and f"no checkpoint was saved before it (start again with --run {run})" in said
    assert not (run / "checkpoints" / "latest.safetensors").exists()
    said = one_line_error(cli("train", "cyclegan", "--resume", run))
    assert f"stopped before saving its first checkpoint; start it again with --run {run}" in said
    result = cli(*common, "--max-steps", "1")
    assert result.exit_code == 0, result.output
    records = [line for line in (run / "metrics.jsonl").read_text().splitlines() if "NaN" in line]
    assert not records  # the failed attempt's records went with it


def test_one_epoch_numbering_in_samples_json_metrics_resume_and_viz_grid(cli, tmp_path):
    """Epochs count from 1 everywhere: a run stopped inside its second epoch is at epoch 2 in --json, the
    checkpoint and metrics.jsonl, as its samples/epoch_0002.png and the progress bar say; viz grid takes them."""
    import json

    from training_data import make_ab_dataset

    from ganctl.checkpoint import load_checkpoint

    data, run = make_ab_dataset(tmp_path / "data", n_train=4, n_test=4), tmp_path / "run"
    result = cli("train", "cyclegan", "--data", data, "--preset", "smoke", "--device", "cpu", "--run", run,
                 "--batch-size", "2", "--epochs", "2", "--max-steps", "3", "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout.strip().splitlines()[-1])
    assert (done["step"], done["epoch"]) == (3, 2)  # 2 steps per epoch: step 3 is in epoch 2
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]
    assert load_checkpoint(run / "checkpoints" / "latest.safetensors", with_state=False).config["epoch"] == 2
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == [1]
    assert [r["epoch"] for r in records if r["kind"] == "train"][-1] == 2
    result = cli("train", "cyclegan", "--resume", run, "--max-steps", "4", "--json")
    assert result.exit_code == 0, result.output
    assert f"resuming {run} at step 3 (epoch 2)" in " ".join(result.stderr.split())
    assert json.loads(result.stdout.strip().splitlines()[-1])["epoch"] == 2
    result = cli("viz", "grid", run, "--epochs", "1,-1", "--out", tmp_path / "grid.png")
    assert result.exit_code == 0, result.output
    # --overwrite, as everywhere: an existing figure is refused, then replaced when asked.
    said = one_line_error(cli("viz", "grid", run, "--epochs", "1,-1", "--out", tmp_path / "grid.png"))
    assert "grid.png: exists already; use --overwrite to replace it" in said
    result = cli("viz", "grid", run, "--epochs", "1,-1", "--out", tmp_path / "grid.png", "--overwrite", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"path": str(tmp_path / "grid.png")}
    result = cli("viz", "latent", run, "--method", "tsne", "--out", tmp_path / "latent.png")
    assert result.exit_code == 0, result.output
    assert " ".join(result.stderr.split()).count("t-SNE of 8 points, for each of 2 encoders") == 1


def test_train_classifier_takes_overwrite_and_still_the_old_force(cli, mnist_subset, tmp_path):
    from training_data import write_mnist

    source = write_mnist(mnist_subset(64, 32), tmp_path / "mnist")
    out = tmp_path / "classifier.safetensors"
    common = ("train", "classifier", "--source", source, "--out", out, "--max-steps", "1", "--batch-size", "16",
              "--device", "cpu")
    assert cli(*common, "--run", tmp_path / "r1").exit_code == 0
    result = cli(*common, "--run", tmp_path / "r2")
    said = " ".join(result.output.split())
    assert result.exit_code == 0 and "exists already (use --overwrite to train again)" in said
    assert not (tmp_path / "r2" / "checkpoints").exists()
    for flag, run in (("--overwrite", "r3"), ("--force", "r4")):
        result = cli(*common, "--run", tmp_path / run, flag)
        assert result.exit_code == 0, result.output
        assert (tmp_path / run / "checkpoints" / "latest.safetensors").is_file()


def test_a_flag_replaces_the_presets_other_spelling_of_the_same_thing(tmp_path):
    """colorize's smoke preset says pretrain_steps; --pretrain-epochs given on top wins instead of clashing."""
    from ganctl.training.colorize import Colorize
    from ganctl.training.options import merge_options

    opts = merge_options(Colorize.options, Colorize.presets["smoke"], {}, {"pretrain_epochs": 5})
    assert (opts.pretrain_epochs, opts.pretrain_steps) == (5, None)
    opts.check()
    both = merge_options(Colorize.options, {}, {}, {"pretrain_epochs": 5, "pretrain_steps": 3})
    with pytest.raises(Exception, match="not both"):
        both.check()


def test_progress_line_keeps_count_rate_and_eta_in_80_columns(monkeypatch):
    """Training's bar with its losses: the losses give way (ellipsis), the count and the ETA stay, one line."""
    import io

    from rich.console import Console
    from rich.progress import TextColumn

    from ganctl import console

    out = io.StringIO()
    monkeypatch.setattr(console, "stderr", Console(file=out, width=80, color_system=None))
    bar = console.new_progress("step", extra=[TextColumn("{task.fields[losses]}")])
    task = bar.add_task("epoch 12", total=12000, losses="G=20.746 D_A=0.500 D_B=0.500 cycle_A=9.607 cycle_B=9.139")
    bar.update(task, completed=3456)
    console.stderr.print(bar.make_tasks_table(bar.tasks))
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= 80, lines
    assert "3456/12000" in lines[0] and "step/s" in lines[0] and "eta -:--:--" in lines[0] and "G=20" in lines[0]


def test_prepare_prints_what_it_wrote_as_json(cli, tmp_path):
    import json

    import numpy as np
    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(0)
    for i in range(10):
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(photos / f"p {i}.png")
    result = cli("prepare", "grayscale", photos, "--out", tmp_path / "gray", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["path"] == str(tmp_path / "gray") and report["counts"]["trainA"] == 9
    assert sum(report["counts"].values()) == 20


def test_short_d_means_data_in_every_command():
    """``-d`` is ``--data`` wherever a command takes data, and nothing else shown in help (translate and export
    keep accepting their old ``-d`` for --direction, hidden; tests/test_translate.py and test_export.py)."""
    import typer

    from ganctl.cli import app

    def options(command, path):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from options(sub, [*path, name])
            return
        for param in command.params:
            yield " ".join(path), param

    seen = set()
    for where, param in options(typer.main.get_command(app), []):
        names = set(param.opts)
        if "--data" in names:
            assert "-d" in names, f"{where}: --data without -d"
            seen.add(where)
        elif "-d" in names:
            assert param.hidden and names == {"-d"} and where in ("translate", "export"), f"{where}: {names}"
    assert {"train cyclegan", "eval run", "eval fid", "viz grid"} <= seen
