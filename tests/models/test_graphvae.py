import logging

import numpy as np
import pandas as pd
import pytest
import torch

from crossscale import ModelStateError, ParameterError, RegionMismatchError
from crossscale.models.graphvae import GraphVAE, _projection, _stack
from crossscale.models.graphvae.module import (
    GraphVAEModule,
    gcn_normalized_adjacency,
    inductive_adjacency,
)

# the network's own mechanics: no nested-CV blend with ridge and the mean (tested on its own)
FAST = dict(n_latent=4, n_hidden=16, max_epochs=40, shrinkage="none", n_ensemble=1)
FAST_REF = dict(n_latent=4, n_hidden=16, max_epochs=60, min_epochs=20, patience=20)


@pytest.fixture(scope="module")
def small(synthetic):
    """The 20-region synthetic set: 40 genes, a map made of two known programs."""
    return synthetic.X, synthetic.y, synthetic.graph


N = 20  # regions of the synthetic set


def test_gcn_normalisation_matches_formula(surface_graph):
    g = surface_graph
    a_hat = gcn_normalized_adjacency(
        torch.as_tensor(g.edges), torch.as_tensor(g.edge_weights, dtype=torch.float32), g.n_regions
    ).numpy()
    A = g.adjacency.toarray() + np.eye(g.n_regions)
    d = A.sum(1)
    np.testing.assert_allclose(a_hat, A / np.sqrt(np.outer(d, d)), atol=1e-6)


def test_inductive_adjacency_never_passes_held_out_features(surface_graph):
    g = surface_graph
    A = torch.as_tensor(g.adjacency.toarray(), dtype=torch.float32)
    train = torch.ones(2, g.n_regions, dtype=torch.bool)
    held = [0, int(g.edges[0, 1])]  # two neighbouring regions held out in model 0
    train[0, held] = False
    a = inductive_adjacency(A, train).numpy()
    for h in held:
        others = [i for i in range(g.n_regions) if i != h]
        assert np.all(a[0, others, h] == 0)  # no other region receives a held-out region
        assert a[0, h, h] > 0 and a[0, h].sum() == pytest.approx(1.0)
    # with every region in training it is the ordinary GCN normalisation
    full = gcn_normalized_adjacency(
        torch.as_tensor(g.edges), torch.as_tensor(g.edge_weights, dtype=torch.float32), g.n_regions
    ).numpy()
    np.testing.assert_allclose(a[1], full, atol=1e-6)


def _module(k=2, n_in=5, seed=0, **kw):
    return GraphVAEModule(n_in, 3, 8, k, generator=torch.Generator().manual_seed(seed), **kw)


@pytest.mark.parametrize("encoder", ["mlp", "gcn", "graphconv"])
def test_loss_terms_by_hand(encoder):
    torch.manual_seed(0)
    n, k = 4, 2
    mod = _module(k, encoder=encoder, activation="relu")
    x = torch.randn(n, 5)
    a_hat = torch.eye(n) * 0.5 + 0.5 / n
    edges = torch.tensor([[0, 1], [1, 2]])
    w = torch.tensor([1.0, 2.0])
    y = torch.randn(k, n)
    mask = torch.tensor([[True, True, False, True], [True, True, True, True]])

    def loss(yy, **kw):
        return mod.loss(x, yy, a_hat, edges, w, mask, smoothness=0.5, beta=0.25,
                        generator=torch.Generator().manual_seed(1), **kw)  # fmt: skip

    rec = loss(y)
    mu, logvar = mod.inference(x, a_hat)
    smooth = (w * ((mu[:, [0, 1]] - mu[:, [1, 2]]) ** 2).sum(-1)).sum(-1)
    kl_r = (0.5 * (mu**2 + logvar.exp() - 1 - logvar)).sum(-1)
    torch.testing.assert_close(rec.smoothness, smooth)
    torch.testing.assert_close(rec.kl, kl_r.sum(-1))
    # squared error at z = mu + exp(logvar / 2) * eps, eps drawn from the same seeded generator
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(1))
    sse = (((mod.generative(mu + torch.exp(0.5 * logvar) * eps) - y) ** 2) * mask).sum(1)
    torch.testing.assert_close(rec.mse, sse / mask.sum(1))
    torch.testing.assert_close(rec.loss, sse + 0.5 * smooth + 0.25 * kl_r.sum(-1))
    # the masked region does not enter the loss of model 0
    y2 = y.clone()
    y2[:, 2] += 100.0
    rec2 = loss(y2)
    torch.testing.assert_close(rec2.loss[0], rec.loss[0])
    assert not torch.isclose(rec2.loss[1], rec.loss[1])
    # region and edge masks restrict the KL and smoothness terms
    em = torch.tensor([[True, False], [True, True]])
    rec3 = loss(y, region_mask=mask, edge_mask=em)
    torch.testing.assert_close(rec3.kl, (kl_r * mask).sum(-1))
    torch.testing.assert_close(rec3.smoothness[0], w[0] * ((mu[0, 0] - mu[0, 1]) ** 2).sum())
    # smoothness of the decoded map
    rec4 = loss(y, smoothness_on="prediction")
    yhat = mod.generative(mu)
    torch.testing.assert_close(rec4.smoothness, (w * (yhat[:, [0, 1]] - yhat[:, [1, 2]]) ** 2).sum(-1))


