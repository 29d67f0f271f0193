"""The shared training loop for stacked full-batch models (GraphVAE and its null refits).

Each model stops early on its own held-out regions and keeps its best weights. The optimiser is
the one of :class:`crossscale.train.plan.TrainPlan`; models trained by mini-batches use
:func:`crossscale.train.plan.fit_epochs`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from crossscale._progress import progress
from crossscale.train.plan import TrainPlan

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
    loss_fn: Callable[..., object],
    val_fn: Callable[..., object] | None,
    *,
    n_models: int,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    max_epochs: int = 2000,
    patience: int = 100,
    min_epochs: int = 50,
    description: str = "Training",
    keep_epochs: np.ndarray | None = None,
    subset: bool = False,
    plan: TrainPlan | None = None,
) -> TrainHistory:
    """Train stacked independent models with Adam, full batch, early stopping per model.

    Adam's update is elementwise, so models stacked along the leading dimension of every parameter
    train exactly as they would alone; summing their losses only batches the work.

    Parameters
    ----------
    module : torch.nn.Module
        Every parameter has leading dimension `n_models`.
    loss_fn : callable
        ``loss_fn() -> LossRecord`` with per-model terms of shape (n_models,); called in train
        mode. With ``subset=True``: ``loss_fn(models)`` for the index tensor of the models still
        training, terms of shape (len(models),).
    val_fn : callable or None
        ``val_fn() -> Tensor`` of shape (n_models,) (validation loss; called in eval mode without
        gradients; ``val_fn(models)`` with ``subset=True``). None trains for `max_epochs` and
        keeps the last weights (or those at `keep_epochs`).
    n_models : int
        Number of stacked models.
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
    subset : bool, default False
        Stopped models leave the computation: the losses are evaluated for the models still
        training only, so a stack costs what its running models cost (a stopped model's weights
        are restored from its best epoch at the end, whatever Adam does to them meanwhile).
    plan : TrainPlan or None
        Optimiser policy (default ``TrainPlan(lr=lr, weight_decay=weight_decay)``); its
        `clip_norm`, if set, clips the gradient norm of the whole stack before each step.

    Returns
    -------
    TrainHistory
        Losses of models that had stopped are NaN.
    """
    import torch

    params = list(module.parameters())
    device = params[0].device
    plan = TrainPlan(lr=lr, weight_decay=weight_decay) if plan is None else plan
    opt = plan.optimizer(params)
    best_val = torch.full((n_models,), float("inf"), device=device)
    best_epoch = torch.zeros(n_models, dtype=torch.long, device=device)
    best_state = [p.detach().clone() for p in params]
    active = torch.ones(n_models, dtype=torch.bool, device=device)
    keep = None if keep_epochs is None else torch.as_tensor(keep_epochs, device=device)
    last = int(keep.max()) if keep is not None else max_epochs
    train_hist, val_hist = [], []
    terms: dict[str, list[np.ndarray]] = {"mse": [], "smoothness": [], "kl": []}
    idx = torch.arange(n_models, device=device)

    def full(values: object, where: object) -> np.ndarray:
        out = np.full(n_models, np.nan)
        out[where.cpu().numpy()] = values.detach().cpu().numpy()
        return out

    epoch = 0
    with progress(description, total=max_epochs) as bar:
        for epoch in range(1, max_epochs + 1):
            module.train()
            opt.zero_grad(set_to_none=True)
            rec = loss_fn(idx) if subset else loss_fn()
            rec.total.sum().backward()
            plan.clip(params)
            opt.step()
            train_hist.append(full(rec.total, idx))
            for k in terms:
                terms[k].append(full(getattr(rec, k), idx))
            if val_fn is None:
                val_hist.append(np.full(n_models, np.nan))
                if keep is not None and (keep == epoch).any():
                    sel = keep == epoch
                    with torch.no_grad():
                        for b, p in zip(best_state, params, strict=True):
                            b[sel] = p.detach()[sel]
                bar.advance()
                if epoch >= last:
                    break
                continue
            module.eval()
            with torch.no_grad():
                val = (val_fn(idx) if subset else val_fn()).detach()
            if not subset:
                val = val[idx]
            val_hist.append(full(val, idx))
            improved = (val < best_val[idx]) & active[idx]
            if improved.any():
                where = idx[improved]
                best_val[where] = val[improved]
                best_epoch[where] = epoch
                with torch.no_grad():
                    for b, p in zip(best_state, params, strict=True):
                        b[where] = p.detach()[where]
            if epoch >= min_epochs:
                active[idx] &= (epoch - best_epoch[idx]) < patience
                if subset:
                    idx = torch.nonzero(active).flatten()
            bar.advance()
            if not active.any():
                break
        bar.update(completed=max_epochs)
    if val_fn is not None or keep is not None:
        with torch.no_grad():
            for b, p in zip(best_state, params, strict=True):
                p.copy_(b)
    if val_fn is None:
        best_epoch[:] = keep if keep is not None else epoch
    module.eval()
    logger.debug("trained %d model(s) for %d epochs", n_models, epoch)
    return TrainHistory(
        train_loss=np.asarray(train_hist),
        val_loss=np.asarray(val_hist),
        best_epoch=best_epoch.cpu().numpy(),
        n_epochs=epoch,
        terms={k: np.asarray(v) for k, v in terms.items()},
    )
