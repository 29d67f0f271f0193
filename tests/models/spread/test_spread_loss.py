"""The SpreadMixtureVAE negative ELBO against a hand computation with the same seeded noise.

With the encoder's outputs, the reparameterised latents ``z = mu + sd * eps`` (eps from the same
seeded generator) and the decoder's predicted maps, every term is written out here: the Gaussian
log-likelihood of the observed visits (scipy), the KL divergence of each subtype's Gaussian
posterior from its prior, the KL divergence of q(c | y) from the mixture weights, the ELBO per
subject and the loss with a KL weight and with fixed responsibilities (warm-up).
"""

import math

import numpy as np
import pytest
from scipy import stats

torch = pytest.importorskip("torch")

from crossscale.models.spread.module import SpreadMixtureModule  # noqa: E402

B, T, N, K = 3, 2, 5, 2


def _module(model="fisher_kpp"):
    torch.manual_seed(0)
    a = torch.tensor([[0, 1, 0, 0, 1], [1, 0, 1, 0, 0], [0, 1, 0, 1, 0], [0, 0, 1, 0, 1],
                      [1, 0, 0, 1, 0]], dtype=torch.float64)  # a ring  # fmt: skip
    lap = torch.diag(a.sum(1)) - a
    kw = {} if model == "fisher_kpp" else {"prior_loc": (math.log(0.1), math.log(10.0)),
                                            "prior_scale": (0.5, 0.7)}  # no alpha  # fmt: skip
    m = SpreadMixtureModule(lap, K, model=model, n_hidden=8, noise_init=0.2, **kw).double()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():  # move every head off its neutral start, so each term matters
        for head in (m.head_c, m.head_mu, m.head_logsd):
            head.weight.copy_(0.3 * torch.randn(head.weight.shape, generator=g, dtype=torch.float64))
        m.prior_loc.add_(0.2 * torch.randn(m.prior_loc.shape, generator=g, dtype=torch.float64))
        m.logit_pi.copy_(torch.tensor([0.4, -0.3], dtype=torch.float64))
        m.log_sigma.fill_(math.log(0.15))
    m.seeds.copy_(torch.tensor([0, 3]))
    return m


def _data():
    rng = np.random.default_rng(2)
    y = torch.as_tensor(rng.uniform(0, 0.3, (B, T, N)))
    dt = torch.tensor([[0.0, 2.0], [0.0, 1.5], [0.0, 0.0]], dtype=torch.float64)
    mask = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]], dtype=torch.float64)  # padded visit
    return y, dt, mask


def _hand(m, y, dt, mask, seed, *, sample=True, kl_weight=1.0, fixed_q=None):
    with torch.no_grad():
        enc = m.inference(y, dt, mask)
        mu, sd = enc["mu"].numpy(), enc["logsd"].exp().numpy()
        eps = torch.randn(B, K, m.n_latent, generator=torch.Generator().manual_seed(seed),
                          dtype=torch.float64).numpy()  # fmt: skip
        z = mu + sd * eps if sample else mu
        seeds = m.seeds.repeat(B)
        pred = m.generative(torch.as_tensor(z.reshape(B * K, -1)), dt.repeat_interleave(K, 0),
                            seeds).view(B, K, T, N).numpy()  # fmt: skip
        prior_mean = m.prior_mean().numpy()
        ps = m.prior_scale.numpy().astype(float)
        logits = enc["logits_c"].numpy()
        log_pi = torch.log_softmax(m.logit_pi, -1).numpy()
        sigma = float(m.log_sigma.detach().exp())
    ll = np.zeros((B, K))
    for b in range(B):
        for k in range(K):
            for t in range(T):
                if mask[b, t]:
                    ll[b, k] += stats.norm.logpdf(y[b, t].numpy(), pred[b, k, t], sigma).sum()
    # KL(N(mu, sd^2) || N(m_k, ps^2)) per latent, summed
    kl_z = (np.log(ps / sd) + (sd**2 + (mu - prior_mean[None]) ** 2) / (2 * ps**2) - 0.5).sum(-1)
    log_q = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    q = np.exp(log_q)
    kl_c = (q * (log_q - log_pi)).sum(-1)
    elbo = (q * (ll - kl_z)).sum(-1) - kl_c
    if fixed_q is None:
        loss = -((q * (ll - kl_weight * kl_z)).sum(-1) - kl_weight * kl_c).mean()
    else:
        loss = -(fixed_q * (ll - kl_weight * kl_z + log_q)).sum(-1).mean()
    return {"loss": loss, "reconstruction": (q * ll).sum(-1).mean(), "kl_z": (q * kl_z).sum(-1).mean(),
            "kl_c": kl_c.mean(), "elbo": elbo, "ll": ll, "kl_z_bk": kl_z}  # fmt: skip


