"""``train(kind, data, **options)``: one run of any registered recipe, and everything that is not the method.

In order: the options (field defaults -> preset -> ``--config`` TOML -> flags, checked before anything
runs), the preset (``--preset``, else the one the dataset's kind calls for, else the recipe's default; the
run says which and why, and config.json records it), device and precision, the data in their seeded
order, the networks (seeded), the run folder and its lock (one trainer per run folder), resume, the start
line, the loop (checkpoints, metrics, samples, stop signals, NaN guard, report) and the recipe's end-of-run
hook. ``--resume`` takes the run's saved
options and preset; only the options marked ``resumable`` may change.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganctl import console
from ganctl.errors import InputError, OptionError
from ganctl.runs import read_config
from ganctl.training.estimate import shorter_way
from ganctl.training.options import TrainOptions, flag_name, merge_options, read_toml_options
from ganctl.training.recipe import Recipe, get_recipe
from ganctl.training.runlock import run_lock
from ganctl.training.tensorboard_log import require_tensorboard

if TYPE_CHECKING:
    from ganctl.training.loop import TrainResult


@dataclass
class RunPlan:
    """What a run will do before anything heavy happens: options, preset, data, where it writes."""

    opts: TrainOptions
    preset: str
    preset_reason: str
    data: Any
    run_dir: Path | None = None  # known already when resuming
    checkpoint: Path | None = None  # the checkpoint to resume from


def _saved_preset(recipe: type[Recipe], saved: dict[str, Any]) -> str:
    """The preset a run was trained with (runs written before presets existed: digits when they were digit runs)."""
    if saved.get("preset") in recipe.presets:
        return saved["preset"]
    if saved.get("digits") and "digits" in recipe.presets:
        return "digits"
    return next(iter(recipe.presets))


def plan_resume(recipe: type[Recipe], resume: str | os.PathLike, preset: str | None,
                given: dict[str, Any]) -> RunPlan:
    """The plan of ``--resume RUN|CHECKPOINT``: the run's saved options, changed only where allowed."""
    from ganctl.checkpoint import resolve_checkpoint_path

    checkpoint = resolve_checkpoint_path(resume)
    run_dir = Path(resume) if Path(resume).is_dir() else checkpoint.parent.parent
    saved = read_config(run_dir)
    if saved.get("kind") != recipe.name:
        raise InputError(run_dir, f"is a {saved.get('kind', 'unknown')!r} run, not a {recipe.name} run")
    name = _saved_preset(recipe, saved)
    if preset is not None and preset != name:
        raise OptionError("--preset", f"cannot change when resuming a run (it was {name!r})")
    stored = {k: v for k, v in (saved.get("options") or {}).items() if k in recipe.options.names()}
    opts = merge_options(recipe.options, recipe.presets[name], stored)
    info = recipe.options.option_info()
    changes = {}
    for key, value in given.items():
        if value is None or value == getattr(opts, key):
            continue
        if not info[key].resumable:
            raise OptionError(flag_name(key), f"cannot change when resuming a run (it was {getattr(opts, key)!r}); "
                                              "start a new run instead")
        changes[key] = value
    opts = replace(opts, **changes)
    said = saved.get("preset_reason")  # a run resumed before says "the run's own (...)" already
    reason = said if said and said.startswith("the run's own") else f"the run's own ({said})" if said else \
        "the run's own"
    return RunPlan(opts, name, reason, recipe.find_data(opts.data), run_dir, checkpoint)


def plan_new_run(recipe: type[Recipe], preset: str | None, run: str | os.PathLike | None,
                 file_values: dict[str, Any], flags: dict[str, Any]) -> RunPlan:
    """The plan of a new run: the options checked as given, the data looked at, the preset chosen, merged."""
    # A folder whose run stopped before its first checkpoint (a NaN at step 2) may be started again.
    if run is not None and (Path(run) / "checkpoints" / "latest.safetensors").exists():
        raise OptionError("--run", f"{run} already holds a run; continue it with --resume {run} or choose another "
                                   "folder")
    merge_options(recipe.options, {}, file_values, flags).check()  # bad values fail before the data are read
    if preset is not None:
        recipe.choose_preset(preset, None)
    data = flags.get("data") or file_values.get("data") or recipe.options.defaults()["data"]
    if data is None:
        raise OptionError("--data", f"is required ({recipe.data_help})")
    found = recipe.find_data(str(data))
    name, reason = recipe.choose_preset(preset, getattr(found, "kind", None))
    opts = merge_options(recipe.options, recipe.presets[name], {"data": str(data)}, file_values, flags)
    return RunPlan(opts, name, reason, found)


