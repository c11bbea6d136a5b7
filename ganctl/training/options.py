"""Training options: one dataclass per recipe is the only source of defaults, checks and help text.

A recipe declares every option as a dataclass field made with :func:`option`::

    @dataclass
    class GANOptions(TrainOptions):
        arch: str = option("mlp", "Network pair.", panel=MODEL, choices=("mlp", "dcgan"))
        lr: float = option(2e-4, "Adam learning rate.", panel=SCHEDULE, positive=True)

The field default is the recipe's general default; a recipe's *presets* override some fields by name. From
these fields come the ``ganctl train <recipe>`` command line and its ``--help`` (which states each preset's
value), the ``--config FILE.toml`` keys, the up-front checks (:meth:`TrainOptions.check`) and what
``--resume`` may change (``resumable``). Values are merged in one order, :func:`merge_options`: field
defaults, then the preset, then the config file, then the flags given on the command line.

This module imports no torch, so the command line can be built without it.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from ganctl.errors import InputError, OptionError
from ganctl.precision import PRECISION_HELP, PRECISIONS
from ganctl.training.tensorboard_log import LOGGERS

DATA = "Data"
MODEL = "Model and losses"
SCHEDULE = "Schedule"
RUN = "Run and hardware"

T = TypeVar("T", bound="TrainOptions")


@dataclass(frozen=True)
class OptionInfo:
    """What the command line and the checks need to know about one option (the field's metadata)."""

    help: str
    panel: str
    short: str | None = None
    choices: tuple[str, ...] | None = None
    positive: bool = False
    not_negative: bool = False
    derived: str | None = None  # what a None default means, e.g. "the images' size"
    network: str | None = None  # a registered network of this kind (generator / discriminator)
    resumable: bool = False  # may change when a run is resumed
    alias: str | None = None  # an older spelling of the flag that keeps working, e.g. "--force"


def option(default: Any, help: str, *, panel: str = MODEL, short: str | None = None,
           choices: Iterable[str] | None = None, positive: bool = False, not_negative: bool = False,
           derived: str | None = None, network: str | None = None, resumable: bool = False,
           alias: str | None = None) -> Any:
    """A dataclass field for a training option (see the module docstring).

    ``positive`` / ``not_negative`` / ``choices`` are checked before anything runs; ``derived`` says what
    a None value turns into once the data are known; ``network`` names the registry kind the value must
    be registered under; ``resumable`` options may differ when a run is resumed; ``alias`` is an older
    spelling of the flag that keeps working.
    """
    info = OptionInfo(help=help, panel=panel, short=short, choices=tuple(choices) if choices else None,
                      positive=positive, not_negative=not_negative, derived=derived, network=network,
                      resumable=resumable, alias=alias)
    return dataclasses.field(default=default, metadata={"option": info})


def redefault(name: str, default: Any) -> Any:
    """A field that is the common option ``name`` of :class:`TrainOptions` with another default."""
    return dataclasses.field(default=default, metadata=TrainOptions.__dataclass_fields__[name].metadata)


def flag_name(name: str) -> str:
    """The command-line flag of an option field: ``lambda_cycle`` -> ``--lambda-cycle``."""
    return "--" + name.replace("_", "-")


def schedule_steps_option() -> Any:
    """``--steps``, for recipes on a constant-then-linear-decay schedule (see ``LinearDecayRecipe.schedule``).

    Put it in the options class's ``exclusive`` group with ``epochs`` and ``decay_epochs``: a layer that gives
    one of the three drops the others of lower layers (``--epochs 5`` over a preset's ``steps``).
    """
    return option(None, "Schedule length in steps, whatever the dataset's size: the first half at a constant "
                  "learning rate, the second decaying linearly to 0 (instead of --epochs and --decay-epochs).",
                  panel=SCHEDULE, positive=True, resumable=True)


@dataclass
class TrainOptions:
    """The options every recipe has; a recipe's options dataclass adds its own (and may change defaults).

    ``data`` comes first (the dataset), the run and hardware options last. ``exclusive``: groups of options of
    which one is given at most (two ways to say one thing); a layer that gives one drops the others of lower
    layers (``--pretrain-epochs`` wins over a preset's ``pretrain_steps``).
    """

    exclusive: typing.ClassVar[tuple[tuple[str, ...], ...]] = ()

    data: str | None = option(None, "Dataset folder or named dataset (prepared on first use).", panel=DATA,
                              short="-d")
    max_steps: int | None = option(None, "Stop after this many steps in all.", panel=SCHEDULE, positive=True,
                                   resumable=True)
    seed: int = option(0, "Random seed (weights, data order, augmentation).", panel=RUN)
    log_every: int = option(50, "Steps per metrics record.", panel=RUN, positive=True, resumable=True)
    samples: int = option(8, "Images in each epoch's sample grid.", panel=RUN, positive=True)
    save_every_steps: int | None = option(None, "Also refresh checkpoints/latest.safetensors every N steps (a kill "
                                          "loses at most N steps).", panel=RUN, positive=True, resumable=True)
    save_every_minutes: float = option(10.0, "Also refresh checkpoints/latest.safetensors every M minutes of "
                                       "training (0: off).", panel=RUN, not_negative=True, resumable=True)
    device: str = option("auto", "auto, cpu, cuda, cuda:N or mps.", panel=RUN, resumable=True)
    precision: str = option("auto", PRECISION_HELP, panel=RUN, choices=PRECISIONS, resumable=True)
    compile: bool = option(False, "torch.compile the networks (pays off on GPUs for long runs).", panel=RUN,
                           resumable=True)
    channels_last: bool | None = option(None, "Channels-last memory format.", panel=RUN,
                                        derived="on for CUDA, off elsewhere")
    logger: str = option("jsonl", "Where losses, learning rate and each epoch's sample grid go besides "
                         "metrics.jsonl and report.html (always written): jsonl (there only) or tensorboard (also "
                         "RUN/tensorboard/, for tensorboard --logdir RUN; needs pip install 'ganctl[tensorboard]').",
                         panel=RUN, choices=LOGGERS, resumable=True)

    # ----- what the options are ----------------------------------------------------------------------
    @classmethod
    def option_info(cls) -> dict[str, OptionInfo]:
        """Every option's :class:`OptionInfo`, in field order."""
        return {f.name: f.metadata["option"] for f in fields(cls)}

    @classmethod
    def names(cls) -> set[str]:
        """The option names (config-file keys, ``train()`` keyword arguments)."""
        return set(cls.option_info())

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every option's field default."""
        return {f.name: f.default for f in fields(cls)}

    @classmethod
    def value_types(cls) -> dict[str, type]:
        """The plain Python type of each option (``int`` for ``int | None``), for the command line."""
        hints = typing.get_type_hints(cls)
        out = {}
        for name in cls.option_info():
            args = [a for a in typing.get_args(hints[name]) if a is not type(None)]
            out[name] = args[0] if args else hints[name]
        return out

    @classmethod
    def refuse_unknown(cls, names: Iterable[str], kind: str, where: str | None = None) -> None:
        """OptionError for the first name that is not an option of ``kind`` runs, with a "did you mean"."""
        for name in sorted(set(names) - cls.names()):
            close = difflib.get_close_matches(name, sorted(cls.names()), n=1)
            hint = f"; did you mean {flag_name(close[0])!r}?" if close else ""
            label = f"{where}: {name.replace('_', '-')}" if where else flag_name(name)
            raise OptionError(label, f"unknown {kind} option{hint}")

    # ----- checks ---------------------------------------------------------------------------------------
    def check(self) -> None:
        """Refuse values that cannot work, naming the flag: ranges and choices, then :meth:`check_more`."""
        for name, info in self.option_info().items():
            value = getattr(self, name)
            if value is None:
                continue
            flag = flag_name(name)
            if info.choices and value not in info.choices:
                raise OptionError(flag, f"unknown value {value!r}; use {', '.join(info.choices)}")
            if info.positive and not value > 0:
                raise OptionError(flag, f"must be positive, got {value}")
            if info.not_negative and value < 0:
                raise OptionError(flag, f"must not be negative, got {value}")
        self.check_more()

    def check_more(self) -> None:
        """Checks that involve several options (a recipe's options class overrides this)."""

    def check_networks(self) -> None:
        """OptionError when a network option names no registered network of its kind (imports the networks)."""
        from ganctl.models import list_models

        for name, info in self.option_info().items():
            value = getattr(self, name)
            if info.network and value is not None and value not in list_models(info.network):
                raise OptionError(flag_name(name), f"unknown {info.network} {value!r}; known: "
                                                   f"{', '.join(list_models(info.network))}")

    def values(self) -> dict[str, Any]:
        """The options as a plain dict (what config.json records)."""
        return dataclasses.asdict(self)


def merge_options(options_class: type[T], preset: Mapping[str, Any], *layers: Mapping[str, Any]) -> T:
    """The options: field defaults, then ``preset``, then each of ``layers`` (config file, flags) in turn.

    None in a layer means "not given" and keeps the value below it.
    """
    values = options_class.defaults()
    for i, layer in enumerate((preset, *layers)):
        given = dict(layer) if i == 0 else {k: v for k, v in layer.items() if v is not None}
        for group in options_class.exclusive:
            if any(name in given for name in group):
                values.update({name: None for name in group if name not in given})
        values.update(given)
    return options_class(**values)


def read_toml_options(path: str | os.PathLike, allowed: set[str], kind: str = "training") -> dict[str, Any]:
    """Option values from a TOML file; keys may use ``-`` or ``_``; unknown keys are refused with a hint.

    A file holding one table (``[train]``, ``[cyclegan]``, ...) is read as that table.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no such config file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path, f"is not valid TOML ({exc})") from None
    if len(data) == 1 and isinstance(next(iter(data.values())), dict):
        data = next(iter(data.values()))
    out = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in allowed:
            close = difflib.get_close_matches(name, sorted(allowed), n=1)
            hint = f"; did you mean {close[0].replace('_', '-')!r}?" if close else ""
            raise OptionError(f"{path.name}: {key}", f"unknown {kind} option{hint}")
        out[name] = value
    return out
