"""Checkpoints: one safetensors file for several networks + resume state; pickles refused."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from ganctl.checkpoint import load_checkpoint, read_checkpoint_metadata, resolve_checkpoint_path, save_checkpoint
from ganctl.errors import CheckpointError


def _nets():
    torch.manual_seed(0)
    return {"G_A": torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.InstanceNorm2d(4, affine=True)),
            "D_A": torch.nn.Sequential(torch.nn.Conv2d(3, 1, 4), torch.nn.BatchNorm2d(1))}


def test_roundtrip_networks_config_and_state(tmp_path):
    nets = _nets()
    opt = torch.optim.Adam(nets["G_A"].parameters(), lr=2e-4, betas=(0.5, 0.999))
    nets["G_A"](torch.randn(1, 3, 8, 8)).mean().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)
    state = {"optim": opt.state_dict(), "sched": sched.state_dict(), "step": 7,
             "pool": [torch.randn(3, 4, 4)], "pair": (1, "x"), "rng": torch.get_rng_state()}
    config = {"generator": "resnet_9blocks", "in_channels": 3}
    path = save_checkpoint(tmp_path / "c.safetensors", nets, config, state)

    ck = load_checkpoint(path)
    assert ck.config == config
    fresh = _nets()
    for p in fresh.values():
        for t in p.parameters():
            torch.nn.init.zeros_(t)
    ck.load_into(fresh)
    for name in nets:
        for (k, a), b in zip(nets[name].state_dict().items(), fresh[name].state_dict().values()):
            assert torch.equal(a, b), k
    assert ck.state["step"] == 7 and ck.state["pair"] == (1, "x")
    assert torch.equal(ck.state["pool"][0], state["pool"][0])
    opt2 = torch.optim.Adam(fresh["G_A"].parameters(), lr=1.0)
    opt2.load_state_dict(ck.state["optim"])
    assert opt2.param_groups[0]["lr"] == 2e-4
    assert opt2.state_dict()['state'].keys() == opt.state_dict()['state'].keys()
    a, b = opt.state_dict()['state'][0], opt2.state_dict()['state'][0]
    assert torch.equal(a['exp_avg'], b['exp_avg']) and float(a['step']) == float(b['step'])
    assert json.loads(read_checkpoint_metadata(path)["networks"]) == ["G_A", "D_A"]


def test_without_state_and_tensor_free_load(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", _nets(), {"a": 1})
    assert load_checkpoint(path).state is None


@pytest.mark.parametrize("kind", ["zip", "legacy"])
def test_pickle_posing_as_checkpoint_is_refused(tmp_path, kind):
    path = tmp_path / "evil.safetensors"
    if kind == "zip":
        torch.save({"w": torch.zeros(2)}, path)
    else:
        path.write_bytes(pickle.dumps({"w": [0, 0]}, protocol=2))
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(path)


def test_garbage_and_foreign_safetensors_refused(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(CheckpointError, match="junk.safetensors"):
        load_checkpoint(junk)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    with pytest.raises(CheckpointError, match="not a ganctl checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="no such"):
        load_checkpoint(tmp_path / "none.safetensors")


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = save_checkpoint(tmp_path / "c.safetensors", _nets(), {"v": 1})
    with pytest.raises(TypeError):
        save_checkpoint(path, _nets(), {"v": 2}, state={"bad": object()})
    assert load_checkpoint(path).config == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["c.safetensors"]


def test_resolve_run_folder(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    with pytest.raises(CheckpointError, match="latest.safetensors"):
        resolve_checkpoint_path(run)
    save_checkpoint(run / "checkpoints" / "latest.safetensors", _nets(), {})
    assert resolve_checkpoint_path(run).name == "latest.safetensors"


def test_cli_refuses_pickle_model(cli, tmp_path):
    model = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(1)}, model)
    (tmp_path / "in").mkdir()
    result = cli("translate", tmp_path / "in", "--out", tmp_path / "out", "--model", model)
    assert result.exit_code == 2
    assert "pickle" in result.output
