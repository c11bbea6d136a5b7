"""The CLI frame: help, version, global flags anywhere, one-line errors with the right exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from ganctl import __version__, console
from ganctl.cli import _split_global_flags
from ganctl.errors import OptionError


def run_ganctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganctl", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_groups(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for name in ("prepare", "train", "translate", "eval", "viz", "datasets"):
        assert name in result.output


def test_no_args_shows_help(cli):
    result = cli()
    assert "Usage" in result.output
    assert result.exit_code == 0


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert __version__ in result.output


def test_global_flags_are_split_anywhere():
    args, seen = _split_global_flags(["translate", "in", "--out", "o", "--quiet", "--debug", "--", "--quiet"])
    assert args == ["translate", "in", "--out", "o", "--", "--quiet"]
    assert seen == {"quiet", "debug"}


def test_quiet_after_arguments_is_accepted(cli, tmp_path):
    result = cli("translate", tmp_path / "missing", "--out", tmp_path / "o", "--model", "m", "--quiet")
    assert result.exit_code == 2
    assert "No such option" not in result.output
    assert console.is_quiet()


def test_missing_input_is_one_line_exit_2_subprocess(tmp_path):
    proc = run_ganctl("translate", "/no/such/dir", "--out", str(tmp_path / "o"), "--model", "m")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "/no/such/dir" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_output_inside_input_is_refused(cli, tmp_path):
    (tmp_path / "in").mkdir()
    result = cli("translate", tmp_path / "in", "--out", tmp_path / "in" / "out", "--model", "m")
    assert result.exit_code == 2
    assert "inside the input folder" in result.output


def test_unknown_option_is_one_line_exit_2():
    proc = run_ganctl("translate", "--no-such-option")
    assert proc.returncode == 2
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1
    assert "Traceback" not in proc.stderr


def test_unexpected_error_is_one_line_exit_1(monkeypatch, cli, tmp_path):
    import ganctl.cli.translate as translate_cli

    def boom(*_args, **_kwargs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(translate_cli, "check_output_outside_input", boom)
    (tmp_path / "in").mkdir()
    result = cli("translate", tmp_path / "in", "--out", tmp_path / "o", "--model", "m")
    assert result.exit_code == 1
    assert "kaboom" in result.output
    assert "--debug" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("module_args", [["--help"], ["translate", "--help"]])
def test_python_m_ganctl(module_args):
    proc = run_ganctl(*module_args)
    assert proc.returncode == 0
    assert "Usage" in proc.stdout


@pytest.mark.parametrize("group", ["eval", "prepare", "viz", "train"])
def test_group_without_args_shows_its_help_exit_0(cli, group):
    result = cli(group)
    assert result.exit_code == 0
    assert f"Usage: ganctl {group}" in result.output


@pytest.mark.parametrize(("args", "hint"), [
    (["eval", "nope"], "'ganctl eval --help'"),
    (["eval", "fid"], "'ganctl eval fid --help'"),
    (["--no-such-flag"], "'ganctl --help'"),
])
def test_usage_error_is_one_line_exit_2_naming_the_help_to_read(cli, args, hint):
    result = cli(*args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ") and hint in lines[0]


def _datasets_raising(monkeypatch, exc: BaseException) -> None:
    import ganctl.data.dataset_status

    def raise_it():
        raise exc

    monkeypatch.setattr(ganctl.data.dataset_status, "dataset_rows", raise_it)


@pytest.mark.parametrize(("exc", "code", "text"), [
    (typer.Abort(), 130, "aborted"),
    (OptionError("--json", "cannot be used here"), 2, "--json: cannot be used here"),
    (ValueError("kaboom"), 1, "unexpected ValueError: kaboom (run with --debug for details)"),
])
def test_errors_from_a_command_are_one_line_with_their_exit_code(monkeypatch, cli, exc, code, text):
    _datasets_raising(monkeypatch, exc)
    result = cli("datasets")
    assert result.exit_code == code
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == [f"error: {text}"]
