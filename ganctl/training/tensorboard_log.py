"""``--logger tensorboard``: the run's losses, learning rate and sample grids as TensorBoard events.

The events go to ``RUN/tensorboard/`` (``tensorboard --logdir RUN``) beside ``metrics.jsonl`` and
``report.html``, which are always written. The writer is flushed with every checkpoint and closed when the
loop ends however it ends. A resumed run opens it with ``purge_step`` = the checkpoint's step + 1, so TensorBoard
drops what an earlier process logged after that checkpoint and every step appears once.

The ``tensorboard`` package is an optional extra (``pip install 'ganctl[tensorboard]'``);
:func:`require_tensorboard` refuses the option before any work when it is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

from ganctl.errors import OptionError

LOGGERS = ("jsonl", "tensorboard")
FOLDER = "tensorboard"


def require_tensorboard() -> None:
    """OptionError (one line, exit 2) when TensorBoard's event writer cannot be imported."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise OptionError("--logger", "tensorboard needs the tensorboard package: "
                                      "pip install 'ganctl[tensorboard]'") from None


class TensorBoardLog:
    """Scalars and images of one run, written under ``run_dir/tensorboard/``."""

    def __init__(self, run_dir: str | os.PathLike, purge_step: int | None = None):
        from torch.utils.tensorboard import SummaryWriter

        self.folder = Path(run_dir) / FOLDER
        self.writer = SummaryWriter(str(self.folder), purge_step=purge_step)

    def scalars(self, step: int, values: dict[str, float], prefix: str) -> None:
        """``values`` as scalars tagged ``prefix/name`` at ``step``."""
        for name, value in values.items():
            self.writer.add_scalar(f"{prefix}/{name}", value, step)

    def image(self, tag: str, path: str | os.PathLike, step: int) -> None:
        """The image file ``path`` (a sample grid just written) as image ``tag`` at ``step``."""
        from ganctl.data.imageio import read_image

        self.writer.add_image(tag, read_image(path, "RGB"), step)

    def flush(self) -> None:
        """Write what is pending to the event file."""
        self.writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()
