"""What a new user meets across commands (issue 20): outputs checked before any work, true advice in errors,
one convention for options and numbers. Each case goes through the real ``ganctl`` app."""

from __future__ import annotations

import pytest


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
