"""Refinement of the amortised fit: per-subject Laplace posteriors, EM rounds, epicentre scores.

Semi-amortised inference (Kim et al. 2018): the encoder's means start a Levenberg-Marquardt MAP
search per subject and subtype (:func:`~crossscale.models.spread.posterior.laplace_rows`); EM rounds
(Dempster et al. 1977) then re-estimate the subtype weights, the prior means and spreads, and the
noise from those posteriors. Every log-likelihood is the module's public
:meth:`~crossscale.models.spread.module.SpreadMixtureModule.log_likelihood`.

References
----------
.. [1] Kim Y. et al. (2018). Semi-amortized variational autoencoders. ICML.
.. [2] Dempster A.P., Laird N.M., Rubin D.B. (1977). J R Stat Soc B 39, 1-38.
"""

from __future__ import annotations

import copy
import logging
import math
from typing import Any

import numpy as np

from crossscale.models.spread.initialisation import diffusion_seed_scores
from crossscale.models.spread.visits import last_visits

logger = logging.getLogger(__name__)


def update_epicentres(module, y, dt, mask, n_candidates: int, *, final: bool = False, post=None):
    """Score candidate epicentres of every subtype; move the seeds to the best (not if `final`).

    Candidates are each subtype's current seed and the `n_candidates` regions whose diffusion
    pattern best matches its responsibility-weighted mean last visit; `post` (refined
    posteriors) replaces the encoder's means and responsibilities. Returns the scores (K, N).
    """
    import torch

    # shortlist: current seed + regions whose diffusion pattern best matches the
    # responsibility-weighted mean of the last visits
    if post is None:
        with torch.no_grad():
            q = module.inference(y, dt, mask)["logits_c"].softmax(-1).numpy()
        z = None
    else:
        q, z = post["resp"].numpy(), post["z"].to(torch.float32)
    last = last_visits(y.numpy(), mask.numpy())
    means = (q.T @ last) / np.maximum(q.sum(0), 1e-9)[:, None]
    ds = diffusion_seed_scores(module.laplacian.numpy().astype(float), means)
    m = min(n_candidates, ds.shape[1])
    cand = np.argsort(-ds, axis=1)[:, :m]
    for k, cur in enumerate(module.seeds.tolist()):
        if cur not in cand[k]:
            cand[k, -1] = cur
    scores = module.epicentre_scores(
        y, dt, mask, torch.as_tensor(cand), z=z,
        q=None if post is None else torch.as_tensor(q, dtype=torch.float32),
    )  # fmt: skip
    new = scores.argmax(1)
    if not final:
        # keep subtypes on distinct epicentres: resolve clashes greedily by score
        order = torch.argsort(scores.max(1).values, descending=True)
        taken: set[int] = set()
        for k in order.tolist():
            ranked = torch.argsort(scores[k], descending=True).tolist()
            choice = next(r for r in ranked if r not in taken)
            new[k] = choice
            taken.add(choice)
        changed = (new != module.seeds).sum().item()
        logger.debug("Epicentre update: %d subtype(s) moved", changed)
        module.seeds.copy_(new)
    return scores



def laplace_all(module, y, dt, mask, n_iter: int, z0=None):
    """Laplace posterior of every (subject, subtype) row; tensors shaped (S, K, ...)."""
    import torch

    from crossscale.models.spread.posterior import laplace_rows

    m64 = copy.deepcopy(module).double()
    s, kk, d = y.shape[0], module.n_subtypes, module.n_latent
    if z0 is None:
        with torch.no_grad():
            z0 = module.inference(y, dt, mask)["mu"]
    rep = lambda t: t.repeat_interleave(kk, 0)  # noqa: E731
    loc = m64.prior_mean().detach().repeat(s, 1)
    rows = laplace_rows(
        m64, rep(y), rep(dt), rep(mask), module.seeds.repeat(s), z0.reshape(s * kk, d), loc,
        m64.prior_scale, float(m64.log_sigma.detach().exp()),
        n_iter=n_iter,
    )  # fmt: skip
    return m64, rows, loc


