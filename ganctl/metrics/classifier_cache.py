"""The digit classifier the digit metrics read: the installed one, trained by the classifier recipe on first use.

Kept apart from :mod:`ganctl.metrics.digits` (the classifier's file and features), which the classifier
recipe itself uses: training from there would make an import circle.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ganctl import console
from ganctl.metrics.digits import TrainedClassifier, classifier_path, load_classifier

if TYPE_CHECKING:
    import torch


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
