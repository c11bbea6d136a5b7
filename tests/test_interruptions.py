"""Nothing lost: kill -9, SIGTERM, a busy or abandoned run folder, a damaged checkpoint, a full disk, file modes.

The fault-injection test trains through the real ``ganctl`` process (``python -m ganctl``): a run killed with
SIGKILL at two random steps and stopped with SIGTERM once, resumed after each (the last time from a damaged
latest.safetensors), ends with exactly the weights of a run trained straight through.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from training_data import make_ab_dataset, one_torch_thread  # noqa: F401

from ganctl.checkpoint import load_checkpoint
from ganctl.training.runlock import LOCK_NAME
from ganctl.training.runner import train

# Two epochs of six steps (12 images, batch 2): resumes land inside epochs and on an epoch's end.
STEPS = 12
SMOKE = ["--preset", "smoke", "--epochs", "2", "--max-steps", str(STEPS), "--device", "cpu", "--save-every-steps", "1"]


@pytest.fixture(scope="module")
def ab(tmp_path_factory) -> Path:
    return make_ab_dataset(tmp_path_factory.mktemp("data") / "ab")


def ganctl(*args, cwd: Path) -> subprocess.Popen:
    """The real ganctl process on one torch thread (fast on a busy CPU, the same arithmetic in every run)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "1000"}  # no line breaks inside long paths
    return subprocess.Popen([sys.executable, "-m", "ganctl", *map(str, args)], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def last_step(run: Path) -> int:
    """The last step metrics.jsonl records (0 without one)."""
    path = run / "metrics.jsonl"
    if not path.exists():
        return 0
    steps = [json.loads(line)["step"] for line in path.read_text().splitlines() if line.strip().endswith("}")]
    return max(steps, default=0)


def stop_at(proc: subprocess.Popen, run: Path, step: int, signum: int) -> tuple[int, str]:
    """Send ``signum`` once the run has logged ``step`` (every step is logged and saved): exit code, stderr."""
    deadline = time.monotonic() + 300
    while last_step(run) < step:
        if proc.poll() is not None:
            pytest.fail(f"ganctl ended (exit {proc.returncode}) before step {step}: {proc.communicate()[1]}")
        assert time.monotonic() < deadline, f"no step {step} within 5 minutes"
        time.sleep(0.02)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=300)
    return proc.returncode, " ".join(err.split())


def weights(run: Path) -> dict[str, dict[str, torch.Tensor]]:
    return load_checkpoint(run / "checkpoints" / "latest.safetensors").networks