def test_stacked_models_are_independent():
    """The gradient of model k's weights depends on model k's loss only, so Adam (elementwise)
    trains each stacked model as it would alone."""
    torch.manual_seed(0)
    mod = _module(k=3, encoder="graphconv")
    x, y = torch.randn(6, 5), torch.randn(3, 6)
    args = (x, y, torch.eye(6), torch.tensor([[0, 1]]), torch.tensor([1.0]),
            torch.ones(3, 6, dtype=torch.bool))  # fmt: skip
    rec = mod.loss(*args, smoothness=0.1, beta=0.1, generator=torch.Generator().manual_seed(1))
    rec.loss.sum().backward()
    together = {n: p.grad[1].clone() for n, p in mod.named_parameters()}
    mod.zero_grad()
    rec = mod.loss(*args, smoothness=0.1, beta=0.1, generator=torch.Generator().manual_seed(1))
    rec.loss[1].backward()
    for n, p in mod.named_parameters():
        torch.testing.assert_close(p.grad[1], together[n])
        assert torch.count_nonzero(p.grad[0]) == 0


def test_fit_predict_transform_contract(small):
    X, y, g = small
    m = GraphVAE(random_state=0, **FAST)
    assert m.fit(X, y, g) is m
    p = m.predict(X)
    assert isinstance(p, pd.Series) and list(p.index) == list(g.regions)
    assert np.corrcoef(p, y)[0, 1] > 0.9  # learns the planted map in-sample (measured 0.99)
    assert m.in_sample_r2_ > 0.8
    # reported in the map's own units (SD 1.84), not standardised: mean and spread match the map
    assert abs(p.mean() - y.mean()) < 0.1 * y.std()
    assert p.std() == pytest.approx(y.std(), rel=0.15)
    z = m.transform(X)
    assert z.shape == (N, 4) and list(z.columns) == ["z0", "z1", "z2", "z3"]
    assert m.projection_.basis.shape[0] == 40 and 4 <= m.n_components_chosen_[0] <= 25
    # whitened: the fitted regions have unit variance on every principal axis
    x = m.standardized_expression(X) @ m.projection_.basis
    c = m.n_components_chosen_[0]
    np.testing.assert_allclose(x[:, :c].std(0), 1.0, rtol=1e-6)
    assert np.all(x[:, c:] == 0)  # axes beyond the chosen number are switched off
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
    masks = np.zeros((2, N), dtype=bool)
    masks[0, :4] = True
    masks[1, 12:16] = True
    m = GraphVAE(random_state=0, **FAST)
    p1 = m.fit_predict_folds(X, y, g, masks)[0]
    y2 = y.copy()
    y2.iloc[:4] += 50.0  # change only what fold 0 holds out
    p2 = m.fit_predict_folds(X, y2, g, masks)[0]
    np.testing.assert_allclose(p1[0], p2[0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(p1[1], p2[1])


def test_out_of_sample_prediction_recovers_the_planted_map(small):
    """Leave-one-region-out on the synthetic set (measured r = 0.85); a shuffled map fails."""
    X, y, g = small
    folds = np.eye(N, dtype=bool)
    P = GraphVAE(random_state=0, **FAST).fit_predict_folds(X, y, g, folds)[0]
    assert np.corrcoef(np.diag(P), y)[0, 1] > 0.6
    shuffled = y.sample(frac=1.0, random_state=1).set_axis(y.index)
    P = GraphVAE(random_state=0, **FAST).fit_predict_folds(X, shuffled, g, folds)[0]
    assert np.corrcoef(np.diag(P), shuffled)[0, 1] < 0.5


@pytest.mark.parametrize("preset", ["default", "reference"])
def test_save_load_round_trip(small, tmp_path, preset):
    X, y, g = small
    fast = FAST if preset == "default" else FAST_REF
    m = GraphVAE.from_preset(preset, random_state=0, **fast).fit(X, y, g)
    m.save(tmp_path / "model")
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"model.safetensors", "config.json"}
    loaded = GraphVAE.load(tmp_path / "model", graph=g)
    assert loaded.get_params() == m.get_params()
    np.testing.assert_allclose(loaded.predict(X), m.predict(X), rtol=1e-6)
    np.testing.assert_allclose(loaded.transform(X), m.transform(X), rtol=1e-6)
    with pytest.raises(RegionMismatchError, match="must have the 40 genes"):
        loaded.predict(X.iloc[:, :30])
    with pytest.raises(ModelStateError, match="differs from the one"):
        GraphVAE.load(tmp_path / "model", graph=g.subgraph(list(g.regions[:10])))
    with pytest.raises(ModelStateError, match="missing model.safetensors"):
        GraphVAE.load(tmp_path)


def test_reference_preset_is_the_reference_configuration():
    ref = GraphVAE.reference(random_state=3)
    p = ref.get_params()
    assert (p["encoder"], p["activation"], p["early_stopping"]) == ("gcn", "relu", True)
    assert p["n_components"] is None and p["smoothness"] == 0.1 and p["random_state"] == 3
    default = GraphVAE().get_params()
    assert (default["encoder"], default["early_stopping"], default["whiten"]) == ("mlp", False, True)
    assert default["n_components"] == "auto"
    with pytest.raises(ParameterError, match="preset must be one of"):
        GraphVAE.from_preset("paper")


def test_early_stopping_cannot_leave_a_silent_non_fit(small, caplog):
    """An early-stopped model that barely fits says so (in the log and in_sample_r2_)."""
    X, y, g = small
    with caplog.at_level(logging.WARNING, logger="crossscale.models.graphvae.estimator"):
        m = GraphVAE.reference(random_state=0, max_epochs=2, min_epochs=1, patience=1).fit(X, y, g)
    assert m.in_sample_r2_ < 0.1
    assert "fitted the map poorly" in caplog.text and "early stopping" in caplog.text


def test_ensemble_is_the_mean_of_its_members(small):
    X, y, g = small
    m = GraphVAE(random_state=0, **(FAST | {"n_ensemble": 3})).fit(X, y, g)
    assert m.params_["w1"].shape[0] == 3
    mod, a_hat = m.encoder_module()
    x = torch.as_tensor(m.standardized_expression(X) @ m.projection_.basis, dtype=torch.float32)
    with torch.no_grad():
        members = mod(x, a_hat).numpy() * m.y_scale_ + m.y_mean_
    assert members.std(0).mean() > 1e-3  # members differ
    np.testing.assert_allclose(m.predict(X).to_numpy(), members.mean(0), rtol=1e-5, atol=1e-5)
    assert not np.allclose(m.transform(X, member=0), m.transform(X, member=2))
    with pytest.raises(ParameterError, match="member must be an integer in \\[0, 3\\)"):
        m.transform(X, member=3)


def test_errors(small):
    X, y, g = small
    with pytest.raises(ModelStateError, match="not fitted"):
        GraphVAE().predict(X)
    with pytest.raises(ParameterError, match="'beta' must be >= 0; got -1"):
        GraphVAE(beta=-1).fit(X, y, g)
    with pytest.raises(ParameterError, match="'encoder' must be 'mlp', 'gcn' or 'graphconv'"):
        GraphVAE(encoder="sage").fit(X, y, g)
    with pytest.raises(ParameterError, match="'n_ensemble' must be an integer >= 1; got 0"):
        GraphVAE(n_ensemble=0).fit(X, y, g)
    with pytest.raises(ParameterError, match="protocol must be one of"):
        GraphVAE(**FAST).fit_predict_folds(X, y, g, np.eye(N, dtype=bool), protocol="oracle")
    with pytest.raises(RegionMismatchError, match="y \\(map\\) lacks 1 region"):
        GraphVAE(**FAST).fit(X, y.drop(y.index[-1]), g)


def test_fit_many_matches_columns_and_folds_of_many_maps(small):
    X, y, g = small
    rng = np.random.default_rng(0)
    Y = pd.DataFrame({"ad": y, "shuffled": rng.permutation(y.to_numpy())}, index=y.index)
    models = GraphVAE(random_state=0, **FAST).fit_many(X, Y, g)
    assert [m.y_name_ for m in models] == ["ad", "shuffled"]
    assert np.corrcoef(models[0].predict(X), y)[0, 1] > 0.9
    assert models[1].predict(X).mean() == pytest.approx(y.mean(), abs=y.std())
    masks = np.zeros((3, N), dtype=bool)
    masks[0, :3], masks[1, 8:11], masks[2, 15:18] = True, True, True
    P = GraphVAE(random_state=0, **FAST).fit_predict_folds(X, Y, g, masks)
    assert P.shape == (2, 3, N)
    # map 1's models never see map 0's values: changing map 0 leaves them unchanged
    Y2 = Y.assign(ad=Y["ad"] + 10.0)
    P2 = GraphVAE(random_state=0, **FAST).fit_predict_folds(X, Y2, g, masks)
    np.testing.assert_allclose(P[1], P2[1], rtol=1e-5, atol=1e-5)
    # train_masks: a model whose mask hides a region ignores its value
    tm = np.ones((2, N), dtype=bool)
    tm[0, :4] = False
    Ya = pd.DataFrame({"a": y, "b": y}, index=y.index)
    Yb = Ya.copy()
    Yb.iloc[:4, 0] += 100.0
    pa = GraphVAE(random_state=0, **FAST).fit_many(X, Ya, g, train_masks=tm)[0].predict(X)
    pb = GraphVAE(random_state=0, **FAST).fit_many(X, Yb, g, train_masks=tm)[0].predict(X)
    np.testing.assert_allclose(pa, pb, rtol=1e-5, atol=1e-5)
    with pytest.raises(ParameterError, match="train_masks must have shape"):
        GraphVAE(**FAST).fit_many(X, Ya, g, train_masks=tm[:1])


def test_large_stacks_are_split_by_memory(small, monkeypatch):
    X, y, g = small
    calls = []
    real = _stack.train_stack

    def spy(*args, **kwargs):
        calls.append(len(args[2]))
        return real(*args, **kwargs)

    monkeypatch.setattr("crossscale.models.graphvae._stack.train_stack", spy)
    masks = np.eye(N, dtype=bool)[:6]
    unit = _stack.max_stack(15, 16, 4, 1.0)  # models per byte budget of 1 byte: at least 1
    assert unit == 1
    budget = 2.5 * (_stack.max_stack(15, 16, 4, 2**30) / 2**30) ** -1 / 2**30  # ~2 models
    P = GraphVAE(random_state=0, memory_gb=budget, **FAST).fit_predict_folds(X, y, g, masks)
    assert calls == [2, 2, 2]
    assert P.shape == (1, 6, N)
    # every chunk's models learned the map, not only the first chunk's (measured r 0.97)
    yv = y.loc[list(g.regions)].to_numpy()
    assert all(np.corrcoef(fold, yv)[0, 1] > 0.8 for fold in P[0])


def test_spatial_residual_changes_only_held_out_regions(small):
    X, y, g = small
    masks = np.zeros((1, N), dtype=bool)
    masks[0, [3, 14]] = True
    plain = GraphVAE(random_state=0, **FAST).fit_predict_folds(X, y, g, masks)[0, 0]
    kriged = GraphVAE(random_state=0, spatial_residual=True, **FAST).fit_predict_folds(
        X, y, g, masks
    )[0, 0]
    np.testing.assert_allclose(plain[~masks[0]], kriged[~masks[0]])
    assert not np.allclose(plain[masks[0]], kriged[masks[0]])


def test_select_components_follows_the_signal():
    """PRESS picks the axes a map is made of: 2 for a map on the first two axes, 0-noise +extra."""
    rng = np.random.default_rng(0)
    n = 60
    q, _ = np.linalg.qr(rng.normal(size=(n, 10)) - 0.0)
    x = (q - q.mean(0)) / (q - q.mean(0)).std(0)  # 10 whitened axes
    masks = np.ones((3, n), dtype=bool)
    y = np.stack([
        2 * x[:, 0] - 1.5 * x[:, 1] + 0.1 * rng.normal(size=n),   # two axes
        x[:, :8] @ np.linspace(1, 0.3, 8) + 0.05 * rng.normal(size=n),  # eight axes
        rng.normal(size=n),  # noise
    ])  # fmt: skip
    c = _projection.select_components(x[None], np.zeros(3, dtype=int), y, masks)
    assert c[0] == 2 and c[1] == 8 and c[2] <= 2
    np.testing.assert_array_equal(
        _projection.select_components(x[None], np.zeros(3, dtype=int), y, masks, extra=3), np.minimum(c + 3, 10)
    )
    # unwhitened axes (scaled columns) choose the same
    scaled = x * np.linspace(5, 0.5, 10)
    np.testing.assert_array_equal(_projection.select_components(scaled[None], np.zeros(3, dtype=int), y, masks), c)


def test_auto_components_use_only_training_targets(small):
    X, y, g = small
    masks = np.zeros((1, N), dtype=bool)
    masks[0, :4] = True
    m = GraphVAE(random_state=0, **FAST)
    p1 = m.fit_predict_folds(X, y, g, masks)[0, 0]
    c1 = m.n_components_chosen_.copy()
    y2 = y.copy()
    y2.iloc[:4] = -y2.iloc[:4] * 5  # the held-out values change; nothing the fold sees does
    p2 = m.fit_predict_folds(X, y2, g, masks)[0, 0]
    np.testing.assert_array_equal(c1, m.n_components_chosen_)
    np.testing.assert_allclose(p1, p2, rtol=1e-5, atol=1e-5)
    assert 1 <= c1[0] <= 25


def test_expression_reconstruction_term_by_hand():
    """α Σ_regions ‖z V + c − x_target‖² (z the sampled program) is in the loss, masked by region."""
    torch.manual_seed(0)
    n, k, r = 4, 2, 6
    mod = _module(k, n_expression=r)
    x = torch.randn(n, 5)
    t = torch.randn(k, n, r)
    y = torch.randn(k, n)
    edges, w = torch.tensor([[0, 1]]), torch.tensor([1.0])
    mask = torch.ones(k, n, dtype=torch.bool)
    rmask = torch.tensor([[True, False, True, True], [True, True, True, True]])

    def loss(alpha, **kw):
        return mod.loss(x, y, None, edges, w, mask, smoothness=0.0, beta=0.0, x_target=t,
                        alpha=alpha, generator=torch.Generator().manual_seed(3), **kw)  # fmt: skip

    base, rec = loss(0.0), loss(2.0, region_mask=rmask)
    assert base.reconstruction is None
    mu, logvar = mod.inference(x)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(3))
    z = mu + torch.exp(0.5 * logvar) * eps  # the same draw as inside the loss
    by_hand = ((((z @ mod.x_out + mod.xb_out) - t) ** 2).sum(-1) * rmask).sum(-1)
    torch.testing.assert_close(rec.reconstruction, by_hand)
    torch.testing.assert_close(rec.loss - base.loss, 2.0 * by_hand)
    # gradients reach the expression decoder and the encoder through it
    mod.zero_grad()
    (rec.loss - base.loss).sum().backward()
    assert mod.x_out.grad.abs().sum() > 0 and mod.w1.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="x_target"):
        mod.loss(x, y, None, edges, w, mask, smoothness=0.0, beta=0.0, alpha=1.0)


