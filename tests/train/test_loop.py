"""The shared training loop on a toy stack of independent linear models."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from crossscale.train.loop import fit_stacked
from crossscale.train.plan import TrainPlan


@dataclass
class Rec:
    total: torch.Tensor
    mse: torch.Tensor
    smoothness: torch.Tensor
    kl: torch.Tensor


class Stack(torch.nn.Module):
    def __init__(self, k):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(k, 1))


def _toy(k=3):
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 20)
    slopes = torch.tensor([1.0, -2.0, 3.0])[:k]
    y = slopes[:, None] * x[None]
    return Stack(k), x, y


def _fns(mod, x, y, calls):
    def loss_fn(models):
        calls.append(len(models))
        w = mod.w[models]
        sse = ((w * x[None] - y[models]) ** 2).sum(1)
        zero = torch.zeros_like(sse)
        return Rec(sse, sse.detach(), zero, zero)

    return loss_fn


def test_fixed_epochs_trains_every_model_and_keep_epochs_restores():
    mod, x, y = _toy()
    calls = []
    keep = np.array([5, 50, 200])
    hist = fit_stacked(mod, _fns(mod, x, y, calls), None, n_models=3, lr=0.05, max_epochs=200,
                       keep_epochs=keep, subset=True)  # fmt: skip
    assert hist.n_epochs == 200 and calls == [3] * 200
    np.testing.assert_array_equal(hist.best_epoch, keep)
    # model 2 kept its epoch-200 weights (converged); model 0 its epoch-5 weights (not yet)
    assert abs(mod.w[2].item() - 3.0) < 0.05
    assert abs(mod.w[0].item() - 1.0) > 0.5


def test_early_stopping_patience_and_stopped_models_leave_the_stack():
    mod, x, y = _toy()
    calls = []
    # validation loss of model 1 gets worse after epoch 10: it must stop at 10 + patience
    def val_fn(models):
        epoch = len(calls)
        v = torch.ones(len(models)) * (1.0 / epoch)
        v[models == 1] = abs(epoch - 10) + 1.0
        return v

    hist = fit_stacked(mod, _fns(mod, x, y, calls), val_fn, n_models=3, lr=0.05, max_epochs=60,
                       patience=5, min_epochs=1, subset=True)  # fmt: skip
    assert hist.best_epoch[1] == 10 and hist.best_epoch[0] == hist.best_epoch[2] == 60
    assert calls[:15] == [3] * 15 and calls[-1] == 2  # model 1 left the computation
    assert np.isnan(hist.train_loss[-1, 1]) and np.isfinite(hist.train_loss[-1, 0])


def test_fit_stacked_uses_the_plan_optimiser_and_clipping():
    class Stack(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(2, 1))

    mod = Stack()

    def loss_fn():
        sse = ((mod.w[:, 0] - torch.tensor([1.0, -1.0])) ** 2) * 1e6
        return Rec(sse, sse.detach(), sse.detach() * 0, sse.detach() * 0)

    norms = []
    orig = TrainPlan.clip

    def spy(self, params):
        orig(self, params)
        norms.append(float(torch.cat([p.grad.ravel() for p in params]).norm()))

    TrainPlan.clip = spy
    try:
        fit_stacked(mod, loss_fn, None, n_models=2, max_epochs=5,
                    plan=TrainPlan(lr=0.05, clip_norm=2.0))  # fmt: skip
    finally:
        TrainPlan.clip = orig
    assert len(norms) == 5 and max(norms) == pytest.approx(2.0, rel=1e-5)
    np.testing.assert_allclose(mod.w[:, 0].detach().numpy(), [0.25, -0.25], rtol=1e-4)
