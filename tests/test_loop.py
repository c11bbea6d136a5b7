"""The shared training loop: step-exact resume, Ctrl-C, NaN guard, checkpoints, metrics, schedule, options."""

from __future__ import annotations

import json

import pytest
import torch
from training_data import make_ab_dataset, one_torch_thread  # noqa: F401

from ganctl.checkpoint import load_checkpoint
from ganctl.errors import InputError, OptionError, TrainingStopped
from ganctl.runs import MetricsLog
from ganctl.training import train_cyclegan
from ganctl.training.cyclegan import PRESETS
from ganctl.training.data import BatchOrder
from ganctl.training.options import read_toml_options
from ganctl.training.schedule import LinearDecay

# The digits preset with small nets and 3 steps per epoch (12 images, batch 4); pool smaller than the fakes
# seen, so its random draws matter; 2 epochs = 6 steps with the lr decaying in the second.
TINY = dict(preset="digits", ngf=4, ndf=4, batch_size=4, epochs=1, decay_epochs=1, pool_size=5, log_every=1, seed=1,
            samples=2)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_ab_dataset(tmp_path_factory.mktemp("ab"))


def _weights(run_dir):
    ckpt = load_checkpoint(run_dir / "checkpoints" / "latest.safetensors", with_state=False)
    return ckpt.networks, ckpt.config


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for net in a:
        for k in a[net]:
            assert torch.equal(a[net][k], b[net][k]), f"{net}.{k} differs"


