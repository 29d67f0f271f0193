import numpy as np
import pandas as pd
import pytest

from crossscale import ModelStateError
from crossscale.atlas import DK_REGIONS, RegionGraph
from crossscale.evaluate.cv import leave_one_region_out
from crossscale.models.baselines import (
    PLSBaseline,
    RidgeBaseline,
    SpatialBaseline,
    default_baselines,
)


def _linear_data(seed=0, n_genes=30):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(size=(68, n_genes)),
        index=pd.Index(DK_REGIONS, name="region"),
        columns=[f"G{i}" for i in range(n_genes)],
    )
    y = pd.Series(X["G0"] * 2 - X["G1"] + 0.01 * rng.normal(size=68), index=X.index)
    return X, y


def test_ridge_and_pls_recover_linear_map(surface_graph):
    X, y = _linear_data()
    for model in (RidgeBaseline(), PLSBaseline(3)):
        P = model.fit_predict_folds(X, y, surface_graph, leave_one_region_out(68))
        assert np.corrcoef(np.diag(P), y)[0, 1] > 0.95


def test_baselines_recover_the_synthetic_map_out_of_sample(synthetic):
    """Leave-one-region-out on the 20-region set: a map made of two expression programs."""
    s = synthetic
    folds = leave_one_region_out(s.n_regions)
    for model in (RidgeBaseline(), PLSBaseline(2), SpatialBaseline()):
        P = model.fit_predict_folds(s.X, s.y, s.graph, folds)
        assert np.corrcoef(np.diag(P), s.y)[0, 1] > 0.95, model  # measured >= 0.99
    # the same values shuffled over the regions have no relation to expression: not predicted
    shuffled = s.y.sample(frac=1.0, random_state=1).set_axis(s.y.index)
    P = PLSBaseline(2).fit_predict_folds(s.X, shuffled, s.graph, folds)
    assert np.corrcoef(np.diag(P), shuffled)[0, 1] < 0.5


def test_spatial_baseline_interpolates_harmonic_function():
    # a path graph a-b-c: the harmonic interpolation of the middle is the neighbours' mean
    regions = pd.Index(DK_REGIONS[:3])
    adj = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float)
    g = RegionGraph(regions, adj, np.zeros((3, 3)), np.zeros((3, 3)))
    y = pd.Series([1.0, 0.0, 3.0], index=regions)
    P = SpatialBaseline(epsilon=1e-9).fit_predict_folds(
        None, y, g, np.array([[False, True, False]])
    )
    assert P[0, 1] == pytest.approx(2.0, abs=1e-6)
    assert P[0, 0] == 1.0 and P[0, 2] == 3.0


def test_default_baselines_and_errors():
    assert list(default_baselines()) == [
        "PLS-1",
        "PLS-2",
        "PLS-3",
        "PLS-4",
        "PLS-5",
        "Ridge",
        "Spatial (Laplacian)",
    ]
    with pytest.raises(ModelStateError, match="not fitted"):
        RidgeBaseline().predict(_linear_data()[0])


@pytest.mark.parametrize("protocol", ["inductive", "transductive"])
def test_pls_folds_share_one_fit_and_equal_separate_scikit_learn_fits(surface_graph, protocol):
    """PLS-1..5 come from one 5-component fit per fold (the path): each equals PLSRegression(k)
    fitted on the fold's training regions, to rounding, on a map far from unit scale."""
    from sklearn.cross_decomposition import PLSRegression

    from crossscale.evaluate.cv import distance_blocked
    from crossscale.models import baselines

    X, y = _linear_data(n_genes=40)
    X = X * np.linspace(0.5, 3.0, 40) + 7.0  # genes on different scales
    y = 50.0 + 8.0 * y + np.random.default_rng(1).normal(size=68)  # mean and SD far from 0 / 1
    masks = distance_blocked(surface_graph, 0.25)[:12]
    Xv = X.to_numpy()
    if protocol == "transductive":
        Xv = (Xv - Xv.mean(0)) / Xv.std(0)
    baselines._PLS_PATHS.clear()
    for k in range(1, 6):
        P = PLSBaseline(k).fit_predict_folds(X, y, surface_graph, masks, protocol=protocol)
        ref = np.array([PLSRegression(k, scale=protocol == "inductive").fit(Xv[~m], y.to_numpy()[~m])
                        .predict(Xv).ravel() for m in masks])  # fmt: skip
        np.testing.assert_allclose(P, ref, rtol=0, atol=1e-9 * float(np.abs(ref).max()))
    assert len(baselines._PLS_PATHS) == 1  # one path served all five
    # another map on the same folds is not served from the first map's fits
    y2 = y.sample(frac=1.0, random_state=3).set_axis(y.index)
    P2 = PLSBaseline(2).fit_predict_folds(X, y2, surface_graph, masks, protocol=protocol)
    ref2 = np.array([PLSRegression(2, scale=protocol == "inductive").fit(Xv[~m], y2.to_numpy()[~m])
                     .predict(Xv).ravel() for m in masks])  # fmt: skip
    np.testing.assert_allclose(P2, ref2, rtol=0, atol=1e-9 * float(np.abs(ref2).max()))
    assert len(baselines._PLS_PATHS) == 2


