"""Options from a ``--config FILE.toml``: flat keys named like the command-line options."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from ganctl.errors import InputError, OptionError


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
