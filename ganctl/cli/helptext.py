"""Help text: docstrings made into paragraphs, and the help of options that several commands share."""

from __future__ import annotations

import inspect


def paragraphs(doc: str | None) -> str:
    """``doc`` as command help: dedented, each paragraph on one line, paragraphs apart."""
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(doc or "").split("\n\n"))


EVAL_MODE_HELP = ("For generators with batch norm or dropout (pix2pix, colorize, U-Net CycleGANs): eval mode, running "
                  "statistics and no dropout. Default: as the papers test them, dropout on (seeded: the same output "
                  "every run) and batch norm on each image's own statistics.")
