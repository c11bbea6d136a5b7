"""Digit palettes for colour MNIST: ten RGB colours, index = digit.

Contract (other modules rely on it):

- ``get_palette(name_or_file) -> list[tuple[int, int, int]]``: ten ``(r, g, b)`` tuples in 0..255,
  ``palette[d]`` is the colour of digit ``d``. ``name_or_file`` is a built-in name (see ``PALETTES``) or a
  JSON file: either a list of ten colours or ``{"colors": [...]}``; a colour is ``[r, g, b]`` or
  ``"#rrggbb"``. An unknown name, a missing file or a malformed one raises ``OptionError("--palette", ...)``.
- ``PALETTES``: the built-in palettes by name: ``gray``, ``mnist1``, ``mnist2``.

How a palette colours a digit: MNIST digits are white strokes on a black background; a coloured digit is the
digit's intensity times its colour, on black (``pixel = intensity / 255 * colour``). ``gray`` is white for
every digit, i.e. the original MNIST image, and is saved as a 1-channel image. A palette whose colours are
all grey (r == g == b) is 1-channel, any other is RGB (:func:`palette_channels`).

``mnist1`` and ``mnist2`` hold the same ten clearly distinct, bright colours, in a different order: every
digit has a different colour in ``mnist2`` than in ``mnist1`` (``mnist2[d] = mnist1[(d + 5) % 10]``), so a
translator between the two must recognise the digit, not just shift hues.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ganctl.errors import OptionError

Color = tuple[int, int, int]

_MNIST1: list[Color] = [
    (230, 25, 75),    # 0 red
    (60, 180, 75),    # 1 green
    (255, 225, 25),   # 2 yellow
    (0, 130, 200),    # 3 blue
    (245, 130, 48),   # 4 orange
    (145, 30, 180),   # 5 purple
    (70, 240, 240),   # 6 cyan
    (240, 50, 230),   # 7 magenta
    (210, 245, 60),   # 8 lime
    (250, 190, 212),  # 9 pink
]

PALETTES: dict[str, list[Color]] = {
    "gray": [(255, 255, 255)] * 10,
    "mnist1": list(_MNIST1),
    "mnist2": [_MNIST1[(d + 5) % 10] for d in range(10)],
}

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def _parse_color(value: object, where: str) -> Color:
    """One colour from ``[r, g, b]`` or ``"#rrggbb"``."""
    if isinstance(value, str):
        match = _HEX.match(value.strip())
        if not match:
            raise OptionError("--palette", f"{where}: {value!r} is not a colour like \"#ff8800\"")
        h = match.group(1)
        return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(
        isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value
    ):
        return (int(value[0]), int(value[1]), int(value[2]))
    raise OptionError("--palette", f"{where}: {value!r} is not a colour [r, g, b] with values 0-255")


def load_palette_file(path: str | os.PathLike) -> list[Color]:
    """Read a palette JSON file: ten colours, as a list or under ``"colors"``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OptionError("--palette", f"{path}: cannot read ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OptionError("--palette", f"{path}: not valid JSON ({exc})") from None
    if isinstance(data, dict):
        data = data.get("colors", data.get("colours"))
    if not isinstance(data, list) or len(data) != 10:
        raise OptionError("--palette", f"{path}: expected a list of 10 colours (one per digit), "
                                       f"or {{\"colors\": [...]}}")
    return [_parse_color(c, f"{path} digit {d}") for d, c in enumerate(data)]


def get_palette(name_or_file: str | os.PathLike, option: str = "--palette") -> list[Color]:
    """The ten colours of a built-in palette name or a palette JSON file (see the module docstring); errors name
    ``option``, the flag that gave it (``--a``, ``--b``)."""
    key = str(name_or_file)
    if key in PALETTES:
        return list(PALETTES[key])
    try:
        if key.lower().endswith(".json") or Path(key).is_file():
            if not Path(key).is_file():
                raise OptionError(option, f"{key}: no such palette file")
            return load_palette_file(key)
    except OptionError as exc:
        raise OptionError(option, exc.problem) from None
    raise OptionError(option, f"unknown palette {key!r}; use one of {', '.join(PALETTES)} or a .json file")


def palette_channels(palette: list[Color]) -> int:
    """1 when every colour is a grey (r == g == b), else 3."""
    return 1 if all(r == g == b for r, g, b in palette) else 3


def palette_label(name_or_file: str | os.PathLike) -> str:
    """How a palette is recorded in dataset.json: the built-in name, or the file's absolute path."""
    key = str(name_or_file)
    return key if key in PALETTES else str(Path(key).resolve())