def test_expression_target_is_the_standardised_genes_on_unit_axes(small):
    X, _, _ = small
    v = X.to_numpy()
    proj = _projection.fit_projection(v, None, None, whiten=True)
    t = _projection.expression_target(v, [proj])[0]
    Z = (v - v.mean(0)) / v.std(0)
    # full rank: the target keeps every squared distance between regions, per gene
    d_t = ((t[:, None] - t[None]) ** 2).sum(-1)
    d_z = ((Z[:, None] - Z[None]) ** 2).sum(-1) / Z.shape[1]
    np.testing.assert_allclose(d_t, d_z, rtol=1e-6, atol=1e-9)


@pytest.mark.slow
def test_expression_decoder_makes_programs_distinct_and_recovers_the_known_ones(small, synthetic):
    """With p(x|z) the rotated programs are axes of the expression: they find the 3 planted programs."""
    from crossscale.evaluate.program_measures import program_stability
    from crossscale.evaluate.programs import summarize_programs

    X, y, g = small
    # one network (the programs are those of one member; the ensemble's others start elsewhere)
    fit = GraphVAE(n_latent=4, n_components=None, random_state=0, n_ensemble=1).fit(X, y, g)
    Z = fit.transform(X)
    stab = program_stability(synthetic.latent, [Z])
    assert stab.min() > 0.8 and stab.mean() > 0.85, stab
    np.testing.assert_allclose(np.corrcoef(Z.to_numpy().T) - np.eye(4), 0, atol=1e-5)
    # the map alone (α = 0) does not find the third program (it is not in the map)
    alone = GraphVAE(n_latent=4, n_components=None, expression_weight=0.0, random_state=0,
                     n_ensemble=1).fit(X, y, g)
    assert program_stability(synthetic.latent, [alone.transform(X)])["z2"] < stab["z2"]
    assert summarize_programs(Z).n_distinct >= 3


