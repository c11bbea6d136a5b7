"""Learning-rate schedules: constant, then linear decay to zero (the CycleGAN recipe), counted in steps."""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


class LinearDecay:
    """Factor 1 for ``epochs`` epochs, then linearly down to 0 over ``decay_epochs`` epochs.

    The factor is evaluated per optimiser step (fractional epochs), so it is exact for any
    ``--max-steps`` and resumes at the same value. A callable object (not a lambda) so that
    ``LambdaLR.state_dict`` can store it.
    """

    def __init__(self, epochs: int, decay_epochs: int, steps_per_epoch: int):
        self.epochs = int(epochs)
        self.decay_epochs = int(decay_epochs)
        self.steps_per_epoch = max(1, int(steps_per_epoch))

    def __call__(self, step: int) -> float:
        epoch = step / self.steps_per_epoch
        if epoch < self.epochs or self.decay_epochs <= 0:
            return 1.0
        return max(0.0, 1.0 - (epoch - self.epochs) / self.decay_epochs)


def linear_decay_scheduler(optimizer: Optimizer, epochs: int, decay_epochs: int, steps_per_epoch: int) -> LambdaLR:
    """A LambdaLR stepping once per training step with :class:`LinearDecay`."""
    return LambdaLR(optimizer, LinearDecay(epochs, decay_epochs, steps_per_epoch))


def set_linear_decay(scheduler: LambdaLR, epochs: int, decay_epochs: int, steps_per_epoch: int) -> None:
    """Point a :func:`linear_decay_scheduler` at a new schedule (loading a scheduler's state restores the old one)."""
    scheduler.lr_lambdas = [LinearDecay(epochs, decay_epochs, steps_per_epoch) for _ in scheduler.lr_lambdas]
