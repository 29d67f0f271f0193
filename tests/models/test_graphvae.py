import numpy as np
import pandas as pd
import pytest
import torch

from crossscale import ModelStateError, ParameterError, RegionMismatchError
from crossscale.models.graphvae import GraphVAE
from crossscale.models.graphvae.module import GraphVAEModule, gcn_normalized_adjacency

FAST = dict(n_latent=4, n_hidden=16, max_epochs=60, min_epochs=20, patience=20)


@pytest.fixture(scope="module")
def small(landmark_expression, ad_map, surface_graph):
    genes = list(landmark_expression.columns[:120])
    return landmark_expression[genes], ad_map, surface_graph


def test_gcn_normalisation_matches_formula(surface_graph):
    g = surface_graph
    a_hat = gcn_normalized_adjacency(
        torch.as_tensor(g.edges), torch.as_tensor(g.edge_weights, dtype=torch.float32), g.n_regions
    ).numpy()
    A = g.adjacency.toarray() + np.eye(g.n_regions)
    d = A.sum(1)
    np.testing.assert_allclose(a_hat, A / np.sqrt(np.outer(d, d)), atol=1e-6)


def _module(k=2, n_in=5, seed=0):
    return GraphVAEModule(n_in, 3, 8, k, dropout=0.0, generator=torch.Generator().manual_seed(seed))


