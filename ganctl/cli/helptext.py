"""Help text: docstrings made into paragraphs, and the help of options that several commands share."""

from __future__ import annotations

import inspect


def paragraphs(doc: str | None) -> str:
    """``doc`` as command help: dedented, each paragraph on one line, paragraphs apart."""
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(doc or "").split("\n\n"))


EVAL_MODE_HELP = ("For generators with batch norm or dropout (pix2pix, colorize, U-Net CycleGANs): eval mode, running "
                  "statistics and no dropout. Default: as the papers test them, dropout on (seeded: the same output "
                  "every run) and batch norm on each image's own statistics.")


def direction_or_old_spelling(direction: str | None, old_d: str | None) -> str | None:
    """``--direction``, or its value from the old ``-d`` spelling of translate and export.

    ``-d`` means ``--data`` in every command that takes data; translate and export still accept ``-d a2b``
    (hidden from their help) and say once which spelling to use. Both given and different is an error.
    """
    from ganctl import console
    from ganctl.errors import OptionError

    if old_d is None:
        return direction
    if direction is not None and direction.lower() != old_d.lower():
        raise OptionError("--direction", f"given twice: --direction {direction} and -d {old_d}")
    console.warn(f"-d {old_d} is the old spelling of --direction {old_d} here (-d means --data in train, eval "
                 "and viz); it still works")
    return old_d
