"""Simulated longitudinal cohorts with known spreading subtypes (ground truth for benchmarks)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError, RegionMismatchError
from crossscale.models.spread.dynamics import (
    LaplacianKind,
    check_model,
    graph_laplacian,
    network_diffusion,
    seed_vector,
    solve_scipy,
)

logger = logging.getLogger(__name__)

#: Epicentres of the typical (entorhinal), posterior (precuneus) and visual (occipital) variants of
#: Alzheimer's disease, used by the benchmark.
AD_VARIANT_EPICENTRES: tuple[str, ...] = ("L_entorhinal", "L_precuneus", "L_lateraloccipital")


@dataclass(frozen=True)
class Subtype:
    """One spreading subtype: where it starts and how fast it spreads and grows.

    Attributes
    ----------
    epicentre : str or tuple of str
        Seed region(s) (canonical names); the seed mass is split equally over them.
    rho : float
        Diffusivity (1 / year) on the Laplacian.
    alpha : float
        Reaction (growth) rate (1 / year); ignored by network diffusion.
    """

    epicentre: str | tuple[str, ...]
    rho: float
    alpha: float = 0.0

    @property
    def epicentres(self) -> tuple[str, ...]:
        """The seed regions as a tuple."""
        return (self.epicentre,) if isinstance(self.epicentre, str) else tuple(self.epicentre)


@dataclass(frozen=True)
class SimulatedCohort:
    """A simulated cohort and its ground truth.

    Attributes
    ----------
    maps : pandas.DataFrame, shape (n_subjects * n_timepoints, n_regions)
        Noisy regional pathology, MultiIndex ``(subject, time)`` (time in years since the first
        visit), columns are regions.
    labels : pandas.Series, shape (n_subjects,)
        True subtype index of each subject.
    params : pandas.DataFrame, shape (n_subjects, 4)
        True ``rho``, ``alpha``, ``onset`` (years from seeding to the first visit) and ``subtype``.
    subtypes : tuple of Subtype
    clean : pandas.DataFrame
        The maps without noise (same shape as `maps`).
    noise : float
        Standard deviation of the Gaussian noise added to `clean`.
    model : str
        ``diffusion`` or ``fisher_kpp``.
    """

    maps: pd.DataFrame
    labels: pd.Series
    params: pd.DataFrame
    subtypes: tuple[Subtype, ...]
    clean: pd.DataFrame = field(repr=False)
    noise: float = 0.0
    model: str = "fisher_kpp"

    def to_dict(self) -> dict[str, object]:
        """Summary for run.json."""
        return {
            "n_subjects": int(self.labels.shape[0]),
            "n_maps": int(self.maps.shape[0]),
            "noise": self.noise,
            "model": self.model,
            "subtypes": [
                {"epicentre": list(s.epicentres), "rho": s.rho, "alpha": s.alpha}
                for s in self.subtypes
            ],
        }

    def to_frame(self) -> pd.DataFrame:
        """The noisy maps (same as :attr:`maps`)."""
        return self.maps


def _as_subtypes(subtypes: Sequence[Subtype | tuple]) -> tuple[Subtype, ...]:
    out = []
    for s in subtypes:
        if isinstance(s, Subtype):
            out.append(s)
        elif isinstance(s, (tuple, list)) and len(s) in (2, 3):
            out.append(Subtype(s[0] if isinstance(s[0], str) else tuple(s[0]), *map(float, s[1:])))
        else:
            raise ParameterError(
                f"Each subtype must be a Subtype or a tuple (epicentre, rho[, alpha]); got {s!r}."
            )
    if not out:
        raise ParameterError("subtypes is empty; give at least one (epicentre, rho, alpha).")
    return tuple(out)


def simulate_cohort(
    graph,
    n_subjects: int = 60,
    subtypes: Sequence[Subtype | tuple] = (
        ("L_entorhinal", 0.1, 0.5),
        ("L_lateraloccipital", 0.1, 0.5),
    ),
    timepoints: Sequence[float] = (0.0, 2.0, 4.0),
    *,
    noise: float = 0.05,
    onset_range: tuple[float, float] = (6.0, 14.0),
    param_spread: float = 0.2,
    seed_mass: float = 0.05,
    model: str = "fisher_kpp",
    laplacian: LaplacianKind = "combinatorial",
    production: np.ndarray | None = None,
    weights: Sequence[float] | None = None,
    random_state: int | None = None,
) -> SimulatedCohort:
    """Simulate a longitudinal cohort whose subjects follow one of several spreading subtypes.

    Subject ``i`` of subtype ``k`` is seeded at the subtype's epicentre with `seed_mass`, its
    diffusivity and growth rate are the subtype's values times independent log-normal factors
    (sd `param_spread` on the log scale), its first visit happens ``onset ~ U(onset_range)`` years
    after seeding, and it is observed at ``onset + timepoints`` with i.i.d. Gaussian noise.

    Parameters
    ----------
    graph : RegionGraph
        Graph the pathology spreads on (e.g. ``RegionGraph.from_connectome()``).
    n_subjects : int
        Number of subjects, split over subtypes by `weights` (default equal).
    subtypes : sequence of Subtype or (epicentre, rho, alpha)
        Ground-truth subtypes; epicentres are canonical region names.
    timepoints : sequence of float
        Visit times in years relative to the first visit, shape (n_timepoints,).
    noise : float
        Standard deviation of additive Gaussian noise (pathology units; saturation is 1).
    onset_range : (float, float)
        Range of the time from seeding to the first visit (years).
    param_spread : float
        Log-scale standard deviation of subject-level rho and alpha around the subtype values.
    seed_mass : float
        Initial pathology at the epicentre.
    model : {"fisher_kpp", "diffusion"}
        Dynamics of the simulated pathology.
    laplacian : {"combinatorial", "normalized"}
        See :func:`~crossscale.models.spread.dynamics.graph_laplacian`.
    production : numpy.ndarray or None, shape (n_regions,)
        Regional production weight of the Fisher-KPP reaction term.
    weights : sequence of float or None
        Subtype proportions.
    random_state : int or None
        Seed; the same seed gives the same cohort.

    Returns
    -------
    cohort : SimulatedCohort

    Raises
    ------
    ParameterError
        Bad sizes, rates or noise.
    RegionMismatchError
        An epicentre is not a region of `graph`.
    """
    check_model(model)
    subs = _as_subtypes(subtypes)
    if int(n_subjects) < len(subs):
        raise ParameterError(
            f"n_subjects={n_subjects} must be at least the number of subtypes ({len(subs)})."
        )
    if noise < 0 or param_spread < 0:
        raise ParameterError(f"noise and param_spread must be >= 0; got {noise}, {param_spread}.")
    times = np.asarray(timepoints, float)
    if times.ndim != 1 or times.size == 0 or np.any(np.diff(times) <= 0) or times[0] < 0:
        raise ParameterError(f"timepoints must be increasing times >= 0; got {list(timepoints)}.")
    regions = list(graph.regions)
    for s in subs:
        bad = [r for r in s.epicentres if r not in regions]
        if bad:
            raise RegionMismatchError(
                f"Epicentre(s) {bad} are not regions of the graph ({graph.n_regions} regions, "
                f"e.g. {regions[:3]})."
            )
        if s.rho <= 0 or s.alpha < 0:
            raise ParameterError(f"Subtype {s}: rho must be > 0 and alpha >= 0.")
    rng = np.random.default_rng(random_state)
    k = len(subs)
    p = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, float) / np.sum(weights)
    counts = np.floor(p * n_subjects).astype(int)
    counts[: n_subjects - counts.sum()] += 1
    labels = rng.permutation(np.repeat(np.arange(k), counts))
    lap = graph_laplacian(graph, laplacian)
    n = len(regions)
    rows, clean_rows, params = [], [], []
    for lab in labels:
        s = subs[lab]
        rho = s.rho * np.exp(param_spread * rng.standard_normal())
        alpha = s.alpha * np.exp(param_spread * rng.standard_normal())
        onset = rng.uniform(*onset_range)
        x0 = seed_vector(n, [regions.index(r) for r in s.epicentres], seed_mass)
        t = onset + times
        if model == "diffusion":
            x = network_diffusion(lap, x0, t, rho)
        else:
            x = solve_scipy(lap, x0, t, rho=rho, alpha=alpha, production=production,
                            rtol=1e-7, atol=1e-9)  # fmt: skip
        clean_rows.append(x)
        rows.append(x + noise * rng.standard_normal(x.shape))
        params.append((rho, alpha if model == "fisher_kpp" else 0.0, onset, int(lab)))
    return _as_cohort(
        [f"sub-{i:04d}" for i in range(n_subjects)], times, regions, np.concatenate(clean_rows),
        np.concatenate(rows), np.asarray(params, float)[:, :3], labels, subs, noise, model,
    )  # fmt: skip


def _as_cohort(subjects, times, regions, clean, noisy, params, labels, subtypes, noise, model):
    """A :class:`SimulatedCohort` from flat (subject-major) clean and noisy visit rows."""
    index = pd.MultiIndex.from_product([subjects, times], names=["subject", "time"])
    cols = pd.Index(regions, name="region")
    maps = pd.DataFrame(noisy, index=index, columns=cols)
    maps.attrs = {"units": "simulated pathology (saturation = 1)", "noise": float(noise)}
    sidx = pd.Index(subjects, name="subject")
    par = pd.DataFrame(params, index=sidx, columns=["rho", "alpha", "onset"])
    par["subtype"] = np.asarray(labels, int)
    return SimulatedCohort(
        maps=maps, labels=pd.Series(np.asarray(labels, int), index=sidx, name="subtype"),
        params=par, subtypes=tuple(subtypes), clean=pd.DataFrame(clean, index=index, columns=cols),
        noise=float(noise), model=model,
    )  # fmt: skip


def simulate_from_fit(est, n_subjects: int, timepoints: Sequence[float] = (0.0, 2.0, 4.0), *,
                      noise: float | None = None, random_state: int | None = None) -> SimulatedCohort:  # fmt: skip
    """Draw a cohort from a fitted ``SpreadMixtureVAE`` (its subtypes, priors, epicentres, noise).

    Subjects are drawn as in :func:`simulate_cohort`, but their parameters come from the fitted
    population priors and their maps from the fitted decoders (see
    :meth:`~crossscale.models.spread.SpreadMixtureVAE.simulate`).
    """
    import torch

    m = est.module_
    rng = np.random.default_rng(random_state)
    sd = float(est.noise_ if noise is None else noise)
    pi = torch.softmax(m.logit_pi.detach(), 0).numpy().astype(float)
    labels = rng.choice(est.n_subtypes, size=n_subjects, p=pi / pi.sum())
    loc = m.prior_mean().detach().numpy()[labels]
    z = loc + m.prior_scale.numpy() * rng.standard_normal(loc.shape)
    times = np.asarray(timepoints, float)
    dt = np.tile(times, (n_subjects, 1))
    with torch.no_grad():
        zt = torch.as_tensor(z, dtype=torch.float32)
        x = m.generative(zt, torch.as_tensor(dt, dtype=torch.float32),
                         m.seeds[torch.as_tensor(labels)]).numpy()  # fmt: skip
        par = m.unpack(zt)
    clean = x.reshape(-1, len(est.regions_))
    noisy = clean + sd * rng.standard_normal(clean.shape)
    sp = est.subtype_params_
    subs = [Subtype(est.epicentres_[k], float(sp["rho"].iloc[k]),
                    float(sp["alpha"].iloc[k]) if "alpha" in sp else 0.0)
            for k in range(est.n_subtypes)]  # fmt: skip
    params = np.c_[par["rho"].numpy(), par["alpha"].numpy(), par["onset"].numpy()]
    cohort = _as_cohort([f"sim-{i:04d}" for i in range(n_subjects)], times, list(est.regions_),
                        clean, noisy, params, labels, subs, sd, est.model)  # fmt: skip
    return cohort
