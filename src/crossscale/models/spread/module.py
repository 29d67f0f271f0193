"""Torch maths of the spreading-subtype VAE mixture (no data handling, no training policy).

Generative model for subject ``b`` with visits at times ``dt_bj`` after its first visit::

    c_b ~ Categorical(pi)                                   subtype
    z_b | c_b = k ~ N(m_k, diag(s^2))                       z = (log rho, log alpha, log onset)
                                                            (onset mean shared by all k)
    x_b(t) = Dynamics_k(t; rho, alpha, seed = e_k)          network diffusion or Fisher-KPP
    y_bj ~ N(x_b(onset + dt_bj), sigma^2 I)                 Gaussian likelihood, learned sigma

Inference: an amortised DeepSets encoder (visits are a set of (map, time) pairs) gives
``q(c | y)`` and, for every subtype ``k``, ``q(z | y, c = k) = N(mu_k, diag(sd_k^2))``; the ELBO
enumerates the K subtypes exactly (no Gumbel-softmax noise) with one reparameterised sample of ``z``
per subtype. The epicentre ``e_k`` of each subtype is a discrete global latent with a flat prior;
its variational distribution is updated in closed form (coordinate ascent) from the expected
log-likelihood of every candidate region (:meth:`SpreadMixtureModule.epicentre_scores`).

References
----------
.. [1] Pinnawala et al. (2025). Learning mechanistic subtypes of neurodegeneration with a
   physics-informed variational autoencoder mixture model. arXiv:2509.15124.
.. [2] Kingma D.P., Welling M. (2014). Auto-encoding variational Bayes. ICLR.
.. [3] Raj A. et al. (2012). Neuron 73, 1204-1215; Fornari S. et al. (2019). J R Soc Interface 16.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from crossscale.models.spread.dynamics import seed_vector, solve_torch
from crossscale.train.record import LossRecord as BaseLossRecord

#: Latent parameter names by dynamics.
LATENT_NAMES = {"fisher_kpp": ("rho", "alpha", "onset"), "diffusion": ("rho", "onset")}
_LOG_BOUNDS = {"rho": (-7.0, math.log(2.0)), "alpha": (-7.0, math.log(2.0)),
               "onset": (math.log(0.05), math.log(80.0))}  # fmt: skip


@dataclass(frozen=True)
class LossRecord(BaseLossRecord):
    """Terms of the negative ELBO, averaged over subjects (``loss`` carries the gradient).

    ``elbo_per_subject`` (shape (batch,)) is an output, not logged in the history.
    """

    reconstruction: float
    kl_z: float
    kl_c: float
    elbo_per_subject: torch.Tensor

    not_logged = ("elbo_per_subject",)


class SpreadMixtureModule(nn.Module):
    """VAE mixture whose K decoders are spreading dynamics on a graph.

    Parameters
    ----------
    laplacian : torch.Tensor, shape (n_regions, n_regions)
        Graph Laplacian.
    n_subtypes : int
        K.
    model : {"fisher_kpp", "diffusion"}
    prior_loc : sequence of float, shape (n_latent,)
        Initial prior means of ``(log rho, log alpha, log onset)`` (``diffusion``: no alpha).
    prior_scale : sequence of float, shape (n_latent,)
        Prior standard deviations (log scale).
    n_hidden : int
        Width of the encoder.
    seed_mass : float
        Initial pathology at the epicentre.
    noise_init : float
        Initial noise standard deviation.
    production : torch.Tensor or None, shape (n_regions,)
        Regional production weight of the reaction term.
    n_steps : int
        Minimum RK4 steps (Fisher-KPP).
    """

    def __init__(
        self,
        laplacian: torch.Tensor,
        n_subtypes: int,
        *,
        model: str = "fisher_kpp",
        prior_loc: tuple[float, ...] = (math.log(0.1), math.log(0.5), math.log(10.0)),
        prior_scale: tuple[float, ...] = (0.5, 0.5, 0.5),
        n_hidden: int = 64,
        seed_mass: float = 0.05,
        noise_init: float = 0.1,
        production: torch.Tensor | None = None,
        n_steps: int = 30,
    ) -> None:
        super().__init__()
        n = laplacian.shape[0]
        self.model = model
        self.names = LATENT_NAMES[model]
        d = len(self.names)
        self.n_subtypes, self.n_latent, self.n_regions = n_subtypes, d, n
        self.seed_mass, self.n_steps = float(seed_mass), int(n_steps)
        self.register_buffer("laplacian", laplacian.clone())
        evals, evecs = torch.linalg.eigh(laplacian)
        self.register_buffer("evals", evals)
        self.register_buffer("evecs", evecs)
        self.register_buffer(
            "production", torch.ones(n) if production is None else production.clone()
        )
        self.register_buffer("prior_scale", torch.as_tensor(prior_scale, dtype=torch.float32))
        self.register_buffer("seeds", torch.zeros(n_subtypes, dtype=torch.long))
        lo = torch.tensor([_LOG_BOUNDS[k][0] for k in self.names])
        hi = torch.tensor([_LOG_BOUNDS[k][1] for k in self.names])
        self.register_buffer("z_low", lo)
        self.register_buffer("z_high", hi)
        self.prior_loc = nn.Parameter(
            torch.as_tensor(prior_loc, dtype=torch.float32).repeat(n_subtypes, 1)
        )
        self.logit_pi = nn.Parameter(torch.zeros(n_subtypes))
        self.log_sigma = nn.Parameter(torch.tensor(math.log(noise_init)))
        self.phi = nn.Sequential(
            nn.Linear(n + 1, n_hidden), nn.SiLU(), nn.Linear(n_hidden, n_hidden), nn.SiLU()
        )
        self.rho_net = nn.Sequential(nn.Linear(n_hidden, n_hidden), nn.SiLU())
        self.head_c = nn.Linear(n_hidden, n_subtypes)
        self.head_mu = nn.Linear(n_hidden, n_subtypes * d)
        self.head_logsd = nn.Linear(n_hidden, n_subtypes * d)
        for head in (self.head_c, self.head_mu, self.head_logsd):
            nn.init.zeros_(head.weight)
            nn.init.zeros_(head.bias)
        with torch.no_grad():
            self.head_mu.bias.copy_(self.prior_loc.detach().reshape(-1))
            self.head_logsd.bias.fill_(math.log(0.3))

    def prior_mean(self) -> torch.Tensor:
        """Prior means of the latents per subtype, shape (K, n_latent).

        Mechanism parameters (rho, alpha) have one learned mean per subtype; the onset (disease
        stage) has one mean shared by all subtypes, so that subtypes differ in mechanism and
        epicentre, not in how far along their subjects happen to be.
        """
        loc = self.prior_loc
        onset = loc[:, -1:].mean(0, keepdim=True).expand(loc.shape[0], 1)
        return torch.cat([loc[:, :-1], onset], dim=1)

    # -- inference ---------------------------------------------------------------------------
    def inference(
        self, y: torch.Tensor, dt: torch.Tensor, mask: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Encode visits into q(c) logits and per-subtype Gaussian posteriors.

        Parameters
        ----------
        y : torch.Tensor, shape (batch, n_visits, n_regions)
            Observed maps of each subject's visits (padded).
        dt : torch.Tensor, shape (batch, n_visits)
            Years since the first visit.
        mask : torch.Tensor, shape (batch, n_visits)
            1 for observed visits, 0 for padding.

        Returns
        -------
        out : dict
            ``logits_c`` (batch, K), ``mu`` and ``logsd`` (batch, K, n_latent).
        """
        feats = self.phi(torch.cat([y, dt.unsqueeze(-1) / 10.0], dim=-1))  # (B, T, H)
        w = mask / mask.sum(1, keepdim=True).clamp_min(1.0)
        h = self.rho_net((feats * w.unsqueeze(-1)).sum(1))
        b = y.shape[0]
        mu = self.head_mu(h).view(b, self.n_subtypes, self.n_latent)
        logsd = self.head_logsd(h).view(b, self.n_subtypes, self.n_latent).clamp(-7.0, 1.0)
        return {"logits_c": self.head_c(h), "mu": mu, "logsd": logsd}

    # -- generative --------------------------------------------------------------------------
    def unpack(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """Natural-scale parameters from log-scale latents ``z`` (..., n_latent)."""
        z = torch.maximum(torch.minimum(z, self.z_high), self.z_low)
        out = {name: z[..., i].exp() for i, name in enumerate(self.names)}
        if "alpha" not in out:
            out["alpha"] = torch.zeros_like(out["rho"])
        return out

    def generative(self, z: torch.Tensor, dt: torch.Tensor, seeds: torch.Tensor, *,
                   group: int = 1) -> torch.Tensor:  # fmt: skip
        """Predicted maps for a flat batch of latents.

        Parameters
        ----------
        z : torch.Tensor, shape (m, n_latent)
            Log-scale parameters of each row (:meth:`unpack` gives their natural scale).
        dt : torch.Tensor, shape (m, n_visits)
            Visit times since the first visit (years).
        seeds : torch.Tensor, shape (m,)
            Epicentre region index of each row.
        group : int
            Consecutive blocks of `group` rows share one RK4 step count (finite differences;
            see :func:`~crossscale.models.spread.dynamics.fisher_kpp_torch`); `m` a multiple.

        Returns
        -------
        x : torch.Tensor, shape (m, n_visits, n_regions)
        """
        p = self.unpack(z)
        x0 = seed_vector(self.n_regions, seeds.to(z.device), self.seed_mass, per_row=True,
                         dtype=z.dtype)  # fmt: skip
        times = p["onset"].unsqueeze(-1) + dt
        return solve_torch(
            self.model, self.laplacian, x0, times, p["rho"], p["alpha"],
            eig=(self.evals, self.evecs), production=self.production, n_steps=self.n_steps,
            group=group,
        )  # fmt: skip

    def log_likelihood(
        self, y: torch.Tensor, mask: torch.Tensor, pred: torch.Tensor, sigma: float | None = None
    ) -> torch.Tensor:
        """Gaussian log-likelihood of the observed visits under predicted maps.

        Parameters
        ----------
        y : torch.Tensor, shape (B, T, N)
            Observed maps (padded visits).
        mask : torch.Tensor, shape (B, T)
            1 for observed visits, 0 for padding.
        pred : torch.Tensor, shape (B, ..., T, N)
            Predictions; the extra dimensions (e.g. subtypes, samples) broadcast.
        sigma : float or None
            Noise standard deviation (default: the module's learned ``exp(log_sigma)``).

        Returns
        -------
        loglik : torch.Tensor, shape (B, ...)
            Summed over the observed visits and regions (nats).
        """
        extra = pred.dim() - y.dim()
        yv = y.view(y.shape[0], *([1] * extra), *y.shape[1:])
        mv = mask.view(mask.shape[0], *([1] * extra), mask.shape[1], 1)
        log_sigma = self.log_sigma if sigma is None else torch.log(
            torch.as_tensor(float(sigma), dtype=pred.dtype)
        )
        var = (2 * log_sigma).exp()
        ll = -0.5 * ((yv - pred) ** 2 / var + 2 * log_sigma + math.log(2 * math.pi))
        return (ll * mv).sum((-1, -2))

    @staticmethod
    def gaussian_log_likelihood(rss: torch.Tensor, n_obs: torch.Tensor, sigma: float) -> torch.Tensor:
        """:meth:`log_likelihood` from residual sums of squares: ``-rss / 2 s^2 - n/2 log 2 pi s^2``."""
        var = float(sigma) ** 2
        return -rss / (2 * var) - 0.5 * n_obs * math.log(2 * math.pi * var)

    # -- loss --------------------------------------------------------------------------------
    def loss(
        self,
        y: torch.Tensor,
        dt: torch.Tensor,
        mask: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        kl_weight: float = 1.0,
        sample: bool = True,
        fixed_q: torch.Tensor | None = None,
    ) -> LossRecord:
        """Negative ELBO with the subtypes enumerated; shapes as in :meth:`inference`.

        `fixed_q` (batch, K), used during warm-up, replaces ``q(c | y)`` in the ELBO by given
        responsibilities and trains the subtype head towards them by cross-entropy.
        """
        enc = self.inference(y, dt, mask)
        b, k, d = enc["mu"].shape
        sd = enc["logsd"].exp()
        if sample:
            eps = torch.randn(b, k, d, generator=generator, dtype=y.dtype)
            z = enc["mu"] + sd * eps
        else:
            z = enc["mu"]
        seeds = self.seeds.repeat(b)
        pred = self.generative(z.reshape(b * k, d), dt.repeat_interleave(k, 0), seeds).view(
            b, k, *y.shape[1:]
        )
        ll = self.log_likelihood(y, mask, pred)  # (B, K)
        ps = self.prior_scale
        kl_z = (
            torch.log(ps / sd) + (sd**2 + (enc["mu"] - self.prior_mean()) ** 2) / (2 * ps**2) - 0.5
        ).sum(-1)  # (B, K)
        log_q = torch.log_softmax(enc["logits_c"], -1)
        q = log_q.exp()
        log_pi = torch.log_softmax(self.logit_pi, -1)
        kl_c = (q * (log_q - log_pi)).sum(-1)
        elbo = (q * (ll - kl_z)).sum(-1) - kl_c
        if fixed_q is None:
            loss = -((q * (ll - kl_weight * kl_z)).sum(-1) - kl_weight * kl_c).mean()
        else:
            loss = -(fixed_q * (ll - kl_weight * kl_z + log_q)).sum(-1).mean()
        return LossRecord(
            loss=loss,
            reconstruction=float((q * ll).sum(-1).mean().detach()),
            kl_z=float((q * kl_z).sum(-1).mean().detach()),
            kl_c=float(kl_c.mean().detach()),
            elbo_per_subject=elbo.detach(),
        )

    @torch.no_grad()
    def epicentre_scores(
        self,
        y: torch.Tensor,
        dt: torch.Tensor,
        mask: torch.Tensor,
        candidates: torch.Tensor | None = None,
        chunk: int = 2048,
        *,
        z: torch.Tensor | None = None,
        q: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Expected log-likelihood of candidate epicentres for every subtype.

        ``S[k, r] = sum_b q(c_b = k) log p(y_b | mu_bk, seed = r)``; with a flat prior the
        coordinate-ascent update of the epicentre's variational distribution is ``softmax(S[k])``.

        Parameters
        ----------
        y, dt, mask : torch.Tensor
            As in :meth:`inference`.
        candidates : torch.Tensor or None, shape (K, n_candidates)
            Region indices to score for each subtype (default: all regions). Regions not scored
            get ``-inf``.
        chunk : int
            Solves per batch.
        z : torch.Tensor or None, shape (batch, K, n_latent)
            Latents to score at (default: the encoder's means), e.g. refined MAP estimates.
        q : torch.Tensor or None, shape (batch, K)
            Subtype responsibilities (default: the encoder's ``q(c | y)``).

        Returns
        -------
        scores : torch.Tensor, shape (K, n_regions)
        """
        enc = self.inference(y, dt, mask)
        q = enc["logits_c"].softmax(-1) if q is None else q
        mu = enc["mu"] if z is None else z
        b, n = y.shape[0], self.n_regions
        if candidates is None:
            candidates = torch.arange(n).repeat(self.n_subtypes, 1)
        m = candidates.shape[1]
        scores = torch.full((self.n_subtypes, n), -math.inf, dtype=y.dtype)
        for k in range(self.n_subtypes):
            zk = mu[:, k].repeat_interleave(m, 0)  # (B*m, d) subject-major
            dtk = dt.repeat_interleave(m, 0)
            seeds = candidates[k].repeat(b)
            lls = []
            for s in range(0, b * m, chunk):
                pred = self.generative(zk[s : s + chunk], dtk[s : s + chunk], seeds[s : s + chunk])
                sub = torch.arange(s, min(s + chunk, b * m)) // m
                lls.append(self.log_likelihood(y[sub], mask[sub], pred.unsqueeze(1)).squeeze(1))
            ll = torch.cat(lls).view(b, m)
            scores[k, candidates[k]] = (q[:, k : k + 1] * ll).sum(0)
        return scores
