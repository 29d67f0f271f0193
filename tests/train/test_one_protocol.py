"""One training plan: every model's loss is a LossRecord, every fitted history_ a TrainHistory.

The same protocol for GraphVAE (stacked full batch), SpreadMixtureVAE (mini-batches), the
per-subject least-squares spread baseline (stacked, keep-best on the fit) and the volume nets
(tests/models/volume/test_volume_fixes.py): a model that logs its loss another way, keeps
another history type or runs its own optimiser fails here.
"""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import crossscale
from crossscale.atlas import RegionGraph
from crossscale.evaluate.estimators import fit_model, with_seed
from crossscale.models import registry
from crossscale.train.record import LossRecord, TrainHistory

SRC = Path(crossscale.__file__).parent


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


@pytest.mark.parametrize("name", registry.available())
def test_every_registered_model_keeps_one_history_type(name, synthetic):
    est = registry.get(name).create()
    small = {"max_epochs": 4, "n_latent": 2, "n_hidden": 4, "n_ensemble": 1, "device": "cpu",
             "early_stopping": True, "min_epochs": 1, "patience": 2}  # fmt: skip
    est.set_params(**{k: v for k, v in small.items() if k in est.get_params()})
    fitted = fit_model(with_seed(est, 0), synthetic.X, synthetic.y, synthetic.graph)
    hist = getattr(fitted, "history_", None)
    if hist is None:  # a model without training (closed-form baselines) keeps none
        return
    assert isinstance(hist, TrainHistory)
    assert hist.loss.shape == hist.val_loss.shape == (hist.n_epochs, hist.n_models)
    assert np.isfinite(hist.loss[0]).all() and 1 <= hist.best_epoch.min() <= hist.n_epochs
    frame = hist.to_frame()
    assert list(frame.columns[:2]) == ["epoch", "loss"] and len(frame) == hist.n_epochs


def test_graphvae_module_returns_a_loss_record_of_per_model_terms(synthetic):
    from crossscale.models.graphvae.module import GraphVAEModule

    est = registry.get("graphvae").create(max_epochs=2, n_latent=2, n_hidden=4, n_ensemble=1,
                                          device="cpu", random_state=0)  # fmt: skip
    fitted = fit_model(est, synthetic.X, synthetic.y, synthetic.graph)
    assert set(fitted.history_.terms) >= {"mse", "smoothness", "kl"}
    n, k = 4, 3
    mod = GraphVAEModule(5, 2, 4, k, generator=torch.Generator().manual_seed(0))
    rec = mod.loss(torch.randn(n, 5), torch.randn(k, n), torch.eye(n), torch.tensor([[0, 1]]),
                   torch.ones(1), torch.ones(k, n, dtype=torch.bool),
                   smoothness=0.5, beta=1.0, generator=torch.Generator().manual_seed(1))  # fmt: skip
    assert isinstance(rec, LossRecord) and rec.loss.shape == (k,) and rec.loss.requires_grad
    logged = rec.to_dict()
    assert list(logged)[:1] == ["loss"] and logged["mse"].shape == (k,)
    assert "reconstruction" not in logged  # a None term is not logged
    np.testing.assert_allclose(logged["loss"], rec.loss.detach().numpy())


def test_spread_vae_logs_its_elbo_terms_in_the_one_history(connectome):
    from crossscale.models.spread import SpreadMixtureVAE, simulate_cohort
    from crossscale.models.spread.visits import to_visit_arrays

    c = simulate_cohort(connectome, 12, subtypes=[("L_entorhinal", 0.1, 0.5)], noise=0.05,
                        random_state=0)  # fmt: skip
    est = SpreadMixtureVAE(1, max_epochs=3, n_em=0, lm_iter=2, n_importance=0, batch_size=5,
                           random_state=0).fit(c.maps, connectome)  # fmt: skip
    hist = est.history_
    assert isinstance(hist, TrainHistory) and hist.loss.shape == (3, 1)
    assert sorted(hist.terms) == ["kl_c", "kl_z", "reconstruction"]  # elbo_per_subject not logged
    assert np.isfinite(hist.loss).all() and hist.best_epoch.tolist() == [3]
    y, dt, mask = est._tensors(to_visit_arrays(c.maps, est.regions_))
    rec = est.module_.loss(y, dt, mask, generator=torch.Generator().manual_seed(0))
    assert isinstance(rec, LossRecord) and rec.loss.dim() == 0
    assert set(rec.to_dict()) == {"loss", "reconstruction", "kl_z", "kl_c"}


def test_least_squares_baseline_refines_by_the_plan_and_keeps_each_subjects_best(connectome):
    from crossscale.models.spread import simulate_cohort
    from crossscale.models.spread.baselines import fit_subjects_least_squares

    c = simulate_cohort(connectome, 6, subtypes=[("L_entorhinal", 0.1, 0.5)], noise=0.05,
                        random_state=1)  # fmt: skip
    grid = fit_subjects_least_squares(c.maps, connectome, refine_steps=0).params
    refined = fit_subjects_least_squares(c.maps, connectome, refine_steps=30).params
    # keep-best: refinement starts at the grid optimum and never ends worse than it
    assert (refined["sse"] <= grid["sse"] * (1 + 1e-5)).all()
    assert (refined["sse"] < grid["sse"]).any()


def test_no_model_runs_its_own_optimiser():
    """Optimisers are built in train/ only (TrainPlan.optimizer); models say what the loss is."""
    offenders = [
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
        if p.parent.name != "train" and re.search(r"torch\.optim\.|\boptim\.(Adam|SGD)", p.read_text())
    ]  # fmt: skip
    assert offenders == []
