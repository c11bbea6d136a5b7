"""Trainer options: read from a ``--config FILE.toml`` (flat keys named like the command-line options), checked."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from ganctl.errors import InputError, OptionError
from ganctl.models import list_models
from ganctl.training.context import PRECISIONS

T = TypeVar("T", bound="TrainOptions")


def read_toml_options(path: str | os.PathLike, allowed: set[str]) -> dict[str, Any]:
    """Read option values from a TOML file; keys may use ``-`` or ``_``; unknown keys are refused.

    A ``[train]`` or ``[cyclegan]``-style single table is accepted too (its keys are used).
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
            raise OptionError(f"{path.name}: {key}", f"unknown option{hint}")
        out[name] = value
    return out


class TrainOptions:
    """Base of the trainers' option dataclasses: their names, the unknown-option check, saved values."""

    @classmethod
    def names(cls) -> set[str]:
        """The option names (for config files and resume checks)."""
        return {f.name for f in fields(cls)}

    @classmethod
    def refuse_unknown(cls, options: Iterable[str], kind: str) -> None:
        """OptionError naming the first (sorted) of ``options`` that is not an option of ``kind`` runs."""
        unknown = set(options) - cls.names()
        if unknown:
            raise OptionError(sorted(unknown)[0], f"unknown {kind} option")

    @classmethod
    def from_values(cls: type[T], values: dict[str, Any]) -> T:
        """The options from saved values; names that are not options are left out."""
        return cls(**{k: v for k, v in values.items() if k in cls.names()})


def check_positive(values: dict[str, float | None]) -> None:
    """OptionError for the first value (keyed by its flag) that is given but not positive."""
    for name, value in values.items():
        if value is not None and value <= 0:
            raise OptionError(name, f"must be positive, got {value}")


def check_not_negative(values: dict[str, float | None]) -> None:
    """OptionError for the first value (keyed by its flag) that is given and negative."""
    for name, value in values.items():
        if value is not None and value < 0:
            raise OptionError(name, f"must not be negative, got {value}")


def check_load_size(load_size: int | None, size: int | None) -> None:
    """OptionError when ``--load-size`` is smaller than the ``--size`` cropped from it."""
    if load_size is not None and size is not None and load_size < size:
        raise OptionError("--load-size", f"{load_size} is smaller than --size {size}")


def check_precision(precision: str) -> None:
    """OptionError when ``--precision`` is not a known mode."""
    if precision not in PRECISIONS:
        raise OptionError("--precision", f"unknown precision {precision!r}; use {', '.join(PRECISIONS)}")


def check_networks(generator: str | None, discriminator: str | None) -> None:
    """OptionError when ``--generator`` or ``--discriminator`` names no registered network of its kind."""
    for option, name, kind in (("--generator", generator, "generator"),
                               ("--discriminator", discriminator, "discriminator")):
        if name is not None and name not in list_models(kind):
            raise OptionError(option, f"unknown {kind} {name!r}; known: {', '.join(list_models(kind))}")