@pytest.fixture(scope="module")
def straight(dataset, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "straight"
    result = train_cyclegan(dataset, run=run, **TINY)
    return run, result


def test_full_run_writes_everything(straight):
    run, result = straight
    assert result.step == 6 and result.epoch == 2 and not result.interrupted
    for name in ("epoch_0001", "epoch_0002", "latest"):
        assert (run / "checkpoints" / f"{name}.safetensors").exists()
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["epoch_0001.png", "epoch_0002.png"]
    config = json.loads((run / "config.json").read_text())
    assert config["options"]["batch_size"] == 4 and config["steps_per_epoch"] == 3
    records = MetricsLog(run / "metrics.jsonl").read()
    train = [r for r in records if r["kind"] == "train"]
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert [r["step"] for r in train] == [1, 2, 3, 4, 5, 6] and len(epochs) == 2
    for key in ("loss_G", "loss_D_A", "loss_D_B", "loss_cycle_A", "loss_cycle_B", "loss_idt_A", "loss_idt_B", "lr"):
        assert key in train[0]
    lrs = [r["lr"] for r in train]
    lr = PRESETS["digits"]["lr"]
    assert lrs[:2] == [lr, lr] and lrs[-1] == 0.0 and lrs[3] < lr  # digit default lr; then linear decay to 0


def test_checkpoint_config_contract(straight):
    _, config = _weights(straight[0])
    assert config["kind"] == "cyclegan" and config["step"] == 6 and config["epoch"] == 2
    assert config["channels"] == {"A": 1, "B": 3} and config["image_size"] == 16
    assert config["networks"]["G_A"] == {"name": "digit_resnet_grid", "kwargs": {"in_channels": 1, "out_channels": 3,
                                                                         "ngf": 4, "norm": "instance"}}
    assert config["networks"]["D_A"]["kwargs"]["in_channels"] == 3  # D_A judges domain B
    from ganctl.models import create_model

    ckpt = load_checkpoint(straight[0] / "checkpoints" / "latest.safetensors")
    G = create_model(**config["networks"]["G_A"])
    ckpt.load_into({"G_A": G})
    assert G(torch.zeros(1, 1, 16, 16)).shape == (1, 3, 16, 16)
    assert {"optimizers", "schedulers", "rng", "recipe", "step"} <= set(ckpt.state)


def test_resume_mid_epoch_is_step_exact(dataset, straight, tmp_path):
    run = tmp_path / "halves"
    first = train_cyclegan(dataset, run=run, max_steps=4, **TINY)
    assert first.step == 4
    second = train_cyclegan(resume=run, max_steps=6)
    assert second.step == 6
    _assert_same(_weights(straight[0])[0], _weights(run)[0])
    steps = [r["step"] for r in MetricsLog(run / "metrics.jsonl").read() if r["kind"] == "train"]
    assert steps == [1, 2, 3, 4, 5, 6]


def test_ctrl_c_saves_and_resumes_exactly(dataset, straight, tmp_path):
    run = tmp_path / "interrupted"

    def interrupt(step):
        if step == 2:
            raise KeyboardInterrupt

    result = train_cyclegan(dataset, run=run, on_step_end=interrupt, **TINY)
    assert result.interrupted and result.step == 2
    assert _weights(run)[1]["step"] == 2
    train_cyclegan(resume=run / "checkpoints" / "latest.safetensors")
    _assert_same(_weights(straight[0])[0], _weights(run)[0])


def test_sigint_finishes_the_step_then_saves(dataset, tmp_path):
    import os
    import signal

    def press_ctrl_c(step):
        if step == 1:
            os.kill(os.getpid(), signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    result = train_cyclegan(dataset, run=tmp_path / "sigint", on_step_end=press_ctrl_c, **TINY)
    assert result.interrupted and result.step == 2  # the flag is seen at the next step boundary
    assert result.signal == signal.SIGINT
    assert _weights(tmp_path / "sigint")[1]["step"] == 2
    assert signal.getsignal(signal.SIGINT) is before  # handler restored


def test_ctrl_c_that_reaches_the_data_workers_too_is_said_once(dataset, tmp_path, capfd):
    import os
    import signal
    from pathlib import Path

    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    if not children.exists():
        pytest.skip("needs Linux's /proc children list")
    reached = []

    def press_ctrl_c(step):
        if step == 1:  # a terminal's Ctrl-C goes to the process group: the trainer and its DataLoader workers
            reached.extend(int(pid) for pid in children.read_text().split())
            for pid in [os.getpid(), *reached]:
                os.kill(pid, signal.SIGINT)

    result = train_cyclegan(dataset, run=tmp_path / "workers", on_step_end=press_ctrl_c, preset="smoke", epochs=1,
                            max_steps=4, augment=True, num_workers=2)
    assert result.interrupted and result.step == 2 and reached  # augmented images are read by workers
    assert capfd.readouterr().err.count("SIGINT: finishing this step") == 1


def test_sigterm_to_the_whole_group_kills_the_workers_and_still_saves(dataset, tmp_path):
    """``pkill -f``, ``kill -TERM -PGID`` or a batch system stop the DataLoader workers too (they die of SIGTERM);
    the run saves its last whole step and reports the signal instead of failing on the dead workers."""
    import os
    import signal
    from pathlib import Path

    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    if not children.exists():
        pytest.skip("needs Linux's /proc children list")
    reached = []

    def kill_group(step):
        if step == 1:
            reached.extend(int(pid) for pid in children.read_text().split())
            for pid in [*reached, os.getpid()]:  # the workers first: the worst order for the trainer
                os.kill(pid, signal.SIGTERM)

    result = train_cyclegan(dataset, run=tmp_path / "group", on_step_end=kill_group, preset="smoke", epochs=2,
                            max_steps=6, augment=True, num_workers=2)
    assert reached and result.interrupted and result.signal == signal.SIGTERM
    assert _weights(tmp_path / "group")[1]["step"] == result.step
    assert train_cyclegan(resume=tmp_path / "group", max_steps=6).step == 6


def test_an_ignored_signal_stays_ignored(dataset, tmp_path):
    import os
    import signal

    def hang_up(step):
        if step == 1:
            os.kill(os.getpid(), signal.SIGHUP)  # as closing the terminal of a `nohup ganctl train ...` would

    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        result = train_cyclegan(dataset, run=tmp_path / "nohup", on_step_end=hang_up, **TINY)
    finally:
        signal.signal(signal.SIGHUP, before)
    assert not result.interrupted and result.step == 6


def test_nan_loss_stops_and_keeps_last_good_checkpoint(dataset, tmp_path):
    run = tmp_path / "nan"
    nets = {}

    def poison(step):
        if step == 4:
            with torch.no_grad():
                next(nets["G_A"].parameters()).fill_(float("nan"))

    from ganctl.training import cyclegan as cg

    original = cg.CycleGAN.build

    def grab(self, *args, **kwargs):
        original(self, *args, **kwargs)
        nets.update(self.networks)

    cg.CycleGAN.build = grab
    try:
        with pytest.raises(TrainingStopped, match="loss_G.*NaN"):
            train_cyclegan(dataset, run=run, on_step_end=poison, **TINY)
    finally:
        cg.CycleGAN.build = original
    weights, config = _weights(run)
    assert config["step"] == 3  # the epoch-1 checkpoint, written before the NaN
    assert all(torch.isfinite(t).all() for net in weights.values() for t in net.values())


def test_resume_refuses_changed_options(dataset, straight):
    with pytest.raises(OptionError, match="--batch-size.*resuming"):
        train_cyclegan(resume=straight[0], batch_size=2)


def test_resume_of_a_missing_run_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such run"):
        train_cyclegan(resume=tmp_path / "nope")


def test_batch_order_is_a_function_of_seed_epoch_and_batch():
    order = BatchOrder([10, 7], batch_size=2, seed=1)
    full = list(order.batches(3))
    assert list(order.batches(3, start=2)) == full[2:]
    assert sorted({b[1] for batch in full for b in batch}) == list(range(7))  # B cycled, every B used
    a_only = [b[0] for batch in full for b in batch]
    assert sorted(a_only) == list(range(10))
    assert full != list(order.batches(4))  # reshuffled every epoch
    assert len({b[2] for batch in full for b in batch}) == 10  # an augmentation seed per sample
    ranks = [list(BatchOrder([10, 7], 2, 1, world_size=2, rank=r).batches(3)) for r in (0, 1)]
    assert len(ranks[0]) == 2 and set(map(tuple, ranks[0][0])).isdisjoint(map(tuple, ranks[1][0]))
    # the two ranks together take what one process takes in the same step
    single = list(BatchOrder([10, 7], 4, 1).batches(3))
    assert ranks[0][0] + ranks[1][0] == single[0]


def test_a_single_stream_order_is_one_permutation_per_epoch():
    order = BatchOrder([9], batch_size=3, seed=2)
    epoch = [s[0] for batch in order.batches(0) for s in batch]
    assert sorted(epoch) == list(range(9)) and epoch != list(range(9))
    with pytest.raises(OptionError, match="--batch-size.*9 training images"):
        BatchOrder([9], batch_size=5, seed=0, world_size=2)


def test_linear_decay():
    f = LinearDecay(epochs=2, decay_epochs=2, steps_per_epoch=10)
    assert f(0) == 1 and f(19) == 1 and f(30) == pytest.approx(0.5) and f(40) == 0 and f(60) == 0


def test_toml_options(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('batch-size = 4\nlambda_cycle = 5.0\n')
    assert read_toml_options(path, {"batch_size", "lambda_cycle"}) == {"batch_size": 4, "lambda_cycle": 5.0}
    path.write_text('batch-sise = 4\n')
    with pytest.raises(OptionError, match="did you mean 'batch-size'"):
        read_toml_options(path, {"batch_size", "lambda_cycle"})


def test_cycle_noise_changes_what_the_generators_learn(dataset, straight, tmp_path):
    quiet = train_cyclegan(dataset, run=tmp_path / "quiet", **{**TINY, "cycle_noise": 0.0})
    noisy, _ = _weights(straight[0])  # the digit default: noise on the fakes inside the cycle
    plain, config = _weights(quiet.run_dir)
    assert config["step"] == 6
    assert not torch.equal(plain["G_A"]["decoder.0.weight"], noisy["G_A"]["decoder.0.weight"])
    again = train_cyclegan(dataset, run=tmp_path / "again", **{**TINY, "cycle_noise": 0.0})
    _assert_same(plain, _weights(again.run_dir)[0])  # and without noise, a run is reproducible
