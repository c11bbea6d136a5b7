"""``--logger tensorboard``: losses, learning rate and sample grids as TensorBoard events in RUN/tensorboard/.

The events are read back with TensorBoard's own reader (the ``dev`` extra installs the ``tensorboard`` package).
"""

from __future__ import annotations

import sys

import pytest
from training_data import make_ab_dataset, one_torch_thread  # noqa: F401

from ganctl.training import train_cyclegan


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_ab_dataset(tmp_path_factory.mktemp("ab"))


def _events(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def test_the_events_hold_losses_lr_and_each_sample_grid(cli, dataset, tmp_path):
    run = tmp_path / "run"
    result = cli("train", "cyclegan", "--data", dataset, "--run", run, "--preset", "smoke", "--epochs", "2",
                 "--max-steps", "8", "--log-every", "2", "--logger", "tensorboard")
    assert result.exit_code == 0, result.output
    events = _events(run)
    scalars = events.Tags()["scalars"]
    assert "train/lr" in scalars and "train/loss_G" in scalars and "epoch/loss_G" in scalars, scalars
    assert [e.step for e in events.Scalars("train/lr")] == [2, 4, 6, 8]
    assert [e.value for e in events.Scalars("train/lr")] == pytest.approx([2e-4] * 4)
    assert [e.step for e in events.Scalars("epoch/loss_G")] == [6]  # 6 steps per epoch
    grids = events.Images("samples")
    assert [g.step for g in grids] == [6, 8]  # epoch 1, and where --max-steps stopped epoch 2
    assert grids[0].width > 0 and grids[0].encoded_image_string.startswith(b"\x89PNG")
    # The JSONL log and the report stay.
    assert (run / "metrics.jsonl").is_file() and (run / "report.html").is_file()


def test_a_resumed_run_logs_each_step_once(dataset, tmp_path):
    run = tmp_path / "run"

    def crash(step: int) -> None:
        if step == 3:
            raise RuntimeError("killed")  # after step 3 was logged, the last checkpoint holds step 2

    with pytest.raises(RuntimeError, match="killed"):
        train_cyclegan(dataset, run=run, preset="smoke", max_steps=5, log_every=1, save_every_steps=2,
                       logger="tensorboard", on_step_end=crash)
    assert 3 in [e.step for e in _events(run).Scalars("train/lr")]  # closed on the way out: nothing is lost
    result = train_cyclegan(resume=run)
    assert result.step == 5
    events = _events(run)
    assert [e.step for e in events.Scalars("train/lr")] == [1, 2, 3, 4, 5]  # step 3 logged again, shown once
    assert [e.step for e in events.Scalars("train/loss_G")] == [1, 2, 3, 4, 5]


def test_resume_may_turn_the_logger_on(dataset, tmp_path):
    run = tmp_path / "run"
    train_cyclegan(dataset, run=run, preset="smoke", epochs=2, max_steps=2, log_every=1)
    assert not (run / "tensorboard").exists()
    train_cyclegan(resume=run, max_steps=4, logger="tensorboard")
    assert [e.step for e in _events(run).Scalars("train/lr")] == [3, 4]


def test_without_the_package_one_line_and_exit_2_before_any_work(cli, dataset, tmp_path, monkeypatch):
    for module in ("tensorboard", "torch.utils.tensorboard"):
        monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    run = tmp_path / "run"
    result = cli("train", "cyclegan", "--data", dataset, "--run", run, "--preset", "smoke", "--logger", "tensorboard")
    assert result.exit_code == 2
    assert "pip install 'ganctl[tensorboard]'" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1 and not run.exists()
