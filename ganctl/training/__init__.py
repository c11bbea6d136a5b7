"""Trainers (cyclegan; colorize and gan to come) on one shared loop (``loop.py``)."""

from ganctl.training.cyclegan import CycleGANOptions, train_cyclegan
from ganctl.training.loop import TrainLoop, TrainResult

__all__ = ["CycleGANOptions", "TrainLoop", "TrainResult", "train_cyclegan"]