def test_loss_terms_by_hand():
    torch.manual_seed(0)
    n, k = 4, 2
    mod = _module(k)
    x = torch.randn(n, 5)
    a_hat = torch.eye(n)
    edges = torch.tensor([[0, 1], [1, 2]])
    w = torch.tensor([1.0, 2.0])
    y = torch.randn(k, n)
    mask = torch.tensor([[True, True, False, True], [True, True, True, True]])
    rec = mod.loss(
        x,
        y,
        a_hat,
        edges,
        w,
        mask,
        smoothness=0.5,
        beta=0.25,
        generator=torch.Generator().manual_seed(1),
    )
    mu, logvar = mod.inference(x, a_hat)
    smooth = (w * ((mu[:, [0, 1]] - mu[:, [1, 2]]) ** 2).sum(-1)).sum(-1)
    kl = (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum((-1, -2))
    torch.testing.assert_close(rec.smoothness, smooth)
    torch.testing.assert_close(rec.kl, kl)
    sse = rec.total - 0.5 * smooth - 0.25 * kl
    torch.testing.assert_close(rec.mse, sse / mask.sum(1))
    # the masked region does not enter the loss of model 0
    y2 = y.clone()
    y2[:, 2] += 100.0
    rec2 = mod.loss(
        x,
        y2,
        a_hat,
        edges,
        w,
        mask,
        smoothness=0.5,
        beta=0.25,
        generator=torch.Generator().manual_seed(1),
    )
    torch.testing.assert_close(rec2.total[0], rec.total[0])
    assert not torch.isclose(rec2.total[1], rec.total[1])


def test_stacked_models_are_independent():
    """The gradient of model k's weights depends on model k's loss only, so Adam (elementwise)
    trains each stacked model as it would alone."""
    torch.manual_seed(0)
    mod = _module(k=3)
    x, y = torch.randn(6, 5), torch.randn(3, 6)
    args = (
        x,
        y,
        torch.eye(6),
        torch.tensor([[0, 1]]),
        torch.tensor([1.0]),
        torch.ones(3, 6, dtype=torch.bool),
    )
    rec = mod.loss(*args, smoothness=0.1, beta=0.1, generator=torch.Generator().manual_seed(1))
    rec.total.sum().backward()
    together = {n: p.grad[1].clone() for n, p in mod.named_parameters()}
    mod.zero_grad()
    rec = mod.loss(*args, smoothness=0.1, beta=0.1, generator=torch.Generator().manual_seed(1))
    rec.total[1].backward()
    for n, p in mod.named_parameters():
        torch.testing.assert_close(p.grad[1], together[n])
        assert torch.count_nonzero(p.grad[0]) == 0


def test_fit_predict_transform_contract(small):
    X, y, g = small
    m = GraphVAE(random_state=0, **FAST)
    assert m.fit(X, y, g) is m
    p = m.predict(X)
    assert isinstance(p, pd.Series) and list(p.index) == list(g.regions)
    assert np.corrcoef(p, y)[0, 1] > 0.3  # learns something in-sample
    assert abs(p.mean() - y.mean()) < y.std()  # reported in the map's own units
    z = m.transform(X)
    assert z.shape == (68, 4) and list(z.columns) == ["z0", "z1", "z2", "z3"]
    assert m.gene_weights().shape == (120, 16)
    assert m.get_params()["n_latent"] == 4


def test_same_seed_same_numbers(small):
    X, y, g = small
    a = GraphVAE(random_state=7, **FAST).fit(X, y, g).predict(X)
    b = GraphVAE(random_state=7, **FAST).fit(X, y, g).predict(X)
    c = GraphVAE(random_state=8, **FAST).fit(X, y, g).predict(X)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    assert not np.allclose(a.to_numpy(), c.to_numpy())


def test_folds_hide_held_out_targets(small):
    X, y, g = small
    masks = np.zeros((2, 68), dtype=bool)
    masks[0, :10] = True
    masks[1, 30:40] = True
    m = GraphVAE(random_state=0, **FAST)
    p1 = m.fit_predict_folds(X, y, g, masks)
    y2 = y.copy()
    y2.iloc[:10] += 50.0  # change only what fold 0 holds out
    p2 = m.fit_predict_folds(X, y2, g, masks)
    np.testing.assert_allclose(p1[0], p2[0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(p1[1], p2[1])


def test_save_load_round_trip(small, tmp_path):
    X, y, g = small
    m = GraphVAE(random_state=0, **FAST).fit(X, y, g)
    m.save(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"model.safetensors", "config.json"}
    loaded = GraphVAE.load(tmp_path / "model", graph=g)
    np.testing.assert_allclose(loaded.predict(X), m.predict(X), rtol=1e-6)
    np.testing.assert_allclose(loaded.transform(X), m.transform(X), rtol=1e-6)
    with pytest.raises(RegionMismatchError, match="must have the 120 genes"):
        loaded.predict(X.iloc[:, :50])
    with pytest.raises(ModelStateError, match="differs from the one"):
        GraphVAE.load(tmp_path / "model", graph=g.subgraph(list(g.regions[:34])))
    with pytest.raises(ModelStateError, match="missing model.safetensors"):
        GraphVAE.load(tmp_path)


def test_errors(small):
    X, y, g = small
    with pytest.raises(ModelStateError, match="not fitted"):
        GraphVAE().predict(X)
    with pytest.raises(ParameterError, match="'beta' must be >= 0; got -1"):
        GraphVAE(beta=-1).fit(X, y, g)
    with pytest.raises(RegionMismatchError, match="y \\(map\\) lacks 1 region"):
        GraphVAE(**FAST).fit(X, y.drop("L_insula"), g)


def test_fit_many_matches_columns_and_folds_of_many_maps(small):
    X, y, g = small
    rng = np.random.default_rng(0)
    Y = pd.DataFrame({"ad": y, "shuffled": rng.permutation(y.to_numpy())}, index=y.index)
    models = GraphVAE(random_state=0, **FAST).fit_many(X, Y, g)
    assert [m.y_name_ for m in models] == ["ad", "shuffled"]
    r_true = np.corrcoef(models[0].predict(X), y)[0, 1]
    assert r_true > 0.3
    assert models[1].predict(X).mean() == pytest.approx(y.mean(), abs=y.std())
    masks = np.zeros((3, 68), dtype=bool)
    masks[0, :5], masks[1, 20:25], masks[2, 40:45] = True, True, True
    P = GraphVAE(random_state=0, **FAST).fit_predict_folds(X, Y, g, masks)
    assert P.shape == (2, 3, 68)
    # map 1's models never see map 0's values: changing map 0 leaves them unchanged
    Y2 = Y.assign(ad=Y["ad"] + 10.0)
    P2 = GraphVAE(random_state=0, **FAST).fit_predict_folds(X, Y2, g, masks)
    np.testing.assert_allclose(P[1], P2[1], rtol=1e-5, atol=1e-5)
