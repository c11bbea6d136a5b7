"""The training loop every trainer shares: steps, logging, progress, checkpoints, resume, Ctrl-C, NaN guard.

A recipe (:class:`ganctl.training.recipe.Recipe`: its networks, optimisers, schedulers, ``train_step`` and
sample grid) and a *data source* (``steps_per_epoch`` and ``epoch(e, start)`` yielding batches) go in; the
loop owns everything else:

* ``checkpoints/epoch_NNNN.safetensors`` (networks) after every epoch and ``checkpoints/latest.safetensors``
  (networks + full training state) after every epoch, every ``save_every_steps`` steps and every
  ``save_every_minutes`` minutes, at the end and on Ctrl-C, SIGTERM or SIGHUP; the latest one before it is
  kept as ``checkpoints/previous.safetensors``, so a damaged latest file still leaves one to resume from;
* ``metrics.jsonl``: a ``train`` record every ``log_every`` steps, an ``epoch`` record per epoch; epochs
  count from 1 everywhere (progress, samples, checkpoints, records, the result): a step's epoch is the one
  it belongs to;
* a rich progress bar over the whole run (its ETA is the run's) with the current losses and it/s, and once,
  after a few warm-up steps, the estimated time of the whole schedule (:mod:`ganctl.training.estimate`);
  ``samples/epoch_NNNN.png`` per epoch;
* under ``--logger tensorboard`` the same losses, learning rate and sample grids as TensorBoard events in
  ``tensorboard/`` (:mod:`ganctl.training.tensorboard_log`), flushed with every checkpoint;
* step-exact resume: the training state holds optimisers, schedulers, the fp16 scaler, the recipe's own
  state (image pools), every RNG and the step; the data order is a function of (seed, epoch, batch);
* Ctrl-C (SIGINT), SIGTERM and SIGHUP (what SLURM, Kubernetes and ``timeout`` send) finish the current step,
  save and return ``interrupted`` with the signal (every rank stops at the same step: they agree at
  logging steps); a second signal stops at once, keeping the last checkpoint. A NaN/Inf loss raises
  :class:`~ganctl.errors.TrainingStopped` naming the loss without touching the last good checkpoint;
* resume drops what was written after the checkpoint's step: metrics records, sample grids and epoch
  checkpoints of later epochs (a kill -9 between two saves leaves them).

Losses stay on the device between logging steps, so a step has no host sync.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import torch
from rich.progress import TextColumn
from torch import nn

from ganctl import console
from ganctl.checkpoint import load_checkpoint, save_checkpoint
from ganctl.device import get_rng_state, set_rng_state
from ganctl.errors import CheckpointError, GanctlError, TrainingStopped
from ganctl.fsutil import atomic_path
from ganctl.runs import MetricsLog, write_config
from ganctl.training.context import TrainContext
from ganctl.training.estimate import ScheduleEstimate
from ganctl.training.tensorboard_log import TensorBoardLog

if TYPE_CHECKING:
    from ganctl.training.recipe import Recipe


class DataSource(Protocol):
    """Batches in a resumable order."""

    steps_per_epoch: int

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Any]:
        """Batches ``start``, ``start + 1``, ... of ``epoch``."""


@dataclass
class TrainResult:
    """Where a run ended and what it wrote (``skipped``: why nothing was trained; no run folder then)."""

    run_dir: Path | None
    step: int
    epoch: int
    interrupted: bool = False
    checkpoint: Path | None = None
    samples: list[Path] = field(default_factory=list)
    losses: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    steps_run: int = 0
    networks: dict[str, nn.Module] = field(default_factory=dict)
    skipped: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # what the recipe's end-of-run hook adds to the summary
    signal: int | None = None  # the signal that interrupted the run (SIGINT, SIGTERM, SIGHUP), if one did

    @property
    def seconds_per_step(self) -> float:
        """Mean wall time of the steps run in this call (including logging and checkpoints)."""
        return self.seconds / self.steps_run if self.steps_run else 0.0


def _move_batch(batch: Any, ctx: TrainContext) -> Any:
    if isinstance(batch, torch.Tensor):
        return ctx.to_device(batch)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_move_batch(b, ctx) for b in batch)
    if isinstance(batch, dict):
        return {k: _move_batch(v, ctx) for k, v in batch.items()}
    return batch


LATEST, PREVIOUS = "latest", "previous"
_SAMPLE_NAME = re.compile(r"^epoch_(\d+)\.png$")
_EPOCH_CHECKPOINT_NAME = re.compile(r"^epoch_(\d+)\.safetensors$")


def _keep_as(path: Path, keep: Path) -> None:
    """Make ``keep`` hold what ``path`` holds now (a hard link where the file system has them, else a copy)."""
    with atomic_path(keep) as tmp:
        try:
            tmp.unlink()
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)


def _load_resumable(path: Path) -> Any:
    """The checkpoint to resume from: ``path``, or, when it is a damaged ``latest.safetensors``, the
    ``previous.safetensors`` beside it (with a warning naming both); one CheckpointError when none is intact."""
    candidates = [path]
    if path.name == f"{LATEST}.safetensors":
        candidates.append(path.with_name(f"{PREVIOUS}.safetensors"))
    problems = []
    for candidate in candidates:
        if not candidate.is_file():
            continue
        try:
            ckpt = load_checkpoint(candidate, device="cpu", with_state=True)
        except CheckpointError as exc:
            problems.append(exc)
            continue
        if not ckpt.state or "step" not in ckpt.state:
            problems.append(CheckpointError(candidate, "holds no training state (only latest.safetensors can "
                                                       "be resumed)"))
            continue
        if problems:
            console.warn(f"{problems[0]}; resuming from {candidate} (step {ckpt.state['step']}) instead")
        return ckpt
    if len(problems) == 1:
        raise problems[0]
    if not problems:
        raise CheckpointError(path, "no such file")
    raise GanctlError("no intact checkpoint to resume from: " + "; ".join(map(str, problems)))


# The signals that stop a run cleanly: Ctrl-C, and what batch systems and `timeout` send before killing.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class _StopRequest:
    """A stop signal turns into a flag checked between steps, so a checkpoint never holds half a step.

    A second signal raises KeyboardInterrupt at once with :attr:`aborted` set: the loop then saves nothing
    (the step it breaks into is half done) and the last checkpoint is kept.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.aborted = False
        self._previous: dict[int, Any] = {}
        self._pid = os.getpid()

    @property
    def requested(self) -> bool:
        """True once a stop signal arrived."""
        return self.signum is not None

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) is signal.SIG_IGN:  # nohup, or a background job: keep ignoring it
                    continue
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if os.getpid() != self._pid:  # a forked DataLoader worker (Ctrl-C reaches the whole process group)
            return
        name = signal.Signals(signum).name
        if self.requested:  # a second signal: stop now
            self.aborted = True
            console.warn(f"{name} again: stopping now without saving; the last checkpoint is kept")
            raise KeyboardInterrupt
        self.signum = signum
        again = "Ctrl-C" if signum == signal.SIGINT else name
        console.warn(f"{name}: finishing this step, saving a checkpoint ({again} again to stop at once)")

    def __exit__(self, *exc: Any) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


