"""The classifiers the metrics read, trained by their recipes on first use: the digit classifier (the installed
one) and each photo dataset's domain classifier (keyed by the dataset's content).

Kept apart from :mod:`ganctl.metrics.digits` and :mod:`ganctl.metrics.domain` (the classifiers' files and
features), which the recipes themselves use: training from there would make an import circle.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ganctl import console
from ganctl.metrics.digits import TrainedClassifier, classifier_path, load_classifier
from ganctl.metrics.domain import TrainedDomainClassifier

if TYPE_CHECKING:
    import torch

# The domain-classifier preset the metrics train and look up (tests use "smoke" for speed).
DOMAIN_PRESET = "default"


def get_classifier(device: torch.device | str = "cpu", source: str | os.PathLike | None = None) -> TrainedClassifier:
    """The installed classifier, trained first (``ganctl train classifier``'s defaults) when there is none.

    ``source``: MNIST's IDX folder for that first training (default: the cache, downloaded when missing).
    The training run's folder is temporary; only the installed classifier is kept.
    """
    import tempfile

    from ganctl.data.mnist import MnistOffline
    from ganctl.training.runner import train

    path = classifier_path()
    if not path.exists():
        console.info(f"no digit classifier in {path.parent}: training one on MNIST (once; installed for later runs)")
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".classifier-run-", dir=path.parent) as run:
            try:
                train("classifier", source=None if source is None else str(source), run=run, device="cpu",
                      out=str(path))
            except MnistOffline as exc:
                raise exc.with_hint(" or install the classifier first with: ganctl train classifier --source DIR") \
                    from None
    return load_classifier(path, device)


def get_domain_classifier(data: str | os.PathLike, device: torch.device | str = "cpu") -> TrainedDomainClassifier:
    """The domain classifier of the dataset ``data`` (a folder with trainA/ trainB/, or a named dataset).

    Looked up in the weights cache under the dataset's content key with ``ganctl train domain-classifier``'s
    default settings, and trained with them first (once, seeded) when it is not there. The training run's folder is
    temporary; only the installed classifier is kept.
    """
    import tempfile

    from ganctl.metrics.domain import KIND, load_domain_classifier
    from ganctl.training.options import merge_options
    from ganctl.training.recipe import get_recipe
    from ganctl.training.runner import train

    # The recipe through the registry: importing its module here would close an import circle (its evaluation
    # reads ganctl.metrics.evaluation, which reads fid, which reads this module).
    recipe: Any = get_recipe(KIND)
    folders = recipe.find_data(str(data))
    opts = merge_options(recipe.options, recipe.presets[DOMAIN_PRESET], {"data": str(folders.root)})
    path = recipe.install_path(opts, folders)
    if not path.exists():
        console.info(f"no domain classifier for {folders.root} in {path.parent}: training one (once; kept for "
                     f"later runs)")
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".domain-classifier-run-", dir=path.parent) as run:
            train(KIND, str(folders.root), run=run, preset=DOMAIN_PRESET, device="cpu", out=str(path))
    return load_domain_classifier(path, device)