def train(kind: str, data: str | os.PathLike | None = None, *, run: str | os.PathLike | None = None,
          resume: str | os.PathLike | None = None, config: str | os.PathLike | None = None,
          preset: str | None = None, runs_root: str | os.PathLike = "runs",
          on_step_end: Callable[[int], None] | None = None, **options: Any) -> TrainResult:
    """Train (or resume) a run of the recipe registered as ``kind``; returns where it ended and what it wrote.

    ``options`` are fields of the recipe's options dataclass (None = not given); ``config`` is a TOML file
    of them (which may also name ``run`` and ``preset``); flags given here win over the file. With
    ``resume`` (a run folder or its ``latest.safetensors``) the run continues exactly where it stopped.
    ``on_step_end(step)`` is called after every step (tests use it to interrupt a run).
    """
    recipe = get_recipe(kind)
    recipe.options.refuse_unknown(options, kind)
    flags = {k: v for k, v in options.items() if v is not None}
    if data is not None:
        flags["data"] = str(data)
    file_values: dict[str, Any] = {}
    if config is not None:
        file_values = read_toml_options(config, recipe.options.names() | {"run", "preset"}, kind)
        file_run, file_preset = file_values.pop("run", None), file_values.pop("preset", None)
        run = run if run is not None else file_run
        preset = preset if preset is not None else file_preset
    if (flags.get("logger") or file_values.get("logger")) == "tensorboard":
        require_tensorboard()  # before the data are looked at
    if resume is not None:
        plan = plan_resume(recipe, resume, preset, {**file_values, **flags})
    else:
        plan = plan_new_run(recipe, preset, run, file_values, flags)
    plan.opts.check()
    plan.opts.check_networks()
    if plan.opts.logger == "tensorboard":  # a resumed run keeps its logger
        require_tensorboard()
    reason = recipe.already_done(plan.opts) if resume is None else None
    if reason is not None:
        from ganctl.training.loop import TrainResult

        console.info(reason)
        return TrainResult(run_dir=None, step=0, epoch=0, skipped=reason)
    return _run(recipe, plan, run, runs_root, on_step_end)


def _run(recipe_class: type[Recipe], plan: RunPlan, run: str | os.PathLike | None, runs_root: str | os.PathLike,
         on_step_end: Callable[[int], None] | None) -> TrainResult:
    """Device, data, networks, run folder and its lock, resume, loop; the process group is left however it ends."""
    # torch is imported here, after the options and the data were checked, so that mistakes are told at once.
    import torch

    from ganctl.training.context import TrainContext
    from ganctl.training.loop import TrainLoop

    opts = plan.opts
    ctx = TrainContext.create(opts.device, opts.precision, opts.compile, opts.channels_last)
    try:
        with contextlib.ExitStack() as held:
            if ctx.dist.is_main and plan.run_dir is not None:  # resuming: refuse a busy run before any work
                held.enter_context(run_lock(plan.run_dir))
            if ctx.dist.is_main:
                console.info(f"preset [bold]{plan.preset}[/]: {plan.preset_reason}")
            recipe = recipe_class(opts, ctx, plan.data)
            recipe.resolve()
            batches = recipe.batches()
            steps_per_epoch = batches.steps_per_epoch
            total = recipe.total_steps(steps_per_epoch)
            if recipe.opts.max_steps is not None:
                total = min(total, recipe.opts.max_steps)
            if total <= 0:
                raise OptionError("--epochs", "nothing to train: the schedule has no steps")
            torch.manual_seed(recipe.opts.seed)
            recipe.build(steps_per_epoch)
            run_dir = plan.run_dir or ctx.create_run_dir(recipe_class.name, run, runs_root)
            if ctx.dist.is_main and plan.run_dir is None:
                held.enter_context(run_lock(run_dir))
            loop = TrainLoop(recipe, batches, ctx, run_dir, total, recipe.opts.log_every, on_step_end,
                             recipe.opts.save_every_steps, recipe.opts.save_every_minutes, recipe.opts.logger,
                             shorter_way(recipe_class.presets, plan.preset, recipe_class.options.names()))
            # Per-rank randomness (pools, dropout, noise) differs between ranks; the weights were broadcast already.
            torch.manual_seed(recipe.opts.seed + 1 + ctx.dist.rank)
            if plan.checkpoint is not None:
                loop.resume(plan.checkpoint)
                if ctx.dist.is_main:
                    next_epoch = loop.step // loop.steps_per_epoch + 1
                    console.info(f"resuming {run_dir} at step {loop.step} (epoch {next_epoch})")
                recipe.on_resume(loop)
            what, doing = recipe.describe()
            loop.record_start({"kind": recipe_class.name, "preset": plan.preset, "preset_reason": plan.preset_reason,
                               "options": recipe.opts.values(), **recipe.run_record(),
                               "steps_per_epoch": steps_per_epoch, "total_steps": total},
                              what, f"{doing}, {total} steps")
            result = loop.run()
            if ctx.dist.is_main:
                recipe.on_finish(result)
            return result
    finally:
        ctx.dist.close()


def train_cyclegan(data: str | os.PathLike | None = None, **kwargs: Any) -> TrainResult:
    """``train("cyclegan", data, ...)``: see :func:`train` and :class:`ganctl.training.cyclegan.CycleGANOptions`."""
    return train("cyclegan", data, **kwargs)


def train_colorize(data: str | os.PathLike | None = None, **kwargs: Any) -> TrainResult:
    """``train("colorize", data, ...)``: see :func:`train` and :class:`ganctl.training.colorize.ColorizeOptions`."""
    return train("colorize", data, **kwargs)


def train_gan(data: str | os.PathLike | None = None, **kwargs: Any) -> TrainResult:
    """``train("gan", data, ...)``: see :func:`train` and :class:`ganctl.training.gan.GANOptions`."""
    return train("gan", data, **kwargs)