@pytest.mark.slow
def test_kill_9_twice_sigterm_and_a_damaged_checkpoint_lose_nothing(ab, tmp_path, cli):
    straight = train("cyclegan", data=ab, run=tmp_path / "straight", preset="smoke", epochs=2,
                     max_steps=STEPS, device="cpu")
    assert straight.step == STEPS
    run = tmp_path / "run"
    rng = random.Random()
    first = rng.randint(2, 4)

    # 1. kill -9 at a random step; meanwhile (the trainer paused) a second trainer on its folder is refused.
    proc = ganctl("train", "cyclegan", "--data", ab, *SMOKE, "--run", run, "-q", cwd=tmp_path)
    while last_step(run) < 2:  # so latest.safetensors exists
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.02)
    proc.send_signal(signal.SIGSTOP)
    try:
        other = cli("train", "cyclegan", "--resume", run)
    finally:
        proc.send_signal(signal.SIGCONT)
    assert other.exit_code == 2, other.output
    message = " ".join(other.output.split())
    assert f"in use by process {proc.pid} on {socket.gethostname()}" in message and "Traceback" not in message
    assert stop_at(proc, run, first, signal.SIGKILL)[0] == -signal.SIGKILL
    killed_at = last_step(run)

    # 2. resume (taking over the lock the killed trainer left), kill -9 again at a later random step.
    second = rng.randint(killed_at + 1, killed_at + 3)
    proc = ganctl("train", "cyclegan", "--resume", run, "-q", cwd=tmp_path)
    code, err = stop_at(proc, run, second, signal.SIGKILL)
    assert code == -signal.SIGKILL and "taking over the lock of process" in err, err
    killed_at = last_step(run)

    # 3. resume, SIGTERM: a checkpoint at the current step, exit 128 + 15.
    proc = ganctl("train", "cyclegan", "--resume", run, "--json", cwd=tmp_path)
    stopped, err = stop_at(proc, run, killed_at + 1, signal.SIGTERM)
    assert stopped == 143, f"SIGTERM: exit {stopped}: {err}"
    saved = load_checkpoint(run / "checkpoints" / "latest.safetensors")
    assert saved.config["step"] == last_step(run) < STEPS, f"kills at {first}, {second}; SIGTERM"
    assert not (run / LOCK_NAME).exists()

    # 4. a truncated latest.safetensors: resume falls back to previous.safetensors, with a warning naming both.
    latest = run / "checkpoints" / "latest.safetensors"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])
    proc = ganctl("train", "cyclegan", "--resume", run, cwd=tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    text = " ".join(err.split())
    assert "latest.safetensors" in text and "resuming from" in text and "previous.safetensors" in text
    assert last_step(run) == STEPS
    previous = load_checkpoint(run / "checkpoints" / "previous.safetensors")  # intact: not the damaged one
    assert previous.config["step"] == STEPS - 1

    expected, got = weights(tmp_path / "straight"), weights(run)
    for net in expected:
        for key in expected[net]:
            assert torch.equal(expected[net][key], got[net][key]), \
                f"{net}.{key} differs (kill -9 at {first} and {second}, then SIGTERM and a damaged checkpoint)"
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    train_steps = [r["step"] for r in records if r["kind"] == "train"]
    assert train_steps == list(range(1, STEPS + 1)), "resume keeps one metrics record per step"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, data: str, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE=str(world), RANK=str(rank),
                      LOCAL_RANK=str(rank))
    torch.set_num_threads(1)

    def sigterm_to_rank_1(step: int) -> None:
        if rank == 1 and step == 1:
            os.kill(os.getpid(), signal.SIGTERM)

    result = train("cyclegan", data=data, run=Path(out) / "ddp", preset="smoke", max_steps=3, device="cpu",
                   on_step_end=sigterm_to_rank_1)
    (Path(out) / f"rank{rank}.json").write_text(json.dumps({"step": result.step, "signal": result.signal}))


@pytest.mark.slow
def test_sigterm_to_one_process_of_a_multi_process_run_stops_every_rank_at_the_same_step(ab, tmp_path):
    import torch.multiprocessing as mp

    mp.start_processes(_ddp_worker, args=(2, _free_port(), str(ab), str(tmp_path)), nprocs=2, join=True,
                       start_method="fork")
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks == [{"step": 2, "signal": signal.SIGTERM}] * 2  # the signal came after step 1's check
    assert load_checkpoint(tmp_path / "ddp" / "checkpoints" / "latest.safetensors").config["step"] == 2


def test_a_damaged_checkpoint_with_nothing_to_fall_back_on_is_one_line(ab, tmp_path, cli):
    train("cyclegan", data=ab, run=tmp_path / "run", preset="smoke", device="cpu")
    checkpoints = tmp_path / "run" / "checkpoints"
    (checkpoints / "latest.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken")
    (checkpoints / "previous.safetensors").unlink(missing_ok=True)
    result = cli("train", "cyclegan", "--resume", tmp_path / "run")
    assert result.exit_code == 2
    assert "latest.safetensors" in result.output and "Traceback" not in result.output


