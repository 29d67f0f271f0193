"""``SpreadMixtureVAE``: infer spreading subtypes and per-subject mechanism parameters.

Input maps are a :class:`pandas.DataFrame` with one row per visit and one column per region. The
index is either a ``MultiIndex`` ``(subject, time)`` (time in years; only differences between a
subject's visits matter) or a plain index of subjects (one visit each).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
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
from sklearn.base import BaseEstimator

from crossscale._errors import InputDataError, ModelStateError, ParameterError, RegionMismatchError
from crossscale._progress import progress
from crossscale.models.spread.dynamics import check_model, graph_laplacian, network_diffusion

logger = logging.getLogger(__name__)

POSTERIORS: tuple[str, ...] = ("laplace", "amortised")
#: A latent is reported as not identified by a subject's visits when the data alone (Fisher
#: information J^T J / sigma^2, no prior) would not pin it down to better than this sd on the log
#: scale (1.0: a factor of e^(+-1.96) at 95%, twice the width of the default prior; a structural
#: degeneracy such as the time scale of a single visit leaves an unbounded sd).
IDENTIFIABILITY_SD = 1.0


def _seed(random_state: int | np.random.Generator | None) -> int:
    """An int seed: `random_state` itself, or drawn from it / fresh entropy (None), as GraphVAE."""
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng()
    return int(rng.integers(0, 2**31 - 1))


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


def _facility_swap(
    prof: np.ndarray, seeds: list[int], max_pass: int = 10
) -> tuple[list[int], float]:
    """Improve a seed set by single swaps for ``F = sum_s max_k prof[s, seed_k]``."""

    def value(ss: list[int]) -> float:
        return float(prof[:, ss].max(1).sum())

    best = value(seeds)
    for _ in range(max_pass):
        improved = False
        for i in range(len(seeds)):
            for r in range(prof.shape[1]):
                if r in seeds:
                    continue
                trial = seeds[:i] + [r] + seeds[i + 1 :]
                v = value(trial)
                if v > best + 1e-12:
                    seeds, best, improved = trial, v, True
        if not improved:
            break
    return seeds, best


def init_epicentres(
    y: np.ndarray, mask: np.ndarray, laplacian: np.ndarray, n_subtypes: int, random_state: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Initial subtype epicentres and cluster labels.

    Every visit is scored against the network-diffusion pattern seeded at every region (best
    Pearson r over a grid of ``rho t``; :func:`diffusion_seed_scores`), and a subject's profile
    ``P[s, r]`` is the sum over its visits. The K epicentres maximise
    ``sum_s max_k P[s, e_k]`` (a facility-location objective: every subject is explained by its
    best epicentre), found by single swaps starting from (a) the greedy choice and (b) the seeds
    of k-means clusters of last-visit patterns (centred, unit norm, so that subjects cluster by
    where, not how much); the better set wins. Each subject is labelled by its best epicentre.
    A k-means-only start merged neighbouring true subtypes into one compromise epicentre (e.g.
    entorhinal + lateral occipital -> fusiform) in simulated cohorts with four subtypes.

    Returns
    -------
    epicentres : numpy.ndarray, shape (K,)
    labels : numpy.ndarray, shape (S,)
    """
    from sklearn.cluster import KMeans

    s_, t_, n = y.shape
    obs = mask.reshape(-1) > 0
    sc = np.zeros((s_ * t_, n))
    sc[obs] = diffusion_seed_scores(laplacian, y.reshape(-1, n)[obs])
    prof = sc.reshape(s_, t_, n).sum(1)
    # (a) greedy
    greedy: list[int] = []
    for _ in range(n_subtypes):
        cur = prof[:, greedy].max(1) if greedy else np.full(s_, -np.inf)
        gain = np.maximum(prof, cur[:, None]).sum(0)
        gain[greedy] = -np.inf
        greedy.append(int(np.argmax(gain)))
    # (b) k-means on last-visit patterns, then the best-matching region per cluster mean
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
    km: list[int] = []
    for k in range(n_subtypes):
        row = scores[k].copy()
        row[km] = -np.inf
        km.append(int(np.argmax(row)))
    cands = [_facility_swap(prof, start) for start in (greedy, km)]
    seeds = max(cands, key=lambda c: c[1])[0]
    labels = prof[:, seeds].argmax(1)
    return np.array(seeds), labels


