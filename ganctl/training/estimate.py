"""How long the whole schedule takes, said once early in every run.

The first steps of a run are slower (worker start-up, allocator and cuDNN warm-up, ``--compile``), so
:class:`ScheduleEstimate` skips :data:`WARMUP_STEPS` steps, then times steps (data loading included, checkpoint
and sample-grid writing not) until :data:`MEASURE_STEPS` steps or :data:`MEASURE_SECONDS` seconds are timed,
and then says ``estimated time for the whole schedule: ...`` (the steps, seconds per step and device). A
resumed run estimates the steps it has left. A run on a CPU whose estimate exceeds :data:`LONG_ON_CPU` also
gets a warning with a shorter way (the recipe's ``quick`` preset where it has one, fewer epochs) and a GPU.
A run that ends before the measurement does says nothing: its summary gives the time it took.

Recipes whose steps change cost part-way (colorize: cheap L1-only steps, then GAN steps with a discriminator)
name the stage of their next step (:attr:`ganctl.training.recipe.Recipe.stage`). The first line then says which
stage its rate is from, and when the stage changes the timing starts over and a second line says
``estimated time for the rest of the schedule: ...`` at the new stage's rate.

This module imports no torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

from ganctl import console

WARMUP_STEPS = 2
MEASURE_STEPS = 5
MEASURE_SECONDS = 20.0
LONG_ON_CPU = 24 * 3600.0


def shorter_way(presets: Collection[str], preset: str, options: Collection[str]) -> str:
    """What makes a run shorter, for a recipe with these ``presets`` and ``options`` run with ``preset``."""
    ways = []
    if "quick" in presets and preset != "quick":
        ways.append("--preset quick trains a shorter schedule")
    fewer = "fewer --epochs" if "epochs" in options else "a lower --max-steps"
    ways.append(f"{fewer} {'or ' if ways else ''}shorten{'s' if not ways else ''} it")
    return "; ".join(ways) + "; a GPU (--device cuda) is many times faster"


def estimate_lines(seconds_per_step: float, steps_left: int, total_steps: int, device: str,
                   shorter: str, stage: str | None = None, new_stage: bool = False) -> tuple[str, str | None]:
    """(the estimate line, a warning or None) for ``steps_left`` of ``total_steps`` at ``seconds_per_step``.

    ``stage``: the recipe stage the rate was timed in; ``new_stage``: a later stage than the run's first.
    """
    seconds = seconds_per_step * steps_left
    rate = f"{seconds_per_step:.3g} s/step on {device}"
    if stage is not None:
        rate += f", timed in the {stage} stage" + ("" if new_stage else "; later stages are timed when they start")
    if new_stage:
        line = (f"estimated time for the rest of the schedule: {console.duration(seconds)} ({steps_left:,} of "
                f"{total_steps:,} steps left at {rate})")
    elif steps_left == total_steps:
        line = f"estimated time for the whole schedule: {console.duration(seconds)} ({total_steps:,} steps at {rate})"
    else:
        line = (f"estimated time for the whole schedule: {console.duration(seconds)} to go ({steps_left:,} of "
                f"{total_steps:,} steps left at {rate})")
    warning = None
    if device.split(":")[0] == "cpu" and seconds > LONG_ON_CPU:
        warning = f"the schedule takes about {console.duration(seconds)} on this CPU: {shorter}"
    return line, warning


class ScheduleEstimate:
    """Times the steps of one loop call and says once how long the rest of the schedule takes.

    ``sync`` waits for the device (CUDA runs asynchronously), called where the timed window starts and ends.
    """

    def __init__(self, start_step: int, total_steps: int, device: str, shorter: str,
                 sync: Callable[[], None] = lambda: None, say: bool = True, stage: str | None = None):
        self.start_step = start_step
        self.stage = stage
        self._new_stage = False
        self.total_steps = total_steps
        self.device = device
        self.shorter = shorter
        self.sync = sync
        self.say = say
        self.seconds_per_step: float | None = None
        self._seen = 0
        self._timed = 0
        self._seconds = 0.0

    @property
    def measuring(self) -> bool:
        """True until the estimate is made."""
        return self.seconds_per_step is None

    def step_done(self, step: int, seconds: float, stage: str | None = None) -> None:
        """One step (now at ``step``) took ``seconds``; says the estimate once enough steps are timed.

        ``stage``: the recipe's stage for the *next* step; a change starts the timing over from ``step``.
        """
        if stage != self.stage:
            self.stage, self._new_stage, self.start_step = stage, True, step
            self.seconds_per_step, self._seen, self._timed, self._seconds = None, 0, 0, 0.0
            return
        if not self.measuring:
            return
        self._seen += 1
        if self._seen == WARMUP_STEPS:
            self.sync()  # the warm-up steps' queued device work must not count as timed steps
        if self._seen <= WARMUP_STEPS:
            return
        self._timed += 1
        self._seconds += seconds
        if self._timed < MEASURE_STEPS and self._seconds < MEASURE_SECONDS:
            return
        waited = time.perf_counter()
        self.sync()  # the timed steps' device work, still queued, belongs to them
        self._seconds += time.perf_counter() - waited
        self.seconds_per_step = self._seconds / self._timed
        if step >= self.total_steps:  # the run is over: its summary says how long it took
            return
        if self.say:
            line, warning = estimate_lines(self.seconds_per_step, self.total_steps - self.start_step,
                                           self.total_steps, self.device, self.shorter, self.stage,
                                           self._new_stage)
            console.info(line)
            if warning:
                console.warn(warning)
