"""Every command's --help example runs as printed, on tiny data, in the order a new user would try them.

The examples are read from the commands themselves (so a new command is covered at once, and a command without
an example fails). They run in a working folder holding the files they name (``photos/``, ``film.mp4``,
``data/mnist``) with a $GANCTL_HOME holding small copies of the named datasets they use; training examples
chain into the runs the later examples read (``runs/cyclegan/exp``, ``runs/gan/exp``). Only what makes them
tiny is added (``EXTRA``: the smoke preset, a step budget, a limit); the example's own options stay as printed.
"""

from __future__ import annotations

import re
import shlex
import shutil
import time

import pytest
import torch
import typer
from test_frames import make_video
from training_data import (
    make_ab_dataset,
    make_photos,
    one_torch_thread,  # noqa: F401
    write_mnist,
)

from ganctl.cli import app
from ganctl.data.mnist_color import prepare_mnist_color
from ganctl.metrics import digits, fid
from ganctl.paths import datasets_dir, raw_dir

SMOKE = ("--preset", "smoke", "--max-steps", "1")
EXTRA = {
    "prepare mnist-color": ("--limit", "20"),
    "prepare mnist-rotate": ("--limit", "20"),
    "train classifier": SMOKE,
    "train domain-classifier": SMOKE,
    # 16 training pairs in one batch: one step per epoch, so 8 steps leave the epochs viz grid's example names.
    "train cyclegan": ("--preset", "smoke", "--batch-size", "16", "--epochs", "8", "--max-steps", "8"),
    "train cut": SMOKE,
    "train gan": SMOKE,
    "train colorize": SMOKE,
    "train pix2pix": SMOKE,
    "viz latent": ("--n", "32"),
}
NEEDS_NETWORK = {"prepare download": "downloads horse2zebra (tests/test_download.py serves it locally)"}
ORDER = ("datasets", "prepare", "train classifier", "train", "export", "translate", "generate", "eval", "viz")


class PooledPixels(torch.nn.Module):
    """A stand-in feature extractor: each image's mean colour in 4 x 4 cells (48 features)."""

    num_features = 48

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.adaptive_avg_pool2d(x.float() / 255, 4).flatten(1)


def examples() -> dict[str, str]:
    """Command path ("viz grid") -> its --help example line, for every command of the app."""
    found = {}

    def walk(command, path):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
            return
        lines = re.findall(r"Example: \[bold\](.*?)\[/\]", command.help or "")
        found[" ".join(path)] = lines[0] if len(lines) == 1 else None

    walk(typer.main.get_command(app), [])
    return found


def in_order(commands: dict[str, str]) -> list[str]:
    """The command paths in ``ORDER`` (each by its first matching prefix), so runs exist before they are read."""
    return sorted(commands, key=lambda c: next(i for i, p in enumerate(ORDER) if c == p or c.startswith(p + " ")))


def test_every_command_has_one_example():
    missing = [path for path, line in examples().items() if line is None]
    assert not missing, f"commands without exactly one 'Example:' in their help: {missing}"


@pytest.mark.slow
def test_every_help_example_runs(cli, real_data, mnist_source, mnist_subset, quick_classifier, tmp_path,
                                 monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    make_photos(work / "photos", 8, size=32)
    shutil.copy(real_data / "video" / "chaplin.mp4", work / "film.mp4")
    make_video(work / "clip.mp4", frames=6, size=(64, 48), codec="libx264")  # eval video's input and output
    (work / "colour").mkdir()
    make_video(work / "colour" / "clip.mp4", frames=6, size=(64, 48), codec="libx264")
    write_mnist(mnist_subset(64, 32), work / "data" / "mnist")
    make_photos(work / "datasets" / "horse2zebra" / "testB", 4)  # eval fid's two folders
    make_photos(work / "translated", 4, seed=1)
    make_photos(work / "datasets" / "bw" / "testB", 4)
    make_photos(work / "colorized", 4)
    # The cache: real MNIST (prepare, train gan) and small copies of the named datasets the examples use.
    shutil.copytree(mnist_source, raw_dir("mnist"), dirs_exist_ok=True)
    prepare_mnist_color(datasets_dir() / "mnist-color", limit=16, mnist=mnist_subset(64, 32))
    make_ab_dataset(datasets_dir() / "facades", n_train=4, n_test=2)
    make_ab_dataset(datasets_dir() / "horse2zebra", n_train=4, n_test=2)
    # Inception at 299 px costs a minute on a busy CPU; its features are tested in test_metrics_fid.py, so here a
    # stand-in of the same interface (uint8 N x 3 x H x W -> N x d) serves eval fid's example.
    monkeypatch.setattr(fid, "inception_extractor", lambda weights=None, resize="antialias": PooledPixels())
    # The digit classifier eval run uses (the classifier example's one step is too poor to be installed).
    digits.save_classifier(quick_classifier(mnist_subset(640, 100), max_steps=5))

    failed = []
    for path in in_order(examples()):
        line = examples()[path]
        if path in NEEDS_NETWORK:
            continue
        args = shlex.split(line)[1:] + list(EXTRA.get(path, ()))
        start = time.perf_counter()
        result = cli(*args, "--quiet")
        if result.exit_code != 0:
            failed.append(f"{line}: exit {result.exit_code}: {result.output.strip()[-300:]}")
        print(f"{time.perf_counter() - start:6.1f} s  {line}")
    assert not failed, "\n".join(failed)
    assert (work / "runs" / "cyclegan" / "exp" / "checkpoints" / "epoch_0008.safetensors").is_file()
    assert (work / "results.png").is_file() and (work / "digits.png").is_file()