def test_programs_are_rotated_onto_principal_axes_and_survive_save_load(small, tmp_path):
    X, y, g = small
    m = GraphVAE(**FAST, random_state=0).fit(X, y, g)
    Z = m.transform(X)
    var = Z.var(ddof=0).to_numpy()
    assert np.all(np.diff(var) <= 1e-9)  # decreasing variance
    np.testing.assert_allclose(np.corrcoef(Z.to_numpy().T)[np.triu_indices(4, 1)], 0, atol=1e-4)
    assert np.corrcoef(Z["z0"], m.predict(X))[0, 1] >= 0  # signed to follow the prediction
    m.save(tmp_path / "m")
    pd.testing.assert_frame_equal(GraphVAE.load(tmp_path / "m").transform(X), Z)


def test_ridge_path_matches_sklearn_ridgecv(small):
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from crossscale.models.graphvae._shrink import RIDGE_ALPHAS, ridge_fit

    X, y, _ = small
    v, t = X.to_numpy(), y.to_numpy()
    rows = np.ones(len(t), dtype=bool)
    rows[[2, 7, 11]] = False
    coef, b0 = ridge_fit(v, t, rows)
    sk = make_pipeline(StandardScaler(), RidgeCV(alphas=RIDGE_ALPHAS)).fit(v[rows], t[rows])
    np.testing.assert_allclose(v @ coef + b0, sk.predict(v), rtol=1e-6, atol=1e-8)


