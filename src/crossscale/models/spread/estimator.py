"""``SpreadMixtureVAE``: infer spreading subtypes and per-subject mechanism parameters.

Input maps are a :class:`pandas.DataFrame` with one row per visit and one column per region. The
index is either a ``MultiIndex`` ``(subject, time)`` (time in years; only differences between a
subject's visits matter) or a plain index of subjects (one visit each).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time as _time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ModelStateError, ParameterError, RegionMismatchError
from crossscale._progress import progress
from crossscale.models.spread.dynamics import check_model, graph_laplacian, network_diffusion

logger = logging.getLogger(__name__)

_DEFAULT_PRIOR = {
    "fisher_kpp": ((math.log(0.1), math.log(0.5), math.log(10.0)), (0.5, 0.5, 0.5)),
    "diffusion": ((math.log(0.1), math.log(10.0)), (0.5, 0.5)),
}


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run torch with `n` intra-op threads, then restore (small dense ops are faster on one)."""
    import torch

    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(old)


@dataclass(frozen=True)
class VisitArrays:
    """Padded visit arrays: ``y`` (S, T, N), ``dt`` (S, T), ``mask`` (S, T), ``subjects`` (S,)."""

    y: np.ndarray
    dt: np.ndarray
    mask: np.ndarray
    subjects: pd.Index


def to_visit_arrays(X: pd.DataFrame, regions: Sequence[str]) -> VisitArrays:
    """Validate a visits table and pad it into arrays in the order of `regions`.

    Raises
    ------
    InputDataError
        `X` is not a DataFrame, has NaN or non-numeric values, or duplicate visits.
    RegionMismatchError
        Its columns are not exactly the model's regions.
    """
    if not isinstance(X, pd.DataFrame):
        raise InputDataError(
            f"X must be a pandas DataFrame (rows = visits, columns = regions); got {type(X).__name__}."
        )
    regions = list(regions)
    cols = [str(c) for c in X.columns]
    missing = [r for r in regions if r not in cols]
    extra = [c for c in cols if c not in regions]
    if missing or extra:
        raise RegionMismatchError(
            f"The columns of X must be the model's {len(regions)} regions. Missing: {missing[:5]}"
            f"{' ...' if len(missing) > 5 else ''}; unexpected: {extra[:5]}"
            f"{' ...' if len(extra) > 5 else ''}. Fit the model on the same region set, or map "
            "names with crossscale.atlas.to_canonical."
        )
    X = X.copy()
    X.columns = cols
    values = X[regions].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise InputDataError("X has NaN or infinite values; drop or impute those visits first.")
    if isinstance(X.index, pd.MultiIndex):
        if X.index.nlevels != 2:
            raise InputDataError("X.index must be (subject, time) or a single subject level.")
        subj = X.index.get_level_values(0).astype(str)
        times = np.asarray(X.index.get_level_values(1), dtype=float)
    else:
        subj = X.index.astype(str)
        times = np.zeros(len(X))
    frame = pd.DataFrame({"subject": subj, "time": times, "row": np.arange(len(X))})
    if frame.duplicated(["subject", "time"]).any():
        raise InputDataError("X has duplicate (subject, time) visits; each visit must be unique.")
    subjects = pd.Index(pd.unique(frame["subject"]), name="subject")
    groups = frame.groupby("subject", sort=False)
    t_max = int(groups.size().max())
    s, n = len(subjects), len(regions)
    y, dt, mask = np.zeros((s, t_max, n)), np.zeros((s, t_max)), np.zeros((s, t_max))
    for i, (_, g) in enumerate(groups):
        g = g.sort_values("time")
        m = len(g)
        y[i, :m] = values[g["row"].to_numpy()]
        dt[i, :m] = g["time"].to_numpy() - g["time"].min()
        mask[i, :m] = 1.0
    return VisitArrays(y=y, dt=dt, mask=mask, subjects=subjects)


