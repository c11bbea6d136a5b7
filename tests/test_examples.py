"""The examples in examples/ stay runnable: each one's --help, and one end to end on tiny data (smoke preset)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganctl.data.imageio import write_image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != "common.py")


def run_example(name: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_every_seed_experiment_has_an_example():
    assert set(SCRIPTS) >= {"mnist_color_quality.py", "digit_gan.py", "mnist_rotate.py", "colorize_flowers_film.py",
                            "cifar10_colorize.py", "photo_quick.py"}


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_help(name):
    done = run_example(name, "--help")
    assert done.returncode == 0, done.stderr
    for flag in ("--full", "--smoke", "--work", "--images"):
        assert flag in done.stdout


@pytest.mark.slow  # two ganctl processes (train, eval run): seconds on an idle machine
def test_cifar10_example_smoke_on_a_local_folder(tmp_path):
    photos = tmp_path / "photos"
    generator = torch.Generator().manual_seed(0)
    for i in range(6):
        write_image(torch.rand(3, 32, 32, generator=generator), photos / f"{i}.png")
    done = run_example("cifar10_colorize.py", "--data", str(photos), "--smoke", "--work", str(tmp_path / "work"))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["mode"] == "smoke" and result["steps"] == 2 and result["test_photos"] == 6
    assert 0 <= result["ssim"] <= 1 and result["colourfulness_real"] > 0
    assert "$ ganctl train colorize --data" in done.stderr  # the commands are printed as a recipe to copy
