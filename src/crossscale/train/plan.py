"""The training plan every model follows: optimiser, schedule, clipping, warm-ups, early stopping.

:class:`TrainPlan` holds the policy (Adam, its learning rate and weight decay, a constant or cosine
schedule, gradient-norm clipping, patience); :func:`linear_warmup` and :func:`in_warmup` are the
warm-up rules (a weight rising linearly, a phase held fixed); :func:`fit_epochs` runs the plan for
a model trained by (mini-)batches, with optional early stopping that restores the best weights.
:func:`crossscale.train.loop.fit_stacked` runs the same plan for stacked full-batch models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from crossscale._errors import ParameterError
from crossscale._progress import progress
from crossscale.train.record import LossRecord, TrainHistory

logger = logging.getLogger(__name__)

SCHEDULES: tuple[str, ...] = ("constant", "cosine")


@dataclass(frozen=True)
class TrainPlan:
    """How a model is optimised.

    Parameters
    ----------
    lr : float
        Adam learning rate (> 0).
    weight_decay : float
        Adam's (coupled) L2 penalty (>= 0).
    max_epochs : int
        Epochs (passes, or steps for models trained one batch per epoch), >= 1.
    schedule : {"constant", "cosine"}
        Learning rate over the epochs: constant, or cosine annealing from `lr` to
        ``lr * final_lr_factor`` over `max_epochs` (stepped once per epoch).
    final_lr_factor : float
        Final learning rate of the cosine schedule as a fraction of `lr`.
    clip_norm : float or None
        Clip the global gradient norm to this value before every step (None: no clipping).
    patience : int or None
        Early stopping: stop when the validation loss has not improved for `patience` epochs
        (never before `min_epochs`) and restore the best epoch's weights. None: no early stopping.
    min_epochs : int
        Epochs always run before early stopping may stop.
    ema_decay : float or None
        Keep an exponential moving average (EMA) of the weights and give the model the averaged
        weights at the end (None: the last weights). The decay at optimiser step ``n`` (1-based)
        is ``min(ema_decay, (1 + n) / (10 + n))``, so the random initial weights do not linger
        in the average of a short run. Not combined with early stopping.

    References
    ----------
    .. [1] Polyak B. T., Juditsky A. B. (1992). Acceleration of stochastic approximation by
       averaging. SIAM J Control Optim 30, 838-855.
    .. [2] Karras T. et al. (2022). Elucidating the design space of diffusion-based generative
       models. NeurIPS (EMA of the weights of diffusion models).
    """

    lr: float = 1e-3
    weight_decay: float = 0.0
    max_epochs: int = 100
    schedule: str = "constant"
    final_lr_factor: float = 0.0
    clip_norm: float | None = None
    patience: int | None = None
    min_epochs: int = 0
    ema_decay: float | None = None

    def __post_init__(self) -> None:
        if not self.lr > 0:
            raise ParameterError(f"TrainPlan: lr must be > 0; got {self.lr!r}.")
        if self.weight_decay < 0:
            raise ParameterError(f"TrainPlan: weight_decay must be >= 0; got {self.weight_decay!r}.")
        if int(self.max_epochs) < 1:
            raise ParameterError(f"TrainPlan: max_epochs must be >= 1; got {self.max_epochs!r}.")
        if self.schedule not in SCHEDULES:
            raise ParameterError(
                f"TrainPlan: schedule must be one of {', '.join(map(repr, SCHEDULES))}; got "
                f"{self.schedule!r}."
            )
        if self.clip_norm is not None and not self.clip_norm > 0:
            raise ParameterError(f"TrainPlan: clip_norm must be None or > 0; got {self.clip_norm!r}.")
        if self.patience is not None and int(self.patience) < 1:
            raise ParameterError(f"TrainPlan: patience must be None or >= 1; got {self.patience!r}.")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ParameterError(f"TrainPlan: ema_decay must be None or in (0, 1); got {self.ema_decay!r}.")
        if self.ema_decay is not None and self.patience is not None:
            raise ParameterError(
                "TrainPlan: ema_decay and patience cannot be combined (early stopping restores "
                "raw weights); set one of them to None."
            )

    def ema_weight(self, n_step: int) -> float:
        """Decay of the weight average after optimiser step `n_step` (1-based)."""
        if self.ema_decay is None:
            return 0.0
        return min(float(self.ema_decay), (1.0 + n_step) / (10.0 + n_step))

    def optimizer(self, params: Iterable[Any]) -> Any:
        """Adam over `params` with the plan's learning rate and weight decay."""
        import torch

        return torch.optim.Adam(list(params), lr=self.lr, weight_decay=self.weight_decay)

    def scheduler(self, optimizer: Any) -> Any:
        """The learning-rate schedule of `optimizer` (None for ``"constant"``)."""
        import torch

        if self.schedule == "constant":
            return None
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, int(self.max_epochs), self.lr * self.final_lr_factor
        )

    def clip(self, params: Iterable[Any]) -> None:
        """Clip the gradients of `params` to :attr:`clip_norm` (no-op when None)."""
        import torch

        if self.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(list(params), self.clip_norm)