def _check(rec, want):
    assert float(rec.loss.detach()) == pytest.approx(want["loss"], rel=1e-9)
    for key in ("reconstruction", "kl_z", "kl_c"):
        assert getattr(rec, key) == pytest.approx(want[key], rel=1e-9), key
    np.testing.assert_allclose(rec.elbo_per_subject.numpy(), want["elbo"], rtol=1e-9)


@pytest.mark.parametrize("model", ["fisher_kpp", "diffusion"])
def test_negative_elbo_matches_the_hand_computation(model):
    m = _module(model)
    y, dt, mask = _data()
    rec = m.loss(y, dt, mask, generator=torch.Generator().manual_seed(5))
    want = _hand(m, y, dt, mask, 5)
    _check(rec, want)
    assert want["kl_c"] > 1e-3 and (want["kl_z_bk"] > 1e-3).all()  # every term is non-trivial
    assert rec.to_dict() == pytest.approx({"loss": want["loss"], "reconstruction": want["reconstruction"],
                                           "kl_z": want["kl_z"], "kl_c": want["kl_c"]}, rel=1e-9)  # fmt: skip


def test_kl_weight_without_sampling_and_fixed_responsibilities():
    m = _module()
    y, dt, mask = _data()
    rec = m.loss(y, dt, mask, sample=False, kl_weight=0.3)
    _check(rec, _hand(m, y, dt, mask, 0, sample=False, kl_weight=0.3))
    fixed = torch.tensor([[1.0, 0.0], [0.2, 0.8], [0.5, 0.5]], dtype=torch.float64)
    rec = m.loss(y, dt, mask, generator=torch.Generator().manual_seed(9), kl_weight=0.5,
                 fixed_q=fixed)  # fmt: skip
    _check(rec, _hand(m, y, dt, mask, 9, kl_weight=0.5, fixed_q=fixed.numpy()))


def test_log_likelihood_by_hand_with_padding_and_a_given_sigma():
    m = _module()
    y, dt, mask = _data()
    pred = torch.as_tensor(np.random.default_rng(3).uniform(0, 0.3, (B, K, T, N)))
    got = m.log_likelihood(y, mask, pred, sigma=0.25).detach().numpy()
    want = np.array([[sum(stats.norm.logpdf(y[b, t].numpy(), pred[b, k, t].numpy(), 0.25).sum()
                          for t in range(T) if mask[b, t]) for k in range(K)] for b in range(B)])  # fmt: skip
    np.testing.assert_allclose(got, want, rtol=1e-10)
    # without the extra (subtype) dimension: one value per subject
    one = m.log_likelihood(y, mask, pred[:, 1], sigma=0.25).detach().numpy()
    np.testing.assert_allclose(one, want[:, 1], rtol=1e-10)
    learned = m.log_likelihood(y, mask, pred).detach().numpy()
    sigma = float(m.log_sigma.detach().exp())
    np.testing.assert_allclose(learned[0, 0], stats.norm.logpdf(y[0].numpy(), pred[0, 0].numpy(),
                                                                 sigma).sum(), rtol=1e-10)  # fmt: skip
    rss = torch.tensor([2.0, 0.5], dtype=torch.float64)
    n_obs = torch.tensor([10.0, 4.0], dtype=torch.float64)
    np.testing.assert_allclose(m.gaussian_log_likelihood(rss, n_obs, 0.3).numpy(),
                               -rss.numpy() / (2 * 0.09) - n_obs.numpy() / 2 * np.log(2 * np.pi * 0.09))  # fmt: skip


def test_laplace_rows_do_not_depend_on_the_chunking_of_the_solves():
    """Each row's RK4 solution is independent of its batch, so solving the finite-difference
    Jacobians a few rows at a time gives the batched Laplace posterior (memory is bounded)."""
    from crossscale.models.spread import posterior

    m = _module()
    g = torch.Generator().manual_seed(5)
    r = 7
    z = torch.stack([torch.full((r,), math.log(0.1)), torch.full((r,), math.log(0.5)),
                     torch.full((r,), math.log(10.0))], 1).double()  # fmt: skip
    z = z + 0.8 * torch.randn(r, 3, generator=g, dtype=torch.float64)  # stiff and mild rows
    dt = torch.tensor([[0.0, 2.0]], dtype=torch.float64).repeat(r, 1)
    seeds = torch.arange(r) % N
    pred, jac = posterior._predict_with_jacobian(m, z, dt, seeds)
    pred2, jac2 = posterior._predict_with_jacobian(m, z, dt, seeds, chunk=2)
    torch.testing.assert_close(pred2, pred, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(jac2, jac, rtol=1e-9, atol=1e-9)
