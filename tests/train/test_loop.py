"""The shared training loop on a toy stack of independent linear models."""

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from crossscale import ParameterError
from crossscale.train.loop import fit_stacked, fit_then_refit
from crossscale.train.plan import TrainPlan
from crossscale.train.record import LossRecord, TrainHistory


@dataclass(frozen=True)
class Rec(LossRecord):
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
    hist = fit_stacked(mod, _fns(mod, x, y, calls), None, n_models=3,
                       plan=TrainPlan(lr=0.05, max_epochs=200), keep_epochs=keep, subset=True)  # fmt: skip
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

    hist = fit_stacked(mod, _fns(mod, x, y, calls), val_fn, n_models=3, subset=True,
                       plan=TrainPlan(lr=0.05, max_epochs=60, patience=5, min_epochs=1))  # fmt: skip
    assert hist.best_epoch[1] == 10 and hist.best_epoch[0] == hist.best_epoch[2] == 60
    assert calls[:15] == [3] * 15 and calls[-1] == 2  # model 1 left the computation
    assert np.isnan(hist.loss[-1, 1]) and np.isfinite(hist.loss[-1, 0])


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
        fit_stacked(mod, loss_fn, None, n_models=2,
                    plan=TrainPlan(lr=0.05, clip_norm=2.0, max_epochs=5))  # fmt: skip
    finally:
        TrainPlan.clip = orig
    assert len(norms) == 5 and max(norms) == pytest.approx(2.0, rel=1e-5)
    np.testing.assert_allclose(mod.w[:, 0].detach().numpy(), [0.25, -0.25], rtol=1e-4)


def test_terms_are_whatever_the_record_logs():
    mod, x, y = _toy()
    hist = fit_stacked(mod, _fns(mod, x, y, []), None, n_models=3, subset=True,
                       plan=TrainPlan(lr=0.05, max_epochs=7))  # fmt: skip
    assert sorted(hist.terms) == ["kl", "mse", "smoothness"]
    assert hist.loss.shape == hist.terms["mse"].shape == (7, 3) and hist.n_models == 3
    np.testing.assert_allclose(hist.loss, hist.terms["mse"])
    assert list(hist.to_frame(1).columns) == ["epoch", "loss", "mse", "smoothness", "kl"]


def test_keep_best_on_the_training_loss_restores_each_models_best_weights():
    """keep_best='train' keeps, per model, the weights whose loss was lowest (before the step)."""
    mod = Stack(2)
    target = torch.tensor([[1.0], [-3.0]])
    seen = []

    def loss_fn():
        seen.append(mod.w.detach().clone())
        sse = ((mod.w - target) ** 2)[:, 0]
        return Rec(sse, sse.detach(), sse.detach() * 0, sse.detach() * 0)

    # a large learning rate overshoots: the last weights are not the best ones
    hist = fit_stacked(mod, loss_fn, None, n_models=2, keep_best="train",
                       plan=TrainPlan(lr=0.9, max_epochs=12))  # fmt: skip
    w = torch.stack(seen)[:, :, 0]  # (epochs, models): the weights each epoch's loss was taken at
    losses = (w - target[:, 0]) ** 2
    best = losses.argmin(0)
    np.testing.assert_array_equal(hist.best_epoch, best.numpy())  # weights after `best` steps
    torch.testing.assert_close(mod.w[:, 0].detach(), w[best, torch.arange(2)])
    np.testing.assert_allclose(hist.loss, losses.numpy(), rtol=1e-6)
    assert not torch.equal(mod.w.detach(), seen[-1])  # the last weights were not kept
    with pytest.raises(ParameterError, match="keep_best='train' selects on the training loss"):
        fit_stacked(mod, loss_fn, lambda: torch.zeros(2), n_models=2, keep_best="train",
                    plan=TrainPlan(max_epochs=2))  # fmt: skip
    with pytest.raises(ParameterError, match="keep_best must be 'val' or 'train'"):
        fit_stacked(mod, loss_fn, None, n_models=2, keep_best="last", plan=TrainPlan())


def test_fit_then_refit_retrains_a_fresh_model_to_the_chosen_epochs():
    calls = []
    built = []

    def build():
        built.append(object())
        return built[-1]

    def train(module, *, validate, max_epochs=None, keep_epochs=None):
        calls.append((module, validate, max_epochs, keep_epochs))
        return TrainHistory(loss=np.zeros((9, 2)), val_loss=np.zeros((9, 2)),
                            best_epoch=np.array([4, 9]), n_epochs=9)  # fmt: skip

    module, hist = fit_then_refit(build, train, validate=True, refit=True)
    assert module is built[1] and hist.best_epoch.tolist() == [4, 9]
    assert calls[0][:3] == (built[0], True, None)
    assert calls[1][:3] == (built[1], False, 9) and calls[1][3].tolist() == [4, 9]
    calls.clear()
    module, _ = fit_then_refit(build, train, validate=True, refit=False)
    assert len(calls) == 1 and module is built[2]
    module, _ = fit_then_refit(build, train, validate=False, refit=True)  # nothing to refit for
    assert len(calls) == 2 and module is built[3]