def last_visits(y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each subject's last observed map, shape (S, N)."""
    return np.array([yi[int(mi.sum()) - 1] for yi, mi in zip(y, mask, strict=True)])


def diffusion_seed_scores(laplacian: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Best correlation of each map with a network-diffusion pattern seeded at each region.

    Parameters
    ----------
    laplacian : numpy.ndarray, shape (N, N)
    maps : numpy.ndarray, shape (M, N)

    Returns
    -------
    scores : numpy.ndarray, shape (M, N)
        ``max over rho*t`` of the Pearson r between map ``m`` and ``exp(-rho t L) e_r``.
    """
    grid = np.geomspace(0.05, 20.0, 40)
    evals, evecs = np.linalg.eigh(laplacian)
    pat = np.einsum("gk,rk,nk->rgn", np.exp(-np.outer(grid, evals)), evecs, evecs)
    pat = pat - pat.mean(-1, keepdims=True)
    pat /= np.linalg.norm(pat, axis=-1, keepdims=True) + 1e-12
    m = maps - maps.mean(-1, keepdims=True)
    m = m / (np.linalg.norm(m, axis=-1, keepdims=True) + 1e-12)
    return np.einsum("rgn,mn->mrg", pat, m).max(-1)


def init_epicentres(
    y: np.ndarray, mask: np.ndarray, laplacian: np.ndarray, n_subtypes: int, random_state: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Initial subtype epicentres and cluster labels.

    k-means on the *pattern* of each subject's last visit (centred,
    unit norm, so that subjects cluster by where, not how much), then for each cluster the region
    whose network-diffusion pattern (over a grid of ``rho t``) best correlates with the cluster
    mean (distinct regions). Returns (epicentres (K,), labels (S,)).
    """
    from sklearn.cluster import KMeans

    last = last_visits(y, mask)
    pattern = last - last.mean(1, keepdims=True)
    pattern /= np.linalg.norm(pattern, axis=1, keepdims=True) + 1e-12
    if n_subtypes > 1:
        labels = KMeans(n_subtypes, n_init=10, random_state=random_state).fit_predict(pattern)
    else:
        labels = np.zeros(len(last), dtype=int)
    means = np.array(
        [last[labels == k].mean(0) if np.any(labels == k) else last.mean(0)
         for k in range(n_subtypes)]
    )  # fmt: skip
    scores = diffusion_seed_scores(laplacian, means)
    seeds: list[int] = []
    for k in range(n_subtypes):
        sc = scores[k].copy()
        sc[seeds] = -np.inf
        seeds.append(int(np.argmax(sc)))
    return np.array(seeds), labels


class SpreadMixtureVAE:
    """Physics-informed VAE mixture: each subtype spreads from its own epicentre on the connectome.

    An encoder maps a subject's visits to ``q(subtype)`` and, per subtype, log-normal posteriors of
    the diffusivity ``rho``, the growth rate ``alpha`` (Fisher-KPP) and the ``onset`` (years from
    seeding to the first visit); each subtype's decoder solves the dynamics from its epicentre.

    Parameters
    ----------
    n_subtypes : int
        Number of subtypes K (choose it with :func:`select_n_subtypes`).
    model : {"fisher_kpp", "diffusion"}
        Decoder dynamics.
    laplacian : {"combinatorial", "normalized"}
        Graph Laplacian (see :func:`~crossscale.models.spread.dynamics.graph_laplacian`).
    n_hidden : int
        Encoder width.
    max_epochs : int
        Full passes over the subjects.
    lr : float
        Adam learning rate.
    batch_size : int or None
        Subjects per step (default: all, up to 256).
    epicentre_updates : int
        Number of coordinate-ascent updates of the epicentres during training (after warm-up).
        Default 0: the epicentres stay at their initialisation (the region whose diffusion
        pattern best matches each initial cluster), because an update scores candidate regions
        with parameters the encoder fitted for the current epicentre, which in simulations moved
        correct epicentres to neighbours. The final :attr:`epicentre_proba_` is always computed.
    n_candidates : int
        Candidate epicentres scored per subtype at each update: the regions whose
        network-diffusion pattern best matches the subtype's responsibility-weighted mean map.
    prior_loc, prior_scale : sequence of float or None
        Prior mean (initial; learned per subtype) and sd of ``(log rho, log alpha, log onset)``.
    seed_mass : float
        Initial pathology at the epicentre.
    kl_warmup : float
        Fraction of epochs over which the KL weight rises linearly from 0 to 1.
    assign_warmup : float
        Fraction of epochs during which subjects are held to their initial cluster (k-means on
        last-visit patterns) while the decoders and encoder warm up; afterwards ``q(c | y)`` is
        free. Guards against one subtype absorbing every subject early on.
    n_threads : int or None
        Torch threads while fitting (None: leave torch's setting; 1 is fastest for 68 regions).
    random_state : int or None
        Seed for initialisation, k-means and reparameterisation noise.

    Attributes
    ----------
    regions_ : pandas.Index
    epicentres_ : list of str, shape (K,)
    epicentre_proba_ : pandas.DataFrame, shape (K, n_regions)
        Variational distribution over each subtype's epicentre.
    subtype_params_ : pandas.DataFrame, shape (K, n_latent + 2)
        Learned prior medians of each subtype's parameters, its weight and epicentre.
    noise_ : float
        Learned noise standard deviation.
    history_ : pandas.DataFrame
        Loss terms per epoch.

    References
    ----------
    .. [1] Pinnawala et al. (2025). Learning mechanistic subtypes of neurodegeneration with a
       physics-informed variational autoencoder mixture model. arXiv:2509.15124.
    .. [2] Raj A. et al. (2012). Neuron 73, 1204-1215.
    .. [3] Weickenmeier J. et al. (2019). J Mech Phys Solids 124, 264-281.
    """

    def __init__(
        self,
        n_subtypes: int = 2,
        *,
        model: str = "fisher_kpp",
        laplacian: str = "combinatorial",
        n_hidden: int = 64,
        max_epochs: int = 300,
        lr: float = 1e-2,
        batch_size: int | None = None,
        epicentre_updates: int = 0,
        n_candidates: int = 8,
        prior_loc: Sequence[float] | None = None,
        prior_scale: Sequence[float] | None = None,
        seed_mass: float = 0.05,
        kl_warmup: float = 0.2,
        assign_warmup: float = 0.3,
        n_threads: int | None = 1,
        random_state: int | None = None,
    ) -> None:
        self.n_subtypes = n_subtypes
        self.model = model
        self.laplacian = laplacian
        self.n_hidden = n_hidden
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.epicentre_updates = epicentre_updates
        self.n_candidates = n_candidates
        self.prior_loc = prior_loc
        self.prior_scale = prior_scale
        self.seed_mass = seed_mass
        self.kl_warmup = kl_warmup
        self.assign_warmup = assign_warmup
        self.n_threads = n_threads
        self.random_state = random_state

    # -- helpers -------------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        keys = ("n_subtypes", "model", "laplacian", "n_hidden", "max_epochs", "lr", "batch_size",
                "epicentre_updates", "n_candidates", "prior_loc", "prior_scale", "seed_mass", "kl_warmup",
                "assign_warmup", "n_threads", "random_state")  # fmt: skip
        out = {k: getattr(self, k) for k in keys}
        for k in ("prior_loc", "prior_scale"):
            out[k] = None if out[k] is None else [float(v) for v in out[k]]
        return out

    def _validate(self) -> None:
        check_model(self.model)
        if not isinstance(self.n_subtypes, (int, np.integer)) or self.n_subtypes < 1:
            raise ParameterError(f"n_subtypes must be an integer >= 1; got {self.n_subtypes!r}.")
        if self.max_epochs < 1 or self.lr <= 0:
            raise ParameterError("max_epochs must be >= 1 and lr > 0.")
        d = len(_DEFAULT_PRIOR[self.model][0])
        for name in ("prior_loc", "prior_scale"):
            v = getattr(self, name)
            if v is not None and len(v) != d:
                raise ParameterError(
                    f"{name} must have {d} values for model={self.model!r}; got {len(v)}."
                )

    def _check_fitted(self) -> None:
        if not hasattr(self, "module_"):
            raise ModelStateError(
                "This SpreadMixtureVAE is not fitted yet; call fit(X) or SpreadMixtureVAE.load()."
            )

    def _tensors(self, arr: VisitArrays) -> tuple[Any, Any, Any]:
        import torch

        f = torch.float32
        return (torch.as_tensor(arr.y, dtype=f), torch.as_tensor(arr.dt, dtype=f),
                torch.as_tensor(arr.mask, dtype=f))  # fmt: skip

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame, graph=None, *, production: pd.Series | None = None):
        """Fit subtypes, epicentres and the amortised posterior to a cohort.

        Parameters
        ----------
        X : pandas.DataFrame, shape (n_visits, n_regions)
            Regional pathology, MultiIndex ``(subject, time)``; columns are the graph's regions.
            Values should be on the dynamics' scale (0 = healthy, 1 = saturated).
        graph : RegionGraph or None
            Default ``RegionGraph.from_connectome()`` (ENIGMA HCP structural, 68 regions).
        production : pandas.Series or None, shape (n_regions,)
            Regional production weight of the Fisher-KPP reaction term (e.g. a gene's expression
            scaled to mean 1).

        Returns
        -------
        self : SpreadMixtureVAE

        Raises
        ------
        ParameterError, InputDataError, RegionMismatchError
        """
        with torch_threads(self.n_threads):
            return self._fit(X, graph, production)

    def _fit(self, X, graph, production):
        import torch

        from crossscale.models.spread.module import SpreadMixtureModule

        self._validate()
        if graph is None:
            from crossscale.atlas import RegionGraph

            graph = RegionGraph.from_connectome()
        regions = list(graph.regions)
        arr = to_visit_arrays(X, regions)
        s = len(arr.subjects)
        if s < self.n_subtypes:
            raise InputDataError(f"X has {s} subjects but n_subtypes={self.n_subtypes}.")
        prod = None
        if production is not None:
            production = pd.Series(production)
            if set(production.index) != set(regions):
                raise RegionMismatchError("production must be indexed by the graph's regions.")
            prod = torch.as_tensor(production.loc[regions].to_numpy(float), dtype=torch.float32)
        lap = graph_laplacian(graph, self.laplacian)
        loc, scale = _DEFAULT_PRIOR[self.model]
        loc = tuple(self.prior_loc) if self.prior_loc is not None else loc
        scale = tuple(self.prior_scale) if self.prior_scale is not None else scale
        rs = 0 if self.random_state is None else int(self.random_state)
        t0 = _time.perf_counter()
        seeds, init_labels = init_epicentres(arr.y, arr.mask, lap, self.n_subtypes, rs)
        with torch.random.fork_rng():
            torch.manual_seed(rs)
            module = SpreadMixtureModule(
                torch.as_tensor(lap, dtype=torch.float32), self.n_subtypes, model=self.model,
                prior_loc=loc, prior_scale=scale, n_hidden=self.n_hidden,
                seed_mass=self.seed_mass, production=prod,
            )  # fmt: skip
        module.seeds.copy_(torch.as_tensor(seeds))
        gen = torch.Generator().manual_seed(rs)
        y, dt, mask = self._tensors(arr)
        opt = torch.optim.Adam(module.parameters(), lr=self.lr)
        bs = min(s, self.batch_size or 256)
        n_batches = math.ceil(s / bs)
        n_warm = int(self.assign_warmup * self.max_epochs)
        fixed_q = torch.nn.functional.one_hot(
            torch.as_tensor(init_labels, dtype=torch.long), self.n_subtypes
        )
        fixed_q = fixed_q.to(torch.float32)
        update_at = {
            n_warm + int((self.max_epochs - n_warm) * i / max(1, self.epicentre_updates))
            for i in range(self.epicentre_updates)
        }
        history = []
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, self.max_epochs, self.lr * 0.05)
        with progress("Fitting SpreadMixtureVAE", self.max_epochs) as bar:
            for epoch in range(self.max_epochs):
                if epoch in update_at and self.epicentre_updates > 0:
                    self._update_epicentres(module, y, dt, mask)
                kl_w = min(1.0, (epoch + 1) / max(1.0, self.kl_warmup * self.max_epochs))
                perm = torch.randperm(s, generator=gen) if n_batches > 1 else torch.arange(s)
                rec: dict[str, float] = {}
                for bidx in range(n_batches):
                    idx = perm[bidx * bs : (bidx + 1) * bs]
                    out = module.loss(
                        y[idx], dt[idx], mask[idx], generator=gen, kl_weight=kl_w,
                        fixed_q=fixed_q[idx] if epoch < n_warm else None,
                    )  # fmt: skip
                    opt.zero_grad()
                    out.loss.backward()
                    torch.nn.utils.clip_grad_norm_(module.parameters(), 100.0)
                    opt.step()
                    for key, v in out.to_dict().items():
                        rec[key] = rec.get(key, 0.0) + v / n_batches
                sched.step()
                history.append(rec)
                bar.advance(1)
        scores = self._update_epicentres(module, y, dt, mask, final=True)
        self.fit_time_ = _time.perf_counter() - t0
        self.module_ = module.eval()
        self.regions_ = pd.Index(regions, name="region")
        self.graph_hash_ = graph.hash()
        self.graph_kind_ = graph.kind
        self.history_ = pd.DataFrame(history).rename_axis("epoch")
        self.init_labels_ = init_labels
        self._set_summary(scores)
        logger.info("Fitted %d subtypes in %.1f s", self.n_subtypes, self.fit_time_)
        return self

    def _update_epicentres(self, module, y, dt, mask, final: bool = False):
        import torch

        # shortlist: current seed + regions whose diffusion pattern best matches the
        # responsibility-weighted mean of the last visits
        with torch.no_grad():
            q = module.inference(y, dt, mask)["logits_c"].softmax(-1).numpy()
        last = last_visits(y.numpy(), mask.numpy())
        means = (q.T @ last) / np.maximum(q.sum(0), 1e-9)[:, None]
        ds = diffusion_seed_scores(module.laplacian.numpy().astype(float), means)
        m = min(self.n_candidates, ds.shape[1])
        cand = np.argsort(-ds, axis=1)[:, :m]
        for k, cur in enumerate(module.seeds.tolist()):
            if cur not in cand[k]:
                cand[k, -1] = cur
        scores = module.epicentre_scores(y, dt, mask, torch.as_tensor(cand))
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

    def _set_summary(self, scores) -> None:
        import torch

        m = self.module_
        proba = torch.softmax(scores - scores.max(1, keepdim=True).values, 1).numpy()
        names = [f"subtype_{k}" for k in range(self.n_subtypes)]
        self.epicentre_proba_ = pd.DataFrame(proba, index=pd.Index(names, name="subtype"),
                                             columns=self.regions_)  # fmt: skip
        self.epicentres_ = [str(self.regions_[i]) for i in m.seeds.tolist()]
        med = m.prior_mean().detach().exp().numpy()
        sp = pd.DataFrame(med, index=self.epicentre_proba_.index, columns=list(m.names))
        sp["weight"] = torch.softmax(m.logit_pi.detach(), 0).numpy()
        sp["epicentre"] = self.epicentres_
        self.subtype_params_ = sp
        self.noise_ = float(m.log_sigma.detach().exp())

    # -- inference -----------------------------------------------------------------------------
    def _encode(self, X: pd.DataFrame) -> tuple[VisitArrays, dict[str, Any]]:
        import torch

        self._check_fitted()
        arr = to_visit_arrays(X, self.regions_)
        y, dt, mask = self._tensors(arr)
        with torch.no_grad():
            enc = self.module_.inference(y, dt, mask)
        return arr, enc

    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """Posterior subtype probabilities ``q(c | y)``.

        Returns
        -------
        proba : pandas.DataFrame, shape (n_subjects, K)
            Index ``subject``; columns ``subtype_0`` ...
        """
        arr, enc = self._encode(X)
        p = enc["logits_c"].softmax(-1).numpy()
        return pd.DataFrame(
            p, index=arr.subjects, columns=[f"subtype_{k}" for k in range(self.n_subtypes)]
        )

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Most probable subtype of each subject, shape (n_subjects,)."""
        p = self.predict_proba(X)
        return pd.Series(p.to_numpy().argmax(1), index=p.index, name="subtype")

    def transform(
        self, X: pd.DataFrame, *, level: float = 0.95, refine_steps: int = 0
    ) -> pd.DataFrame:
        """Mechanism parameters of each subject under its most probable subtype, with intervals.

        Parameters
        ----------
        X : pandas.DataFrame
        level : float
            Coverage of the central posterior interval.
        refine_steps : int
            If > 0, semi-amortised inference: starting from the encoder's posterior, each
            subject's Gaussian posterior (for its most probable subtype) is refined by this many
            Adam steps on its own ELBO, with the decoders fixed (Kim et al. 2018, ICML). Closes
            the amortisation gap of a small encoder at the cost of ``refine_steps`` solves.

        Returns
        -------
        params : pandas.DataFrame, shape (n_subjects, 2 + 3 * n_latent)
            ``subtype``, ``epicentre``, then for each of ``rho``, ``alpha`` (Fisher-KPP) and
            ``onset``: posterior median and ``_low``/``_high`` interval bounds (rates in 1/year,
            onset in years before the first visit).
        """
        from scipy.stats import norm

        arr, enc = self._encode(X)
        k = enc["logits_c"].argmax(-1)
        rows = np.arange(len(k))
        mu = enc["mu"].numpy()[rows, k.numpy()]
        sd = enc["logsd"].exp().numpy()[rows, k.numpy()]
        if refine_steps > 0:
            with torch_threads(self.n_threads):
                mu, sd = self._refine(arr, k, mu, sd, int(refine_steps))
        zq = norm.ppf(0.5 + level / 2)
        lo, hi = self.module_.z_low.numpy(), self.module_.z_high.numpy()
        out = pd.DataFrame(index=arr.subjects)
        out["subtype"] = k.numpy()
        out["epicentre"] = [self.epicentres_[i] for i in k.tolist()]
        for j, name in enumerate(self.module_.names):
            for suffix, val in (("", mu[:, j]), ("_low", mu[:, j] - zq * sd[:, j]),
                                ("_high", mu[:, j] + zq * sd[:, j])):  # fmt: skip
                out[name + suffix] = np.exp(np.clip(val, lo[j], hi[j]))
        return out

    def _refine(self, arr: VisitArrays, k, mu: np.ndarray, sd: np.ndarray, steps: int):
        y, dt, mask = self._tensors(arr)
        mu, sd, _ = self._refine_tensors(y, dt, mask, k, mu, sd, steps)
        return mu, sd

    def _refine_tensors(self, y, dt, mask, k, mu, sd, steps: int, n_samples: int = 8):
        """Refine Gaussian posteriors of rows (subject, subtype k) by Adam on their ELBO.

        Returns refined (mu, sd) and the final ELBO of each row (mean of `n_samples` draws).
        """
        import torch

        m = self.module_
        gen = torch.Generator().manual_seed(0 if self.random_state is None else self.random_state)
        mu_t = torch.tensor(mu, requires_grad=True)
        logsd_t = torch.tensor(np.log(sd), requires_grad=True)
        loc = m.prior_mean().detach()[k]
        ps = m.prior_scale
        seeds = m.seeds[k]
        opt = torch.optim.Adam([mu_t, logsd_t], lr=0.05)

        def elbo_rows():
            s_ = logsd_t.clamp(-7.0, 1.0).exp()
            z = mu_t + s_ * torch.randn(mu_t.shape, generator=gen)
            pred = m.generative(z, dt, seeds)
            ll = m._loglik(y, mask, pred.unsqueeze(1)).squeeze(1)
            kl = (torch.log(ps / s_) + (s_**2 + (mu_t - loc) ** 2) / (2 * ps**2) - 0.5).sum(-1)
            return ll - kl

        for _ in range(steps):
            opt.zero_grad()
            (-elbo_rows().sum()).backward()
            opt.step()
        with torch.no_grad():
            elbo = torch.stack([elbo_rows() for _ in range(n_samples)]).mean(0)
        return (mu_t.detach().numpy(), logsd_t.detach().clamp(-7.0, 1.0).exp().numpy(),
                elbo.detach())  # fmt: skip

    def score_samples(
        self, X: pd.DataFrame, *, n_samples: int = 8, refine_steps: int = 0
    ) -> pd.Series:
        """ELBO of each subject (nats; higher is better), averaged over `n_samples` draws.

        Parameters
        ----------
        X : pandas.DataFrame
        n_samples : int
            Reparameterised draws averaged.
        refine_steps : int
            If > 0, each subject's posterior under every subtype is first refined by this many
            Adam steps (semi-amortised), and ``q(c)`` is set to its optimum
            ``softmax(log pi_k + ELBO_k)``, giving ``logsumexp_k(log pi_k + ELBO_k)``. This
            removes the amortisation gap, which otherwise favours larger K (more encoder heads)
            when K is chosen by held-out ELBO.
        """
        import torch

        self._check_fitted()
        arr = to_visit_arrays(X, self.regions_)
        y, dt, mask = self._tensors(arr)
        gen = torch.Generator().manual_seed(0 if self.random_state is None else self.random_state)
        if refine_steps > 0:
            m = self.module_
            kk = self.n_subtypes
            with torch.no_grad():
                enc = m.inference(y, dt, mask)
            b, d = y.shape[0], m.n_latent
            mu = enc["mu"].reshape(b * kk, d).numpy()
            sd = enc["logsd"].exp().reshape(b * kk, d).numpy()
            k = torch.arange(kk).repeat(b)
            with torch_threads(self.n_threads):
                _, _, el = self._refine_tensors(
                    y.repeat_interleave(kk, 0), dt.repeat_interleave(kk, 0),
                    mask.repeat_interleave(kk, 0), k, mu, sd, int(refine_steps), n_samples,
                )  # fmt: skip
            log_pi = torch.log_softmax(m.logit_pi.detach(), 0)
            elbo = torch.logsumexp(el.view(b, kk) + log_pi, dim=1)
            return pd.Series(elbo.numpy(), index=arr.subjects, name="elbo")
        with torch.no_grad():
            elbo = torch.stack(
                [self.module_.loss(y, dt, mask, generator=gen).elbo_per_subject
                 for _ in range(n_samples)]
            ).mean(0)  # fmt: skip
        return pd.Series(elbo.numpy(), index=arr.subjects, name="elbo")

    def score(self, X: pd.DataFrame, *, refine_steps: int = 0) -> float:
        """Mean ELBO per subject (held-out ELBO when `X` was not used to fit)."""
        return float(self.score_samples(X, refine_steps=refine_steps).mean())

    def simulate(
        self,
        n_subjects: int,
        timepoints: Sequence[float] = (0.0, 2.0, 4.0),
        *,
        noise: float | None = None,
        random_state: int | None = None,
    ):
        """Draw a cohort from the fitted generative model (subtypes, priors, epicentres, noise).

        Returns
        -------
        cohort : crossscale.models.spread.simulate.SimulatedCohort
        """
        import torch

        from crossscale.models.spread.simulate import SimulatedCohort, Subtype

        self._check_fitted()
        m = self.module_
        rng = np.random.default_rng(random_state)
        sd = float(self.noise_ if noise is None else noise)
        pi = torch.softmax(m.logit_pi.detach(), 0).numpy().astype(float)
        labels = rng.choice(self.n_subtypes, size=n_subjects, p=pi / pi.sum())
        loc = m.prior_mean().detach().numpy()[labels]
        z = loc + m.prior_scale.numpy() * rng.standard_normal(loc.shape)
        times = np.asarray(timepoints, float)
        dt = np.tile(times, (n_subjects, 1))
        with torch.no_grad():
            zt = torch.as_tensor(z, dtype=torch.float32)
            x = m.generative(zt, torch.as_tensor(dt, dtype=torch.float32),
                             m.seeds[torch.as_tensor(labels)]).numpy()  # fmt: skip
            par = m.unpack(zt)
        subjects = [f"sim-{i:04d}" for i in range(n_subjects)]
        index = pd.MultiIndex.from_product([subjects, times], names=["subject", "time"])
        clean = pd.DataFrame(x.reshape(-1, len(self.regions_)), index=index, columns=self.regions_)
        maps = clean + sd * rng.standard_normal(clean.shape)
        sidx = pd.Index(subjects, name="subject")
        params = pd.DataFrame(
            {"rho": par["rho"].numpy(), "alpha": par["alpha"].numpy(),
             "onset": par["onset"].numpy(), "subtype": labels}, index=sidx,
        )  # fmt: skip
        sp = self.subtype_params_
        subs = tuple(
            Subtype(self.epicentres_[k], float(sp["rho"].iloc[k]),
                    float(sp["alpha"].iloc[k]) if "alpha" in sp else 0.0)
            for k in range(self.n_subtypes)
        )  # fmt: skip
        return SimulatedCohort(maps=maps, labels=pd.Series(labels, index=sidx, name="subtype"),
                               params=params, subtypes=subs, clean=clean, noise=sd,
                               model=self.model)  # fmt: skip

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write ``model.safetensors`` and ``config.json`` into the folder `path` (no pickle)."""
        from safetensors.torch import save_file

        from crossscale import __version__
        from crossscale._utils import write_json

        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous() for k, v in self.module_.state_dict().items()}
        save_file(state, str(path / "model.safetensors"))
        write_json(path / "config.json", {
            "class": "SpreadMixtureVAE",
            "crossscale_version": __version__,
            "params": self.get_params(),
            "regions": list(self.regions_),
            "graph_hash": self.graph_hash_,
            "graph_kind": self.graph_kind_,
            "epicentres": self.epicentres_,
            "epicentre_proba": self.epicentre_proba_.to_numpy().tolist(),
            "fit_time_s": self.fit_time_,
        })  # fmt: skip
        return path

    @classmethod
    def load(cls, path: str | Path, graph=None) -> SpreadMixtureVAE:
        """Load a model saved with :meth:`save`.

        Parameters
        ----------
        path : str or Path
            Folder with ``model.safetensors`` and ``config.json``.
        graph : RegionGraph or None
            If given, its regions must be the checkpoint's (same set and order).

        Raises
        ------
        ModelStateError
            Files missing or of another class.
        RegionMismatchError
            `graph` has a different region set from the checkpoint.
        """
        import torch
        from safetensors.torch import load_file

        from crossscale.models.spread.module import SpreadMixtureModule

        path = Path(path)
        cfg_path, w_path = path / "config.json", path / "model.safetensors"
        if not cfg_path.exists() or not w_path.exists():
            raise ModelStateError(
                f"'{path}' has no config.json + model.safetensors; pass the folder given to save()."
            )
        cfg = json.loads(cfg_path.read_text())
        if cfg.get("class") != "SpreadMixtureVAE":
            raise ModelStateError(f"'{path}' holds a {cfg.get('class')!r}, not SpreadMixtureVAE.")
        regions = list(cfg["regions"])
        if graph is not None and list(graph.regions) != regions:
            diff = sorted(set(graph.regions) ^ set(regions))
            raise RegionMismatchError(
                f"The checkpoint was fitted on {len(regions)} regions but the graph has "
                f"{graph.n_regions}; differing regions: {diff[:6]}. Use the checkpoint's region "
                "set (graph.subgraph(regions)) or refit."
            )
        params = cfg["params"]
        est = cls(**params)
        state = load_file(str(w_path))
        prod = state["production"]
        module = SpreadMixtureModule(
            state["laplacian"], int(params["n_subtypes"]), model=params["model"],
            prior_loc=tuple(state["prior_loc"][0].tolist()),
            prior_scale=tuple(state["prior_scale"].tolist()), n_hidden=int(params["n_hidden"]),
            seed_mass=float(params["seed_mass"]), production=prod,
        )  # fmt: skip
        module.load_state_dict(state)
        est.module_ = module.eval()
        est.regions_ = pd.Index(regions, name="region")
        est.graph_hash_ = cfg["graph_hash"]
        est.graph_kind_ = cfg["graph_kind"]
        est.fit_time_ = cfg.get("fit_time_s", float("nan"))
        est._set_summary(torch.log(torch.as_tensor(cfg["epicentre_proba"]).clamp_min(1e-30)))
        return est