class SpreadMixtureVAE(BaseEstimator):
    """Physics-informed VAE mixture: each subtype spreads from its own epicentre on the connectome.

    An encoder maps a subject's visits to ``q(subtype)`` and, per subtype, log-normal posteriors of
    the diffusivity ``rho``, the growth rate ``alpha`` (Fisher-KPP) and the ``onset`` (years from
    seeding to the first visit); each subtype's decoder solves the dynamics from its epicentre.
    After the amortised training, ``n_em`` rounds of expectation-maximisation with per-subject
    Laplace posteriors (:mod:`crossscale.models.spread.posterior`) re-estimate the subtype
    weights, the prior means and spreads, and the noise, so that the noise level and the priors
    are those of fully fitted subjects rather than of the amortised encoder.

    Parameters
    ----------
    n_subtypes : int
        Number of subtypes K >= 1 (choose it with :func:`select_n_subtypes`).
    model : {"fisher_kpp", "diffusion"}
        Decoder dynamics.
    laplacian : {"combinatorial", "normalized"}
        Graph Laplacian (see :func:`~crossscale.models.spread.dynamics.graph_laplacian`).
    n_hidden : int
        Encoder width (>= 1).
    max_epochs : int
        Full passes over the subjects (>= 1). The EM rounds after training do most of the
        fitting, so 30-100 epochs are enough (in simulations 40 and 300 gave the same results).
    lr : float
        Adam learning rate (> 0).
    batch_size : int or None
        Subjects per step (>= 1; None: all subjects, up to 256).
    epicentre_updates : int
        Number of coordinate-ascent updates of the epicentres during training (>= 0, after
        warm-up). Default 0: the epicentres stay at their initialisation (the region whose
        diffusion pattern best matches each initial cluster), because an update scores candidate
        regions with parameters fitted for the current epicentre, which in simulations moved
        correct epicentres to neighbours. The final :attr:`epicentre_proba_` is always computed.
    n_candidates : int
        Candidate epicentres scored per subtype (>= 1): the regions whose network-diffusion
        pattern best matches the subtype's responsibility-weighted mean map.
    prior_loc, prior_scale : sequence of float or None
        Prior mean (initial; learned per subtype, the onset's shared) and sd (> 0; the rates'
        re-estimated by the EM rounds, the onset's kept) of ``(log rho, log alpha, log onset)``
        (``diffusion``: no alpha).
    seed_mass : float
        Initial pathology at the epicentre (> 0).
    kl_warmup : float
        Fraction of epochs (in [0, 1]) over which the KL weight rises linearly from 0 to 1.
    assign_warmup : float
        Fraction of epochs (in [0, 1)) during which subjects are held to their initial cluster
        (k-means on last-visit patterns) while the decoders and encoder warm up; afterwards
        ``q(c | y)`` is free. Guards against one subtype absorbing every subject early on.
    posterior : {"laplace", "amortised"}
        Posterior used by :meth:`predict_proba`, :meth:`transform` and :meth:`score_samples`:
        ``laplace`` (default) refines every subject's posterior under every subtype
        (MAP + full-covariance Laplace, semi-amortised); ``amortised`` uses the encoder alone
        (fast, but its intervals are not calibrated). Only used after fitting, so it can be
        switched on a fitted model with ``set_params(posterior=...)``.
    n_em : int
        EM rounds after training (>= 0; 0 keeps the amortised estimates of noise and priors).
    lm_iter : int
        Levenberg-Marquardt iterations of each per-subject refinement (>= 1).
    n_importance : int
        Importance samples per subject and subtype in :meth:`score_samples` (>= 0; 0: the
        Laplace evidence alone).
    n_threads : int or None
        Torch threads while fitting (None: leave torch's setting; 1 is fastest for 68 regions).
    random_state : int, numpy.random.Generator or None
        Seed for initialisation, k-means and reparameterisation noise. None draws a fresh seed
        from OS entropy at each fit (as :class:`~crossscale.models.graphvae.GraphVAE`); the seed
        used is stored in :attr:`seed_`.

    Attributes
    ----------
    regions_ : pandas.Index
    epicentres_ : list of str, shape (K,)
    epicentre_proba_ : pandas.DataFrame, shape (K, n_regions)
        Posterior over each subtype's epicentre (flat prior), from the refined subject fits.
    subtype_params_ : pandas.DataFrame, shape (K, n_latent + 2)
        Learned prior medians of each subtype's parameters, its weight and epicentre.
    noise_ : float
        Learned noise standard deviation.
    seed_ : int
        The seed the fit used.
    history_ : pandas.DataFrame
        Loss terms per epoch.
    em_history_ : pandas.DataFrame
        Noise, prior spreads and mean log evidence after each EM round.

    References
    ----------
    .. [1] Pinnawala et al. (2025). Learning mechanistic subtypes of neurodegeneration with a
       physics-informed variational autoencoder mixture model. arXiv:2509.15124.
    .. [2] Raj A. et al. (2012). Neuron 73, 1204-1215.
    .. [3] Weickenmeier J. et al. (2019). J Mech Phys Solids 124, 264-281.
    .. [4] Kim Y. et al. (2018). Semi-amortized variational autoencoders. ICML.
    .. [5] Dempster A.P., Laird N.M., Rubin D.B. (1977). Maximum likelihood from incomplete data
       via the EM algorithm. J R Stat Soc B 39, 1-38.
    """

    def __init__(
        self,
        n_subtypes: int = 2,
        *,
        model: str = "fisher_kpp",
        laplacian: str = "combinatorial",
        n_hidden: int = 64,
        max_epochs: int = 100,
        lr: float = 1e-2,
        batch_size: int | None = None,
        epicentre_updates: int = 0,
        n_candidates: int = 8,
        prior_loc: Sequence[float] | None = None,
        prior_scale: Sequence[float] | None = None,
        seed_mass: float = 0.05,
        kl_warmup: float = 0.2,
        assign_warmup: float = 0.3,
        posterior: str = "laplace",
        n_em: int = 3,
        lm_iter: int = 15,
        n_importance: int = 16,
        n_threads: int | None = 1,
        random_state: int | np.random.Generator | None = None,
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
        self.posterior = posterior
        self.n_em = n_em
        self.lm_iter = lm_iter
        self.n_importance = n_importance
        self.n_threads = n_threads
        self.random_state = random_state

    # -- helpers -------------------------------------------------------------------------------
    def _config_params(self) -> dict[str, Any]:
        """JSON-safe constructor parameters (for config.json)."""
        out = self.get_params()
        for k in ("prior_loc", "prior_scale"):
            out[k] = None if out[k] is None else [float(v) for v in out[k]]
        if not (out["random_state"] is None or isinstance(out["random_state"], (int, np.integer))):
            out["random_state"] = None
        return out

    def _validate(self) -> None:
        def bad(name: str, allowed: str) -> ParameterError:
            return ParameterError(
                f"SpreadMixtureVAE: {name} must be {allowed}; got {getattr(self, name)!r}. "
                f"Pass a valid {name} to the constructor (or set_params)."
            )

        def is_int(v: object) -> bool:
            return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

        def is_num(v: object) -> bool:
            return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

        check_model(self.model)
        if self.laplacian not in ("combinatorial", "normalized"):
            raise bad("laplacian", "'combinatorial' or 'normalized'")
        for name, low in (("n_subtypes", 1), ("n_hidden", 1), ("max_epochs", 1),
                          ("epicentre_updates", 0), ("n_candidates", 1), ("n_em", 0),
                          ("lm_iter", 1), ("n_importance", 0)):  # fmt: skip
            v = getattr(self, name)
            if not is_int(v) or v < low:
                raise bad(name, f"an integer >= {low}")
        if self.batch_size is not None and (not is_int(self.batch_size) or self.batch_size < 1):
            raise bad("batch_size", "None or an integer >= 1")
        if self.n_threads is not None and (not is_int(self.n_threads) or self.n_threads < 1):
            raise bad("n_threads", "None or an integer >= 1")
        for name in ("lr", "seed_mass"):
            v = getattr(self, name)
            if not is_num(v) or not math.isfinite(v) or v <= 0:
                raise bad(name, "a finite number > 0")
        if not is_num(self.kl_warmup) or not 0 <= self.kl_warmup <= 1:
            raise bad("kl_warmup", "a number in [0, 1]")
        if not is_num(self.assign_warmup) or not 0 <= self.assign_warmup < 1:
            raise bad("assign_warmup", "a number in [0, 1)")
        if self.posterior not in POSTERIORS:
            raise bad("posterior", " or ".join(repr(p) for p in POSTERIORS))
        rs = self.random_state
        if not (rs is None or is_int(rs) or isinstance(rs, np.random.Generator)):
            raise bad("random_state", "None, an int or a numpy.random.Generator")
        if is_int(rs) and rs < 0:
            raise bad("random_state", "a non-negative int")
        d = len(_DEFAULT_PRIOR[self.model][0])
        for name in ("prior_loc", "prior_scale"):
            v = getattr(self, name)
            if v is None:
                continue
            try:
                vals = [float(x) for x in v]
            except (TypeError, ValueError):
                raise bad(name, f"None or {d} numbers") from None
            if len(vals) != d:
                raise ParameterError(
                    f"SpreadMixtureVAE: {name} must have {d} values for model={self.model!r} "
                    f"(log rho{', log alpha' if d == 3 else ''}, log onset); got {len(vals)}."
                )
            if not all(math.isfinite(x) for x in vals) or (
                name == "prior_scale" and min(vals) <= 0
            ):
                raise bad(name, f"{d} finite numbers{' > 0' if name == 'prior_scale' else ''}")

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
        self._validate()
        with torch_threads(self.n_threads):
            return self._fit(X, graph, production)

    def _fit(self, X, graph, production):
        import torch

        from crossscale.models.spread.module import SpreadMixtureModule

        if graph is None:
            from crossscale.atlas import RegionGraph

            graph = RegionGraph.from_connectome()
        regions = list(graph.regions)
        arr = to_visit_arrays(X, regions)
        s = len(arr.subjects)
        if s < self.n_subtypes:
            raise InputDataError(
                f"X has {s} subjects but n_subtypes={self.n_subtypes}; every subtype needs "
                "subjects: lower n_subtypes or add subjects."
            )
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
        rs = _seed(self.random_state)
        self.seed_ = rs
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
        bs = min(s, self.batch_size if self.batch_size is not None else 256)
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
        module.eval()
        em_rows, post = self._em(module, y, dt, mask)
        scores = self._update_epicentres(module, y, dt, mask, final=True, post=post)
        self.fit_time_ = _time.perf_counter() - t0
        self.module_ = module
        self.em_history_ = pd.DataFrame(em_rows).rename_axis("round")
        self.regions_ = pd.Index(regions, name="region")
        self.graph_hash_ = graph.hash()
        self.graph_kind_ = graph.kind
        self.history_ = pd.DataFrame(history).rename_axis("epoch")
        self.init_labels_ = init_labels
        self._set_summary(scores)
        logger.info("Fitted %d subtypes in %.1f s", self.n_subtypes, self.fit_time_)
        return self

    def _update_epicentres(self, module, y, dt, mask, final: bool = False, post=None):
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
        m = min(self.n_candidates, ds.shape[1])
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

    # -- refined posteriors --------------------------------------------------------------------
    def _laplace_all(self, module, y, dt, mask, z0=None, n_iter=None):
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
            n_iter=self.lm_iter if n_iter is None else n_iter,
        )  # fmt: skip
        return m64, rows, loc

    def _em(self, module, y, dt, mask):
        """EM rounds with Laplace E-steps: weights, prior means and spreads, noise."""
        import torch

        s, kk, d = y.shape[0], module.n_subtypes, module.n_latent
        hist: list[dict[str, float]] = []
        z0 = None
        post = None
        for it in range(self.n_em + 1):
            n_iter = self.lm_iter if it == 0 else max(4, self.lm_iter // 3)
            _, rows, _ = self._laplace_all(module, y, dt, mask, z0=z0, n_iter=n_iter)
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
            if it == self.n_em:
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

    def _posterior(self, arr: VisitArrays) -> dict[str, Any]:
        """Refined (Laplace) or amortised posterior of every subject under every subtype.

        Returns a dict of float64 tensors: ``resp`` (S, K), ``z`` (S, K, d), ``cov``
        (S, K, d, d), ``log_evidence`` (S, K) and the float64 module ``m64``; cached for the
        last input.
        """
        import torch

        key = hashlib.sha1(
            arr.y.tobytes()
            + arr.dt.tobytes()
            + arr.mask.tobytes()
            + f"{self.posterior}/{self.lm_iter}".encode()
        ).hexdigest()
        cache = getattr(self, "_post_cache", None)
        if cache is not None and cache[0] == key and cache[1] is self.module_:
            return cache[2]
        m = self.module_
        y, dt, mask = self._tensors(arr)
        s, kk, d = y.shape[0], m.n_subtypes, m.n_latent
        log_pi = torch.log_softmax(m.logit_pi.detach().double(), 0)
        if self.posterior == "amortised":
            with torch.no_grad():
                enc = m.inference(y, dt, mask)
            sd = enc["logsd"].exp().double()
            out = {"resp": enc["logits_c"].softmax(-1).double(), "z": enc["mu"].double(),
                   "cov": torch.diag_embed(sd**2), "log_evidence": None,
                   "m64": copy.deepcopy(m).double()}  # fmt: skip
        else:
            with torch_threads(self.n_threads):
                m64, rows, _ = self._laplace_all(m, y, dt, mask)
            lev = rows.log_evidence.view(s, kk)
            out = {"resp": torch.softmax(lev + log_pi, 1), "z": rows.z.view(s, kk, d),
                   "cov": rows.cov.view(s, kk, d, d), "log_evidence": lev, "m64": m64,
                   "rows": rows, "info": rows.info.view(s, kk, d, d)}  # fmt: skip
        self._post_cache = (key, self.module_, out)
        return out

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
    def predict_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """Posterior subtype probabilities.

        With ``posterior="laplace"`` these are ``softmax_k(log pi_k + log p(y | k))`` with the
        Laplace evidence of each subtype; with ``"amortised"`` the encoder's ``q(c | y)``.

        Returns
        -------
        proba : pandas.DataFrame, shape (n_subjects, K)
            Index ``subject``; columns ``subtype_0`` ...
        """
        self._check_fitted()
        arr = to_visit_arrays(X, self.regions_)
        p = self._posterior(arr)["resp"].numpy()
        return pd.DataFrame(
            p, index=arr.subjects, columns=[f"subtype_{k}" for k in range(self.n_subtypes)]
        )

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Most probable subtype of each subject, shape (n_subjects,)."""
        p = self.predict_proba(X)
        return pd.Series(p.to_numpy().argmax(1), index=p.index, name="subtype")

    def transform(self, X: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
        """Mechanism parameters of each subject under its most probable subtype, with intervals.

        Parameters
        ----------
        X : pandas.DataFrame
        level : float
            Coverage of the central posterior interval, in (0, 1).

        Returns
        -------
        params : pandas.DataFrame, shape (n_subjects, 3 + 4 * n_latent)
            ``subtype``, ``subtype_proba``, ``epicentre``, then for each of ``rho``, ``alpha``
            (Fisher-KPP) and ``onset``: posterior median, ``_low``/``_high`` bounds of the central
            interval (rates in 1/year, onset in years before the first visit) and
            ``_identified``. A latent that the subject's data alone (their Fisher information
            ``J^T J / sigma^2``, without the prior) would not pin down to a log-scale sd of
            :data:`IDENTIFIABILITY_SD` is not identified by the visits (e.g. rates and onset
            from a single visit, where only ``rho * t`` and ``alpha * t`` are constrained): its
            bounds are NaN and ``_identified`` is False, rather than an interval that only
            restates the (population) prior.

        Raises
        ------
        ParameterError
            `level` outside (0, 1).
        """
        from scipy.stats import norm

        if not (isinstance(level, (int, float)) and 0 < level < 1):
            raise ParameterError(f"level must be in (0, 1) (e.g. 0.95); got {level!r}.")
        self._check_fitted()
        arr = to_visit_arrays(X, self.regions_)
        post = self._posterior(arr)
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
            data_sd = sd / (1 - np.minimum(sd / self.module_.prior_scale.numpy(), 0.999))
        zq = norm.ppf(0.5 + level / 2)
        lo, hi = self.module_.z_low.numpy(), self.module_.z_high.numpy()
        out = pd.DataFrame(index=arr.subjects)
        out["subtype"] = k
        out["subtype_proba"] = resp[rows, k]
        out["epicentre"] = [self.epicentres_[i] for i in k.tolist()]
        for j, name in enumerate(self.module_.names):
            ident = data_sd[:, j] <= IDENTIFIABILITY_SD
            out[name] = np.exp(np.clip(mu[:, j], lo[j], hi[j]))
            for suffix, val in (("_low", mu[:, j] - zq * sd[:, j]),
                                ("_high", mu[:, j] + zq * sd[:, j])):  # fmt: skip
                out[name + suffix] = np.where(ident, np.exp(np.clip(val, lo[j], hi[j])), np.nan)
            out[name + "_identified"] = ident
            if not ident.all():
                logger.warning(
                    "%s is not identified by the visits of %d of %d subjects (the data alone "
                    "leave a log-scale sd > %.2g); their intervals are NaN.",
                    name, int((~ident).sum()), len(ident), IDENTIFIABILITY_SD,
                )  # fmt: skip
        return out

    def score_samples(self, X: pd.DataFrame, *, n_importance: int | None = None) -> pd.Series:
        """Log predictive density ``log p(y_b)`` of each subject (nats; higher is better).

        ``logsumexp_k(log pi_k + log p(y_b | k))`` with each subtype's evidence from the refined
        Laplace posterior, corrected by importance sampling with `n_importance` draws from a
        Laplace-centred multivariate t (Burda et al. 2016). With ``posterior="amortised"`` the
        ELBO of the encoder's posterior (a lower bound, biased by the amortisation gap).

        Parameters
        ----------
        X : pandas.DataFrame
        n_importance : int or None
            Importance samples (default :attr:`n_importance`; 0: Laplace evidence only).
        """
        import torch

        from crossscale.models.spread.posterior import importance_log_evidence

        self._check_fitted()
        arr = to_visit_arrays(X, self.regions_)
        m = self.module_
        gen = torch.Generator().manual_seed(int(getattr(self, "seed_", 0)))
        if self.posterior == "amortised":
            y, dt, mask = self._tensors(arr)
            with torch.no_grad():
                elbo = torch.stack(
                    [m.loss(y, dt, mask, generator=gen).elbo_per_subject for _ in range(8)]
                ).mean(0)  # fmt: skip
            return pd.Series(elbo.numpy(), index=arr.subjects, name="log_predictive")
        n_is = self.n_importance if n_importance is None else int(n_importance)
        post = self._posterior(arr)
        lev = post["log_evidence"]
        s, kk = lev.shape
        if n_is > 0:
            y, dt, mask = self._tensors(arr)
            rep = lambda t: t.repeat_interleave(kk, 0)  # noqa: E731
            m64 = post["m64"]
            with torch_threads(self.n_threads):
                lev = importance_log_evidence(
                    m64, rep(y), rep(dt), rep(mask), m.seeds.repeat(s), post["rows"],
                    m64.prior_mean().detach().repeat(s, 1), m64.prior_scale,
                    float(m64.log_sigma.detach().exp()), n_samples=n_is, generator=gen,
                ).view(s, kk)  # fmt: skip
        log_pi = torch.log_softmax(m.logit_pi.detach().double(), 0)
        lp = torch.logsumexp(lev + log_pi, 1)
        return pd.Series(lp.numpy(), index=arr.subjects, name="log_predictive")

    def score(self, X: pd.DataFrame) -> float:
        """Mean log predictive density per subject (held-out when `X` was not used to fit)."""
        return float(self.score_samples(X).mean())

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
            "params": self._config_params(),
            "regions": list(self.regions_),
            "graph_hash": self.graph_hash_,
            "graph_kind": self.graph_kind_,
            "epicentres": self.epicentres_,
            "epicentre_proba": self.epicentre_proba_.to_numpy().tolist(),
            "fit_time_s": self.fit_time_,
            "seed": int(getattr(self, "seed_", 0)),
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
        est.seed_ = int(cfg.get("seed", 0))
        est._set_summary(torch.log(torch.as_tensor(cfg["epicentre_proba"]).clamp_min(1e-30)))
        return est


@dataclass(frozen=True)
class SubtypeSelection:
    """Held-out log predictive density for each candidate number of subtypes.

    Attributes
    ----------
    table : pandas.DataFrame
        Index ``n_subtypes``; columns ``heldout_loglik`` (mean log predictive density per held-out
        subject, nats), ``heldout_se`` (its standard error), ``diff_to_best`` and ``diff_se``
        (mean and standard error of the paired per-subject difference to the best K),
        ``within_1se``, ``train_loglik`` (mean Laplace log evidence of the training subjects
        after the last EM round), ``noise`` (fitted noise sd), ``fit_time_s`` and
        ``chosen_in_repeats`` (how many repeats chose this K).
    best : int
        The smallest K whose mean held-out score is within one standard error of the best K's
        (the one-standard-error rule; Hastie et al. 2009, sec. 7.10), on all repeats pooled.
    best_by_max : int
        K with the highest mean held-out score.
    repeats : list of int
        K chosen by the same rule in each repeat (its own split and seed).
    stability : float
        Fraction of repeats that chose `best`.
    scores : pandas.DataFrame
        Held-out log predictive density of every held-out subject (rows; repeat, subject) for
        every K (columns).
    """

    table: pd.DataFrame
    best: int
    best_by_max: int
    repeats: list[int]
    stability: float
    scores: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The table."""
        return self.table

    def to_dict(self) -> dict[str, object]:
        """For run.json."""
        return {"best": self.best, "best_by_max": self.best_by_max, "repeats": self.repeats,
                "stability": self.stability,
                "table": self.table.reset_index().to_dict("records")}  # fmt: skip


