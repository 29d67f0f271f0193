"""Does the connectome explain group maps? Spreading models against the baselines that decide.

For a set of group maps and a graph (the connectome, or a user's graph) this fits network
diffusion and Fisher-KPP (:func:`~crossscale.models.spread.groupfit.fit_library`) and, in the
same run and on the same maps:

* **offset-only**: each map predicted by its own mean (spreading R² 0 by definition; its pooled r
  shows how much of a pooled r offsets alone reach);
* **distance kernel**: ``exp(-(d / width)^p)`` from an epicentre, graph-free (Euclidean
  distance), with the same free-parameter structure (shared exponent and epicentre, per-map
  width, offset and amplitude);
* **distance-only graph**: the same dynamics on a Euclidean nearest-neighbour graph with the
  connectome's mean degree;
* **random epicentre**: the same dynamics and graph with the epicentre drawn uniformly (the
  median over all regions as the epicentre; shape and times refitted for each);

each with the spreading R² in sample, leave-one-map-out, leave-regions-out (contiguous
spatial blocks; everything, epicentre included, chosen on the training regions; the headline
out-of-sample measure) and leave-one-region-out (beside it). Null graphs:
**degree- and edge-length-preserving rewirings** of the graph (the headline p) and
degree-preserving rewirings (beside it); the two are never pooled.

Out-of-sample spreading R² (leave-regions-out): ``1 - sum (y - yhat)^2 / sum (y - ybar_train)^2``
over the held-out regions of every map, ``ybar_train`` the map's mean over its training
regions (the offset-only prediction): > 0 means better than offsets alone out of sample.
Leave-one-map-out: the epicentre and shape are fitted on the other maps; the held-out map gets
only its own time, offset and amplitude.

References
----------
.. [1] Maslov S., Sneppen K. (2002). Science 296, 910-913.
.. [2] Betzel R.F., Bassett D.S. (2018). PNAS 115, E4880-E4889.
.. [3] Phipson B., Smyth G.K. (2010). Stat Appl Genet Mol Biol 9, 39.
.. [4] Roberts D.R. et al. (2017). Cross-validation strategies for data with temporal, spatial,
   hierarchical, or phylogenetic structure. Ecography 40, 913-929.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale._stats import p_value_upper
from crossscale.evaluate.spread_group_cv import (
    DYNAMICS,
    leave_one_map_out,
    leave_regions_out,
    null_graph_r2,
)
from crossscale.models.spread.groupfit import (
    GroupFit,
    build_library,
    check_stage_order,
    fit_library,
    maps_frame,
    score_library,
)
from crossscale.nulls.graphs import distance_graph

logger = logging.getLogger(__name__)

__all__ = [
    "DYNAMICS", "GroupComparison", "compare_group_fits", "leave_one_map_out",
    "leave_regions_out", "null_graph_r2",
]  # fmt: skip

NULL_KINDS: tuple[str, ...] = ("length-preserving", "degree-preserving")


# -- the comparison ------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupComparison:
    """Spreading models on a graph against the baselines and null graphs, on one map set.

    Attributes
    ----------
    maps : pandas.DataFrame, shape (n_maps, n_regions)
    graph_name : str
        Label of the observed graph (``"connectome"``, ``"surface"``, a file name).
    table : pandas.DataFrame
        One row per model or baseline: ``model``, ``graph``, ``role`` (``model`` or
        ``baseline``), ``r2`` (spreading R² in sample), ``r2_lomo`` (leave-one-map-out),
        ``r2_lro`` (leave-regions-out: contiguous spatial blocks), ``r2_loro``
        (leave-one-region-out), ``r_pooled``, ``epicentre``, ``epicentre_set``, ``shape_name``,
        ``shape`` (NaN: not identified), ``shape_low``, ``shape_high``, ``shape_identified``,
        ``time_name``, ``times_identified`` (``"k/M"``: maps whose time is identified) and, for
        a single map, its ``time`` (NaN: not identified), ``time_low`` and ``time_high``.
    nulls : pandas.DataFrame
        Per model on the observed graph: ``r2``, and for each null kind its number, mean R²
        and p (``(1 + #null R² >= R²) / (1 + n)``), never pooled.
    null_r2 : pandas.DataFrame
        Every null fit (``model``, ``null``, ``i``, ``r2``, ``epicentre``).
    fits : dict
        ``{(model, graph label): GroupFit}`` of the models and fitted baselines.
    verdict : dict
        ``beats`` (True / False / None when undecided), ``model`` (the connectome model with
        the best leave-regions-out R²), ``failed`` (the baselines or null it did not beat) and
        ``sentence`` (the report's first sentence).
    stage_order : dict
        Per dynamics model on the observed graph, :func:`check_stage_order` of the identified
        fitted times (empty without stages).
    warnings : list of str
    """

    maps: pd.DataFrame
    graph_name: str
    table: pd.DataFrame
    nulls: pd.DataFrame
    null_r2: pd.DataFrame
    fits: dict = field(repr=False)
    verdict: dict = field(default_factory=dict)
    stage_order: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The table of models and baselines."""
        return self.table

    def to_dict(self) -> dict[str, object]:
        """For run.json (NaN as None)."""

        def clean(v: object) -> object:
            if isinstance(v, (float, np.floating)):
                return None if not np.isfinite(v) else float(v)
            if isinstance(v, (np.integer,)):
                return int(v)
            if isinstance(v, (np.bool_,)):
                return bool(v)
            return v

        def records(df: pd.DataFrame) -> list[dict]:
            return [{k: clean(v) for k, v in r.items()} for r in df.to_dict("records")]

        return {
            "graph": self.graph_name, "n_maps": int(self.maps.shape[0]),
            "verdict": {k: clean(v) for k, v in self.verdict.items()},
            "table": records(self.table), "nulls": records(self.nulls),
            "stage_order": self.stage_order, "warnings": list(self.warnings),
            "fits": {f"{m}/{g}": f.to_dict() for (m, g), f in self.fits.items()},
        }  # fmt: skip


def compare_group_fits(
    maps: pd.DataFrame | pd.Series,
    graph,
    *,
    graph_name: str = "connectome",
    models: Sequence[str] = DYNAMICS,
    n_length: int = 100,
    n_degree: int = 100,
    length_bins: int = 10,
    n_folds: int = 10,
    stages: pd.Series | None = None,
    stage_order: Sequence[str] | None = None,
    null_r2: pd.DataFrame | None = None,
    random_state: int | None = 0,
    library_kw: Mapping | None = None,
) -> GroupComparison:
    """Fit spreading models on `graph` and every baseline and null graph to the same maps.

    Parameters
    ----------
    maps : pandas.DataFrame, shape (n_maps, n_regions), or pandas.Series
        Group maps, larger = more pathology (see
        :func:`~crossscale.models.spread.groupfit.maps_frame`).
    graph : RegionGraph
        The observed graph (connectome or a user's graph).
    graph_name : str
        Its label in tables and the report.
    models : sequence of {"diffusion", "fisher_kpp"}
        Dynamics fitted on the graph and on every null graph.
    n_length, n_degree : int
        Null graphs of each kind (0 skips them; the verdict is then undecided).
    length_bins : int
        Edge-length quantile bins of the length-preserving rewiring (Betzel & Bassett 2018).
    n_folds : int
        Contiguous spatial blocks of the leave-regions-out CV
        (:func:`~crossscale.evaluate.folds.kmeans_blocks`).
    stages : pandas.Series or None
        Stage of each map (index as `maps`), for the stage-order check.
    stage_order : sequence of str or None
        Stages from earliest to latest (default: the order of first appearance).
    null_r2 : pandas.DataFrame or None
        Precomputed :func:`null_graph_r2` rows of this map set (columns ``model``, ``null``,
        ``r2``); None computes them.
    random_state : int or None
        Seed of the rewirings and folds.
    library_kw : mapping or None
        Passed to :func:`~crossscale.models.spread.groupfit.build_library`.

    Returns
    -------
    comparison : GroupComparison

    Raises
    ------
    ParameterError
        Unknown model, too few folds.
    """
    from crossscale.evaluate.folds import kmeans_blocks

    models = tuple(models)
    bad = [m for m in models if m not in DYNAMICS]
    if bad or not models:
        raise ParameterError(f"models must be among {DYNAMICS}; got {list(models)}.")
    frame = maps_frame(maps, graph.regions)
    y = frame.to_numpy(float)
    scored = ~np.isnan(y).all(0)
    y0 = np.where(np.isnan(y), 0.0, y)
    kw = dict(library_kw or {})
    test_masks = kmeans_blocks(graph, n_folds, random_state=0 if random_state is None else int(random_state))
    dist = distance_graph(graph)
    runs = [(m, graph_name, "model", graph) for m in models]
    runs += [(m, "distance-only graph", "baseline", dist) for m in models]
    runs += [("distance_kernel", "none (Euclidean distance)", "baseline", graph)]
    rows, fits = [], {}
    for model, gname, role, g in runs:
        lib = build_library(model, g, **(kw if model != "distance_kernel" else {}))
        sse = score_library(lib, y0, scored)
        fit = fit_library(frame, lib, g, sse=sse)
        fits[(model, gname)] = fit
        lomo = leave_one_map_out(lib, y0, scored, sse)
        lro = leave_regions_out(lib, y0, scored, test_masks)
        loro = leave_regions_out(lib, y0, scored, np.eye(len(scored), dtype=bool))
        rows.append(_row(model, gname, role, fit, lomo["r2"], lro["r2"], loro["r2"]))
        if role == "model":
            rows.append({
                "model": model, "graph": f"{gname}, random epicentre",
                "role": "baseline", "r2": float(np.nanmedian(fit.epicentre_r2)),
                "r2_lomo": lomo["r2_random_epicentre"], "r2_lro": lro["r2_random_epicentre"],
                "r2_loro": loro["r2_random_epicentre"], "r_pooled": np.nan, "epicentre": "(uniform over regions)", "epicentre_set": "",
                "shape_name": fit.shape_name, "shape": np.nan, "shape_low": np.nan,
                "shape_high": np.nan, "shape_identified": False,
            })  # fmt: skip
    yc = y0[:, scored]
    off_pred = np.repeat(yc.mean(1, keepdims=True), yc.shape[1], axis=1)
    r_off = float(np.corrcoef(yc.ravel(), off_pred.ravel())[0, 1]) if yc.shape[0] > 1 else np.nan
    rows.append({"model": "offset_only", "graph": "none", "role": "baseline", "r2": 0.0,
                 "r2_lomo": 0.0 if yc.shape[0] > 1 else np.nan, "r2_lro": 0.0, "r2_loro": 0.0,
                 "r_pooled": r_off, "epicentre": "", "epicentre_set": "", "shape_name": None,
                 "shape": np.nan, "shape_low": np.nan, "shape_high": np.nan,
                 "shape_identified": False})  # fmt: skip
    table = pd.DataFrame(rows)
    if null_r2 is None:
        null_r2 = null_graph_r2({"maps": frame}, graph, models=models, n_length=n_length,
                                n_degree=n_degree, length_bins=length_bins,
                                random_state=random_state, library_kw=kw)  # fmt: skip
    nulls = _null_table(table, null_r2, models, graph_name)
    stage_checks = {}
    if stages is not None:
        order = list(stage_order) if stage_order is not None else list(pd.unique(stages.astype(str)))
        for m in models:
            # identified times only: a time at the end of its grid orders nothing
            stage_checks[m] = check_stage_order(fits[(m, graph_name)].per_map["time"],
                                                stages.reindex(frame.index), order)  # fmt: skip
    verdict = _verdict(table, nulls, graph_name, frame.shape[0])
    warnings = [f"{m} on {g}: {n}" for (m, g), f in fits.items() for n in f.notes
                if g == graph_name]  # fmt: skip
    return GroupComparison(maps=frame, graph_name=graph_name, table=table, nulls=nulls,
                           null_r2=null_r2, fits=fits, verdict=verdict,
                           stage_order=stage_checks, warnings=warnings)  # fmt: skip


def _row(model: str, gname: str, role: str, fit: GroupFit, r2_lomo: float, r2_lro: float,
         r2_loro: float) -> dict:  # fmt: skip
    pm = fit.per_map
    one = len(pm) == 1
    return {"model": model, "graph": gname, "role": role, "r2": fit.r2, "r2_lomo": r2_lomo,
            "r2_lro": r2_lro, "r2_loro": r2_loro, "r_pooled": fit.r_pooled, "epicentre": fit.epicentre,
            "epicentre_set": ", ".join(fit.epicentre_set), "shape_name": fit.shape_name,
            "shape": fit.shape, "shape_low": fit.shape_low, "shape_high": fit.shape_high,
            "shape_identified": fit.shape_identified, "time_name": fit.time_name,
            "times_identified": f"{int(pm['time_identified'].sum())}/{len(pm)}",
            "time": pm["time"].iloc[0] if one else np.nan,
            "time_low": pm["time_low"].iloc[0] if one else np.nan,
            "time_high": pm["time_high"].iloc[0] if one else np.nan}  # fmt: skip


def _null_table(table: pd.DataFrame, null_r2: pd.DataFrame, models, graph_name: str) -> pd.DataFrame:
    rows = []
    for m in models:
        obs = float(table[(table.model == m) & (table.graph == graph_name)]["r2"].iloc[0])
        row: dict[str, object] = {"model": m, "graph": graph_name, "r2": obs}
        for kind, short in (("length-preserving", "length"), ("degree-preserving", "degree")):
            v = null_r2.loc[(null_r2.model == m) & (null_r2.null == kind), "r2"].to_numpy(float)
            row[f"n_{short}"] = len(v)
            row[f"null_r2_{short}"] = float(v.mean()) if len(v) else np.nan
            row[f"p_{short}"] = p_value_upper(v, obs) if len(v) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _pct(v: float) -> str:
    return "n/a" if not np.isfinite(v) else f"{100 * v:.0f}%"


def _verdict(table: pd.DataFrame, nulls: pd.DataFrame, graph_name: str, n_maps: int) -> dict:
    """Whether the best model on the observed graph beats every baseline out of sample and the nulls."""
    obs = table[(table.role == "model")]
    best = obs.loc[obs["r2_lro"].fillna(-np.inf).idxmax()]
    m = str(best["model"])
    base = table[table.role == "baseline"]

    def lro(model: str, graph: str) -> float:
        sel = base[(base.model == model) & (base.graph == graph)]
        return float(sel["r2_lro"].iloc[0]) if len(sel) else np.nan

    kern = lro("distance_kernel", "none (Euclidean distance)")
    dist = lro(m, "distance-only graph")
    rand = lro(m, f"{graph_name}, random epicentre")
    r_off = float(base.loc[base.model == "offset_only", "r_pooled"].iloc[0])
    nrow = nulls.set_index("model").loc[m]
    p_len, p_deg, n_len = float(nrow["p_length"]), float(nrow["p_degree"]), int(nrow["n_length"])
    r2o = float(best["r2_lro"])
    failed = [name for name, v in (("the distance kernel", kern), ("the distance-only graph", dist),
                                   ("a random epicentre", rand), ("offsets alone", 0.0))
              if not (np.isfinite(r2o) and r2o > v)]  # fmt: skip
    if n_len and not p_len < 0.05:
        failed.append("length-preserving rewirings")
    beats: bool | None = not failed if (n_len or failed) else None
    label = {"fisher_kpp": "Fisher-KPP", "diffusion": "network diffusion"}.get(m, m)
    listed = ", ".join(failed[:-1]) + (" or " if len(failed) > 1 else "") + (failed[-1] if failed else "")
    head = {True: f"The {graph_name} beats the baselines and null graphs",
            False: f"The {graph_name} does not beat {listed}",
            None: f"The {graph_name} beats the baselines, but no length-preserving null graphs "
                  "were fitted, so whether it beats them is not known"}[beats]  # fmt: skip
    nulls_txt = (f"against {n_len} degree- and length-preserving rewirings p = {p_len:.2g} "
                 f"(degree-preserving only, beside it: p = {p_deg:.2g})"
                 if n_len else "no null graphs fitted")  # fmt: skip
    sentence = (
        f"{head}: {label} on the {graph_name} reaches a spreading R² of {_pct(r2o)} out of "
        f"sample (held-out spatial blocks; {_pct(float(best['r2']))} in sample"
        + (f", {_pct(float(best['r2_lomo']))} leave-one-map-out" if n_maps > 1 else "")
        + f"), against {_pct(kern)} for a graph-free distance kernel, {_pct(dist)} for the "
        f"distance-only graph, {_pct(rand)} with a random epicentre and 0% for per-map offsets "
        f"alone" + (f" (whose pooled r is {r_off:.2f})" if np.isfinite(r_off) else "")
        + f"; {nulls_txt}."
    )
    return {"beats": beats, "model": m, "r2_lro": r2o, "failed": failed, "p_length": p_len,
            "p_degree": p_deg, "sentence": sentence}  # fmt: skip
