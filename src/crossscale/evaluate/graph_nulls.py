"""Null-graph test of spreading models.

Does the connectome explain group maps better than degree- and length-preserving rewirings of it,
a distance-only graph, or their union?

References
----------
.. [1] Maslov S., Sneppen K. (2002). Science 296, 910-913.
.. [2] Betzel R.F., Bassett D.S. (2018). PNAS 115, E4880-E4889.
.. [3] Phipson B., Smyth G.K. (2010). Stat Appl Genet Mol Biol 9, 39.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.models.spread.groupfit import fit_group_maps
from crossscale.nulls.graphs import combined_graph, distance_graph, rewire_degree_preserving


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
