"""The shared training loop: full-batch Adam over stacked independent models.

Each model stops early on its own held-out regions and keeps its best weights.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from crossscale._progress import progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainHistory:
    """What happened during training.

    Attributes
    ----------
    train_loss, val_loss : numpy.ndarray, shape (n_epochs, n_models)
        Loss per epoch and model (val_loss is NaN without validation regions).
    best_epoch : numpy.ndarray of int, shape (n_models,)
        Epoch whose weights each model keeps.
    n_epochs : int
        Epochs run (the slowest model's stop).
    terms : dict of str to numpy.ndarray, shape (n_epochs, n_models)
        The loss terms (mse, smoothness, kl) per epoch.
    """

    train_loss: np.ndarray
    val_loss: np.ndarray
    best_epoch: np.ndarray
    n_epochs: int
    terms: dict[str, np.ndarray] = field(default_factory=dict)

    def to_frame(self, model: int = 0):  # noqa: ANN201 - pandas imported lazily
        """History of one model as a DataFrame (epoch, train_loss, val_loss, terms)."""
        import pandas as pd

        data = {"epoch": np.arange(1, self.n_epochs + 1), "train_loss": self.train_loss[:, model],
                "val_loss": self.val_loss[:, model]}  # fmt: skip
        data |= {k: v[:, model] for k, v in self.terms.items()}
        return pd.DataFrame(data)


def fit_stacked(
    module,  # noqa: ANN001 - torch.nn.Module with stacked parameters (leading dim n_models)
    loss_fn: Callable[[], object],
    val_fn: Callable[[], object] | None,
    *,
    n_models: int,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    max_epochs: int = 2000,
    patience: int = 100,
    min_epochs: int = 50,
    description: str = "Training",
    keep_epochs: np.ndarray | None = None,
) -> TrainHistory:
    """Train stacked independent models with Adam, full batch, early stopping per model.

    Adam's update is elementwise, so models stacked along the leading dimension of every parameter
    train exactly as they would alone; summing their losses only batches the work.

    Parameters
    ----------
    module : torch.nn.Module
        Every parameter has leading dimension `n_models`.
    loss_fn : callable
        ``loss_fn() -> LossRecord`` with per-model terms of shape (n_models,); called in train mode.
    val_fn : callable or None
        ``val_fn() -> Tensor`` of shape (n_models,) (validation loss; called in eval mode without
        gradients). None trains for `max_epochs` and keeps the last weights.
    n_models : int
    lr : float
        Adam learning rate.
    weight_decay : float
        L2 penalty (Adam's coupled weight decay).
    max_epochs, patience, min_epochs : int
        Stop a model when its validation loss has not improved for `patience` epochs (but not
        before `min_epochs`); stop training when every model has stopped.
    description : str
        Progress bar label.
    keep_epochs : numpy.ndarray of int, shape (n_models,), optional
        Without validation: keep each model's weights as they were after its own epoch
        (e.g. the epochs chosen by early stopping, when refitting on all regions).

    Returns
    -------
    TrainHistory
    """
    import torch

    params = list(module.parameters())
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    best_val = torch.full((n_models,), float("inf"))
    best_epoch = torch.zeros(n_models, dtype=torch.long)
    best_state = [p.detach().clone() for p in params]
    active = torch.ones(n_models, dtype=torch.bool)
    train_hist, val_hist = [], []
    terms: dict[str, list[np.ndarray]] = {"mse": [], "smoothness": [], "kl": []}
    epoch = 0
    with progress(description, total=max_epochs) as bar:
        for epoch in range(1, max_epochs + 1):
            module.train()
            opt.zero_grad(set_to_none=True)
            rec = loss_fn()
            rec.total.sum().backward()
            # models that have stopped keep training in the batch; their best weights are
            # restored at the end
            opt.step()
            train_hist.append(rec.total.detach().numpy().copy())
            for k in terms:
                terms[k].append(getattr(rec, k).detach().numpy().copy())
            if val_fn is None:
                val_hist.append(np.full(n_models, np.nan))
                if keep_epochs is not None and (keep_epochs == epoch).any():
                    sel = torch.as_tensor(keep_epochs == epoch, device=params[0].device)
                    with torch.no_grad():
                        for b, p in zip(best_state, params, strict=True):
                            b[sel] = p.detach()[sel]
                bar.advance()
                continue
            module.eval()
            with torch.no_grad():
                val = val_fn().detach()
            val_hist.append(val.numpy().copy())
            improved = (val < best_val) & active
            if improved.any():
                best_val = torch.where(improved, val, best_val)
                best_epoch[improved] = epoch
                with torch.no_grad():
                    for b, p in zip(best_state, params, strict=True):
                        b[improved] = p.detach()[improved]
            if epoch >= min_epochs:
                active &= (epoch - best_epoch) < patience
            bar.advance()
            if not active.any():
                break
        bar.update(completed=max_epochs)
    if val_fn is not None or keep_epochs is not None:
        with torch.no_grad():
            for b, p in zip(best_state, params, strict=True):
                p.copy_(b)
    if val_fn is None:
        best_epoch[:] = torch.as_tensor(keep_epochs) if keep_epochs is not None else epoch
    module.eval()
    logger.debug("trained %d model(s) for %d epochs", n_models, epoch)
    return TrainHistory(
        train_loss=np.asarray(train_hist),
        val_loss=np.asarray(val_hist),
        best_epoch=best_epoch.numpy(),
        n_epochs=epoch,
        terms={k: np.asarray(v) for k, v in terms.items()},
    )
