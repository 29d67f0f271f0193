"""Fit network diffusion or Fisher-KPP to group-level atrophy maps (e.g. ADNI2 EMCI/LMCI/AD).

Group maps are cross-sectional statistics (a Welch t), not concentrations: their amplitude depends
on group sizes, which shrink at follow-ups. The fit therefore gives every map its own
offset and non-negative amplitude ``beta_m`` (closed-form least squares, as a correlation-based
fit would) and its own disease time ``t_m``,
shared across maps the epicentre, ``rho`` and ``alpha``; the fitted times give the coarse ordering
of the stages. Only the products ``rho t`` and ``alpha t`` are identifiable from such maps (time
has no unit), so rho, alpha and the times are reported on an arbitrary common time scale. The
search is exhaustive over epicentres, a (rho, alpha) grid and a time grid, using
a library of solutions solved once per graph.

References
----------
.. [1] Raj A., Kuceyeski A., Weiner M. (2012). A network diffusion model of disease progression in
   dementia. Neuron 73, 1204-1215.
.. [2] Weickenmeier J. et al. (2019). J Mech Phys Solids 124, 264-281.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.maps.adni import ADNI_GROUPS, ADNI_TIMEPOINTS, load_adni_trajectory
from crossscale.models.spread.dynamics import check_model, graph_laplacian
from crossscale.models.spread.library import solution_library

logger = logging.getLogger(__name__)

# the ADNI loader lives in crossscale.maps.adni (re-exported here); the null-graph test
# (compare_with_null_graphs) in crossscale.evaluate.graph_nulls
__all__ = ["ADNI_GROUPS", "ADNI_TIMEPOINTS", "GroupFit", "fit_group_maps", "load_adni_trajectory"]


@dataclass(frozen=True)
class GroupFit:
    """Best fit of spreading dynamics to a set of maps.

    Attributes
    ----------
    model : str
    graph_kind : str
    epicentre : str
    rho, alpha : float
        Diffusivity and growth rate (per unit model time; ``diffusion``: rho = 1, times absorb it).
    times : pandas.Series, shape (n_maps,)
        Fitted disease time of each map.
    scales : pandas.Series, shape (n_maps,)
        Fitted amplitude of each map.
    r : float
        Pearson r between all fitted and observed values (pooled over maps and regions).
    r2 : float
        ``1 - SSE / SST`` over all values (SST around each map's mean).
    map_r : pandas.Series, shape (n_maps,)
        Pearson r of each map.
    epicentre_sse : pandas.Series, shape (n_regions,)
        Best SSE with each region as epicentre (the epicentre search).
    predicted : pandas.DataFrame
        Fitted maps, same shape as the input.
    intervals : dict
        Profile-likelihood 95% sets over the search grid (Gaussian residuals,
        ``n log(SSE / SSE_min) <= 3.84`` with n the number of values): ``epicentre_set``
        (regions), ``alpha_over_rho`` (low, high; Fisher-KPP), ``rho``/``alpha`` (low, high)
        and ``identified`` (name -> bool; False when the set reaches both ends of the grid,
        as for rho and alpha separately: only their ratio and the products with time are
        identified by cross-sectional maps). Residuals of neighbouring regions are correlated,
        so these sets are optimistic (too narrow).
    """

    model: str
    graph_kind: str
    epicentre: str
    rho: float
    alpha: float
    times: pd.Series
    scales: pd.Series
    r: float
    r2: float
    map_r: pd.Series
    epicentre_sse: pd.Series = field(repr=False)
    predicted: pd.DataFrame = field(repr=False)
    intervals: dict = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, object]:
        """Summary for run.json."""
        return {
            "model": self.model, "graph": self.graph_kind, "epicentre": self.epicentre,
            "rho": self.rho, "alpha": self.alpha, "r": self.r, "r2": self.r2,
            "times": {"/".join(map(str, k)) if isinstance(k, tuple) else str(k): float(v)
                      for k, v in self.times.items()},
            "map_r": {"/".join(map(str, k)) if isinstance(k, tuple) else str(k): float(v)
                      for k, v in self.map_r.items()},
            "intervals": self.intervals,
        }  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """Per-map table: time, scale, r."""
        return pd.DataFrame({"time": self.times, "scale": self.scales, "r": self.map_r})


def fit_group_maps(
    maps: pd.DataFrame,
    graph,
    *,
    model: str = "fisher_kpp",
    laplacian: str = "combinatorial",
    seed_mass: float = 0.05,
    rho_grid: np.ndarray | None = None,
    alpha_grid: np.ndarray | None = None,
    t_max: float = 80.0,
    dt_grid: float = 0.5,
    candidates: Sequence[str] | None = None,
    shortlist: int | None = None,
    n_threads: int | None = 1,
) -> GroupFit:
    """Fit dynamics with an epicentre search to a set of regional maps.

    Parameters
    ----------
    maps : pandas.DataFrame, shape (n_maps, n_regions)
        Rows are maps (e.g. from :func:`load_adni_trajectory`), columns the graph's regions.
    graph : RegionGraph
    model : {"fisher_kpp", "diffusion"}
    laplacian : {"combinatorial", "normalized"}
    seed_mass : float
        Initial pathology at the epicentre (Fisher-KPP).
    rho_grid, alpha_grid : numpy.ndarray or None
        Grids searched (per year); for ``diffusion`` rho is fixed to 1 and time is ``rho t``.
    t_max, dt_grid : float
        Time grid.
    candidates : sequence of str or None
        Epicentres searched (default all regions).
    shortlist : int or None
        Fisher-KPP only: search only the `shortlist` best epicentres of a network-diffusion fit
        on the same graph (the same rule for every graph, so null graphs are searched as the
        observed one); None searches every candidate.
    n_threads : int or None
        Torch threads.

    Returns
    -------
    fit : GroupFit

    Raises
    ------
    InputDataError
        Maps with NaN, or columns that are not the graph's regions.
    """
    check_model(model)
    regions = list(graph.regions)
    if sorted(map(str, maps.columns)) != sorted(regions):
        raise InputDataError("The columns of maps must be the graph's regions.")
    y = maps[regions].to_numpy(float)
    if not np.isfinite(y).all():
        raise InputDataError("maps has NaN or infinite values.")
    n = len(regions)
    cand = np.arange(n) if candidates is None else np.array([regions.index(c) for c in candidates])
    if shortlist is not None and model == "fisher_kpp":
        pre = fit_group_maps(maps, graph, model="diffusion", laplacian=laplacian,
                             candidates=[regions[i] for i in cand], n_threads=n_threads)  # fmt: skip
        cand = np.array([regions.index(r) for r in pre.epicentre_sse.nsmallest(shortlist).index])
    if model == "diffusion":
        rho_grid, alpha_grid = np.ones(1), np.zeros(1)
        tgrid = np.geomspace(0.01, t_max, 200)
    else:
        rho_grid = np.geomspace(5e-4, 1.0, 12) if rho_grid is None else np.asarray(rho_grid)
        alpha_grid = np.geomspace(0.02, 1.5, 8) if alpha_grid is None else np.asarray(alpha_grid)
        tgrid = np.arange(dt_grid, t_max + 1e-9, dt_grid)
    if len(rho_grid) == 0 or len(alpha_grid) == 0:
        raise ParameterError("rho_grid and alpha_grid must not be empty.")
    lib_ = solution_library(
        model, graph_laplacian(graph, laplacian), rho_grid, alpha_grid, cand, tgrid,
        seed_mass=seed_mass if model != "diffusion" else 1.0, n_steps=int(t_max / 0.5),
        n_threads=n_threads,
    )  # fmt: skip
    rr, aa, ss, lib = lib_.rho, lib_.alpha, lib_.seeds, lib_.x
    # SSE with the optimal offset and non-negative amplitude per map (y ~ c + beta x):
    # ||yc||^2 - max(0, <x, yc>)^2 / ||xc||^2 with yc, xc centred over regions
    yc = y - y.mean(1, keepdims=True)
    xy = lib @ yc.T  # (L, T, M)
    xx = ((lib**2).sum(-1) - n * lib.mean(-1) ** 2)[..., None]
    yy = (yc**2).sum(1)
    valid = (xy > 0) & (xx > 1e-6)  # a saturated (flat) prediction explains nothing
    sse = yy - np.where(valid, xy**2 / np.where(valid, xx, 1.0), 0.0)  # (L, T, M)
    best_t = sse.argmin(1)  # (L, M)
    total = np.take_along_axis(sse, best_t[:, None, :], 1)[:, 0, :].sum(1)  # (L,)
    i = int(np.argmin(total))
    ti = best_t[i]
    xs = lib[i, ti]  # (M, N)
    xsc = xs - xs.mean(1, keepdims=True)
    beta = np.maximum(0.0, (xsc * yc).sum(1) / np.maximum((xsc**2).sum(1), 1e-300))
    offset = y.mean(1) - beta * xs.mean(1)
    pred = offset[:, None] + beta[:, None] * xs
    per_seed = pd.Series(np.inf, index=pd.Index(regions, name="region"), name="sse")
    for s in cand:
        per_seed.iloc[s] = total[ss == s].min()
    intervals = _profile_sets(total, rr, aa, ss, regions, y.size, model, rho_grid, alpha_grid)
    t_fit = tgrid[ti]
    intervals["identified"]["times"] = bool(
        (t_fit < tgrid[-1] - 1e-9).all() and (t_fit > tgrid[0] + 1e-9).all()
    )  # False: some map's best time is at an end of the time grid (widen t_max)
    resid = ((y - pred) ** 2).sum()
    sst = ((y - y.mean(1, keepdims=True)) ** 2).sum()
    map_r = [
        np.corrcoef(a, b)[0, 1] if b.std() > 0 else np.nan for a, b in zip(y, pred, strict=True)
    ]
    return GroupFit(
        model=model, graph_kind=graph.kind, epicentre=regions[int(ss[i])], rho=float(rr[i]),
        alpha=float(aa[i]), times=pd.Series(tgrid[ti], index=maps.index, name="time"),
        scales=pd.Series(beta, index=maps.index, name="scale"),
        r=float(np.corrcoef(y.ravel(), pred.ravel())[0, 1]), r2=float(1 - resid / sst),
        map_r=pd.Series(map_r, index=maps.index, name="r"), epicentre_sse=per_seed,
        predicted=pd.DataFrame(pred, index=maps.index, columns=pd.Index(regions, name="region")),
        intervals=intervals,
    )  # fmt: skip


def _profile_sets(total, rr, aa, ss, regions, n_values, model, rho_grid, alpha_grid) -> dict:
    """Profile-likelihood 95% sets over the grid (see :attr:`GroupFit.intervals`)."""
    lr = n_values * np.log(np.maximum(total, 1e-300) / total.min())
    ok = lr <= 3.84
    out: dict[str, object] = {
        "epicentre_set": [regions[int(i)] for i in np.unique(ss[ok])],
        "identified": {},
    }
    if model == "diffusion":
        out["identified"] = {"rho": False, "alpha": False}
        return out
    for name, vals, grid in (("rho", rr, rho_grid), ("alpha", aa, alpha_grid)):
        lo, hi = float(vals[ok].min()), float(vals[ok].max())
        out[name] = (lo, hi)
        out["identified"][name] = lo > float(np.min(grid)) and hi < float(np.max(grid))
    ratio = aa / rr
    out["alpha_over_rho"] = (float(ratio[ok].min()), float(ratio[ok].max()))
    out["identified"]["alpha_over_rho"] = bool(
        ratio[ok].min() > ratio.min() and ratio[ok].max() < ratio.max()
    )
    return out
