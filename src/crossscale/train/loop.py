"""The shared training loop for stacked full-batch models and the refit policy.

:func:`fit_stacked` trains independent models stacked along the leading dimension of every
parameter (GraphVAE and its null refits, per-subject spread fits): each keeps its best weights, on
its own held-out data (early stopping) or on the training objective itself; :func:`fit_then_refit`
is the refit policy (choose each model's epoch on held-out data, then train afresh on all data to
that epoch). The optimiser and stopping rule are those of :class:`crossscale.train.plan.TrainPlan`;
models trained by mini-batches use :func:`crossscale.train.plan.fit_epochs`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from crossscale._errors import ParameterError
from crossscale._progress import progress
from crossscale.train.plan import TrainPlan
from crossscale.train.record import TrainHistory

logger = logging.getLogger(__name__)


def fit_stacked(
    module,  # noqa: ANN001 - torch.nn.Module with stacked parameters (leading dim n_models)
    loss_fn: Callable[..., Any],
    val_fn: Callable[..., Any] | None,
    *,
    n_models: int,
    plan: TrainPlan,
    description: str = "Training",
    keep_epochs: np.ndarray | None = None,
    keep_best: str = "val",
    subset: bool = False,
) -> TrainHistory:
    """Train stacked independent models by `plan`, full batch, each keeping its best weights.

    Adam's update is elementwise, so models stacked along the leading dimension of every parameter
    train exactly as they would alone; summing their losses only batches the work.

    Parameters
    ----------
    module : torch.nn.Module
        Every parameter has leading dimension `n_models`.
    loss_fn : callable
        ``loss_fn() -> LossRecord`` (:class:`~crossscale.train.record.LossRecord`) whose ``loss``
        and logged terms have shape (n_models,); called in train mode. With ``subset=True``:
        ``loss_fn(models)`` for the index tensor of the models still training, shape
        (len(models),).
    val_fn : callable or None
        ``val_fn() -> Tensor`` of shape (n_models,) (validation loss; called in eval mode without
        gradients; ``val_fn(models)`` with ``subset=True``).
    n_models : int
        Number of stacked models.
    plan : TrainPlan
        Optimiser (Adam, learning rate, weight decay), clipping (of the whole stack's gradient
        norm) and, with `val_fn`, early stopping: a model stops when its validation loss has not
        improved for ``plan.patience`` epochs (never before ``plan.min_epochs``; None: never);
        training ends when every model has stopped or after ``plan.max_epochs``.
    description : str
        Progress bar label.
    keep_epochs : numpy.ndarray of int, shape (n_models,), optional
        Without validation: keep each model's weights as they were after its own epoch
        (:func:`fit_then_refit`); training stops at the largest.
    keep_best : {"val", "train"}
        Without validation or `keep_epochs`: ``"train"`` keeps each model's weights with the
        lowest training loss (for models whose objective is the fit itself, e.g. per-subject
        least squares; the loss of epoch ``e`` is that of the weights after ``e - 1`` steps),
        ``"val"`` the last weights.
    subset : bool, default False
        Stopped models leave the computation: the losses are evaluated for the models still
        training only, so a stack costs what its running models cost (a stopped model's weights
        are restored from its best epoch at the end, whatever Adam does to them meanwhile).

    Returns
    -------
    TrainHistory
        Losses of models that had stopped are NaN; ``best_epoch`` 0 means the initial weights.

    Raises
    ------
    ParameterError
        `keep_best` is not ``"val"`` or ``"train"``, or ``"train"`` with `val_fn` or
        `keep_epochs`.
    """
    import torch

    if keep_best not in ("val", "train"):
        raise ParameterError(f"fit_stacked: keep_best must be 'val' or 'train'; got {keep_best!r}.")
    on_train = keep_best == "train"
    if on_train and (val_fn is not None or keep_epochs is not None):
        raise ParameterError(
            "fit_stacked: keep_best='train' selects on the training loss; pass val_fn=None and "
            "keep_epochs=None, or keep_best='val'."
        )
    t0 = time.perf_counter()
    params = list(module.parameters())
    device = params[0].device
    max_epochs = int(plan.max_epochs)
    patience = plan.patience if plan.patience is not None else max_epochs + 1
    opt = plan.optimizer(params)
    best_val = torch.full((n_models,), float("inf"), device=device)
    best_epoch = torch.zeros(n_models, dtype=torch.long, device=device)
    best_state = [p.detach().clone() for p in params]
    active = torch.ones(n_models, dtype=torch.bool, device=device)
    keep = None if keep_epochs is None else torch.as_tensor(keep_epochs, device=device)
    last = int(keep.max()) if keep is not None else max_epochs
    train_hist, val_hist = [], []
    terms: dict[str, list[np.ndarray]] = {}
    idx = torch.arange(n_models, device=device)

    def full(values: Any, where: Any) -> np.ndarray:
        out = np.full(n_models, np.nan)
        values = values.detach().cpu().numpy() if hasattr(values, "detach") else values
        out[where.cpu().numpy()] = values
        return out

    def keep_where(sel: Any, value: Any, epoch: int) -> None:
        where = idx[sel]
        best_val[where] = value[sel]
        best_epoch[where] = epoch
        with torch.no_grad():
            for b, p in zip(best_state, params, strict=True):
                b[where] = p.detach()[where]

    epoch = 0
    with progress(description, total=max_epochs) as bar:
        for epoch in range(1, max_epochs + 1):
            module.train()
            opt.zero_grad(set_to_none=True)
            rec = loss_fn(idx) if subset else loss_fn()
            if on_train:  # the weights that gave this loss are those before this epoch's step
                loss = rec.loss.detach()
                keep_where(loss < best_val, loss, epoch - 1)
            rec.loss.sum().backward()
            plan.clip(params)
            opt.step()
            logged = rec.to_dict()
            train_hist.append(full(logged.pop("loss"), idx))
            for k, v in logged.items():
                terms.setdefault(k, [np.full(n_models, np.nan)] * (epoch - 1)).append(full(v, idx))
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
                keep_where(improved, val, epoch)
            if epoch >= plan.min_epochs:
                active[idx] &= (epoch - best_epoch[idx]) < patience
                if subset:
                    idx = torch.nonzero(active).flatten()
            bar.advance()
            if not active.any():
                break
        bar.update(completed=max_epochs)
    if val_fn is not None or keep is not None or on_train:
        with torch.no_grad():
            for b, p in zip(best_state, params, strict=True):
                p.copy_(b)
    if val_fn is None and not on_train:
        best_epoch[:] = keep if keep is not None else epoch
    module.eval()
    logger.debug("trained %d model(s) for %d epochs", n_models, epoch)
    return TrainHistory(
        loss=np.asarray(train_hist),
        val_loss=np.asarray(val_hist),
        best_epoch=best_epoch.cpu().numpy(),
        n_epochs=epoch,
        terms={k: np.asarray(v) for k, v in terms.items()},
        seconds=time.perf_counter() - t0,
    )


def fit_then_refit(
    build: Callable[[], Any],
    train: Callable[..., TrainHistory],
    *,
    validate: bool,
    refit: bool,
) -> tuple[Any, TrainHistory]:
    """The refit policy: choose each model's epoch on held-out data, then retrain on all data.

    ``module = build()`` and ``train(module, validate=True)`` train with early stopping on the
    held-out part (:func:`fit_stacked` with a `val_fn`). With `refit`, a fresh ``build()`` is
    trained on all the data without validation, each model stopped at its own chosen epoch:
    ``train(module, validate=False, max_epochs=max(best), keep_epochs=best)``, so the held-out
    data chose when to stop but also contribute to the weights (Prechelt 1998, "early stopping
    -- but when?", the retrain-on-all variant).

    Parameters
    ----------
    build : callable
        ``build() -> torch.nn.Module``; the same call gives the same initial weights.
    train : callable
        ``train(module, *, validate, max_epochs=None, keep_epochs=None) -> TrainHistory``.
    validate : bool
        Whether held-out data exist (without them there is nothing to refit for).
    refit : bool
        Retrain on all the data after choosing the epochs.

    Returns
    -------
    module : torch.nn.Module
        The model whose weights are used (the refitted one when refitting).
    history : TrainHistory
        History of the first (validated) training, whose ``best_epoch`` are the chosen epochs.

    References
    ----------
    .. [1] Prechelt L. (1998). Early stopping -- but when? In Neural Networks: Tricks of the
       Trade, LNCS 1524, 55-69.
    """
    module = build()
    hist = train(module, validate=validate)
    if validate and refit:
        module = build()
        train(module, validate=False, max_epochs=int(hist.best_epoch.max()),
              keep_epochs=hist.best_epoch)  # fmt: skip
    return module, hist