@dataclass(frozen=True)
class SubtypeSelection:
    """Held-out ELBO for each candidate number of subtypes.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``n_subtypes``; columns ``heldout_elbo``, ``train_elbo``, ``fit_time_s``.
    best : int
        K with the highest held-out ELBO.
    """

    table: pd.DataFrame
    best: int

    def to_frame(self) -> pd.DataFrame:
        """The table."""
        return self.table

    def to_dict(self) -> dict[str, object]:
        """For run.json."""
        return {"best": self.best, "table": self.table.reset_index().to_dict("records")}


def select_n_subtypes(
    X: pd.DataFrame,
    graph=None,
    *,
    candidates: Sequence[int] = (1, 2, 3),
    test_size: float = 0.3,
    refine_steps: int = 100,
    random_state: int | None = None,
    **params: Any,
) -> SubtypeSelection:
    """Choose K by the ELBO of held-out subjects (fit on the others).

    Parameters
    ----------
    X : pandas.DataFrame
        Visits table as for :meth:`SpreadMixtureVAE.fit`.
    graph : RegionGraph or None
    candidates : sequence of int
        Values of K to try.
    test_size : float
        Fraction of subjects held out.
    refine_steps : int
        Semi-amortised refinement steps before scoring held-out subjects (see
        :meth:`SpreadMixtureVAE.score_samples`); 0 scores with the encoder alone.
    random_state : int or None
        Seed of the split and of every fit.
    **params
        Other :class:`SpreadMixtureVAE` parameters.

    Returns
    -------
    selection : SubtypeSelection
    """
    if not 0 < test_size < 1:
        raise ParameterError(f"test_size must be in (0, 1); got {test_size}.")
    subj = X.index.get_level_values(0) if isinstance(X.index, pd.MultiIndex) else X.index
    subj = subj.astype(str)
    uniq = pd.unique(subj)
    rng = np.random.default_rng(random_state)
    test = set(rng.choice(uniq, size=max(1, int(round(test_size * len(uniq)))), replace=False))
    is_test = np.isin(subj, list(test))
    rows = []
    for k in candidates:
        est = SpreadMixtureVAE(int(k), random_state=random_state, **params)
        est.fit(X[~is_test], graph)
        rows.append({"n_subtypes": int(k),
                     "heldout_elbo": est.score(X[is_test], refine_steps=refine_steps),
                     "train_elbo": est.score(X[~is_test]), "fit_time_s": est.fit_time_})  # fmt: skip
    table = pd.DataFrame(rows).set_index("n_subtypes")
    return SubtypeSelection(table=table, best=int(table["heldout_elbo"].idxmax()))


def network_diffusion_pattern(laplacian: np.ndarray, seed: int, rho_t: float) -> np.ndarray:
    """Network-diffusion pattern from one seed at ``rho * t`` (helper for reports)."""
    x0 = np.zeros(laplacian.shape[0])
    x0[seed] = 1.0
    return network_diffusion(laplacian, x0, np.array([rho_t]), 1.0)[0]