def one_se_choice(scores: pd.DataFrame) -> tuple[int, int, pd.DataFrame]:
    """The one-standard-error rule on per-subject held-out scores.

    Parameters
    ----------
    scores : pandas.DataFrame, shape (n_subjects, n_candidates)
        Columns are the candidate K (ints); values per-subject log predictive densities.

    Returns
    -------
    best, best_by_max : int
        Smallest K whose mean score is within one standard error of the best K's mean
        (``mean_best - mean_K <= se_best``, the standard error of the best K's mean score over
        subjects), and the K with the highest mean. Consistent but tiny gains of extra subtypes
        (a fraction of a nat per subject, e.g. a second component that only reshapes the
        population prior) are thereby not enough to add a subtype.
    table : pandas.DataFrame
        Per K: ``heldout_loglik``, ``heldout_se``, ``diff_to_best``, ``diff_se`` (standard error
        of the paired difference, for reference), ``within_1se``.
    """
    n = len(scores)
    mean = scores.mean()
    kmax = int(mean.idxmax())
    diff = scores[kmax].to_numpy()[:, None] - scores.to_numpy()
    dmean = diff.mean(0)
    dse = diff.std(0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(diff.shape[1])
    se = scores.std(ddof=1).to_numpy() / np.sqrt(n) if n > 1 else np.zeros(diff.shape[1])
    within = dmean <= se[list(scores.columns).index(kmax)] + 1e-12
    table = pd.DataFrame(
        {"heldout_loglik": mean.to_numpy(),
         "heldout_se": se,
         "diff_to_best": dmean, "diff_se": dse, "within_1se": within},
        index=pd.Index([int(k) for k in scores.columns], name="n_subtypes"),
    )  # fmt: skip
    best = int(table.index[within].min())
    return best, kmax, table


def select_n_subtypes(
    X: pd.DataFrame,
    graph=None,
    *,
    candidates: Sequence[int] = (1, 2, 3, 4),
    test_size: float = 0.3,
    n_repeats: int = 1,
    patience: int | None = None,
    random_state: int | None = None,
    **params: Any,
) -> SubtypeSelection:
    """Choose K by the log predictive density of held-out subjects, with a one-SE parsimony rule.

    For each repeat, a random `test_size` fraction of the subjects is held out; a
    :class:`SpreadMixtureVAE` is fitted for every K on the others, and every held-out subject is
    scored by ``log p(y) = logsumexp_k(log pi_k + log p(y | k))`` with its refined (Laplace +
    importance-sampled) posterior. The chosen K is the smallest one whose mean held-out score is
    within one standard error (of the best K's mean over subjects) of the best K: extra
    subtypes that do not predict new subjects better are not kept. Each repeat (its own split and
    seed) also chooses a K; :attr:`SubtypeSelection.stability` is the fraction that agree.

    Parameters
    ----------
    X : pandas.DataFrame
        Visits table as for :meth:`SpreadMixtureVAE.fit`.
    graph : RegionGraph or None
    candidates : sequence of int
        Values of K to try (>= 1, at most the number of training subjects).
    test_size : float
        Fraction of subjects held out, in (0, 1).
    n_repeats : int
        Independent splits (>= 1).
    patience : int or None
        Forward search: candidates are fitted in increasing order and the search stops after
        `patience` consecutive candidates whose mean held-out score does not exceed the best so
        far by more than its standard error (None: fit every candidate). Saves the fits of large
        K once extra subtypes stop helping; the rule is then applied to the fitted candidates.
    random_state : int or None
        Seed of the splits and fits (None: fresh entropy).
    **params
        Other :class:`SpreadMixtureVAE` parameters (``posterior`` must stay ``"laplace"``).

    Returns
    -------
    selection : SubtypeSelection

    Raises
    ------
    ParameterError
        Bad `test_size`, `n_repeats` or `candidates`.

    References
    ----------
    .. [1] Hastie T., Tibshirani R., Friedman J. (2009). The Elements of Statistical Learning,
       2nd ed., sec. 7.10 (one-standard-error rule).
    .. [2] Burda Y. et al. (2016). Importance weighted autoencoders. ICLR.
    """
    if not 0 < test_size < 1:
        raise ParameterError(f"test_size must be in (0, 1); got {test_size}.")
    if not isinstance(n_repeats, (int, np.integer)) or n_repeats < 1:
        raise ParameterError(f"n_repeats must be an integer >= 1; got {n_repeats!r}.")
    cands = sorted({int(k) for k in candidates})
    if not cands or cands[0] < 1:
        raise ParameterError(f"candidates must be integers >= 1; got {list(candidates)}.")
    if params.get("posterior", "laplace") != "laplace":
        raise ParameterError(
            "select_n_subtypes scores with the refined posterior; drop posterior=."
        )
    subj = X.index.get_level_values(0) if isinstance(X.index, pd.MultiIndex) else X.index
    subj = subj.astype(str)
    uniq = pd.unique(subj)
    n_test = max(1, int(round(test_size * len(uniq))))
    if len(uniq) - n_test < cands[-1]:
        raise ParameterError(
            f"{len(uniq)} subjects leave {len(uniq) - n_test} for training, fewer than the largest "
            f"candidate K={cands[-1]}; use fewer candidates or more subjects."
        )
    master = np.random.default_rng(_seed(random_state))
    scanned: set[int] = set(cands)
    all_scores, chosen, extra = [], [], {k: {"train": [], "noise": [], "time": []} for k in cands}
    for r in range(int(n_repeats)):
        seed = int(master.integers(0, 2**31 - 1))
        rng = np.random.default_rng(seed)
        test = set(rng.choice(uniq, size=n_test, replace=False))
        is_test = np.isin(subj, list(test))
        cols: dict[int, pd.Series] = {}
        stale = 0
        for k in cands:
            if r > 0 and k not in scanned:
                break
            est = SpreadMixtureVAE(k, random_state=seed, **params).fit(X[~is_test], graph)
            cols[k] = est.score_samples(X[is_test])
            extra[k]["train"].append(float(est.em_history_["mean_log_evidence"].iloc[-1]))
            extra[k]["noise"].append(est.noise_)
            extra[k]["time"].append(est.fit_time_)
            if patience is not None and r == 0 and len(cols) > 1:
                frame = pd.DataFrame(cols)
                prev = frame.iloc[:, :-1]
                kbest = int(prev.mean().idxmax())
                se = float(prev[kbest].std(ddof=1) / np.sqrt(len(prev)))
                stale = 0 if frame[k].mean() > prev[kbest].mean() + se else stale + 1
                if stale >= patience:
                    break
        if r == 0:
            scanned = set(cols)
        sc = pd.DataFrame(cols)
        chosen.append(one_se_choice(sc)[0])
        sc.index = pd.MultiIndex.from_arrays([np.full(len(sc), r), sc.index],
                                             names=["repeat", "subject"])  # fmt: skip
        all_scores.append(sc)
    scores = pd.concat(all_scores)
    best, kmax, table = one_se_choice(scores)
    if patience is not None and n_repeats > 1:
        logger.info("Forward search: repeats > 1 fit the candidates the first repeat scanned.")
    table["train_loglik"] = [float(np.mean(extra[k]["train"])) for k in table.index]
    table["noise"] = [float(np.mean(extra[k]["noise"])) for k in table.index]
    table["fit_time_s"] = [float(np.mean(extra[k]["time"])) for k in table.index]
    table["chosen_in_repeats"] = [int(sum(c == k for c in chosen)) for k in table.index]
    logger.info(
        "K by held-out log predictive density (one-SE rule): %d (repeats: %s)", best, chosen
    )
    return SubtypeSelection(table=table, best=best, best_by_max=kmax, repeats=chosen,
                            stability=float(np.mean([c == best for c in chosen])),
                            scores=scores)  # fmt: skip


def network_diffusion_pattern(laplacian: np.ndarray, seed: int, rho_t: float) -> np.ndarray:
    """Network-diffusion pattern from one seed at ``rho * t`` (helper for reports)."""
    x0 = np.zeros(laplacian.shape[0])
    x0[seed] = 1.0
    return network_diffusion(laplacian, x0, np.array([rho_t]), 1.0)[0]