def test_ridge_loo_errors_equal_brute_force_leave_one_out(small):
    # the closed form (hat-matrix leverages, intercept included) against refitting without each
    # region, for two penalties and for the training mean (alpha = infinity)
    from sklearn.linear_model import Ridge

    from crossscale.models.graphvae._shrink import RIDGE_ALPHAS, ridge_loo

    X, y, _ = small
    v, t = X.to_numpy(), y.to_numpy()
    rows = np.ones(len(t), dtype=bool)
    rows[[0, 5]] = False
    p = ridge_loo(v, t, rows)
    Z = (v[rows] - v[rows].mean(0)) / v[rows].std(0)  # standardised once, as the closed form
    yt = t[rows]
    for k in (3, 17):
        err = [yt[i] - Ridge(alpha=RIDGE_ALPHAS[k]).fit(np.delete(Z, i, 0), np.delete(yt, i)).predict(Z[i:i + 1])[0]
               for i in range(len(yt))]  # fmt: skip
        np.testing.assert_allclose(p["loo"][k], np.sum(np.square(err)), rtol=1e-8)
    mean_err = [yt[i] - np.delete(yt, i).mean() for i in range(len(yt))]
    np.testing.assert_allclose(p["loo_mean"], np.sum(np.square(mean_err)), rtol=1e-10)