def linear_warmup(epoch: int, fraction: float, n_epochs: int) -> float:
    """Weight of a linear warm-up at 0-based `epoch`.

    It rises from ``1/n`` to 1 over the first ``n = fraction * n_epochs`` epochs, then stays 1
    (``fraction = 0``: 1 from the start).

    Used for the KL weight of variational models (Bowman et al. 2016, KL annealing).

    References
    ----------
    .. [1] Bowman S.R. et al. (2016). Generating sentences from a continuous space. CoNLL.
    """
    return min(1.0, (epoch + 1) / max(1.0, fraction * n_epochs))


def in_warmup(epoch: int, fraction: float, n_epochs: int) -> bool:
    """True during a held warm-up phase: the first ``int(fraction * n_epochs)`` epochs (0-based)."""
    return epoch < int(fraction * n_epochs)


def fit_epochs(
    module: Any,
    plan: TrainPlan,
    steps: Callable[[int], Iterable[Any]],
    *,
    val_fn: Callable[[], Any] | None = None,
    on_epoch: Callable[[int], None] | None = None,
    description: str = "Training",
) -> TrainHistory:
    """Train `module` by the plan: for each epoch, one optimiser step per loss `steps` yields.

    Parameters
    ----------
    module : torch.nn.Module
        The model being trained.
    plan : TrainPlan
        Optimiser, schedule, clipping and early-stopping policy.
    steps : callable
        ``steps(epoch)`` (0-based) yields the :class:`~crossscale.train.record.LossRecord` of
        each of the epoch's batches, one at a time (scalar ``loss``; ``to_dict()`` gives the terms
        logged in the history). Each is back-propagated, clipped and stepped before the next is
        drawn, so a generator may compute the next batch's loss with the updated weights.
    val_fn : callable or None
        ``val_fn() -> float`` after every epoch (module in eval mode, no gradients). With
        ``plan.patience`` set, training stops after `patience` epochs without improvement and
        the best epoch's weights are restored.
    on_epoch : callable or None
        ``on_epoch(epoch)`` before each epoch (e.g. a coordinate-ascent update).
    description : str
        Progress bar label.

    Returns
    -------
    TrainHistory
        One model (``n_models = 1``); the terms are the epoch means of every logged term.

    Raises
    ------
    TypeError
        `steps` yielded something other than a :class:`~crossscale.train.record.LossRecord`.
    """
    import time

    import torch

    t0 = time.perf_counter()

    params = [p for p in module.parameters() if p.requires_grad]
    opt = plan.optimizer(params)
    sched = plan.scheduler(opt)
    terms: list[dict[str, float]] = []
    vals: list[float] = []
    best_val, best_epoch, best_state = float("inf"), 0, None
    ema = None if plan.ema_decay is None else [p.detach().clone() for p in params]
    n_step = 0
    epoch = 0
    with progress(description, total=int(plan.max_epochs)) as bar:
        for epoch in range(1, int(plan.max_epochs) + 1):
            if on_epoch is not None:
                on_epoch(epoch - 1)
            module.train()
            rows: list[dict[str, float]] = []
            for out in steps(epoch - 1):
                if not isinstance(out, LossRecord):
                    raise TypeError(
                        f"fit_epochs: steps must yield LossRecord objects (crossscale.train.record); "
                        f"got {type(out).__name__}. Wrap a bare loss as LossRecord(loss)."
                    )
                loss = out.loss
                opt.zero_grad(set_to_none=True)
                loss.backward()
                plan.clip(params)
                opt.step()
                n_step += 1
                if ema is not None:
                    d = plan.ema_weight(n_step)
                    with torch.no_grad():
                        for e, p in zip(ema, params, strict=True):
                            e.mul_(d).add_(p.detach(), alpha=1.0 - d)
                rows.append(out.to_dict())
            if sched is not None:
                sched.step()
            terms.append({k: float(np.mean([r[k] for r in rows])) for k in rows[0]} if rows else {})
            bar.advance()
            if val_fn is None:
                vals.append(float("nan"))
                continue
            module.eval()
            with torch.no_grad():
                v = float(val_fn())
            vals.append(v)
            if v < best_val:
                best_val, best_epoch = v, epoch
                best_state = {k: t.detach().clone() for k, t in module.state_dict().items()}
            if (plan.patience is not None and epoch >= plan.min_epochs
                    and epoch - best_epoch >= plan.patience):  # fmt: skip
                break
        bar.update(completed=int(plan.max_epochs))
    if ema is not None:
        with torch.no_grad():
            for e, p in zip(ema, params, strict=True):
                p.copy_(e)
    if best_state is not None and plan.patience is not None:
        module.load_state_dict(best_state)
    else:
        best_epoch = epoch
    module.eval()
    logger.debug("trained for %d epochs (best %d)", epoch, best_epoch)
    col = lambda v: np.asarray(v, float).reshape(-1, 1)  # noqa: E731
    return TrainHistory(
        loss=col([t.get("loss", np.nan) for t in terms]), val_loss=col(vals),
        best_epoch=np.array([best_epoch]), n_epochs=epoch,
        terms={k: col([t.get(k, np.nan) for t in terms]) for k in (terms[0] if terms else {})
               if k != "loss"},
        seconds=time.perf_counter() - t0,
    )  # fmt: skip
