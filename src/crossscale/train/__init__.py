"""The shared training loop, early stopping and checkpoints."""

from crossscale.train.loop import TrainHistory, fit_stacked

__all__ = ["TrainHistory", "fit_stacked"]