def test_blend_weights_pick_the_better_predictor_or_the_mean():
    from crossscale.models.graphvae._shrink import blend_weights

    rng = np.random.default_rng(0)
    y = rng.normal(size=60)
    mean = np.zeros(60)
    assert blend_weights(y, y + 0.01 * rng.normal(size=60), rng.normal(size=60), mean) == (1.0, 0.0)
    assert blend_weights(y, rng.normal(size=60), y, mean) == (0.0, 1.0)
    # neither carries the signal: the training mean
    assert blend_weights(y, rng.normal(size=60), rng.normal(size=60), mean) == (0.0, 0.0)


def test_scale_factor_keeps_a_good_blend_and_drops_one_without_signal():
    from crossscale.models.graphvae._shrink import scale_factor

    rng = np.random.default_rng(1)
    y = rng.normal(size=60) + 3.0
    mean = np.full(60, 3.0)
    assert scale_factor(y, y + 0.01 * rng.normal(size=60), mean) == 1.0
    assert scale_factor(y, 3.0 + rng.normal(size=60), mean) == 0.0
    # an over-confident blend (twice the deviation from the mean) is halved
    assert scale_factor(y, 3.0 + 2 * (y - 3.0), mean) == 0.5


def test_fixed_blend_is_the_stated_mix_of_network_ridge_and_mean(small):
    """shrinkage="fixed": ȳ + a (ŷ_VAE − ȳ) + b (ŷ_ridge − ȳ) per fold, ȳ and ridge on training regions."""
    from crossscale.models.graphvae._shrink import ridge_fit

    X, y, g = small
    folds = np.zeros((4, N), dtype=bool)
    for i in range(4):
        folds[i, i::4] = True
    kw = dict(FAST, random_state=3)
    net = GraphVAE(**kw).fit_predict_folds(X, y, g, folds)[0]
    m = GraphVAE(**(kw | {"shrinkage": "fixed", "blend_weights": (0.3, 0.6)}))
    got = m.fit_predict_folds(X, y, g, folds)[0]
    v, t = X.to_numpy(float), y.to_numpy()
    for i, te in enumerate(folds):
        c, b0 = ridge_fit(v, t, ~te)
        mu = t[~te].mean()
        np.testing.assert_allclose(got[i], mu + 0.3 * (net[i] - mu) + 0.6 * (v @ c + b0 - mu), atol=1e-5)
    np.testing.assert_allclose(m._last_blend["weights"], np.tile([0.3, 0.6], (4, 1)))
    # predict applies the stored blend of a fitted model
    fit = GraphVAE(**(kw | {"shrinkage": "fixed", "blend_weights": (0.3, 0.6)})).fit(X, y, g)
    p = fit.predict(X).to_numpy()
    r2_in = 1 - ((t - p) ** 2).sum() / ((t - t.mean()) ** 2).sum()
    assert r2_in == pytest.approx(fit.in_sample_r2_, abs=1e-4)
    with pytest.raises(ParameterError, match="blend_weights"):
        GraphVAE(blend_weights=(0.8, 0.4)).fit(X, y, g)


@pytest.mark.slow
@pytest.mark.parametrize("shrinkage", ["auto", "scaled"])
def test_shrinkage_keeps_a_map_without_signal_near_its_mean(landmark_expression, surface_graph, small,
                                                            shrinkage):
    """A map of noise on the 68 DK regions: the inner-CV blends stay near the training mean."""
    from crossscale.evaluate.cv import distance_blocked, out_of_fold

    g = surface_graph
    X = landmark_expression.loc[list(g.regions)]
    rng = np.random.default_rng(5)
    noise = pd.Series(rng.normal(size=g.n_regions), index=g.regions, name="noise")
    folds = distance_blocked(g, 0.25)[::4]  # 17 of the 68 blocks keep the test short
    v = noise.to_numpy()

    def r2(pred):
        rows = folds.any(0)
        oof = out_of_fold(pred, folds)[rows]
        return 1 - ((v[rows] - oof) ** 2).sum() / ((v[rows] - v[rows].mean()) ** 2).sum()

    kw = dict(n_latent=4, n_hidden=16, random_state=0)
    m = GraphVAE(**kw, shrinkage=shrinkage)
    shrunk = r2(m.fit_predict_folds(X, noise, g, folds)[0])
    raw = r2(GraphVAE(**kw, shrinkage="none").fit_predict_folds(X, noise, g, folds)[0])
    mean_r2 = r2(np.array([np.full(g.n_regions, v[~f].mean()) for f in folds]))
    assert shrunk > mean_r2 - 0.05 and shrunk > raw
    assert m._last_blend["weights"].sum(1).mean() < 0.5
    # the planted map of the synthetic set keeps a predictor; predict applies the stored blend
    Xs, ys, gs = small
    fit = GraphVAE(n_latent=4, n_hidden=16, random_state=0, shrinkage=shrinkage).fit(Xs, ys, gs)
    assert fit.blend_["weights"].sum() > 0.5
    p = fit.predict(Xs).to_numpy()
    r2_in = 1 - ((ys.to_numpy() - p) ** 2).sum() / ((ys - ys.mean()) ** 2).sum()
    assert r2_in == pytest.approx(fit.in_sample_r2_, abs=1e-4)


