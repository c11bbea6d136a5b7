"""Every run says early how long its whole schedule takes; DataLoader workers never outnumber the CPUs."""

from __future__ import annotations

import re
import warnings

import pytest
from training_data import make_ab_dataset, one_torch_thread  # noqa: F401

from ganctl import console
from ganctl.device import available_cpus
from ganctl.training import estimate, train_cyclegan
from ganctl.training.data import BatchOrder, FileBatches
from ganctl.training.estimate import ScheduleEstimate, estimate_lines, shorter_way

LINE = re.compile(r"estimated time for the whole schedule: (?P<time>[\d.]+ (?:s|min|h|days))(?P<to_go> to go)? "
                  r"\((?:(?P<left>\d+) of )?(?P<total>\d+) steps (?:left )?at (?P<rate>[\d.e+-]+) s/step on "
                  r"(?P<device>\S+)\)")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_ab_dataset(tmp_path_factory.mktemp("ab"))


def _estimates(err: str) -> list[re.Match]:
    return list(LINE.finditer(" ".join(err.split())))  # rich wraps long lines at the terminal's width


def test_durations_read_in_human_units():
    assert [console.duration(s) for s in (45, 720, 3.5 * 3600, 8.1 * 86400)] == ["45 s", "12 min", "3.5 h",
                                                                                 "8.1 days"]


def test_a_week_on_a_cpu_is_said_with_a_shorter_way():
    quick = shorter_way({"photo": {}, "quick": {}, "smoke": {}}, "photo", {"epochs", "max_steps"})
    line, warning = estimate_lines(14.0, 50_000, 50_000, "cpu", quick)
    assert line == "estimated time for the whole schedule: 8.1 days (50,000 steps at 14 s/step on cpu)"
    assert "8.1 days on this CPU" in warning and "--preset quick" in warning and "GPU" in warning
    # A recipe without a quick preset (or a run on it already) is told what it does have.
    other = shorter_way({"digits": {}, "smoke": {}}, "digits", {"epochs"})
    assert "quick" not in other and "fewer --epochs" in other and "GPU" in other
    assert "--preset quick" not in shorter_way({"photo": {}, "quick": {}}, "quick", {"epochs"})
    assert "--max-steps" in shorter_way({"smoke": {}}, "smoke", {"max_steps"})
    assert estimate_lines(14.0, 50_000, 50_000, "cuda:0", quick)[1] is None  # a GPU is no reason to warn
    assert estimate_lines(0.5, 1000, 1000, "cpu", quick)[1] is None  # 8 minutes
    resumed, _ = estimate_lines(2.0, 900, 1000, "cpu", quick)
    assert resumed == "estimated time for the whole schedule: 30 min to go (900 of 1,000 steps left at 2 s/step on cpu)"


def test_the_warm_up_steps_are_not_timed(capsys):
    synced = []
    timer = ScheduleEstimate(0, 100, "cpu", "", sync=lambda: synced.append(1))
    for step in range(1, estimate.WARMUP_STEPS + 1):
        timer.step_done(step, 60.0)  # slow first steps
    assert timer.measuring and synced
    for step in range(estimate.WARMUP_STEPS + 1, estimate.WARMUP_STEPS + estimate.MEASURE_STEPS + 1):
        assert timer.measuring
        timer.step_done(step, 0.5 if step % 2 else 1.5)
    assert not timer.measuring and 0.5 < timer.seconds_per_step < 1.5
    timer.step_done(50, 100.0)  # said once: later steps change nothing
    [found] = _estimates(capsys.readouterr().err)
    assert found["total"] == "100" and found["device"] == "cpu" and found["time"].endswith(("s", "min"))


