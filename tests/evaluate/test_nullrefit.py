import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

from crossscale import InputDataError, ParameterError
from crossscale.evaluate.cv import distance_blocked
from crossscale.evaluate.nullrefit import (
    NullResult,
    gene_null_distribution,
    kmeans_blocks,
    null_distribution,
    p_value_upper,
)
from crossscale.models.baselines import PLSBaseline
from crossscale.models.graphvae import GraphVAE
from crossscale.nulls import generate_nulls

FAST = dict(n_latent=4, n_hidden=16, max_epochs=30, min_epochs=10, patience=10)


class FixedGene(BaseEstimator):
    """A 'model' whose prediction is 2 * (gene) + 1 whatever the map: its null r is corr(gene, null)."""

    def __init__(self, gene: str = "", random_state=None):
        self.gene = gene
        self.random_state = random_state

    def fit(self, X, y, graph=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return pd.Series(2.0 * X[self.gene].to_numpy() + 1.0, index=X.index)

    def fit_predict_folds(self, X, y, graph, test_masks):
        return np.tile(self.predict(X).loc[list(graph.regions)].to_numpy(), (len(test_masks), 1))


class RowMean(FixedGene):
    """Prediction = mean expression of the genes it is given."""

    def predict(self, X):
        return X.mean(axis=1)


@pytest.fixture(scope="module")
def data(landmark_expression, ad_map, surface_graph):
    return landmark_expression.iloc[:, :60], ad_map.loc[list(surface_graph.regions)], surface_graph


def _r2(y, p):
    return 1 - ((y - p) ** 2).sum() / ((y - y.mean()) ** 2).sum()


def test_trivial_model_null_equals_hand_computation(data):
    X, y, g = data
    gene = X.columns[3]
    x = 2.0 * X[gene].loc[list(g.regions)].to_numpy() + 1.0
    nulls = generate_nulls(y, "hungarian", n_perm=25, random_state=7)
    res = null_distribution(FixedGene(gene), X, y, g, nulls, cv="spatial", batch_size=7)
    hand_r = np.array([np.corrcoef(x, nulls[:, k])[0, 1] for k in range(25)])
    hand_r2 = np.array([_r2(nulls[:, k], x) for k in range(25)])
    np.testing.assert_allclose(res.null["in_sample_r"], hand_r, rtol=1e-12)
    np.testing.assert_allclose(res.null["cv_r"], hand_r, rtol=1e-12)
    np.testing.assert_allclose(res.null["in_sample_r2"], hand_r2, rtol=1e-12)
    obs = np.corrcoef(x, y.to_numpy())[0, 1]
    assert res.observed["in_sample_r"] == pytest.approx(obs)
    assert res.p_values["in_sample_r"] == pytest.approx((1 + (hand_r >= obs).sum()) / 26)
    assert res.method == "array" and res.n_perm == 25 and res.cv == "spatial"
    # "spin" draws the same Hungarian spins from the same seed
    spun = null_distribution(FixedGene(gene), X, y, g, "spin", n_perm=25, random_state=7)
    np.testing.assert_allclose(spun.null["in_sample_r"], hand_r, rtol=1e-12)
    assert spun.method == "hungarian" and "cv_r" not in spun.null
    cv_only = null_distribution(FixedGene(gene), X, y, g, nulls, cv=4, in_sample=False)
    assert list(cv_only.null) == ["cv_r2", "cv_r"] and cv_only.cv == "kfold4"
    np.testing.assert_allclose(cv_only.null["cv_r"], hand_r, rtol=1e-12)


def test_p_value_formula():
    assert p_value_upper(np.array([0.1, 0.5, 0.9]), 0.5) == pytest.approx(3 / 4)
    assert p_value_upper(np.array([0.1, 0.2]), 0.9) == pytest.approx(1 / 3)
    assert p_value_upper(np.array([0.1, np.nan, 0.95]), 0.9) == pytest.approx(2 / 3)
    assert np.isnan(p_value_upper(np.array([np.nan]), 0.9))


def test_result_frame_and_dict(data):
    X, y, g = data
    res = null_distribution(PLSBaseline(1), X, y, g, "spin", n_perm=8, random_state=0)
    assert isinstance(res, NullResult)
    frame = res.to_frame()
    assert list(frame.index) == ["in_sample_r2", "in_sample_r"]
    assert frame.loc["in_sample_r", "n_valid"] == 8
    d = res.to_dict()
    assert (
        len(d["null"]["in_sample_r"]) == 8
        and d["p_values"]["in_sample_r"] == res.p_values["in_sample_r"]
    )
    with pytest.raises(AttributeError):
        res.n_perm = 3


def test_pls_refits_match_a_loop_by_hand(data):
    X, y, g = data
    nulls = generate_nulls(y, "hungarian", n_perm=5, random_state=1)
    res = null_distribution(PLSBaseline(2), X, y, g, nulls, metric="r", batch_size=2)
    hand = []
    for k in range(5):
        yk = pd.Series(nulls[:, k], index=y.index)
        hand.append(np.corrcoef(nulls[:, k], PLSBaseline(2).fit(X, yk, g).predict(X))[0, 1])
    np.testing.assert_allclose(res.null["in_sample_r"], hand, rtol=1e-10)
    assert list(res.null) == ["in_sample_r"]


@pytest.mark.slow
def test_graphvae_seeds_reproduce_and_batch1_equals_loop(data):
    X, y, g = data
    est = GraphVAE(**FAST)
    kw = dict(n_perm=2, random_state=3, cv=3)
    a = null_distribution(est, X, y, g, "spin", batch_size=1, **kw)
    b = null_distribution(est, X, y, g, "spin", batch_size=1, **kw)
    loop = null_distribution(est, X, y, g, "spin", batched=False, **kw)
    for key in a.null:
        np.testing.assert_array_equal(a.null[key], b.null[key])
        np.testing.assert_allclose(a.null[key], loop.null[key], rtol=1e-5, atol=1e-6)
    assert a.observed == b.observed and a.batched and not loop.batched
    c = null_distribution(est, X, y, g, "spin", batch_size=2, **kw)
    assert np.isfinite(c.null["cv_r"]).all()
    # a chunk of 2 shares one seed stream: values differ map by map, the distribution is alike
    assert abs(c.null["in_sample_r"].mean() - a.null["in_sample_r"].mean()) < 0.5


@pytest.mark.slow
def test_dask_equals_serial(data):
    distributed = pytest.importorskip("distributed")
    X, y, g = data
    est = GraphVAE(**FAST)
    kw = dict(n_perm=4, random_state=5, cv=3, batch_size=2)
    serial = null_distribution(est, X, y, g, "moran", **kw)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        par = null_distribution(est, X, y, g, "moran", scheduler=client, **kw)
        pls_s = null_distribution(PLSBaseline(1), X, y, g, "spin", n_perm=6, random_state=0,
                                  batch_size=4)  # fmt: skip
        pls_d = null_distribution(PLSBaseline(1), X, y, g, "spin", n_perm=6, random_state=0,
                                  batch_size=4, scheduler=client)  # fmt: skip
    for key in serial.null:
        np.testing.assert_array_equal(serial.null[key], par.null[key])
    for key in pls_s.null:
        np.testing.assert_array_equal(pls_s.null[key], pls_d.null[key])
    assert serial.p_values == par.p_values and serial.method == "moran"


def test_kmeans_blocks_partition_hemispheres(surface_graph):
    masks = kmeans_blocks(surface_graph, 10)
    assert masks.shape == (10, 68)
    np.testing.assert_array_equal(masks.sum(0), 1)  # every region held out exactly once
    hemi = np.asarray(surface_graph.hemisphere)
    assert all(len(set(hemi[m])) == 1 for m in masks)
    assert distance_blocked(surface_graph).shape == (68, 68)


def test_gene_null_by_hand(data, surface_graph):
    X, y, g = data
    from crossscale.transcriptomics import load_ahba_expression

    allx = load_ahba_expression().loc[list(g.regions)]
    genes = list(X.columns[:20])
    res = gene_null_distribution(RowMean(), allx, genes, y, g, n_perm=5, random_state=0)
    sets = res.extra["gene_sets"]
    assert len(sets) == 5 and all(len(set(s)) == 20 for s in sets)
    hand = [np.corrcoef(allx[s].mean(axis=1), y)[0, 1] for s in sets]
    np.testing.assert_allclose(res.null["in_sample_r"], hand, rtol=1e-10)
    assert res.observed["in_sample_r"] == pytest.approx(
        np.corrcoef(allx[genes].mean(axis=1), y)[0, 1]
    )
    assert res.method == "random_genes" and res.extra["n_genes"] == 20
    again = gene_null_distribution(RowMean(), allx, genes, y, g, n_perm=5, random_state=0)
    assert again.extra["gene_sets"] == sets


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"nulls": "shuffle"}, ParameterError, "nulls must be 'spin', 'moran'"),
        ({"nulls": np.zeros((5, 3))}, InputDataError, r"shape \(n_regions, n_perm\) = \(68"),
        ({"metric": "mse"}, ParameterError, "metric must be 'r2', 'r'"),
        ({"cv": "blocks"}, ParameterError, "cv must be None, 'spatial', 'loro'"),
        ({"scheduler": "nowhere"}, ParameterError, "scheduler must be None"),
        ({"batch_size": 0}, ParameterError, "batch_size must be an integer"),
    ],
)
def test_bad_arguments(data, kwargs, error, match):
    X, y, g = data
    kw = {"nulls": "spin", "n_perm": 3, "random_state": 0} | kwargs
    with pytest.raises(error, match=match):
        null_distribution(PLSBaseline(1), X, y, g, **kw)
