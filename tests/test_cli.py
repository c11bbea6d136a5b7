"""The CLI frame: help, version, global flags anywhere, one-line errors with the right exit codes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ganctl import __version__, console
from ganctl.cli import _split_global_flags


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