def test_choose_blend_picks_the_candidate_with_the_smallest_inner_error():
    from crossscale.models.graphvae._shrink import STACK_CANDIDATES, choose_blend

    rng = np.random.default_rng(2)
    y = rng.normal(size=60) + 5.0
    mean = np.full(60, 5.0)
    noise = 5.0 + rng.normal(size=60)
    assert choose_blend(y, y, noise, mean) == STACK_CANDIDATES[0]  # the network carries the map
    assert choose_blend(y, noise, y, mean) == STACK_CANDIDATES[1]  # ridge carries it
    assert choose_blend(y, noise, noise, mean, [(0.8, 0.2), (0.0, 0.0)]) == (0.0, 0.0)
    # the criterion is the squared error of the blend around the training mean, for any inputs
    v, r, m = rng.normal(size=(3, 60)) + [[1.0], [2.0], [0.5]]
    cands = rng.uniform(0, 0.5, size=(7, 2))
    sse = [((y - (m + a * (v - m) + b * (r - m))) ** 2).sum() for a, b in cands]
    assert choose_blend(y, v, r, m, cands, min_r2=-np.inf) == tuple(cands[int(np.argmin(sse))])


def test_the_network_led_blend_needs_an_inner_r2_of_stack_min_r2():
    # A map with weak signal: the network-led blend has the smallest inner error but explains
    # less than STACK_MIN_R2 of the variance around the training mean -> the ridge-led blend.
    from crossscale.models.graphvae._shrink import STACK_CANDIDATES, STACK_MIN_R2, choose_blend

    assert STACK_MIN_R2 == 0.5
    rng = np.random.default_rng(3)
    mean = np.zeros(200)
    y = rng.normal(size=200)

    def r2_first(v, r):  # inner R² of the network-led candidate (a, b) = STACK_CANDIDATES[0]
        a, b = STACK_CANDIDATES[0]
        return 1 - ((y - a * v - b * r) ** 2).sum() / (y**2).sum()

    for signal, chosen in ((0.5, STACK_CANDIDATES[1]), (1.2, STACK_CANDIDATES[0])):
        v = signal * y + rng.normal(size=200) * 0.6  # the network: some signal
        r = 0.2 * y + rng.normal(size=200) * 0.6  # ridge: less
        assert (r2_first(v, r) >= STACK_MIN_R2) == (chosen == STACK_CANDIDATES[0])
        # without the threshold the network-led blend wins both times
        assert choose_blend(y, v, r, mean, min_r2=-np.inf) == STACK_CANDIDATES[0]
        assert choose_blend(y, v, r, mean) == chosen
    # the threshold is on R² exactly: just above and just below it
    v = 1.0 * y
    r2 = r2_first(v, y * 0)
    assert choose_blend(y, v, y * 0, mean, min_r2=r2 - 1e-9) == STACK_CANDIDATES[0]
    assert choose_blend(y, v, y * 0, mean, min_r2=r2 + 1e-9) == STACK_CANDIDATES[1]


def test_random_inner_folds_partition_the_training_regions():
    from crossscale.models.graphvae._shrink import inner_folds

    within = np.zeros(50, dtype=bool)
    within[5:48] = True
    f = inner_folds(np.zeros((50, 3)), within, 10, 0, "random")
    assert f.shape == (10, 50)
    np.testing.assert_array_equal(f.sum(0), within.astype(int))  # each training region once
    assert set(f.sum(1)) <= {4, 5}
    assert not np.array_equal(f, inner_folds(np.zeros((50, 3)), within, 10, 1, "random"))


def test_stack_blend_is_a_candidate_chosen_without_the_held_out_regions(small):
    """shrinkage="stack": per fold, a candidate blend of network, ridge and mean chosen by an inner
    CV of that fold's training regions; held-out targets change nothing in the fold's prediction."""
    from crossscale.models.graphvae._shrink import STACK_CANDIDATES, ridge_fit

    X, y, g = small
    folds = np.zeros((4, N), dtype=bool)
    for i in range(4):
        folds[i, i::4] = True
    kw = dict(FAST, random_state=3, spatial_residual=False)
    net = GraphVAE(**kw).fit_predict_folds(X, y, g, folds)[0]
    m = GraphVAE(**(kw | {"shrinkage": "stack"}))
    got = m.fit_predict_folds(X, y, g, folds)[0]
    w = m._last_blend["weights"]
    v, t = X.to_numpy(float), y.to_numpy()
    for i, te in enumerate(folds):
        assert tuple(w[i]) in STACK_CANDIDATES
        c, b0 = ridge_fit(v, t, ~te)
        mu = t[~te].mean()
        np.testing.assert_allclose(got[i], mu + w[i, 0] * (net[i] - mu) + w[i, 1] * (v @ c + b0 - mu), atol=1e-5)
    # scrambling fold 0's held-out targets leaves fold 0's model (and its blend) unchanged
    y2 = y.copy()
    y2.iloc[np.flatnonzero(folds[0])] = np.random.default_rng(0).normal(size=folds[0].sum()) * 10
    m2 = GraphVAE(**(kw | {"shrinkage": "stack"}))
    got2 = m2.fit_predict_folds(X, y2, g, folds)[0]
    np.testing.assert_allclose(got2[0], got[0], atol=1e-5)
    np.testing.assert_array_equal(m2._last_blend["weights"][0], w[0])


