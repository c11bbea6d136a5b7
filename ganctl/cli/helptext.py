"""Help text from docstrings: paragraphs kept, line breaks inside a paragraph joined (rich keeps them)."""

from __future__ import annotations

import inspect


def paragraphs(doc: str | None) -> str:
    """``doc`` as command help: dedented, each paragraph on one line, paragraphs apart."""
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(doc or "").split("\n\n"))
