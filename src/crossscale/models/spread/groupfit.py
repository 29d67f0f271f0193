"""Fit network diffusion, Fisher-KPP or a distance kernel to group-level regional maps.

Group maps (a case-control t or Cohen's d, a group-mean SUVR) are cross-sectional statistics,
not concentrations: their offset and amplitude depend on the statistic, the reference group and
the group sizes. Each map ``m`` therefore gets its own offset ``c_m``, non-negative amplitude
``beta_m`` (closed-form least squares) and dimensionless disease time; all maps share the
epicentre and the shape of the dynamics:

``y_m = c_m + beta_m x(s_m; seed, kappa) + e_m``

with ``x`` the library pattern (:mod:`~crossscale.models.spread.library`). Dividing Fisher-KPP
``dx/dt = -rho L x + alpha x (1 - x)`` by ``rho`` shows that such maps identify only
``kappa = alpha / rho`` (shared) and ``s_m = rho t_m`` (per map): those are what is estimated and
reported, never ``rho``, ``alpha`` or ``t`` apart. The search is exhaustive over every epicentre,
the ``alpha/rho`` grid and each shape's time grid.

**Spreading R²** (the fit measure that offsets cannot inflate): the fraction of the within-map
variance that the spreading pattern explains after the per-map offsets and amplitudes,
``R²_spread = 1 - sum_m sum_i (y_mi - yhat_mi)^2 / sum_m sum_i (y_mi - mean_i y_mi)^2``. An
offset-only model (each map predicted by its own mean) has ``R²_spread = 0`` however different
the maps' means are, whereas the pooled r over all maps and regions rewards it for them.

**Intervals** are profile-likelihood sets with Gaussian residuals and the variance profiled
out: a value is in the 95% set when ``n_eff log(SSE_profile / SSE_min) <= 3.84``, ``n_eff`` the
effective number of independent values (:func:`effective_n`: residuals are correlated between
maps and between neighbouring regions; counting every value as independent gave sets far too
narrow). A set that reaches an end of its grid (``alpha/rho``) or of the time grid (``rho t``)
means "not identified": the point estimate is then NaN, never a grid end.

References
----------
.. [1] Raj A., Kuceyeski A., Weiner M. (2012). A network diffusion model of disease progression in
   dementia. Neuron 73, 1204-1215.
.. [2] Weickenmeier J. et al. (2019). J Mech Phys Solids 124, 264-281.
.. [3] Venzon D.J., Moolgavkar S.H. (1988). A method for computing profile-likelihood-based
   confidence intervals. J R Stat Soc C 37, 87-94.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.models.spread.group_search import (
    BestFit,
    best_fit,
    build_library,
    maps_frame,
    predict_maps,
    score_library,
)
from crossscale.models.spread.group_stats import check_stage_order, effective_n
from crossscale.models.spread.library import (
    PatternLibrary,
)

logger = logging.getLogger(__name__)

# the ADNI loader lives in crossscale.maps.adni; the comparison with the baselines and null
# graphs in crossscale.evaluate.spread_groups
__all__ = [
    "GROUP_MODELS", "BestFit", "GroupFit", "best_fit", "build_library", "check_stage_order",
    "effective_n", "fit_group_maps", "fit_library", "maps_frame", "score_library",
]  # fmt: skip

#: Models of the group fit: the two dynamics and the graph-free distance-kernel baseline.
GROUP_MODELS: tuple[str, ...] = ("diffusion", "fisher_kpp", "distance_kernel")
#: chi-square(1) 95% quantile of the profile-likelihood sets.
CHI2_95 = 3.841458820694124


@dataclass(frozen=True)
class GroupFit:
    """Best fit of one model on one graph to a set of group maps.

    Attributes
    ----------
    model : str
        ``"diffusion"``, ``"fisher_kpp"`` or ``"distance_kernel"``.
    graph_kind : str
    epicentre : str
        Best epicentre (exhaustive search).
    epicentre_set : list of str
        95% profile-likelihood set of epicentres (same likelihood), best first.
    shape_name : str or None
        ``"alpha/rho"`` (Fisher-KPP), ``"exponent"`` (kernel) or None (diffusion).
    shape, shape_low, shape_high : float
        Estimate and 95% set of the shared shape; ``shape`` is NaN when not identified.
    shape_best : float
        The grid value the predictions use (the arg-min, recorded even when not identified).
    shape_identified : bool
        False when the 95% set reaches an end of the shape grid.
    time_name : str
        ``"rho*t"`` (dynamics; dimensionless) or ``"width_mm"`` (kernel).
    per_map : pandas.DataFrame, shape (n_maps, 9)
        Index the maps; ``time`` (NaN when not identified), ``time_best`` (grid value used),
        ``time_low``, ``time_high`` (95% profile set), ``time_identified``, ``offset``,
        ``amplitude``, ``r`` (Pearson r of the map), ``r2_spread`` (the map's spreading R²).
    r2 : float
        Spreading R² (module docstring): ``1 - SSE / SST_within``.
    r_pooled : float
        Pearson r of all fitted and observed values pooled over maps and regions (inflated by
        the maps' different offsets; shown beside `r2` only).
    sse, sst_within : float
    n_values : int
        Number of fitted values (maps x scored regions).
    n_eff : dict
        The effective number of independent values the profile sets use, and its parts
        (:func:`effective_n`).
    epicentre_r2 : pandas.Series, shape (n_regions,)
        Spreading R² with each region as the epicentre (shape and times refitted).
    predicted : pandas.DataFrame, shape (n_maps, n_regions)
    scored_regions : list of str
        Regions fitted (regions without values are predicted only).
    peak : dict
        The maps' peak region (of the mean of the maps standardised within map), its distance
        to the epicentre in mm and its rank in the epicentre search.
    notes : list of str
        Warnings for the report: shapes or times not identified, zero amplitudes, an
        epicentre far from the peak.
    """

    model: str
    graph_kind: str
    epicentre: str
    epicentre_set: list
    shape_name: str | None
    shape: float
    shape_low: float
    shape_high: float
    shape_best: float
    shape_identified: bool
    time_name: str
    per_map: pd.DataFrame
    r2: float
    r_pooled: float
    sse: float
    sst_within: float
    n_values: int
    n_eff: dict
    epicentre_r2: pd.Series = field(repr=False)
    predicted: pd.DataFrame = field(repr=False)
    scored_regions: list = field(default_factory=list, repr=False)
    peak: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    @property
    def times(self) -> pd.Series:
        """Fitted time of each map (NaN where not identified)."""
        return self.per_map["time"]

    def to_frame(self) -> pd.DataFrame:
        """The per-map table."""
        return self.per_map

    def to_dict(self) -> dict[str, object]:
        """Summary for run.json (NaN as None)."""

        def num(v: float) -> float | None:
            return None if v is None or not np.isfinite(v) else float(v)

        per = {
            _key(i): {k: (num(v) if isinstance(v, (float, np.floating)) else
                          bool(v) if isinstance(v, (bool, np.bool_)) else v)
                      for k, v in row.items()}
            for i, row in self.per_map.iterrows()
        }  # fmt: skip
        return {
            "model": self.model, "graph": self.graph_kind, "epicentre": self.epicentre,
            "epicentre_set": list(self.epicentre_set), "shape_name": self.shape_name,
            "shape": num(self.shape), "shape_95": [num(self.shape_low), num(self.shape_high)],
            "shape_best_grid_value": num(self.shape_best),
            "shape_identified": bool(self.shape_identified), "time_name": self.time_name,
            "r2_spread": float(self.r2), "r_pooled": float(self.r_pooled),
            "n_values": self.n_values, "n_eff": self.n_eff, "peak": self.peak, "notes": list(self.notes),
            "maps": per,
        }  # fmt: skip


def _key(k: object) -> str:
    return "/".join(map(str, k)) if isinstance(k, tuple) else str(k)


def fit_library(maps: pd.DataFrame, lib: PatternLibrary, graph, *,
                sse: list[np.ndarray] | None = None) -> GroupFit:  # fmt: skip
    """Fit the maps with a pattern library (see :func:`fit_group_maps`).

    Parameters
    ----------
    maps : pandas.DataFrame, shape (n_maps, n_regions)
        As :func:`maps_frame` returns (columns the graph's regions; all-NaN columns unscored).
    lib : PatternLibrary
        Built on `graph` (:func:`build_library`).
    graph : RegionGraph
        The graph `lib` was built on (regions and centroids).
    sse : list of numpy.ndarray or None
        :func:`score_library` of these maps, when already computed.

    Returns
    -------
    fit : GroupFit
    """
    regions = list(graph.regions)
    y = maps.to_numpy(float)
    scored = ~np.isnan(y).all(0)
    y0 = np.where(np.isnan(y), 0.0, y)
    sse = score_library(lib, y0, scored) if sse is None else sse
    best = best_fit(sse)
    k, s = best.k, best.s
    ti = best.t_idx[k][s]
    pred, offset, beta = predict_maps(lib, y0, scored, k, s, ti)
    ys, ps = y0[:, scored], pred[:, scored]
    yc = ys - ys.mean(1, keepdims=True)
    sst_m = (yc**2).sum(1)
    sse_m = ((ys - ps) ** 2).sum(1)
    sst, sse_tot = float(sst_m.sum()), float(sse_m.sum())
    n_values = int(ys.size)
    # profile likelihood: -2 log LR = n_eff log(SSE / SSE_min), n_eff for correlated residuals
    n_eff = effective_n(ys - ps, graph.distances()[np.ix_(scored, scored)])
    smin = max(float(best.total.min()), 1e-300)

    def lr(total: np.ndarray, n: float = n_eff["n_eff"]) -> np.ndarray:
        return n * np.log(np.maximum(total, 1e-300) / smin)

    per_seed = best.total.min(0)  # (S,)
    seed_lr = lr(per_seed)
    in_set = np.flatnonzero(seed_lr <= CHI2_95)
    eset = [regions[int(lib.seeds[i])] for i in in_set[np.argsort(seed_lr[in_set])]]
    epi_r2 = pd.Series(np.nan, index=pd.Index(regions, name="region"), name="r2_spread")
    epi_r2.iloc[lib.seeds] = 1 - per_seed / sst if sst > 0 else np.nan
    # shape
    shape_lr = lr(best.total.min(1))  # (K,)
    notes: list[str] = []
    if lib.shape_name is None:
        shape = lo = hi = best_shape = np.nan
        shape_ok = True
    else:
        ok = shape_lr <= CHI2_95
        lo, hi = float(lib.shapes[ok].min()), float(lib.shapes[ok].max())
        best_shape = float(lib.shapes[k])
        shape_ok = bool(len(lib.shapes) > 1 and not ok[0] and not ok[-1])
        shape = best_shape if shape_ok else np.nan
        if not shape_ok:
            notes.append(
                f"{lib.shape_name} is not identified: its 95% profile set ({lo:.3g}-{hi:.3g}) "
                f"reaches the end of the searched grid ({lib.shapes.min():.3g}-"
                f"{lib.shapes.max():.3g}); no point estimate is given."
            )
    # per-map time profile: min over (shape, seed) of the other maps' best + this map at t
    n_maps = y.shape[0]
    t_lo, t_hi = np.full(n_maps, np.inf), np.full(n_maps, -np.inf)
    t_ok = np.ones(n_maps, dtype=bool)
    for kk, block in enumerate(sse):
        rest = best.total[kk][:, None] - best.sse_best[kk]  # (S, M)
        prof = (block + rest[:, None, :]).min(0)  # (T, M): min over seeds
        inside = lr(prof, n_eff["n_eff_per_map"]) <= CHI2_95
        times = lib.times[kk]
        for m in range(n_maps):
            idx = np.flatnonzero(inside[:, m])
            if len(idx) == 0:
                continue
            t_lo[m] = min(t_lo[m], times[idx].min())
            t_hi[m] = max(t_hi[m], times[idx].max())
            if idx[0] == 0 or idx[-1] == len(times) - 1:
                t_ok[m] = False
    t_best = lib.times[k][ti]
    flat = beta <= 0
    t_ok &= ~flat
    r_map = [float(np.corrcoef(a, b)[0, 1]) if b.std() > 0 and a.std() > 0 else np.nan
             for a, b in zip(ys, ps, strict=True)]  # fmt: skip
    per_map = pd.DataFrame({
        "time": np.where(t_ok, t_best, np.nan), "time_best": t_best,
        "time_low": np.where(np.isfinite(t_lo), t_lo, np.nan),
        "time_high": np.where(np.isfinite(t_hi), t_hi, np.nan), "time_identified": t_ok,
        "offset": offset, "amplitude": beta, "r": r_map,
        "r2_spread": np.where(sst_m > 0, 1 - sse_m / np.where(sst_m > 0, sst_m, 1), np.nan),
    }, index=maps.index)  # fmt: skip
    if (~t_ok).any():
        names = [_key(i) for i in maps.index[~t_ok]]
        notes.append(
            f"The {lib.time_name} of {len(names)} of {n_maps} map(s) is not identified (95% set "
            f"at an end of the time grid, or zero amplitude): {', '.join(names[:6])}"
            f"{' …' if len(names) > 6 else ''}."
        )
    if flat.any():
        names = [_key(i) for i in maps.index[flat]]
        notes.append(
            f"{len(names)} map(s) got amplitude 0 (the model cannot fit them with a positive "
            f"sign: is the sign of these maps inverted?): {', '.join(names[:6])}."
        )
    peak = _peak(y0, scored, regions, graph, lib.seeds[s], epi_r2)
    if peak.get("far"):
        notes.append(
            f"The best epicentre {regions[int(lib.seeds[s])]} is {peak['distance_mm']:.0f} mm "
            f"from the maps' peak {peak['region']} (rank {peak['rank']} of {len(lib.seeds)} "
            "epicentres): the best-fitting seed is anatomically far from where the maps are "
            "largest."
        )
    r_pooled = float(np.corrcoef(ys.ravel(), ps.ravel())[0, 1]) if ps.std() > 0 else np.nan
    return GroupFit(
        model=lib.model, graph_kind=lib.graph_kind, epicentre=regions[int(lib.seeds[s])],
        epicentre_set=eset, shape_name=lib.shape_name, shape=float(shape), shape_low=float(lo),
        shape_high=float(hi), shape_best=float(best_shape), shape_identified=shape_ok,
        time_name=lib.time_name, per_map=per_map, r2=float(1 - sse_tot / sst) if sst > 0 else np.nan,
        r_pooled=r_pooled, sse=sse_tot, sst_within=sst, n_values=n_values, n_eff=n_eff,
        epicentre_r2=epi_r2,
        predicted=pd.DataFrame(pred, index=maps.index, columns=pd.Index(regions, name="region")),
        scored_regions=[r for r, ok in zip(regions, scored, strict=True) if ok], peak=peak,
        notes=notes,
    )  # fmt: skip


FAR_FROM_PEAK_MM = 40.0


def _peak(y, scored, regions, graph, seed: int, epi_r2: pd.Series) -> dict:
    """The peak of the mean within-map z-scored maps, and its distance to the epicentre."""
    ys = y[:, scored]
    sd = ys.std(1, keepdims=True)
    z = (ys - ys.mean(1, keepdims=True)) / np.where(sd > 0, sd, 1.0)
    idx = np.flatnonzero(scored)[int(np.argmax(z.mean(0)))]
    dist = float(graph.distances()[idx, seed])
    rank = int((epi_r2 > epi_r2.iloc[idx]).sum()) + 1 if np.isfinite(epi_r2.iloc[idx]) else None
    return {"region": regions[idx], "distance_mm": round(dist, 1), "rank": rank,
            "far": bool(dist > FAR_FROM_PEAK_MM)}  # fmt: skip


def fit_group_maps(
    maps: pd.DataFrame | pd.Series,
    graph,
    *,
    model: str = "fisher_kpp",
    laplacian: str = "combinatorial",
    seed_mass: float = 0.05,
    kappas: Sequence[float] | None = None,
    n_times: int = 100,
    shortlist: int | None = None,
) -> GroupFit:
    """Fit dynamics (or the distance kernel) with an exhaustive epicentre search to group maps.

    Parameters
    ----------
    maps : pandas.DataFrame, shape (n_maps, n_regions), or pandas.Series, shape (n_regions,)
        Rows are maps (e.g. :func:`crossscale.maps.adni.load_adni_trajectory`); columns regions in any spelling
        :func:`crossscale.atlas.to_canonical` understands. Larger values = more pathology.
    graph : RegionGraph
        Graph the pathology spreads on (e.g. ``RegionGraph.from_connectome()``).
    model : {"fisher_kpp", "diffusion", "distance_kernel"}
        Dynamics fitted (``distance_kernel``: the graph-free baseline).
    laplacian : {"combinatorial", "normalized"}
        See :func:`~crossscale.models.spread.dynamics.graph_laplacian`.
    seed_mass : float
        Fisher-KPP initial pathology at the epicentre.
    kappas : sequence of float or None
        Fisher-KPP ``alpha / rho`` grid.
    n_times : int
        Time-grid size per shape.
    shortlist : int or None
        Search only the `shortlist` best network-diffusion epicentres (faster; it can miss the
        best Fisher-KPP epicentre, so the default None searches every region).

    Returns
    -------
    fit : GroupFit

    Raises
    ------
    InputDataError, RegionMismatchError
        See :func:`maps_frame`.
    ParameterError
        Unknown model.
    """
    if model not in GROUP_MODELS:
        raise ParameterError(f"model must be one of {GROUP_MODELS}; got {model!r}.")
    frame = maps_frame(maps, graph.regions)
    lib = build_library(model, graph, laplacian=laplacian, seed_mass=seed_mass, kappas=kappas,
                        n_times=n_times)  # fmt: skip
    if shortlist is not None and model != "diffusion":
        pre = fit_group_maps(frame, graph, model="diffusion", n_times=n_times)
        keep = np.sort(graph.regions.get_indexer(pre.epicentre_r2.nlargest(shortlist).index))
        lib = _restrict(lib, keep)
    return fit_library(frame, lib, graph)


def _restrict(lib: PatternLibrary, seeds: np.ndarray) -> PatternLibrary:
    pos = np.flatnonzero(np.isin(lib.seeds, seeds))
    return PatternLibrary(
        model=lib.model, graph_kind=lib.graph_kind, shape_name=lib.shape_name, shapes=lib.shapes,
        time_name=lib.time_name, seeds=lib.seeds[pos], times=lib.times,
        x=[x[pos] for x in lib.x], stationary=lib.stationary,
    )  # fmt: skip
