"""Run folders, metrics log, device choice and RNG state."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from ganctl.device import get_rng_state, resolve_device, seed_everything, set_rng_state
from ganctl.errors import InputError, OptionError
from ganctl.paths import datasets_dir
from ganctl.runs import MetricsLog, create_run_dir, read_config, run_dataset, write_config


def test_run_dirs_auto_numbered(tmp_path):
    a = create_run_dir("cyclegan", root=tmp_path)
    b = create_run_dir("cyclegan", root=tmp_path)
    c = create_run_dir("cyclegan", root=tmp_path)
    assert [a.name, b.name, c.name] == ["exp", "exp2", "exp3"]
    assert a.parent == tmp_path / "cyclegan"
    named = create_run_dir("cyclegan", run=tmp_path / "mine")
    assert named.is_dir()


def test_config_and_metrics(tmp_path):
    write_config(tmp_path, {"lr": 2e-4, "epochs": 3})
    assert read_config(tmp_path)["epochs"] == 3
    log = MetricsLog(tmp_path / "metrics.jsonl")
    for step in range(1, 6):
        log.append(step, step // 3, loss_G=float(step))
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 5 and all({"step", "epoch"} <= set(json.loads(x)) for x in lines)
    log.truncate_after(3)
    assert [r["step"] for r in log.read()] == [1, 2, 3]


def _dataset(folder):
    for split in ("trainA", "trainB"):
        (folder / split).mkdir(parents=True)
    return folder


def test_run_dataset_from_data_option_first(tmp_path):
    run = tmp_path / "run"
    write_config(run, {"kind": "cyclegan", "dataset": str(_dataset(tmp_path / "recorded"))})
    given = _dataset(tmp_path / "given")
    assert run_dataset(run, given) == given  # --data wins over the run's record
    cached = _dataset(datasets_dir() / "mnist-color")  # a named dataset already in $GANCTL_HOME
    assert run_dataset(run, "mnist-color") == cached
    assert run_dataset(None, str(given)) == given  # a checkpoint outside a run folder, with --data
    with pytest.raises(InputError, match="no such dataset folder"):
        run_dataset(run, tmp_path / "missing" / "set")


def test_run_dataset_from_the_run_config(tmp_path, monkeypatch):
    run = tmp_path / "runs" / "cyclegan" / "exp"
    absolute = _dataset(tmp_path / "abs")
    write_config(run, {"kind": "cyclegan", "options": {"data": "abs"}, "dataset": str(absolute)})
    assert run_dataset(run) == absolute
    _dataset(run / "beside")
    write_config(run, {"kind": "cyclegan", "dataset": "beside"})  # relative to the run folder
    assert run_dataset(run) == run / "beside"
    monkeypatch.chdir(tmp_path)
    write_config(run, {"kind": "cyclegan", "dataset": "abs"})  # relative to the working directory
    assert run_dataset(run) == Path("abs")
    # The recorded folder has gone: options.data names a dataset (gan runs record only that).
    cached = _dataset(datasets_dir() / "mnist-color")
    write_config(run, {"kind": "cyclegan", "options": {"data": "mnist-color"}, "dataset": str(tmp_path / "gone")})
    assert run_dataset(run) == cached


def test_run_dataset_not_found_asks_for_data(tmp_path):
    run = tmp_path / "run"
    write_config(run, {"kind": "cyclegan", "options": {"data": "gone"}, "dataset": str(tmp_path / "gone")})
    with pytest.raises(InputError, match=r"its dataset .*gone is not there; pass the dataset folder with --data"):
        run_dataset(run)
    write_config(run, {"kind": "cyclegan"})
    with pytest.raises(InputError, match="does not say which dataset it used; pass .* --data"):
        run_dataset(run)
    with pytest.raises(InputError, match="--data"):
        run_dataset(None)


def _fake_accelerators(monkeypatch, cuda_devices: int, mps: bool) -> None:
    """Pretend this machine has ``cuda_devices`` CUDA devices and (or not) Apple's MPS."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_devices > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: cuda_devices)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)


@pytest.mark.parametrize(("cuda_devices", "mps", "expected"), [
    (2, True, "cuda"),  # CUDA first, even where MPS exists too
    (0, True, "mps"),
    (0, False, "cpu"),
])
def test_auto_device_picks_cuda_then_mps_then_cpu(monkeypatch, cuda_devices, mps, expected):
    _fake_accelerators(monkeypatch, cuda_devices, mps)
    assert resolve_device("auto") == torch.device(expected)
    assert resolve_device("") == torch.device(expected)  # no value means auto


def test_named_devices_are_checked_against_the_machine(monkeypatch):
    _fake_accelerators(monkeypatch, cuda_devices=2, mps=False)
    assert resolve_device(" CUDA:1 ") == torch.device("cuda:1")
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(OptionError, match="cuda:2 requested but only 2 CUDA device"):
        resolve_device("cuda:2")
    with pytest.raises(OptionError, match="mps requested but Metal"):
        resolve_device("mps")
    with pytest.raises(OptionError, match="unknown device 'tpu'"):
        resolve_device("tpu")

    _fake_accelerators(monkeypatch, cuda_devices=0, mps=True)
    assert resolve_device("mps") == torch.device("mps")
    with pytest.raises(OptionError, match="CUDA is not available"):
        resolve_device("cuda:0")


def test_rng_state_roundtrip():
    seed_everything(3)
    state = get_rng_state()
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(state)
    b = (random.random(), np.random.rand(), torch.rand(1).item())
    assert a == b


def test_rng_state_survives_checkpoint(tmp_path):
    from ganctl.checkpoint import load_checkpoint, save_checkpoint

    seed_everything(5)
    save_checkpoint(tmp_path / "c.safetensors", {}, {}, state={"rng": get_rng_state()})
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    set_rng_state(load_checkpoint(tmp_path / "c.safetensors").state["rng"])
    assert a == (random.random(), np.random.rand(), torch.rand(1).item())