def test_a_run_says_its_estimate_once_and_a_resumed_one_what_is_left(dataset, tmp_path, capsys):
    steps = estimate.WARMUP_STEPS + estimate.MEASURE_STEPS + 3
    result = train_cyclegan(dataset, run=tmp_path / "run", preset="smoke", epochs=2, max_steps=steps)
    [found] = _estimates(capsys.readouterr().err)
    rate = float(found["rate"])
    assert int(found["total"]) == steps and found["device"] == "cpu" and not found["to_go"]
    # The timed steps leave out checkpoints and sample grids, which the run's mean includes.
    assert 0 < rate <= 2 * result.seconds_per_step

    def stop(step: int) -> None:
        if step == 2:
            raise KeyboardInterrupt

    part = train_cyclegan(dataset, run=tmp_path / "part", preset="smoke", epochs=2, max_steps=steps,
                          on_step_end=stop)
    assert part.interrupted and not _estimates(capsys.readouterr().err)  # stopped before it was measured
    train_cyclegan(resume=tmp_path / "part")
    [found] = _estimates(capsys.readouterr().err)
    assert found["to_go"] and (int(found["left"]), int(found["total"])) == (steps - 2, steps)


def test_the_progress_bar_counts_the_whole_run_not_the_epoch(dataset, tmp_path, monkeypatch):
    bars = []

    def keep(*args, **kwargs):
        bars.append(new_progress(*args, **kwargs))
        return bars[-1]

    new_progress = console.new_progress
    monkeypatch.setattr(console, "new_progress", keep)
    result = train_cyclegan(dataset, run=tmp_path / "run", preset="smoke", epochs=3, max_steps=100)
    [(bar, task)] = [(bar, task) for bar in bars for task in bar.tasks if task.description.startswith("epoch")]
    assert result.step == 18 and (task.total, task.completed) == (18, 18)  # 3 epochs of 6 steps: one ETA for all
    assert task.description == "epoch 3" and bar.speed_estimate_period >= 600  # a rate even at minutes per step


def test_workers_never_outnumber_the_cpus(dataset, tmp_path, monkeypatch):
    order = BatchOrder([4, 4], 2, 0)
    assert FileBatches(order, None, num_workers=available_cpus() + 3).num_workers == available_cpus()
    assert FileBatches(order, None, num_workers=0).num_workers == 0
    monkeypatch.setattr("ganctl.training.data.available_cpus", lambda: 1)
    assert FileBatches(order, None, num_workers=4).num_workers == 1
    monkeypatch.undo()
    # Augmented images are read by workers: asking for more than the CPUs makes torch warn about none of them.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_cyclegan(dataset, run=tmp_path / "run", preset="smoke", augment=True, num_workers=available_cpus() + 2)
    assert not [w for w in caught if "worker" in str(w.message)], [str(w.message) for w in caught]


def test_a_new_stage_is_timed_again_and_said(capsys):
    """Colorize-like runs: cheap steps, then dearer ones; the second line gives the rest at the new rate."""
    timer = ScheduleEstimate(0, 100, "cpu", "", stage="L1 pre-training")
    step = 0
    for _ in range(estimate.WARMUP_STEPS + estimate.MEASURE_STEPS):
        step += 1
        timer.step_done(step, 0.1, "L1 pre-training")
    first = " ".join(capsys.readouterr().err.split())
    assert "estimated time for the whole schedule" in first and "timed in the L1 pre-training stage" in first
    assert "later stages are timed when they start" in first
    timer.step_done(20, 0.1, "GAN")  # the next step is the first GAN step: timing starts over
    assert timer.measuring
    for step in range(21, 21 + estimate.WARMUP_STEPS + estimate.MEASURE_STEPS):
        timer.step_done(step, 1.0, "GAN")
    second = " ".join(capsys.readouterr().err.split())
    left = 100 - 20
    assert (f"estimated time for the rest of the schedule: {console.duration(left * 1.0)} ({left} of 100 steps "
            f"left at 1 s/step on cpu, timed in the GAN stage)") in second


def test_colorize_says_the_rest_of_its_schedule_when_the_gan_stage_starts(tmp_path, capsys):
    from training_data import make_photos

    from ganctl.training import train

    photos = make_photos(tmp_path / "photos", 8, size=32)
    train("colorize", str(photos), run=tmp_path / "run", preset="smoke", max_steps=100, pretrain_steps=8,
          epochs=2, batch_size=2)
    said = " ".join(capsys.readouterr().err.split())
    assert "timed in the L1 pre-training stage" in said and "estimated time for the rest of the schedule" in said
    assert "timed in the GAN stage" in said
