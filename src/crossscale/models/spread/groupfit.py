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
from crossscale.models.spread._common import torch_threads
from crossscale.models.spread.dynamics import check_model, graph_laplacian

logger = logging.getLogger(__name__)

ADNI_GROUPS: tuple[str, ...] = ("EMCI", "LMCI", "AD")
ADNI_TIMEPOINTS: tuple[str, ...] = ("baseline", "2", "3", "4", "5", "6")


def load_adni_trajectory(
    groups: Sequence[str] = ADNI_GROUPS, timepoints: Sequence[str | int] | None = None
) -> pd.DataFrame:
    """ADNI2 group atrophy maps as rows, scaled to a maximum of 1.

    Each map (a Welch t of controls minus patients, positive = atrophy) is divided by the largest
    t over all requested maps, so values are at most 1 and keep their relative sizes; negative
    values (larger volume in patients, mostly noise) are kept.

    Parameters
    ----------
    groups : sequence of str
        Patient groups (default EMCI, LMCI, AD).
    timepoints : sequence of str or int, or None
        Timepoints to load; None (default) loads every timepoint the data have for each group:
        baseline and follow-ups 2-5 for AD and LMCI, baseline and 2-6 for EMCI (16 maps; the
        distribution has no sixth AD or LMCI file).

    Returns
    -------
    maps : pandas.DataFrame, shape (n_maps, 68)
        MultiIndex ``(group, timepoint)``; ``attrs["scale"]`` holds the divisor.
    """
    from crossscale.datasets import registry
    from crossscale.maps import load_adni_map

    reg = registry()
    rows, keys = [], []
    for g in groups:
        tps = timepoints
        if tps is None:
            tps = [t for t in ADNI_TIMEPOINTS if f"adni2_{g.lower()}_vol_{t}" in reg]
        for t in tps:
            rows.append(load_adni_map(g, t))
            keys.append((g, str(t)))
    df = pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(keys, names=["group", "timepoint"]))
    scale = float(df.to_numpy().max())
    out = df / scale
    out.columns.name = "region"
    out.attrs = {"units": "Welch t / max t", "scale": scale}
    return out


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
    import torch

    from crossscale.models.spread.dynamics import solve_torch

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
    rr, aa, ss = (v.ravel() for v in np.meshgrid(rho_grid, alpha_grid, cand, indexing="ij"))
    lap = graph_laplacian(graph, laplacian)
    f = torch.float32
    with torch_threads(n_threads), torch.no_grad():
        lt = torch.as_tensor(lap, dtype=f)
        parts = []
        # one solve per rho value: the RK4 step count is set by each chunk's own stiffness
        for rho in np.unique(rr):
            sel = np.flatnonzero(rr == rho)
            x0 = torch.zeros(len(sel), n, dtype=f)
            x0[torch.arange(len(sel)), torch.as_tensor(ss[sel])] = (
                seed_mass if model != "diffusion" else 1.0
            )
            parts.append((sel, solve_torch(
                model, lt, x0, torch.as_tensor(tgrid, dtype=f).repeat(len(sel), 1),
                torch.as_tensor(rr[sel], dtype=f), torch.as_tensor(aa[sel], dtype=f),
                n_steps=int(t_max / 0.5),
            ).numpy().astype(float)))  # fmt: skip
        lib = np.empty((len(ss), len(tgrid), n))
        for sel, part in parts:
            lib[sel] = part
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


