"""GraphVAE loss terms against a hand computation (numpy) with the same seeded noise.

The encoder, decoder, reparameterisation ``z = mu + exp(logvar / 2) * eps``, squared error,
graph smoothness and KL divergence are written out here from the module's parameters, so a
one-line change in the loss (the 1/2 dropped from the standard deviation, the noise dropped,
a sign or a mask) changes a term.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from crossscale.models.graphvae.module import GraphVAEModule  # noqa: E402

K, N, G, H, Z = 2, 6, 3, 4, 2  # models, regions, inputs, hidden units, latent programs
EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [0, 5]])
WEIGHTS = np.array([1.0, 0.5, 2.0, 1.0, 0.25, 1.5])


def _softplus(a):
    return np.logaddexp(0.0, a)


def _module(seed=0, **kw):
    torch.manual_seed(seed)
    m = GraphVAEModule(G, Z, H, K, generator=torch.Generator().manual_seed(seed), **kw)
    with torch.no_grad():  # posterior variances far from 1, so that a wrong std shows
        m.b_lv.add_(torch.linspace(-1.0, 2.5, Z))
    return m.double()


def _data(seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, G))
    y = rng.normal(size=(K, N))
    train = np.ones((K, N), bool)
    train[0, [1, 4]] = False
    train[1, 2] = False
    return x, y, train


def _hand(m, x, y, train, eps, *, smoothness, beta, on="latent", region_mask=None, edge_mask=None,
          models=None):
    p = {k: v.detach().numpy() for k, v in m.named_parameters()}
    if models is not None:  # the stacked models selected
        p = {k: v[models] for k, v in p.items()}
    h = _softplus(np.einsum("ng,kgh->knh", x, p["w1"]) + p["b1"])
    mu = h @ p["w_mu"] + p["b_mu"]
    logvar = np.clip(h @ p["w_lv"] + p["b_lv"], -10.0, 5.0)
    z = mu + np.exp(0.5 * logvar) * eps

    def decode(v):
        return (_softplus(v @ p["d1"] + p["db1"]) @ p["d_out"] + p["db_out"])[..., 0]

    sse = (((decode(z) - y) ** 2) * train).sum(1)
    s = mu if on == "latent" else decode(mu)[..., None]
    diff = ((s[:, EDGES[:, 0]] - s[:, EDGES[:, 1]]) ** 2).sum(-1)
    w = WEIGHTS[None] * (1.0 if edge_mask is None else edge_mask)
    smooth = (w * diff).sum(-1)
    kl_region = 0.5 * (mu**2 + np.exp(logvar) - 1.0 - logvar).sum(-1)  # KL(N(mu, s2) || N(0, 1))
    if region_mask is not None:
        kl_region = kl_region * region_mask
    kl = kl_region.sum(-1)
    return {"loss": sse + smoothness * smooth + beta * kl, "mse": sse / np.maximum(train.sum(1), 1),
            "smoothness": smooth, "kl": kl}  # fmt: skip


def _loss(m, x, y, train, seed, **kw):
    t = torch.as_tensor
    mask_kw = {k: t(kw.pop(k)) for k in ("region_mask", "edge_mask") if kw.get(k) is not None}
    kw = {k: v for k, v in kw.items() if v is not None}
    rec = m.loss(t(x), t(y), None, t(EDGES), t(WEIGHTS), t(train),
                 generator=torch.Generator().manual_seed(seed), **mask_kw, **kw)  # fmt: skip
    return rec.to_dict()


def _eps(seed):
    return torch.randn((K, N, Z), generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64).numpy()  # fmt: skip


@pytest.mark.parametrize("on", ["latent", "prediction"])
def test_loss_terms_match_the_hand_computation(on):
    m = _module()
    x, y, train = _data()
    got = _loss(m, x, y, train, 7, smoothness=0.3, beta=0.7, smoothness_on=on)
    want = _hand(m, x, y, train, _eps(7), smoothness=0.3, beta=0.7, on=on)
    for term in ("loss", "mse", "smoothness", "kl"):
        np.testing.assert_allclose(got[term], want[term], rtol=1e-10, err_msg=term)


def test_masks_restrict_the_kl_and_smoothness_terms():
    m = _module(seed=3)
    x, y, train = _data(seed=4)
    rm = np.array([[1, 1, 0, 1, 0, 1], [0, 1, 1, 1, 1, 1]], bool)
    em = np.array([[1, 0, 1, 1, 0, 1], [1, 1, 1, 0, 1, 1]], bool)
    got = _loss(m, x, y, train, 11, smoothness=1.5, beta=0.2, region_mask=rm, edge_mask=em)
    want = _hand(m, x, y, train, _eps(11), smoothness=1.5, beta=0.2, region_mask=rm, edge_mask=em)
    for term in ("loss", "mse", "smoothness", "kl"):
        np.testing.assert_allclose(got[term], want[term], rtol=1e-10, err_msg=term)


def test_reparameterisation_noise_enters_with_the_posterior_sd():
    m = _module(seed=5)
    x, y, train = _data(seed=6)
    a = _loss(m, x, y, train, 1, smoothness=0.0, beta=1.0)
    b = _loss(m, x, y, train, 2, smoothness=0.0, beta=1.0)
    assert not np.allclose(a["mse"], b["mse"])  # different noise, different squared error
    np.testing.assert_allclose(a["kl"], b["kl"], rtol=1e-12)  # the KL does not see the noise
    assert (a["smoothness"] == 0).all()
    # the same seed gives the same loss
    np.testing.assert_array_equal(a["loss"], _loss(m, x, y, train, 1, smoothness=0.0, beta=1.0)["loss"])
    # the squared error averaged over many draws approaches its expectation under q(z): not the
    # error at the posterior mean (which a loss without the noise would give)
    with torch.no_grad():
        mean_only = m.generative(m.inference(torch.as_tensor(x))[0]).numpy()
    at_mean = (((mean_only - y) ** 2) * train).sum(1) / train.sum(1)
    draws = np.mean([_loss(m, x, y, train, s, smoothness=0.0, beta=1.0)["mse"] for s in range(40)],
                    axis=0)  # fmt: skip
    assert (np.abs(draws - at_mean) > 1e-3).all()


def test_no_smoothness_term_without_edges_or_weight():
    m = _module(seed=8)
    x, y, train = _data(seed=9)
    t = torch.as_tensor
    rec = m.loss(t(x), t(y), None, t(EDGES[:0]), t(WEIGHTS[:0]), t(train), smoothness=2.0,
                 beta=0.5, generator=torch.Generator().manual_seed(3))  # fmt: skip
    want = _hand(m, x, y, train, _eps(3), smoothness=0.0, beta=0.5)
    np.testing.assert_allclose(rec.loss.detach().numpy(), want["loss"], rtol=1e-10)
    assert (rec.smoothness.numpy() == 0).all()


def test_mse_divides_by_the_training_regions_even_for_one_or_none():
    m = _module(seed=10)
    x, y, _ = _data(seed=11)
    train = np.zeros((K, N), bool)
    train[0, 3] = True  # model 0: one training region; model 1: none
    got = _loss(m, x, y, train, 4, smoothness=0.0, beta=1.0)
    want = _hand(m, x, y, train, _eps(4), smoothness=0.0, beta=1.0)
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-10)
    sse0 = want["loss"][0] - want["kl"][0]
    assert got["mse"][0] == pytest.approx(sse0, rel=1e-10)  # divided by 1
    assert got["mse"][1] == 0.0


def test_zero_smoothness_weight_records_no_smoothness_term():
    m = _module(seed=12)
    x, y, train = _data(seed=13)
    got = _loss(m, x, y, train, 6, smoothness=0.0, beta=0.4)
    assert (got["smoothness"] == 0).all()
    want = _hand(m, x, y, train, _eps(6), smoothness=0.0, beta=0.4)
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-10)


@pytest.mark.parametrize("on", ["latent", "prediction"])
def test_loss_of_a_subset_of_the_stacked_models(on):
    m = _module(seed=14)
    x, y, train = _data(seed=15)
    t = torch.as_tensor
    sel = [1]
    rec = m.loss(t(x), t(y[sel]), None, t(EDGES), t(WEIGHTS), t(train[sel]), smoothness=0.6,
                 beta=0.3, smoothness_on=on, generator=torch.Generator().manual_seed(8),
                 models=torch.tensor(sel))  # fmt: skip
    eps = torch.randn((1, N, Z), generator=torch.Generator().manual_seed(8),
                      dtype=torch.float64).numpy()  # fmt: skip
    want = _hand(m, x, y[sel], train[sel], eps, smoothness=0.6, beta=0.3, on=on, models=sel)
    got = rec.to_dict()
    for term in ("loss", "mse", "smoothness", "kl"):
        np.testing.assert_allclose(got[term], want[term], rtol=1e-10, err_msg=term)