def test_pls_path_on_a_map_one_component_fits_exactly_matches_separate_fits(surface_graph):
    """A map the first PLS component fits exactly (y an eigenvector of the standardised training
    expression's Gram matrix): scikit-learn stops after one component ("y residual is constant")
    in the 5-component path and in a 3-component fit of its own alike; the predictions agree."""
    from sklearn.cross_decomposition import PLSRegression

    from crossscale.models import baselines

    X, _ = _linear_data(seed=2, n_genes=30)
    test = np.zeros(68, dtype=bool)
    test[5] = True
    Xt = X.to_numpy()[~test]
    Z = (Xt - Xt.mean(0)) / Xt.std(0, ddof=1)
    vec = np.linalg.eigh(Z @ Z.T)[1][:, -1]
    yv = np.empty(68)
    yv[~test], yv[test] = 10.0 + 3.0 * vec / vec.std(), 0.0
    y = pd.Series(yv, index=X.index)
    baselines._PLS_PATHS.clear()
    with pytest.warns(UserWarning, match="y residual is constant"):
        P = PLSBaseline(3).fit_predict_folds(X, y, surface_graph, test[None])
    with pytest.warns(UserWarning, match="y residual is constant"):
        ref = PLSRegression(3).fit(Xt, yv[~test]).predict(X.to_numpy()).ravel()
    np.testing.assert_allclose(P[0], ref, atol=1e-9)
    np.testing.assert_allclose(P[0][~test], yv[~test], atol=1e-8)  # the exact fit itself


@pytest.mark.parametrize("protocol", ["inductive", "transductive"])
@pytest.mark.parametrize("n_genes", [120, 30])  # regions < genes (Gram) and regions > genes
def test_ridge_folds_equal_the_scikit_learn_pipeline(surface_graph, protocol, n_genes):
    """Ridge's fold predictions (one eigendecomposition per fold, kept for the next map) equal
    StandardScaler + RidgeCV fitted on each fold's training regions, to rounding: genes on
    different scales and one constant gene, a noisy map far from unit scale (the penalty chosen
    by leave-one-out CV differs between folds, inside the grid)."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from crossscale.evaluate.cv import distance_blocked
    from crossscale.models import _ridge_folds

    X, y = _linear_data(seed=4, n_genes=n_genes)
    X = X * np.linspace(0.5, 3.0, n_genes) + 7.0
    X["G5"] = 2.5  # constant: StandardScaler leaves it unscaled
    rng = np.random.default_rng(2)
    y = 50.0 + 8.0 * (y + 3.0 * rng.normal(size=68))
    masks = np.vstack([leave_one_region_out(68)[:20], distance_blocked(surface_graph, 0.25)[:12]])
    Xv = X.to_numpy()
    if protocol == "transductive":
        sd = Xv.std(0)
        Xv = (Xv - Xv.mean(0)) / np.where(sd > 0, sd, 1.0)
    alphas = np.logspace(-1, 6, 29)

    def sklearn(yv):
        pipes = [make_pipeline(StandardScaler(with_std=protocol == "inductive"), RidgeCV(alphas=alphas))
                 .fit(Xv[~m], yv[~m]) for m in masks]  # fmt: skip
        return np.array([p.predict(Xv) for p in pipes]), {p[-1].alpha_ for p in pipes}

    _ridge_folds._CACHE.clear()
    P = RidgeBaseline().fit_predict_folds(X, y, surface_graph, masks, protocol=protocol)
    ref, chosen = sklearn(y.to_numpy())
    assert len(chosen - {alphas[0], alphas[-1]}) > 1
    np.testing.assert_allclose(P, ref, rtol=0, atol=1e-10 * float(np.abs(ref).max()))
    assert len(_ridge_folds._CACHE) == 1
    # another map on the same folds: the decomposition is reused, the map is not
    y2 = y.sample(frac=1.0, random_state=3).set_axis(y.index)
    P2 = RidgeBaseline().fit_predict_folds(X, y2, surface_graph, masks, protocol=protocol)
    np.testing.assert_allclose(P2, sklearn(y2.to_numpy())[0], rtol=0, atol=1e-10 * float(np.abs(ref).max()))
    assert len(_ridge_folds._CACHE) == 1
    # other penalties are another decomposition
    P3 = RidgeBaseline(alphas=(10.0,)).fit_predict_folds(X, y, surface_graph, masks[:3], protocol=protocol)
    assert len(_ridge_folds._CACHE) == 2 and not np.allclose(P3, P[:3])


def test_ridge_folds_too_large_to_keep_are_computed_one_at_a_time(monkeypatch):
    """Above the memory budget the decompositions are neither kept nor held together (the
    budget's estimate is their exact size); the predictions are the same."""
    from crossscale.models import _ridge_folds

    rng = np.random.default_rng(0)
    Xv, yv = rng.normal(size=(40, 60)), rng.normal(size=40)
    masks, alphas = np.eye(40, dtype=bool), np.logspace(-1, 6, 29)
    _ridge_folds._CACHE.clear()
    kept = _ridge_folds.ridge_folds(Xv, yv, masks, alphas)
    size = sum(f.nbytes() for f in next(iter(_ridge_folds._CACHE.values())))
    _ridge_folds._CACHE.clear()
    monkeypatch.setattr(_ridge_folds, "_KEPT_BYTES", size - 1)
    np.testing.assert_array_equal(_ridge_folds.ridge_folds(Xv, yv, masks, alphas), kept)
    assert not _ridge_folds._CACHE
    monkeypatch.setattr(_ridge_folds, "_KEPT_BYTES", size)
    _ridge_folds.ridge_folds(Xv, yv, masks, alphas)
    assert len(_ridge_folds._CACHE) == 1
