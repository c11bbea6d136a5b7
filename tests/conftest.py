"""Shared fixtures: real data from $GANCTL_TEST_DATA, a CLI runner, an isolated $GANCTL_HOME."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ganctl import console


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The real test data folder (../shared/data in CI). Required under CI=true, skipped otherwise."""
    value = os.environ.get("GANCTL_TEST_DATA")
    path = Path(value) if value else None
    if path is None or not path.is_dir():
        message = f"$GANCTL_TEST_DATA is not set to a folder (got {value!r}); real-data tests need it"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def mnist_source(real_data: Path) -> Path:
    """The folder with the four official MNIST IDX .gz files."""
    return real_data / "mnist"


@pytest.fixture(scope="session")
def mnist_subset(mnist_source: Path):
    """``mnist_subset(train, test)``: the first ``train`` training and ``test`` test digits of the real MNIST."""
    from ganctl.data.mnist import MnistData, load_mnist

    def take(train: int, test: int) -> MnistData:
        data = load_mnist(mnist_source)
        return MnistData(data.train_images[:train], data.train_labels[:train], data.test_images[:test],
                         data.test_labels[:test])

    return take


@pytest.fixture(scope="session")
def quick_classifier(tmp_path_factory):
    """``quick_classifier(mnist, max_steps)``: a digit classifier after ``max_steps`` steps of batch 64 on ``mnist``.

    Trained by the classifier recipe (``ganctl train classifier``) on ``mnist`` written as IDX files.
    """
    from training_data import write_mnist

    from ganctl.metrics import digits
    from ganctl.training.runner import train

    def trained(mnist, max_steps: int) -> digits.TrainedClassifier:
        root = tmp_path_factory.mktemp("classifier")
        quiet = console.is_quiet()
        console.set_quiet(True)
        try:
            train("classifier", source=str(write_mnist(mnist, root / "mnist")), run=root / "run", batch_size=64,
                  max_steps=max_steps, out=str(root / "classifier.safetensors"), device="cpu")
        finally:
            console.set_quiet(quiet)
        return digits.load_classifier(root / "classifier.safetensors")

    return trained


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Each test gets its own empty $GANCTL_HOME cache, so nothing leaks between tests or to ~."""
    home = tmp_path_factory.mktemp("ganctl_home")
    monkeypatch.setenv("GANCTL_HOME", str(home))
    yield
    console.set_quiet(False)
    console.set_debug(False)


@pytest.fixture(autouse=True)
def _quick_domain_judge(monkeypatch):
    """Evaluations of photo runs train their dataset's domain classifier on first use: with the smoke preset (two
    steps of a tiny CNN) here, so they take a second; tests that need a real one train it themselves."""
    from ganctl.metrics import classifier_cache

    monkeypatch.setattr(classifier_cache, "DOMAIN_PRESET", "smoke")


@pytest.fixture
def one_thread():
    """Tiny nets: one intra-op thread is faster than two fighting over a busy CPU."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def cli():
    """Invoke the ganctl CLI in-process: ``cli("translate", "x", ...)`` -> click Result."""
    from ganctl.cli import app

    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return invoke