def test_ridge_of_the_blend_reuses_each_training_sets_decomposition(small, monkeypatch):
    """The inner models' ridge uses the Gram decomposition their inputs' principal axes computed;
    the outer ridge one per distinct training set, with each map's own target: the same numbers
    as decomposing again for every fit (the path of the transductive protocol), fewer eigh."""
    from crossscale.models.graphvae import _blend, _shrink

    X, y, g = small
    Y = pd.DataFrame({"a": y.to_numpy(), "b": np.random.default_rng(4).permutation(y.to_numpy())},
                     index=y.index)  # fmt: skip
    folds = np.zeros((3, N), dtype=bool)
    for i in range(3):
        folds[i, i::3] = True
    calls = []
    real = _projection.standardised_gram
    monkeypatch.setattr(_projection, "standardised_gram", lambda v, r: calls.append(r) or real(v, r))
    monkeypatch.setattr(_blend, "standardised_gram", _projection.standardised_gram)
    monkeypatch.setattr(_shrink, "standardised_gram", _projection.standardised_gram)
    seen = []  # what the inner CV gives the choice of blend: targets, network, ridge, mean
    choose = _shrink.choose_blend
    monkeypatch.setattr(_shrink, "choose_blend", lambda *a: seen.append(a) or choose(*a))
    kw = dict(FAST, max_epochs=5, random_state=3, shrinkage="stack", spatial_residual=False)
    m = GraphVAE(**kw)
    shared = m.fit_predict_folds(X, Y, g, folds)
    n_shared, seen_shared = len(calls), list(seen)
    coef = m._last_blend["ridge_coef"]
    # outer: 3 training sets, decomposed for the inputs and once more for the ridge of both maps;
    # inner: 2 maps x 3 folds x STACK_FOLDS inner models, each distinct training set decomposed
    # once (two inner models may hold out the same region of 13)
    n_inner = 2 * 3 * _shrink.STACK_FOLDS
    assert 3 + 3 + n_inner // 2 < n_shared <= 3 + 3 + n_inner
    v = X.to_numpy(float)
    for r, (k, te) in enumerate([(k, te) for k in range(2) for te in folds]):
        c, b0 = _shrink.ridge_fit(v, Y.iloc[:, k].to_numpy(), ~te)
        np.testing.assert_allclose(coef[r], c, rtol=1e-10, atol=1e-12)

    fold_inputs = _stack.fold_inputs  # without the hook every inner ridge decomposes again
    monkeypatch.setattr(_stack, "fold_inputs", lambda *a, visit=None, **k: fold_inputs(*a, **k))
    calls.clear()
    seen.clear()
    m2 = GraphVAE(**kw)
    again = m2.fit_predict_folds(X, Y, g, folds)
    assert len(calls) == n_shared + n_inner
    assert len(seen) == len(seen_shared) == 6
    for a, b in zip(seen, seen_shared, strict=True):
        for u, w in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, w)
    np.testing.assert_array_equal(again, shared)
    np.testing.assert_array_equal(m2._last_blend["weights"], m._last_blend["weights"])


def test_spatial_residual_auto_kriges_only_the_network_led_models(small, monkeypatch):
    """spatial_residual="auto": held-out regions of the models whose stack chose the network-led
    blend get the interpolated training residuals; the other models and all training regions are
    untouched."""
    from crossscale.models._spatial import harmonic_interpolation
    from crossscale.models.graphvae import _shrink

    X, y, g = small
    folds = np.zeros((4, N), dtype=bool)
    for i in range(4):
        folds[i, i::4] = True
    picks = iter([(0.8, 0.2), (0.3, 0.6), (0.8, 0.2), (0.3, 0.6)])
    monkeypatch.setattr(_shrink, "choose_blend", lambda *a, **k: next(picks))
    kw = dict(FAST, random_state=3, shrinkage="stack")
    plain = GraphVAE(**kw, spatial_residual=False).fit_predict_folds(X, y, g, folds)[0]
    picks = iter([(0.8, 0.2), (0.3, 0.6), (0.8, 0.2), (0.3, 0.6)])
    m = GraphVAE(**kw)
    got = m.fit_predict_folds(X, y, g, folds)[0]
    t = y.to_numpy()
    resid = harmonic_interpolation(g.laplacian().toarray(), np.tile(t, (4, 1)) - plain, folds)
    for i, te in enumerate(folds):
        want = plain[i] + (np.where(te, resid[i], 0.0) if i in (0, 2) else 0.0)
        np.testing.assert_allclose(got[i], want, atol=1e-5)
    assert not np.allclose(got[0], plain[0])
    rows = _shrink.kriged_rows(m, 4)
    np.testing.assert_array_equal(rows, [True, False, True, False])
    m.spatial_residual = True
    assert _shrink.kriged_rows(m, 4).all()
    m.spatial_residual, m.shrinkage = "auto", "fixed"
    assert not _shrink.kriged_rows(m, 4).any()
