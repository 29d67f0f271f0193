"""The one training plan, its loops, the loss-record protocol and history type, and checkpoints."""

from crossscale.train.loop import fit_stacked, fit_then_refit
from crossscale.train.plan import TrainPlan, fit_epochs
from crossscale.train.record import LossRecord, TrainHistory

__all__ = ["LossRecord", "TrainHistory", "TrainPlan", "fit_epochs", "fit_stacked", "fit_then_refit"]
