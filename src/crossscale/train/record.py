"""The one loss-record protocol and the one history type of every model's training.

Every model's ``nn.Module.loss`` returns a :class:`LossRecord` (a subclass adds its own terms as
fields); every training loop of :mod:`crossscale.train` reads only ``record.loss`` (what it
back-propagates) and ``record.to_dict()`` (what it logs), and every fitted estimator's
``history_`` is a :class:`TrainHistory`, whatever the model (scvi-tools' ``LossOutput`` and its
training plan's logged history play the same roles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class LossRecord:
    """What one loss evaluation returns.

    Attributes
    ----------
    loss : torch.Tensor, shape () or (n_models,)
        The objective to minimise, carrying the gradient: a scalar for one model, one value per
        model for stacked independent models (:func:`~crossscale.train.loop.fit_stacked`
        back-propagates their sum).

    A model subclasses it to add its terms (tensors of the shape of ``loss``, or floats);
    :meth:`to_dict` logs every field except those named in :attr:`not_logged` and those that
    are None.
    """

    loss: Any

    #: Fields that are outputs, not loss terms (e.g. a per-subject ELBO), left out of the history.
    not_logged: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """The logged terms, ``loss`` first: floats (scalar losses) or arrays (n_models,)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self.not_logged or value is None:
                continue
            if hasattr(value, "detach"):
                value = value.detach().cpu().numpy()
                value = float(value) if value.ndim == 0 else value.astype(float)
            out[f.name] = value
        return out


@dataclass(frozen=True)
class TrainHistory:
    """What training did: losses per epoch (and model), the kept epoch, the time.

    One type for every model: a single model is a stack of one (``n_models = 1``).

    Attributes
    ----------
    loss : numpy.ndarray, shape (n_epochs, n_models)
        Training loss per epoch (mean over the epoch's steps); NaN for a model that had stopped.
    val_loss : numpy.ndarray, shape (n_epochs, n_models)
        Validation loss per epoch (NaN without validation).
    best_epoch : numpy.ndarray of int, shape (n_models,)
        1-based epoch whose weights each model keeps (0: its initial weights).
    n_epochs : int
        Epochs run (the slowest model's stop).
    terms : dict of str to numpy.ndarray, shape (n_epochs, n_models)
        Every other term the loss record logged (:meth:`LossRecord.to_dict`).
    seconds : float
        Wall-clock seconds of the training (NaN when not measured, e.g. after loading).
    """

    loss: np.ndarray
    val_loss: np.ndarray
    best_epoch: np.ndarray
    n_epochs: int
    terms: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = math.nan

    @property
    def n_models(self) -> int:
        """Number of stacked models."""
        return int(self.loss.shape[1]) if self.loss.ndim == 2 else 1

    @classmethod
    def from_losses(cls, loss: np.ndarray, *, seconds: float = math.nan) -> TrainHistory:
        """History of one model trained without validation, from its losses, shape (n_epochs,)."""
        loss = np.asarray(loss, float).reshape(-1, 1)
        return cls(loss=loss, val_loss=np.full_like(loss, np.nan),
                   best_epoch=np.array([len(loss)]), n_epochs=len(loss), seconds=seconds)  # fmt: skip

    def to_frame(self, model: int = 0):  # noqa: ANN201 - pandas imported lazily
        """History of one model as a DataFrame.

        Columns ``epoch`` (1-based), ``loss``, ``val_loss`` (only with validation), the terms.
        """
        import pandas as pd

        data = {"epoch": np.arange(1, self.n_epochs + 1), "loss": self.loss[:, model]}
        if np.isfinite(self.val_loss[:, model]).any():
            data["val_loss"] = self.val_loss[:, model]
        data |= {k: v[:, model] for k, v in self.terms.items()}
        return pd.DataFrame(data)