def test_a_lock_held_by_a_live_process_refuses_and_is_released_after(ab, tmp_path, cli):
    run = tmp_path / "run"
    train("cyclegan", data=ab, run=run, preset="smoke", device="cpu")
    assert not (run / LOCK_NAME).exists(), "a finished run leaves no lock"
    # Another trainer: a process holding the lock, its name in the file.
    hold = ("import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
            "fcntl.lockf(fd, fcntl.LOCK_EX); os.write(fd, sys.argv[2].encode()); print('held', flush=True); "
            "time.sleep(300)")
    holder = subprocess.Popen([sys.executable, "-c", hold, run / LOCK_NAME,
                               json.dumps({"pid": 4242, "host": "gpu-node-7"})], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = cli("train", "cyclegan", "--resume", run, "--max-steps", "3")
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 2
    assert "in use by process 4242 on gpu-node-7" in " ".join(result.output.split())
    again = cli("train", "cyclegan", "--resume", run, "--max-steps", "3")  # the other trainer has ended
    assert again.exit_code == 0, again.output
    assert "taking over the lock of process 4242" in " ".join(again.output.split())


def test_periodic_saves_and_resume_drops_what_came_after_the_checkpoint(ab, tmp_path):
    run = tmp_path / "run"
    train("cyclegan", data=ab, run=run, preset="smoke", epochs=2, max_steps=8, save_every_steps=3, device="cpu")
    checkpoints = run / "checkpoints"
    assert load_checkpoint(checkpoints / "latest.safetensors").config["step"] == 8
    assert load_checkpoint(checkpoints / "previous.safetensors").config["step"] == 6  # epoch 1's end
    # As a kill -9 after epoch 2's end would leave them, had the checkpoint of step 8 been the last one.
    (run / "samples" / "epoch_0002.png").write_bytes((run / "samples" / "epoch_0001.png").read_bytes())
    (checkpoints / "epoch_0002.safetensors").write_bytes((checkpoints / "epoch_0001.safetensors").read_bytes())
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write(json.dumps({"step": 12, "epoch": 2, "kind": "epoch"}) + "\n")
    seen = {}

    def look(step: int) -> None:
        seen[step] = (run / "samples" / "epoch_0002.png").exists(), (checkpoints / "epoch_0002.safetensors").exists()

    resumed = train("cyclegan", resume=run, max_steps=9, on_step_end=look)
    assert resumed.step == 9 and seen[9] == (False, False)
    assert (run / "samples" / "epoch_0001.png").exists() and (checkpoints / "epoch_0001.safetensors").exists()
    assert max(json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()) == 9


def test_files_follow_the_umask(ab, tmp_path):
    before = os.umask(0o027)
    try:
        train("cyclegan", data=ab, run=tmp_path / "run", preset="smoke", device="cpu", save_every_steps=1)
    finally:
        os.umask(before)
    for name in ("checkpoints/latest.safetensors", "checkpoints/previous.safetensors", "config.json",
                 "metrics.jsonl"):
        assert (tmp_path / "run" / name).stat().st_mode & 0o777 == 0o640, name


def test_a_full_disk_while_saving_keeps_the_previous_checkpoint(ab, tmp_path, cli, monkeypatch):
    run = tmp_path / "run"
    train("cyclegan", data=ab, run=run, preset="smoke", device="cpu")
    latest = run / "checkpoints" / "latest.safetensors"
    before = latest.read_bytes()

    def full(tensors, filename, metadata=None):
        Path(filename).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("ganctl.checkpoint.save_file", full)
    result = cli("train", "cyclegan", "--resume", run, "--max-steps", "3")
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert text.count("no space left on device") == 1 and "latest.safetensors" in text and "Traceback" not in text
    assert latest.read_bytes() == before
    assert sorted(p.name for p in latest.parent.iterdir()) == ["latest.safetensors", "previous.safetensors"]


def test_save_every_minutes_refreshes_latest_between_epochs(ab, tmp_path):
    run = tmp_path / "run"
    steps = []

    def look(step: int) -> None:  # the checkpoint of the step before is there when a step ends
        if step > 1:
            steps.append(load_checkpoint(run / "checkpoints" / "latest.safetensors", with_state=False).config["step"])

    # A minute's billionth: every step is past it, so every step saves (no clock is read by the test).
    train("cyclegan", data=ab, run=run, preset="smoke", max_steps=4, save_every_minutes=1e-9, device="cpu",
          on_step_end=look)
    assert steps == [1, 2, 3]
    off = train("cyclegan", data=ab, run=tmp_path / "off", preset="smoke", max_steps=4, save_every_minutes=0,
                device="cpu")
    assert off.step == 4 and not (tmp_path / "off" / "checkpoints" / "previous.safetensors").exists()
