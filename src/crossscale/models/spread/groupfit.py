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
from crossscale.models.spread.dynamics import check_model, graph_laplacian
from crossscale.models.spread.estimator import torch_threads

logger = logging.getLogger(__name__)

ADNI_GROUPS: tuple[str, ...] = ("EMCI", "LMCI", "AD")
ADNI_TIMEPOINTS: tuple[str, ...] = ("baseline", "2", "3", "4", "5")


def load_adni_trajectory(
    groups: Sequence[str] = ADNI_GROUPS, timepoints: Sequence[str | int] = ADNI_TIMEPOINTS
) -> pd.DataFrame:
    """ADNI2 group atrophy maps as rows, scaled to a maximum of 1.

    Each map (a Welch t of controls minus patients, positive = atrophy) is divided by the largest
    t over all requested maps, so values are at most 1 and keep their relative sizes; negative
    values (larger volume in patients, mostly noise) are kept.

    Returns
    -------
    maps : pandas.DataFrame, shape (n_groups * n_timepoints, 68)
        MultiIndex ``(group, timepoint)``; ``attrs["scale"]`` holds the divisor.
    """
    from crossscale.maps import load_adni_map

    rows, keys = [], []
    for g in groups:
        for t in timepoints:
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

    def to_dict(self) -> dict[str, object]:
        """Summary for run.json."""
        return {
            "model": self.model, "graph": self.graph_kind, "epicentre": self.epicentre,
            "rho": self.rho, "alpha": self.alpha, "r": self.r, "r2": self.r2,
            "times": {"/".join(map(str, k)) if isinstance(k, tuple) else str(k): float(v)
                      for k, v in self.times.items()},
            "map_r": {"/".join(map(str, k)) if isinstance(k, tuple) else str(k): float(v)
                      for k, v in self.map_r.items()},
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
        x0 = torch.zeros(len(ss), n, dtype=f)
        x0[torch.arange(len(ss)), torch.as_tensor(ss)] = seed_mass if model != "diffusion" else 1.0
        lib = solve_torch(
            model, torch.as_tensor(lap, dtype=f), x0,
            torch.as_tensor(tgrid, dtype=f).repeat(len(ss), 1),
            torch.as_tensor(rr, dtype=f), torch.as_tensor(aa, dtype=f), n_steps=int(t_max / 0.5),
        ).numpy().astype(float)  # fmt: skip
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
    )  # fmt: skip


@dataclass(frozen=True)
class GraphComparison:
    """Fit on the connectome against null graphs.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (model, graph): epicentre, rho, alpha, r, r2.
    p_values : pandas.DataFrame
        Per model: connectome r, rewired mean and sd, fraction of rewired r >= connectome r
        (``(1 + count) / (1 + n)``), distance-graph r.
    fits : dict
        ``{(model, "connectome"): GroupFit, ...}``.
    """

    table: pd.DataFrame
    p_values: pd.DataFrame
    fits: dict = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The table."""
        return self.table

    def to_dict(self) -> dict[str, object]:
        """For run.json."""
        return {"fits": self.table.to_dict("records"), "nulls": self.p_values.to_dict("records")}


def compare_with_null_graphs(
    maps: pd.DataFrame,
    graph,
    *,
    models: Sequence[str] = ("diffusion", "fisher_kpp"),
    n_rewired: int = 10,
    random_state: int | None = None,
    **fit_kwargs,
) -> GraphComparison:
    """Fit each model on the connectome, a distance-only graph and degree-preserving rewirings.

    Parameters
    ----------
    maps : pandas.DataFrame
    graph : RegionGraph
        The connectome.
    models : sequence of str
    n_rewired : int
        Number of rewired graphs (each seeded from `random_state`).
    random_state : int or None
    **fit_kwargs
        Passed to :func:`fit_group_maps`.

    Returns
    -------
    comparison : GraphComparison
    """
    from crossscale._progress import progress
    from crossscale.models.spread.graph_nulls import distance_graph, rewire_degree_preserving

    rng = np.random.default_rng(random_state)
    seeds = rng.integers(0, 2**31 - 1, size=n_rewired)
    graphs = [("connectome", graph), ("distance-only", distance_graph(graph))]
    graphs += [(f"rewired-{i}", rewire_degree_preserving(graph, random_state=int(s)))
               for i, s in enumerate(seeds)]  # fmt: skip
    rows, fits = [], {}
    with progress("Fitting graphs", len(models) * len(graphs)) as bar:
        for model in models:
            for name, g in graphs:
                fit = fit_group_maps(maps, g, model=model, **fit_kwargs)
                fits[(model, name)] = fit
                rows.append({"model": model, "graph": name, "epicentre": fit.epicentre,
                             "rho": fit.rho, "alpha": fit.alpha, "r": fit.r, "r2": fit.r2})  # fmt: skip
                bar.advance(1)
    table = pd.DataFrame(rows)
    prow = []
    for model in models:
        t = table[table.model == model].set_index("graph")
        rew = t.loc[t.index.str.startswith("rewired"), "r"].to_numpy()
        obs = float(t.loc["connectome", "r"])
        prow.append({
            "model": model, "connectome_r": obs, "connectome_r2": float(t.loc["connectome", "r2"]),
            "distance_r": float(t.loc["distance-only", "r"]),
            "distance_r2": float(t.loc["distance-only", "r2"]),
            "rewired_r_mean": float(rew.mean()) if len(rew) else np.nan,
            "rewired_r_sd": float(rew.std(ddof=1)) if len(rew) > 1 else np.nan,
            "p_rewired": float((1 + (rew >= obs).sum()) / (1 + len(rew))),
        })  # fmt: skip
    return GraphComparison(table=table, p_values=pd.DataFrame(prow), fits=fits)
