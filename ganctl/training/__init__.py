"""Training: one registered recipe per method (:mod:`ganctl.training.recipe`) on one generic runner.

A new recipe is one module plus its name on the import line below. ``train(kind, data, **options)``
trains any registered recipe (``list_recipes()``); ``train_cyclegan``,
``train_colorize`` and ``train_gan`` name one. Importing this package imports no torch: the recipes
(and so ``ganctl train --help``) load instantly, and the runner and loop load when training starts.
"""

from __future__ import annotations

import importlib
from typing import Any

from ganctl.training import (  # noqa: F401  (each registers its recipe)
    classifier,
    colorize,
    cut,
    cyclegan,
    domain_classifier,
    gan,
    pix2pix,
)
from ganctl.training.recipe import Recipe, get_recipe, list_recipes, register_recipe

_LAZY = {"train": "runner", "train_cyclegan": "runner", "train_colorize": "runner", "train_gan": "runner",
         "TrainLoop": "loop", "TrainResult": "loop"}

__all__ = ["Recipe", "get_recipe", "list_recipes", "register_recipe", *_LAZY]


def __getattr__(name: str) -> Any:
    """The runner's and loop's names, imported (with torch) on first use."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"ganctl.training.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ganctl.training' has no attribute {name!r}")