class TrainLoop:
    """Runs a recipe over a data source up to ``total_steps``, writing into ``run_dir`` (rank 0 only)."""

    def __init__(self, recipe: Recipe, data: DataSource, ctx: TrainContext, run_dir: Path, total_steps: int,
                 log_every: int = 50, on_step_end: Callable[[int], None] | None = None,
                 save_every_steps: int | None = None, save_every_minutes: float = 0.0, logger: str = "jsonl",
                 shorter: str = ""):
        self.recipe = recipe
        self.data = data
        self.ctx = ctx
        self.run_dir = Path(run_dir)
        self.total_steps = int(total_steps)
        self.log_every = max(1, int(log_every))
        self.on_step_end = on_step_end
        self.save_every_steps = save_every_steps
        self.save_every_seconds = 60.0 * save_every_minutes
        self._saved_at = time.monotonic()
        self._saved_step = -1
        self._latest_damaged = False  # resumed from previous.safetensors: the next save must not keep latest
        self.step = 0
        self.metrics = MetricsLog(self.run_dir / "metrics.jsonl")
        self.ckpt_dir = self.run_dir / "checkpoints"
        self.samples_dir = self.run_dir / "samples"
        self._names: list[str] = []
        self._window: torch.Tensor | None = None
        self._window_n = 0
        self._epoch_sum: torch.Tensor | None = None
        self._epoch_n = 0
        self._last: dict[str, float] = {}
        self.logger = logger
        self.shorter = shorter  # how to shorten a run too long for a CPU (see ganctl.training.estimate)
        self._board: TensorBoardLog | None = None  # open while run() runs under --logger tensorboard

    # ----- state -------------------------------------------------------------------------------
    @property
    def steps_per_epoch(self) -> int:
        """Steps in one pass over the data (on this rank)."""
        return self.data.steps_per_epoch

    @property
    def epoch(self) -> int:
        """The epoch of the last step, counted from 1 as the progress bar and ``samples/epoch_0001.png`` count
        (0 before the first step): a run stopped inside its first epoch is at epoch 1, like its samples."""
        return -(-self.step // self.steps_per_epoch)

    def training_state(self) -> dict[str, Any]:
        """Everything beyond the weights that resume needs."""
        return {
            "step": self.step,
            "steps_per_epoch": self.steps_per_epoch,
            "world_size": self.ctx.dist.world_size,
            "rng": get_rng_state(),
            "optimizers": {k: o.state_dict() for k, o in self.recipe.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.recipe.schedulers.items()},
            "scaler": self.ctx.precision.state_dict(),
            "recipe": self.recipe.extra_state(),
        }

    def checkpoint_config(self) -> dict[str, Any]:
        """The model config plus where training stands."""
        return {**self.recipe.model_config(), "step": self.step, "epoch": self.epoch}

    def save(self, name: str, with_state: bool = True) -> Path:
        """Write ``checkpoints/<name>.safetensors`` (rank 0; other ranks only return the path).

        Before ``latest`` is replaced, the one it replaces becomes ``previous.safetensors``.
        """
        path = self.ckpt_dir / f"{name}.safetensors"
        if self.ctx.dist.is_main:
            state = self.training_state() if with_state else None
            config = self.checkpoint_config()
            if name == LATEST and path.is_file() and not self._latest_damaged:
                _keep_as(path, self.ckpt_dir / f"{PREVIOUS}.safetensors")
            save_checkpoint(path, self.recipe.networks, config, state)
            if self._board is not None and name == LATEST:
                self._board.flush()
        if name == LATEST:
            self._saved_at, self._saved_step = time.monotonic(), self.step
            self._latest_damaged = False
        return path

    def _save_due(self) -> bool:
        """True when ``--save-every-steps`` or ``--save-every-minutes`` calls for a checkpoint now."""
        if self.save_every_steps and self.step % self.save_every_steps == 0:
            return True
        return self.save_every_seconds > 0 and time.monotonic() - self._saved_at >= self.save_every_seconds

    def resume(self, path: Path) -> None:
        """Load weights and training state from a checkpoint written by :meth:`save`.

        A damaged ``latest.safetensors`` falls back to ``previous.safetensors`` with a warning. Call after the
        recipe is fully built (building networks consumes random numbers that the restored RNG state must
        not see).
        """
        ckpt = _load_resumable(Path(path))
        self._latest_damaged = ckpt.path != Path(path)
        path = ckpt.path
        state = ckpt.state
        if int(state["steps_per_epoch"]) != self.steps_per_epoch:
            raise CheckpointError(path, f"was trained with {state['steps_per_epoch']} steps per epoch, now "
                                  f"{self.steps_per_epoch}: resume with the same data, batch size and processes")
        ckpt.load_into(self.recipe.networks)
        for k, opt in self.recipe.optimizers.items():
            opt.load_state_dict(state["optimizers"][k])
        for k, sched in self.recipe.schedulers.items():
            sched.load_state_dict(state["schedulers"][k])
        self.ctx.precision.load_state_dict(state.get("scaler") or {})
        self.recipe.load_extra_state(state.get("recipe") or {})
        set_rng_state(state["rng"])
        self.step = int(state["step"])
        if self.ctx.dist.is_main:
            self.metrics.truncate_after(self.step)
            self._drop_epochs_after(self.step // self.steps_per_epoch)  # completed epochs

    def _drop_epochs_after(self, epoch: int) -> None:
        """Remove sample grids and epoch checkpoints of epochs after ``epoch`` (written after the checkpoint)."""
        for folder, pattern in ((self.samples_dir, _SAMPLE_NAME), (self.ckpt_dir, _EPOCH_CHECKPOINT_NAME)):
            if not folder.is_dir():
                continue
            for file in folder.iterdir():
                match = pattern.match(file.name)
                if match and int(match.group(1)) > epoch:
                    file.unlink()

    def record_start(self, config: dict[str, Any], what: str, plan: str) -> None:
        """Write the run's ``config.json`` and print the start line ``training <what> on <device>...: <plan>``.

        ``config`` (kind, options, data, steps) comes first in the file; the world size, device, precision
        and the recipe's model config follow. Only the main process writes and prints.
        """
        ctx = self.ctx
        if not ctx.dist.is_main:
            return
        write_config(self.run_dir, {**config, "world_size": ctx.dist.world_size, "device": str(ctx.device),
                                    "precision": ctx.precision.mode, "model": self.recipe.model_config()})
        console.info(f"training {what} on {ctx.device}, {ctx.precision.mode}: {plan}")

    # ----- logging -----------------------------------------------------------------------------
    def _accumulate(self, losses: dict[str, torch.Tensor]) -> None:
        if not self._names:
            self._names = list(losses)
        vec = torch.stack([losses[k].detach().float() for k in self._names])
        self._window = vec if self._window is None else self._window + vec
        self._epoch_sum = vec if self._epoch_sum is None else self._epoch_sum + vec
        self._window_n += 1
        self._epoch_n += 1

    def _lr(self) -> float:
        opt = next(iter(self.recipe.optimizers.values()))
        return float(opt.param_groups[0]["lr"])

    def _means(self, total: torch.Tensor, n: int) -> dict[str, float]:
        """Mean losses over ranks; a non-finite one stops training (every rank agrees)."""
        values = self.ctx.dist.mean(total / n).tolist()
        means = dict(zip(self._names, values))
        bad = [k for k, v in means.items() if v != v or v in (float("inf"), float("-inf"))]
        if bad:
            latest = self.ckpt_dir / "latest.safetensors"
            kept = (f"the last good checkpoint is kept: {latest} (continue with --resume {self.run_dir})"
                    if latest.is_file() else
                    f"no checkpoint was saved before it (start again with --run {self.run_dir})")
            raise TrainingStopped(
                f"{', '.join(bad)} became {'NaN' if means[bad[0]] != means[bad[0]] else 'infinite'} near step "
                f"{self.step}; training stopped, {kept}; try a lower --lr or --precision fp32")
        return means

    def _flush_window(self, rate: float) -> dict[str, float]:
        if self._window is None or self._window_n == 0:
            return self._last
        means = self._means(self._window, self._window_n)
        self._window, self._window_n = None, 0
        self._last = means
        if self.ctx.dist.is_main:
            self.metrics.append(self.step, self.epoch, kind="train", **means, lr=self._lr(), it_s=round(rate, 3))
            if self._board is not None:
                self._board.scalars(self.step, {**means, "lr": self._lr()}, "train")
        return means

    def _flush_epoch(self, epoch: int, seconds: float) -> None:
        if self._epoch_sum is None or self._epoch_n == 0:
            return
        means = self._means(self._epoch_sum, self._epoch_n)
        self._epoch_sum, self._epoch_n = None, 0
        if self.ctx.dist.is_main:
            self.metrics.append(self.step, epoch, kind="epoch", **means, lr=self._lr(), seconds=round(seconds, 3))
            if self._board is not None:
                self._board.scalars(self.step, means, "epoch")

    @staticmethod
    def _loss_text(losses: dict[str, float], shown: int = 5) -> str:
        """The first ``shown`` losses (a recipe returns its main ones first), short enough for one line."""
        return " ".join(f"{k.removeprefix('loss_')}={v:.3f}" for k, v in list(losses.items())[:shown])

    # ----- the loop ----------------------------------------------------------------------------
    def _epoch_end(self, epoch_seconds: float) -> list[Path]:
        done = self.epoch
        self._flush_epoch(done, epoch_seconds)
        written = []
        if self.ctx.dist.is_main:
            written.append(self._write_samples())
            self.save(f"epoch_{done:04d}", with_state=False)
        self.save(LATEST)
        return written

    def _write_samples(self) -> Path:
        """``samples/epoch_NNNN.png`` of the current epoch (and the TensorBoard image under its logger)."""
        sample = self.samples_dir / f"epoch_{self.epoch:04d}.png"
        self.recipe.write_samples(sample)
        if self._board is not None:
            self._board.image("samples", sample, self.step)
        return sample

    def _sync(self) -> None:
        """Wait for the device's queued work (CUDA runs asynchronously), for timing."""
        if self.ctx.device.type == "cuda":
            torch.cuda.synchronize(self.ctx.device)

    def run(self) -> TrainResult:
        """Train until ``total_steps`` (or a stop signal); returns what was done and written."""
        ctx, spe = self.ctx, self.steps_per_epoch
        result = TrainResult(run_dir=self.run_dir, step=self.step, epoch=self.epoch)
        show = ctx.dist.is_main and not console.is_quiet()
        bar = None
        if show:  # the rate and ETA over the last 10 minutes: steady, and shown even at minutes per step
            bar = console.new_progress("step", extra=[TextColumn("{task.fields[losses]}")], speed_period=600.0)
        start_step, t0 = self.step, time.perf_counter()
        window_t, window_s = t0, self.step
        epoch_t = step_t = t0
        estimate = ScheduleEstimate(self.step, self.total_steps, str(ctx.device), self.shorter, self._sync,
                                    say=ctx.dist.is_main, stage=self.recipe.stage)
        if self.logger == "tensorboard" and ctx.dist.is_main:
            # A resumed run drops the events an earlier process logged after this checkpoint's step.
            self._board = TensorBoardLog(self.run_dir, purge_step=self.step + 1)
        with contextlib.ExitStack() as held:
            if self._board is not None:
                held.callback(self._close_board)
            stop = held.enter_context(_StopRequest())
            if bar:
                held.enter_context(bar)
            task = bar.add_task("train", total=self.total_steps, completed=self.step, losses="") if bar else None
            try:
                while self.step < self.total_steps:
                    epoch, start = divmod(self.step, spe)
                    if bar:
                        bar.update(task, description=f"epoch {epoch + 1}")
                    for batch in self.data.epoch(epoch, start):
                        losses = self.recipe.train_step(_move_batch(batch, ctx))
                        for sched in self.recipe.schedulers.values():
                            sched.step()
                        self.step += 1
                        self._accumulate(losses)
                        epoch_done = self.step % spe == 0
                        logged = self.step % self.log_every == 0 or epoch_done or self.step == self.total_steps
                        if logged:
                            now = time.perf_counter()
                            rate = (self.step - window_s) / max(now - window_t, 1e-9)
                            window_t, window_s = now, self.step
                            means = self._flush_window(rate)
                            if bar:
                                bar.update(task, losses=self._loss_text(means))
                        self.recipe.on_step_end(self)
                        # data and step, not saving
                        estimate.step_done(self.step, time.perf_counter() - step_t, self.recipe.stage)
                        # Ranks agree on stopping only where they talk anyway (at logging steps); a signal
                        # that reached some ranks only stops them all, and every rank reports it.
                        if logged:
                            stop.signum = ctx.dist.largest(stop.signum or 0, ctx.device) or None
                        if stop.requested and (logged or not ctx.dist.enabled):
                            if epoch_done:  # the epoch's samples and checkpoint first; latest comes with them
                                result.samples += self._epoch_end(time.perf_counter() - epoch_t)
                            raise KeyboardInterrupt
                        if bar:
                            bar.advance(task)
                        if self.on_step_end is not None:
                            self.on_step_end(self.step)
                        if epoch_done:
                            now = time.perf_counter()
                            result.samples += self._epoch_end(now - epoch_t)
                            epoch_t = now
                        elif self.step < self.total_steps and self._save_due():
                            self.save(LATEST)
                        step_t = time.perf_counter()
                        if self.step >= self.total_steps:
                            break
                if self.step % spe != 0:  # stopped by --max-steps inside an epoch
                    self._flush_window(0.0)
                    if ctx.dist.is_main:
                        result.samples.append(self._write_samples())
                        self.save(LATEST)
            except KeyboardInterrupt:
                if stop.aborted:  # a second signal broke into a step: nothing consistent to save
                    raise
                # Refuse to save weights that already went NaN; _means raises TrainingStopped then.
                if self._window is not None:
                    self._flush_window(0.0)
                if self._saved_step != self.step:
                    self.save(LATEST)
                result.interrupted = True
                result.signal = stop.signum
        if not result.interrupted:
            ctx.dist.barrier()
        result.step, result.epoch = self.step, self.epoch
        result.checkpoint = self.ckpt_dir / f"{LATEST}.safetensors"
        result.losses = dict(self._last)
        result.seconds = time.perf_counter() - t0
        result.steps_run = self.step - start_step
        result.networks = self.recipe.networks
        if ctx.dist.is_main:
            self._write_report()
        return result

    def _close_board(self) -> None:
        """Close the TensorBoard writer (its last events reach the file)."""
        if self._board is not None:
            self._board.close()
            self._board = None

    def _write_report(self) -> None:
        """Refresh ``report.html``; a failing report must not fail a finished (or interrupted) run."""
        from ganctl.viz import write_report

        try:
            write_report(self.run_dir)
        except Exception as exc:  # the run and its checkpoints are safe; say why the page is missing
            console.warn(f"could not write {self.run_dir / 'report.html'}: {exc}")
