"""What a training method is: a :class:`Recipe` (the method only) found by name in the recipe registry.

A recipe declares, as class attributes, its name, its options dataclass (the only source of defaults and
help text, see :mod:`ganctl.training.options`), its named presets and which dataset kinds pick which
preset; and it implements the method: which data it reads, which networks and optimisers it builds, one
training step, its sample grid and its checkpoint config. Everything else (merging options, resume,
device and precision, the seeded batch order, the run folder, the loop with its checkpoints, logging,
Ctrl-C and NaN guard) belongs to :func:`ganctl.training.runner.train` and
:class:`ganctl.training.loop.TrainLoop`. ``ganctl train <name>`` and its ``--help`` are generated from
the registered recipes. docs/architecture.md walks through adding one.

This module imports no torch (the command line imports every recipe to build its help); the methods that
need torch import it where they run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ganctl.errors import GanctlError, OptionError
from ganctl.training.options import TrainOptions, flag_name

if TYPE_CHECKING:
    import torch

    from ganctl.metrics.evaluation import RunScores, RunToEvaluate
    from ganctl.training.context import TrainContext
    from ganctl.training.loop import DataSource, TrainLoop, TrainResult

_RECIPES: dict[str, type[Recipe]] = {}


def register_recipe(cls: type[Recipe]) -> type[Recipe]:
    """Class decorator: make a recipe available as ``ganctl train <cls.name>`` and ``train(cls.name, ...)``."""
    if cls.name in _RECIPES:
        raise ValueError(f"recipe {cls.name!r} is registered twice")
    _RECIPES[cls.name] = cls
    return cls


def get_recipe(name: str) -> type[Recipe]:
    """The recipe registered as ``name``; an unknown name is an OptionError listing the known ones."""
    if name not in _RECIPES:
        raise OptionError("recipe", f"unknown training recipe {name!r}; known: {', '.join(_RECIPES)}")
    return _RECIPES[name]


def list_recipes() -> list[str]:
    """The registered recipe names, in registration order."""
    return list(_RECIPES)


class Recipe:
    """Base class of every training method; see the module docstring and docs/architecture.md.

    Class attributes a recipe sets:

    * ``name`` (the ``ganctl train`` command and checkpoint ``kind``), ``summary`` (one line) and ``help``
      (the command's help text; end it with an example);
    * ``options`` (its :class:`TrainOptions` dataclass) and ``presets``: ``{name: {option: value}}``, the
      first being the default; ``presets_by_kind``: ``{dataset kind: preset}``, the preset a dataset of that
      kind (``dataset.json``'s ``kind``) gets when none is asked for;
    * ``data_kind``: the layout ``--data`` has (``unpaired``: trainA/ trainB/ folders; ``photos``: colour
      photos; ``mnist``: the MNIST digits), and ``data_help``: what ``--data`` takes, in words;
    * a ``smoke`` preset: tiny networks for two steps, which checks data, setup and the whole pipeline in
      seconds (the tests run every recipe with it).

    Methods a recipe implements: :meth:`batches`, :meth:`build`, :meth:`train_step`, :meth:`sample_rows`,
    :meth:`model_config` and :meth:`describe`; it may override :meth:`find_data`, :meth:`resolve`,
    :meth:`total_steps`, :meth:`run_record`, :meth:`extra_state` / :meth:`load_extra_state`,
    :meth:`already_done` and the hooks :meth:`on_step_end`, :meth:`on_resume`, :meth:`on_finish`; and
    :meth:`evaluate` says what ``ganctl eval run`` measures on its runs.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    help: ClassVar[str]
    options: ClassVar[type[TrainOptions]]
    presets: ClassVar[dict[str, dict[str, Any]]]
    presets_by_kind: ClassVar[dict[str, str]] = {}
    data_kind: ClassVar[str]
    data_help: ClassVar[str] = "a dataset folder or a named dataset"

    def __init__(self, opts: TrainOptions, ctx: TrainContext, data: Any):
        self.opts = opts
        self.ctx = ctx
        self.data = data
        self.specs: dict[str, dict[str, Any]] = {}
        self.networks: dict[str, torch.nn.Module] = {}  # what checkpoints save (never compiled)
        self.run_nets: dict[str, Callable[..., Any]] = {}  # what the step calls (compiled under --compile)
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, Any] = {}  # stepped once per training step

    # ----- choosing the preset (class level: before any data are loaded) ---------------------------------
    @classmethod
    def choose_preset(cls, asked: str | None, dataset_kind: str | None) -> tuple[str, str]:
        """(preset name, why) for a run: ``asked`` (``--preset``), else the dataset kind's, else the default."""
        if asked is not None:
            if asked not in cls.presets:
                raise OptionError("--preset", f"unknown preset {asked!r} for {cls.name}; known: "
                                              f"{', '.join(cls.presets)}")
            return asked, "asked for with --preset"
        if dataset_kind in cls.presets_by_kind:
            return cls.presets_by_kind[dataset_kind], f"the dataset's kind is {dataset_kind}"
        default, *others = cls.presets
        kind = f" for dataset kind {dataset_kind}" if dataset_kind else ""
        return default, f"the default{kind} (others: {', '.join(others)}; choose one with --preset)"

    @classmethod
    def already_done(cls, opts: TrainOptions) -> str | None:
        """Why a new run need not happen at all (its result exists already), or None to train."""
        return None

    @classmethod
    def find_data(cls, data: str) -> Any:
        """A cheap look at ``--data`` (file lists, sizes, ``kind``) that refuses unusable data before training.

        The default looks at nothing (for data the options' choices name, such as mnist).
        """
        return None

    # ----- the method ------------------------------------------------------------------------------------
    def resolve(self) -> None:
        """Fill the options whose default depends on the data (``derived`` ones), then check them again."""

    def resolve_options(self, **values: Any) -> None:
        """Set options to new values (used by :meth:`resolve`) and check the result."""
        self.opts = replace(self.opts, **values)
        self.opts.check()

    def batches(self) -> DataSource:
        """The training batches in the seeded, resumable order (see :mod:`ganctl.training.data`)."""
        raise NotImplementedError

    def total_steps(self, steps_per_epoch: int) -> int:
        """Steps of the whole schedule (before ``--max-steps``); the default: ``--epochs`` passes."""
        return self.opts.epochs * steps_per_epoch

    def build(self, steps_per_epoch: int) -> None:
        """Create networks (:meth:`build_networks`), optimisers, schedulers and whatever the step needs."""
        raise NotImplementedError

    def train_step(self, batch: Any) -> dict[str, torch.Tensor]:
        """One optimisation step; returns 0-dim loss tensors (still on the device; the main ones first)."""
        raise NotImplementedError

    def sample_rows(self) -> list[torch.Tensor]:
        """Rows of images in [-1, 1] for the sample grid (networks in eval mode, no gradients)."""
        raise NotImplementedError

    def model_config(self) -> dict[str, Any]:
        """The checkpoint's JSON config (``kind``, ``networks`` specs, ...) that rebuilds the model."""
        raise NotImplementedError

    def describe(self) -> tuple[str, str]:
        """(what is trained on what, the plan) for the start line ``training <what> on <device>: <plan>``."""
        raise NotImplementedError

    def run_record(self) -> dict[str, Any]:
        """Extra keys of the run's ``config.json`` (the dataset folder, channels, ...)."""
        return {}

    def extra_state(self) -> dict[str, Any]:
        """Recipe state beyond networks, optimisers and RNGs (e.g. image pools), for resume."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`extra_state`."""

    @property
    def stage(self) -> str | None:
        """The name of the stage the next step belongs to, for recipes whose steps change cost part-way (the
        time estimate starts over when it changes); None for one kind of step throughout."""
        return None

    # ----- hooks -------------------------------------------------------------------------------------------
    def on_step_end(self, loop: TrainLoop) -> None:
        """Called by the loop after every step (``loop.step`` is the number of steps done)."""

    def on_resume(self, loop: TrainLoop) -> None:
        """Called once after the training state of a resumed run is restored."""

    def on_finish(self, result: TrainResult) -> None:
        """Called on the main process when a run ends (interrupted or not), after the last checkpoint.

        What it puts in ``result.extras`` is part of the command's summary (and its ``--json``).
        """

    # ----- evaluation ------------------------------------------------------------------------------------
    @classmethod
    def evaluate(cls, run: RunToEvaluate) -> RunScores:
        """What ``ganctl eval run`` measures on a run of this recipe (the options checked, the run opened).

        A recipe calls its evaluation in ``ganctl.metrics`` (``eval_<name>.evaluate_<name>(run)``); the
        report, ``eval.json`` and the ``metrics.jsonl`` record are written by
        :func:`ganctl.metrics.run_eval.evaluate_run`. The default: runs of this recipe cannot be evaluated.
        """
        raise GanctlError(f"eval run cannot evaluate {cls.name} runs (the {cls.name} recipe does not say what to "
                          "measure)")

    # ----- helpers for recipes ----------------------------------------------------------------------------
    def build_networks(self, specs: dict[str, dict[str, Any]]) -> None:
        """Create the networks of ``specs`` (in order: the order draws their initial weights), placed on the device."""
        from ganctl.models import accepts, create_model

        for spec in specs.values():
            refused = [arg for arg in spec["kwargs"] if not accepts(spec["name"], arg)]
            if refused:
                option = next((flag_name(n) for n, info in self.opts.option_info().items()
                               if info.network and getattr(self.opts, n) == spec["name"]), "network")
                raise OptionError(option, f"{spec['name']} does not take {', '.join(refused)}, which {self.name} "
                                          "sets; choose another network")
        self.specs = specs
        self.networks = {k: self.ctx.place(create_model(**spec)) for k, spec in specs.items()}
        self.run_nets = {k: self.ctx.fast(net) for k, net in self.networks.items()}

    def check_input_size(self, name: str, channels: int, size: int, option: str) -> None:
        """OptionError when network ``name`` cannot take ``size`` px images (a dry run on two blank ones)."""
        import torch

        net = self.networks[name]
        try:
            with torch.no_grad():
                net.eval()(torch.zeros(2, channels, size, size, device=self.ctx.device))  # eval: no statistics kept
        except (ValueError, RuntimeError) as exc:
            raise OptionError("--size", f"{size} px is too small for {option} {self.specs[name]['name']} "
                                        f"({str(exc).splitlines()[0]})") from None
        finally:
            net.train()

    def adam(self, *names: str, lr: float | None = None) -> torch.optim.Optimizer:
        """Adam over the parameters of the named networks: ``--lr`` and betas ``(--beta1, 0.999)``."""
        import itertools

        params = itertools.chain.from_iterable(self.networks[n].parameters() for n in names)
        return self.ctx.adam(params, self.opts.lr if lr is None else lr, (self.opts.beta1, 0.999))

    @contextlib.contextmanager
    def frozen(self, *names: str) -> Iterator[None]:
        """Inside: the named networks (discriminators, while G learns) get no gradients."""
        params = [p for n in names for p in self.networks[n].parameters()]
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p in params:
                p.requires_grad_(True)

    def write_samples(self, path: Path) -> None:
        """Write :meth:`sample_rows` as one grid image, with the networks in eval mode and no gradients."""
        import torch

        from ganctl.training.samples import save_sample_grid

        modes = {k: net.training for k, net in self.networks.items()}
        for net in self.networks.values():
            net.eval()
        try:
            with torch.no_grad():
                rows = self.sample_rows()
        finally:
            for k, net in self.networks.items():
                net.train(modes[k])
        save_sample_grid(rows, path)


class LinearDecayRecipe(Recipe):
    """A recipe on CycleGAN's schedule: ``--epochs`` at a constant learning rate, then ``--decay-epochs`` of
    linear decay to 0 (its options have both), or, where its options have ``steps`` and it is set, that many
    steps split in half the same way."""

    def schedule(self, steps_per_epoch: int) -> tuple[int, int, int]:
        """(constant, decaying, steps per unit): the learning rate is constant for ``constant`` units of
        ``steps per unit`` steps, then decays linearly over ``decaying`` units (epochs, or single steps with
        ``--steps``)."""
        steps = getattr(self.opts, "steps", None)
        if steps:
            return steps - steps // 2, steps // 2, 1
        return self.opts.epochs or 0, self.opts.decay_epochs or 0, steps_per_epoch

    def total_steps(self, steps_per_epoch: int) -> int:
        """Constant then decaying steps."""
        constant, decaying, unit = self.schedule(steps_per_epoch)
        return (constant + decaying) * unit

    def decaying(self, steps_per_epoch: int) -> dict[str, Any]:
        """One linear-decay scheduler per optimiser (call once the optimisers exist)."""
        from ganctl.training.schedule import linear_decay_scheduler

        return {k: linear_decay_scheduler(opt, *self.schedule(steps_per_epoch)) for k, opt in self.optimizers.items()}

    def on_resume(self, loop: TrainLoop) -> None:
        """The decay follows this run's schedule options (resume may change them; a loaded scheduler state
        would bring back the old ones)."""
        from ganctl.training.schedule import set_linear_decay

        for scheduler in self.schedulers.values():
            set_linear_decay(scheduler, *self.schedule(loop.steps_per_epoch))