def em_rounds(module, y, dt, mask, n_em: int, lm_iter: int):
    """EM rounds with Laplace E-steps: weights, prior means and spreads, noise."""
    import torch

    s, kk, d = y.shape[0], module.n_subtypes, module.n_latent
    hist: list[dict[str, float]] = []
    z0 = None
    post = None
    for it in range(n_em + 1):
        n_iter = lm_iter if it == 0 else max(4, lm_iter // 3)
        _, rows, _ = laplace_all(module, y, dt, mask, n_iter, z0=z0)
        log_pi = torch.log_softmax(module.logit_pi.detach().double(), 0)
        lev = rows.log_evidence.view(s, kk)
        resp = torch.softmax(lev + log_pi, 1)
        z = rows.z.view(s, kk, d)
        post = {"resp": resp, "z": z, "cov": rows.cov.view(s, kk, d, d),
                "log_evidence": lev}  # fmt: skip
        hist.append({"noise": float(module.log_sigma.detach().exp()),
                     **{f"prior_sd_{n}": float(v)
                        for n, v in zip(module.names, module.prior_scale.tolist(), strict=True)},
                     "mean_log_evidence": float(torch.logsumexp(lev + log_pi, 1).mean())})  # fmt: skip
        if it == n_em:
            break
        z0 = z.to(torch.float32)
        nk = resp.sum(0)  # (K,)
        loc = module.prior_loc.detach().double().clone()
        wmean = (resp[:, :, None] * z).sum(0) / nk.clamp_min(1e-9)[:, None]  # (K, d)
        keep = nk > 1e-3
        loc[keep, :-1] = wmean[keep, :-1]
        loc[:, -1] = (resp * z[:, :, -1]).sum() / s
        diag = torch.diagonal(post["cov"], dim1=2, dim2=3)
        var = (resp[:, :, None] * ((z - loc[None]) ** 2 + diag)).sum((0, 1)) / s
        new_scale = var.sqrt().clamp(0.05, 2.0)
        # the onset (disease stage at the first visit) is a property of recruitment, not of
        # the disease: keep its prior broad (a fitted Gaussian shrinks early and late
        # subjects to the middle and, through the onset-rate correlation, biases their rates)
        new_scale[-1] = module.prior_scale[-1].double()
        sig2 = float(module.log_sigma.detach().exp()) ** 2
        prec = 1.0 / module.prior_scale.double() ** 2
        tr = (diag * prec).sum(-1)  # tr(P Sigma) per row
        n_obs = rows.n_obs.view(s, kk)
        num = (resp * (rows.rss.view(s, kk) + sig2 * (d - tr))).sum()
        new_sigma = math.sqrt(float(num / (resp * n_obs).sum()))
        pi = (nk / s).clamp_min(1e-6)
        with torch.no_grad():
            module.prior_loc.copy_(loc.float())
            module.prior_scale.copy_(new_scale.float())
            module.log_sigma.fill_(math.log(max(new_sigma, 1e-6)))
            module.logit_pi.copy_(torch.log(pi / pi.sum()).float())
    return hist, post


#: A latent is reported as not identified by a subject's visits when the data alone (Fisher
#: information J^T J / sigma^2, no prior) would not pin it down to better than this sd on the log
#: scale (1.0: a factor of e^(+-1.96) at 95%, twice the width of the default prior; a structural
#: degeneracy such as the time scale of a single visit leaves an unbounded sd).
IDENTIFIABILITY_SD = 1.0
#: A log-scale posterior median within this of a bound of the model's range is at the bound.
BOUND_TOL = 0.01


def subject_posteriors(module, y, dt, mask, kind: str, lm_iter: int) -> dict[str, Any]:
    """Refined (``"laplace"``) or amortised posterior of every subject under every subtype.

    Returns a dict of float64 tensors: ``resp`` (S, K), ``z`` (S, K, d), ``cov`` (S, K, d, d),
    ``log_evidence`` (S, K; None when amortised), the float64 module ``m64`` and, for Laplace,
    the rows and the data's Fisher information ``info`` (S, K, d, d).
    """
    import torch

    s, kk, d = y.shape[0], module.n_subtypes, module.n_latent
    if kind == "amortised":
        with torch.no_grad():
            enc = module.inference(y, dt, mask)
        sd = enc["logsd"].exp().double()
        return {"resp": enc["logits_c"].softmax(-1).double(), "z": enc["mu"].double(),
                "cov": torch.diag_embed(sd**2), "log_evidence": None,
                "m64": copy.deepcopy(module).double()}  # fmt: skip
    log_pi = torch.log_softmax(module.logit_pi.detach().double(), 0)
    m64, rows, _ = laplace_all(module, y, dt, mask, lm_iter)
    lev = rows.log_evidence.view(s, kk)
    return {"resp": torch.softmax(lev + log_pi, 1), "z": rows.z.view(s, kk, d),
            "cov": rows.cov.view(s, kk, d, d), "log_evidence": lev, "m64": m64,
            "rows": rows, "info": rows.info.view(s, kk, d, d)}  # fmt: skip


def parameter_table(post: dict[str, Any], module, epicentres: list[str], subjects, level: float):
    """Per-subject parameters under the most probable subtype (see ``SpreadMixtureVAE.transform``)."""
    import pandas as pd
    from scipy.stats import norm

    resp = post["resp"].numpy()
    k = resp.argmax(1)
    rows = np.arange(len(k))
    mu = post["z"].numpy()[rows, k]
    sd = np.sqrt(np.diagonal(post["cov"].numpy(), axis1=2, axis2=3))[rows, k]
    if post.get("info") is not None:
        info = post["info"].numpy()[rows, k]
        eye = 1e-9 * np.eye(info.shape[-1])
        data_sd = np.sqrt(np.clip(np.diagonal(np.linalg.pinv(info + eye), axis1=1, axis2=2),
                                  0, None))  # fmt: skip
    else:  # amortised: compare with the prior instead
        data_sd = sd / (1 - np.minimum(sd / module.prior_scale.numpy(), 0.999))
    zq = norm.ppf(0.5 + level / 2)
    lo, hi = module.z_low.numpy(), module.z_high.numpy()
    out = pd.DataFrame(index=subjects)
    out["subtype"] = k
    out["subtype_proba"] = resp[rows, k]
    out["epicentre"] = [epicentres[i] for i in k.tolist()]
    for j, name in enumerate(module.names):
        # at a bound of the model's range the optimum is the bound, not an estimate
        at_bound = (mu[:, j] <= lo[j] + BOUND_TOL) | (mu[:, j] >= hi[j] - BOUND_TOL)
        ident = (data_sd[:, j] <= IDENTIFIABILITY_SD) & ~at_bound
        out[name] = np.where(at_bound, np.nan, np.exp(np.clip(mu[:, j], lo[j], hi[j])))
        for suffix, val in (("_low", mu[:, j] - zq * sd[:, j]),
                            ("_high", mu[:, j] + zq * sd[:, j])):  # fmt: skip
            out[name + suffix] = np.where(ident, np.exp(np.clip(val, lo[j], hi[j])), np.nan)
        out[name + "_identified"] = ident
        if at_bound.any():
            logger.warning(
                "%s of %d of %d subjects is at a bound of the model's range (%.3g-%.3g): not "
                "identified, no estimate given (NaN).",
                name, int(at_bound.sum()), len(at_bound), np.exp(lo[j]), np.exp(hi[j]),
            )  # fmt: skip
        if not ident.all():
            logger.warning(
                "%s is not identified by the visits of %d of %d subjects (the data alone "
                "leave a log-scale sd > %.2g); their intervals are NaN.",
                name, int((~ident).sum()), len(ident), IDENTIFIABILITY_SD,
            )  # fmt: skip
    return out


def log_predictive(module, post: dict[str, Any], y, dt, mask, n_importance: int, generator):
    """``logsumexp_k(log pi_k + log p(y | k))`` per subject, shape (S,), from Laplace posteriors.

    Each subtype's evidence is the Laplace evidence, corrected by importance sampling with
    `n_importance` draws (0: Laplace alone).
    """
    import torch

    from crossscale.models.spread.posterior import importance_log_evidence

    lev = post["log_evidence"]
    s, kk = lev.shape
    if n_importance > 0:
        rep = lambda t: t.repeat_interleave(kk, 0)  # noqa: E731
        m64 = post["m64"]
        lev = importance_log_evidence(
            m64, rep(y), rep(dt), rep(mask), module.seeds.repeat(s), post["rows"],
            m64.prior_mean().detach().repeat(s, 1), m64.prior_scale,
            float(m64.log_sigma.detach().exp()), n_samples=n_importance, generator=generator,
        ).view(s, kk)  # fmt: skip
    log_pi = torch.log_softmax(module.logit_pi.detach().double(), 0)
    return torch.logsumexp(lev + log_pi, 1)
