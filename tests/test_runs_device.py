"""Run folders, metrics log, device choice and RNG state."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch

from ganctl.device import get_rng_state, resolve_device, seed_everything, set_rng_state
from ganctl.errors import OptionError
from ganctl.runs import MetricsLog, create_run_dir, read_config, write_config


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


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(OptionError, match="--device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
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
