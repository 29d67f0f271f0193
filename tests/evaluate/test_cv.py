import numpy as np
import pandas as pd

from crossscale.atlas import DK_REGIONS
from crossscale.evaluate import (
    distance_blocked,
    evaluate_models,
    out_of_fold,
    pearson_r,
    r2_score,
)
from crossscale.models.baselines import RidgeBaseline, SpatialBaseline


def test_distance_blocked_folds(surface_graph):
    masks = distance_blocked(surface_graph, 0.25)
    assert masks.shape == (68, 68)
    assert (masks.sum(1) == 9).all()  # ceil(0.25 * 34)
    hemi = surface_graph.hemisphere
    for seed, m in enumerate(masks):
        assert m[seed] and (hemi[m] == hemi[seed]).all()
    d = surface_graph.distances()
    # held-out regions are the nearest ones: every held-out region is closer than every kept one
    for seed, m in enumerate(masks):
        same = hemi == hemi[seed]
        assert d[seed, m].max() <= d[seed, same & ~m].min()


def test_metrics_and_out_of_fold():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(4, y.mean())) == 0.0
    assert pearson_r(y, 2 * y + 1) == 1.0
    P = np.array([[10, 2, 0, 0], [0, 4, 0, 0]], float)
    masks = np.array([[True, True, False, False], [False, True, False, False]])
    oof = out_of_fold(P, masks)
    assert oof[0] == 10 and oof[1] == 3 and np.isnan(oof[2])


def test_evaluate_models_table(surface_graph):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.normal(size=(68, 20)),
        index=pd.Index(DK_REGIONS, name="region"),
        columns=[f"G{i}" for i in range(20)],
    )
    y = X["G0"] + 0.1 * pd.Series(rng.normal(size=68), index=X.index)
    ev = evaluate_models(
        X, y, surface_graph, {"Ridge": RidgeBaseline(), "Spatial": SpatialBaseline()}
    )
    assert ev.metrics.loc["Ridge", "loro_r2"] > 0.8
    assert np.isnan(ev.metrics.loc["Spatial", "in_sample_r2"])
    assert {"observed", "Ridge|in_sample", "Ridge|loro", "Ridge|spatial", "Spatial|loro"} <= set(
        ev.predictions.columns
    )
    assert set(ev.to_dict()["Ridge"]) >= {"loro_r", "spatial_r", "fit_time_s"}


def test_pearson_r_is_nan_for_every_constant_input():
    """A constant vector whose float SD is not exactly 0 (the mean rounds: SD 1.4e-17 for nine
    copies of -0.11224581) is still constant: r is undefined, not ~1e-16."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=9)
    for v in [-0.11224581, *rng.normal(size=200)]:
        c = np.full(9, v)
        assert np.isnan(pearson_r(y, c)) and np.isnan(pearson_r(c, y))
    assert pearson_r(y, y + 1e-9 * np.arange(9)) > 0.99  # varying, however little


def test_a_model_that_predicts_a_constant_gets_nan_fold_r_without_a_warning(surface_graph):
    """Fold-wise r is undefined for a constant prediction (e.g. a model shrunk to the training
    mean in every fold): NaN in the table, no "Mean of empty slice" warning; where some folds
    are defined, their mean and SD (ddof 0)."""
    import warnings

    import pytest

    class TrainingMean:
        def fit(self, X, y):
            self.mean_ = float(y.mean())
            return self

        def predict(self, X):
            return pd.Series(self.mean_, index=X.index)

    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(68, 5)), index=pd.Index(DK_REGIONS, name="region"),
                     columns=[f"G{i}" for i in range(5)])  # fmt: skip
    y = X["G0"] + 0.1 * pd.Series(rng.normal(size=68), index=X.index)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        ev = evaluate_models(X, y, surface_graph, {"mean": TrainingMean(), "Ridge": RidgeBaseline()},
                             cv=("spatial",))  # fmt: skip
    assert np.isnan(ev.fold_r["mean"]).all()
    assert np.isnan(ev.metrics.loc["mean", "spatial_fold_r_mean"])
    assert np.isnan(ev.metrics.loc["mean", "spatial_fold_r_sd"])
    fr = ev.fold_r["Ridge"]
    fr = fr[np.isfinite(fr)]
    assert ev.metrics.loc["Ridge", "spatial_fold_r_mean"] == pytest.approx(fr.mean())
    assert ev.metrics.loc["Ridge", "spatial_fold_r_sd"] == pytest.approx(fr.std())
