"""Out-of-sample and null-graph measures of spreading models on group maps.

Leave-one-map-out and leave-regions-out spreading R², and the in-sample R² on rewired null
graphs, used by :func:`crossscale.evaluate.spread_groups.compare_group_fits` (see there for the
definitions and references).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.models.spread.groupfit import best_fit, build_library, predict_maps, score_library
from crossscale.models.spread.library import PatternLibrary
from crossscale.nulls.graphs import rewire_degree_preserving

__all__ = ["DYNAMICS", "leave_one_map_out", "leave_regions_out", "null_graph_r2"]

DYNAMICS: tuple[str, ...] = ("diffusion", "fisher_kpp")


# -- out-of-sample measures ----------------------------------------------------------------------
def leave_one_map_out(lib: PatternLibrary, y: np.ndarray, scored: np.ndarray,
                      sse: list[np.ndarray] | None = None) -> dict[str, float]:  # fmt: skip
    """Leave-one-map-out spreading R² of the searched and of a random epicentre.

    Returns
    -------
    out : dict
        ``r2`` (epicentre and shape from the other maps) and ``r2_random_epicentre`` (median
        over epicentres, shape from the other maps); NaN with fewer than 2 maps.
    """
    n_maps = y.shape[0]
    if n_maps < 2:
        return {"r2": np.nan, "r2_random_epicentre": np.nan}
    sse = score_library(lib, y, scored) if sse is None else sse
    yc = y[:, scored] - y[:, scored].mean(1, keepdims=True)
    sst = float((yc**2).sum())
    held, held_rand = 0.0, np.zeros(len(lib.seeds))
    for m in range(n_maps):
        b = best_fit(sse, np.setdiff1d(np.arange(n_maps), [m]))
        held += float(sse[b.k][b.s, :, m].min())
        k_s = b.total.argmin(0)  # (S,): best shape of each epicentre on the other maps
        held_rand += np.array([sse[k][s, :, m].min() for s, k in enumerate(k_s)])
    return {"r2": 1 - held / sst, "r2_random_epicentre": float(np.median(1 - held_rand / sst))}


def leave_regions_out(lib: PatternLibrary, y: np.ndarray, scored: np.ndarray,
                      test_masks: np.ndarray) -> dict[str, float]:  # fmt: skip
    """Leave-regions-out spreading R² (relative to the training-mean, offset-only prediction).

    Parameters
    ----------
    lib : PatternLibrary
        Pattern library of one model (:func:`~crossscale.models.spread.groupfit.build_library`).
    y : numpy.ndarray, shape (n_maps, n_regions)
        The group maps, in the library's region order (NaN where a map has no value).
    scored : numpy.ndarray of bool, shape (n_regions,)
        Regions with values.
    test_masks : numpy.ndarray of bool, shape (n_folds, n_regions)
        Held-out regions of each fold.

    Returns
    -------
    out : dict
        ``r2`` (epicentre, shape, times, offsets and amplitudes all chosen on the training
        regions; the epicentre among the training regions), ``r2_random_epicentre`` (median
        over epicentres, each scored on the folds where it is a training region) and
        ``n_folds``.
    """
    held, ref = 0.0, 0.0
    held_rand = np.zeros(len(lib.seeds))
    ref_rand = np.zeros(len(lib.seeds))
    n_folds = 0
    for test in test_masks:
        train, test_s = scored & ~test, scored & test
        if test_s.sum() == 0 or train.sum() < 3:
            continue
        n_folds += 1
        sse = score_library(lib, y, train)
        seen = train[lib.seeds]  # epicentres among the training regions only
        for block in sse:
            block[~seen] = np.inf
        b = best_fit(sse)
        pred, _, _ = predict_maps(lib, y, train, b.k, b.s, b.t_idx[b.k][b.s])
        yt = y[:, test_s]
        held += float(((yt - pred[:, test_s]) ** 2).sum())
        ref_fold = float(((yt - y[:, train].mean(1, keepdims=True)) ** 2).sum())
        ref += ref_fold
        k_s = b.total.argmin(0)
        xs = np.stack([lib.x[k][s, b.t_idx[k][s]] for s, k in enumerate(k_s)])  # (S, M, N)
        xa = xs[..., train]
        xc = xa - xa.mean(-1, keepdims=True)
        ya = y[:, train]
        yc = ya - ya.mean(1, keepdims=True)
        beta = np.maximum(0, (xc * yc).sum(-1) / np.maximum((xc**2).sum(-1), 1e-300))
        off = ya.mean(1) - beta * xa.mean(-1)
        pr = off[..., None] + beta[..., None] * xs[..., test_s]
        held_rand += np.where(seen, ((yt[None] - pr) ** 2).sum((1, 2)), 0.0)
        ref_rand += np.where(seen, ref_fold, 0.0)
    if ref <= 0:
        return {"r2": np.nan, "r2_random_epicentre": np.nan, "n_folds": n_folds}
    # a random epicentre: each epicentre scored on the folds where it is a training region
    ok = ref_rand > 0
    rand = float(np.median(1 - held_rand[ok] / ref_rand[ok])) if ok.any() else np.nan
    return {"r2": 1 - held / ref, "r2_random_epicentre": rand,
            "n_folds": n_folds}  # fmt: skip


# -- null graphs ---------------------------------------------------------------------------------
def null_graph_r2(
    map_sets: Mapping[str, pd.DataFrame], graph, *, models: Sequence[str] = DYNAMICS,
    n_length: int = 100, n_degree: int = 100, length_bins: int = 10,
    random_state: int | None = 0, library_kw: Mapping | None = None,
) -> pd.DataFrame:  # fmt: skip
    """In-sample spreading R² of every map set on rewired null graphs (each library built once).

    Parameters
    ----------
    map_sets : mapping of str to pandas.DataFrame
        Map sets, each as :func:`~crossscale.models.spread.groupfit.maps_frame` returns.
    graph : RegionGraph
        The observed graph, rewired.
    models : sequence of str
        Dynamics refitted on every null graph (``"diffusion"``, ``"fisher_kpp"``).
    n_length, n_degree : int
        Degree- and edge-length-preserving rewirings (swaps within `length_bins` length
        quantiles; Betzel & Bassett 2018) and degree-preserving ones (Maslov & Sneppen 2002).
    length_bins : int
        Edge-length quantile bins of the length-preserving rewiring.
    random_state : int or None
        Seed of the rewirings.
    library_kw : mapping or None
        Passed to :func:`~crossscale.models.spread.groupfit.build_library`.

    Returns
    -------
    nulls : pandas.DataFrame
        Columns ``set``, ``model``, ``null`` (kind), ``i``, ``r2``, ``epicentre``.
    """
    from crossscale._progress import progress

    for name, v in (("n_length", n_length), ("n_degree", n_degree)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
            raise ParameterError(f"{name} must be an integer >= 0; got {v!r}.")
    rng = np.random.default_rng(random_state)
    seeds = rng.integers(0, 2**31 - 1, size=n_length + n_degree)
    prepared = {}
    for name, maps in map_sets.items():
        y = maps.to_numpy(float)
        scored = ~np.isnan(y).all(0)
        y0 = np.where(np.isnan(y), 0.0, y)
        yc = y0[:, scored] - y0[:, scored].mean(1, keepdims=True)
        prepared[name] = (y0, scored, float((yc**2).sum()))
    regions = list(graph.regions)
    rows = []
    jobs = [("length-preserving", i, int(seeds[i])) for i in range(n_length)] + [
        ("degree-preserving", i, int(seeds[n_length + i])) for i in range(n_degree)
    ]
    with progress("Null graphs", len(jobs)) as bar:
        for kind, i, seed in jobs:
            g = rewire_degree_preserving(
                graph, random_state=seed,
                length_bins=length_bins if kind == "length-preserving" else None,
            )  # fmt: skip
            for model in models:
                lib = build_library(model, g, **dict(library_kw or {}))
                for name, (y0, scored, sst) in prepared.items():
                    b = best_fit(score_library(lib, y0, scored))
                    rows.append({"set": name, "model": model, "null": kind, "i": i,
                                 "r2": 1 - float(b.total.min()) / sst if sst > 0 else np.nan,
                                 "epicentre": regions[int(lib.seeds[b.s])]})  # fmt: skip
            bar.advance(1)
    return pd.DataFrame(rows, columns=["set", "model", "null", "i", "r2", "epicentre"])