@dataclass(frozen=True)
class GraphComparison:
    """Fits on the connectome, a distance-only graph and their combination, against null graphs.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (model, graph): epicentre, rho, alpha, r, r2, null kind (``observed``,
        ``degree-preserving`` or ``length-preserving``).
    p_values : pandas.DataFrame
        One row per (model, observed graph): r, R2, and against the null graphs of the same
        model: mean and sd of their r, ``p_degree`` and ``p_length`` (``(1 + #null r >= r) /
        (1 + n)`` for each kind) and ``p_null`` (both kinds pooled).
    winner : dict
        The (model, graph) with the highest r among the observed graphs, its r, ``p_null`` and
        the number of nulls.
    fits : dict
        ``{(model, graph name): GroupFit, ...}`` for the observed graphs.
    """

    table: pd.DataFrame
    p_values: pd.DataFrame
    winner: dict
    fits: dict = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The table."""
        return self.table

    def to_dict(self) -> dict[str, object]:
        """For run.json."""
        return {"winner": self.winner, "fits": self.table.to_dict("records"),
                "nulls": self.p_values.to_dict("records")}  # fmt: skip


OBSERVED_GRAPHS: tuple[str, ...] = ("connectome", "distance-only", "combined")


def compare_with_null_graphs(
    maps: pd.DataFrame,
    graph,
    *,
    models: Sequence[str] = ("diffusion", "fisher_kpp"),
    n_rewired: int = 100,
    n_length: int = 100,
    length_bins: int = 10,
    fisher_shortlist: int | None = 8,
    random_state: int | None = None,
    **fit_kwargs,
) -> GraphComparison:
    """Fit each model on the connectome, a distance-only graph, their union and null graphs.

    Parameters
    ----------
    maps : pandas.DataFrame
    graph : RegionGraph
        The connectome.
    models : sequence of str
    n_rewired : int
        Degree-preserving rewirings of the connectome (Maslov-Sneppen swaps, weights carried).
    n_length : int
        Degree- and edge-length-preserving rewirings (swaps within `length_bins` length bins).
        With ``n_rewired + n_length >= 100`` the pooled p-value can reach below 0.01.
    length_bins : int
        Quantile bins of edge length for the length-preserving nulls.
    fisher_shortlist : int or None
        Fisher-KPP searches the `fisher_shortlist` best network-diffusion epicentres of each
        graph (observed and null alike; see :func:`fit_group_maps`); None: all 68.
    random_state : int or None
    **fit_kwargs
        Passed to :func:`fit_group_maps`.

    Returns
    -------
    comparison : GraphComparison

    References
    ----------
    .. [1] Maslov S., Sneppen K. (2002). Science 296, 910-913.
    .. [2] Betzel R.F., Bassett D.S. (2018). PNAS 115, E4880-E4889.
    .. [3] Phipson B., Smyth G.K. (2010). Permutation p-values should never be zero. Stat Appl
       Genet Mol Biol 9, 39.
    """
    from crossscale._progress import progress
    from crossscale.models.spread.graph_nulls import (
        combined_graph,
        distance_graph,
        rewire_degree_preserving,
    )

    for name, v in (("n_rewired", n_rewired), ("n_length", n_length)):
        if not isinstance(v, (int, np.integer)) or v < 0:
            raise ParameterError(f"{name} must be an integer >= 0; got {v!r}.")
    rng = np.random.default_rng(random_state)
    seeds = rng.integers(0, 2**31 - 1, size=n_rewired + n_length)
    dist = distance_graph(graph)
    graphs = [("connectome", "observed", graph), ("distance-only", "observed", dist),
              ("combined", "observed", combined_graph(graph, dist))]  # fmt: skip
    graphs += [(f"rewired-{i}", "degree-preserving",
                rewire_degree_preserving(graph, random_state=int(s)))
               for i, s in enumerate(seeds[:n_rewired])]  # fmt: skip
    graphs += [(f"length-rewired-{i}", "length-preserving",
                rewire_degree_preserving(graph, random_state=int(s), length_bins=length_bins))
               for i, s in enumerate(seeds[n_rewired:])]  # fmt: skip
    rows, fits = [], {}
    with progress("Fitting graphs", len(models) * len(graphs)) as bar:
        for model in models:
            kw = dict(fit_kwargs)
            if model == "fisher_kpp":
                kw.setdefault("shortlist", fisher_shortlist)
            for name, kind, g in graphs:
                fit = fit_group_maps(maps, g, model=model, **kw)
                if kind == "observed":
                    fits[(model, name)] = fit
                rows.append({"model": model, "graph": name, "null": kind,
                             "epicentre": fit.epicentre, "rho": fit.rho, "alpha": fit.alpha,
                             "r": fit.r, "r2": fit.r2})  # fmt: skip
                bar.advance(1)
    table = pd.DataFrame(rows)
    prow = []
    for model in models:
        t = table[table.model == model]
        deg = t.loc[t.null == "degree-preserving", "r"].to_numpy()
        lng = t.loc[t.null == "length-preserving", "r"].to_numpy()
        both = np.concatenate([deg, lng])
        for gname in OBSERVED_GRAPHS:
            obs = t[(t.graph == gname)].iloc[0]

            def p(null: np.ndarray, r: float = float(obs["r"])) -> float:
                return float((1 + (null >= r).sum()) / (1 + len(null))) if len(null) else np.nan

            prow.append({
                "model": model, "graph": gname, "epicentre": obs["epicentre"],
                "r": float(obs["r"]), "r2": float(obs["r2"]),
                "null_r_mean": float(both.mean()) if len(both) else np.nan,
                "null_r_sd": float(both.std(ddof=1)) if len(both) > 1 else np.nan,
                "p_degree": p(deg), "p_length": p(lng), "p_null": p(both),
                "n_null": int(len(both)),
            })  # fmt: skip
    pv = pd.DataFrame(prow)
    best = pv.loc[pv["r"].idxmax()]
    winner = {"model": str(best["model"]), "graph": str(best["graph"]), "r": float(best["r"]),
              "p_null": float(best["p_null"]), "p_degree": float(best["p_degree"]),
              "p_length": float(best["p_length"]), "n_null": int(best["n_null"]),
              "epicentre": str(best["epicentre"])}  # fmt: skip
    return GraphComparison(table=table, p_values=pv, winner=winner, fits=fits)
