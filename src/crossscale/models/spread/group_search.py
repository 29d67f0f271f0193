"""Score group maps against a pattern library: the exhaustive search of the group fit.

:func:`maps_frame` checks the maps, :func:`build_library` makes the patterns of one model,
:func:`score_library` the per-map least-squares errors, :func:`best_fit` the shared epicentre
and shape, :func:`predict_maps` the fitted maps (see :mod:`crossscale.models.spread.groupfit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.models.spread.dynamics import check_model, graph_laplacian
from crossscale.models.spread.library import (
    KAPPA_GRID,
    PatternLibrary,
    diffusion_library,
    kernel_library,
    kpp_library,
)

__all__ = ["BestFit", "best_fit", "build_library", "maps_frame", "predict_maps", "score_library"]


def maps_frame(maps: pd.DataFrame | pd.Series, regions: Sequence[str]) -> pd.DataFrame:
    """Group maps as a (n_maps, n_regions) frame on `regions`, names matched by ``crossscale.atlas``.

    Parameters
    ----------
    maps : pandas.DataFrame, shape (n_maps, n_regions), or pandas.Series, shape (n_regions,)
        Rows are maps, columns regions in any spelling :func:`crossscale.atlas.to_canonical`
        understands (a Series is one map indexed by region).
    regions : sequence of str
        The graph's regions.

    Returns
    -------
    maps : pandas.DataFrame, shape (n_maps, len(regions))
        Columns `regions` in that order; a region the maps lack is a column of NaN (not
        scored; the caller reports it).

    Raises
    ------
    InputDataError
        Not a DataFrame/Series, non-numeric values, regions that are not the graph's, a region
        missing from some maps only, or no map.
    RegionMismatchError
        Column names that are not region names (with suggestions).
    """
    from crossscale.atlas import to_canonical

    if isinstance(maps, pd.Series):
        maps = maps.to_frame(name=maps.name if maps.name is not None else "map").T
    if not isinstance(maps, pd.DataFrame):
        raise InputDataError(
            f"maps must be a pandas DataFrame (rows maps, columns regions) or a Series (one map "
            f"indexed by region); got {type(maps).__name__}."
        )
    if maps.shape[0] == 0:
        raise InputDataError("maps has no rows; give at least one map.")
    regions = [str(r) for r in regions]
    cols = [str(c) for c in maps.columns]
    known = set(regions)
    if not set(cols) <= known:
        cols = [c if c in known else to_canonical([c], what="The maps' columns")[0] for c in cols]
    if len(set(cols)) < len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise InputDataError(f"maps names region(s) {dup[:8]} more than once; keep one column each.")
    extra = [c for c in cols if c not in known]
    if extra:
        raise InputDataError(
            f"maps has {len(extra)} region(s) that are not in the graph: {extra[:8]}. The graph "
            f"has {len(regions)} regions (e.g. {regions[:3]}); drop those columns or use a graph "
            "with these regions."
        )
    out = maps.set_axis(cols, axis=1)
    try:
        out = out.astype(float)
    except (TypeError, ValueError) as err:
        raise InputDataError(f"maps has non-numeric values: {err}.") from None
    out = out.reindex(columns=regions)
    out.columns.name = "region"
    vals = out.to_numpy()
    if np.isinf(vals).any():
        raise InputDataError("maps has infinite values.")
    partial = [r for r, col in zip(regions, vals.T, strict=True) if np.isnan(col).any() and
               not np.isnan(col).all()]  # fmt: skip
    if partial:
        raise InputDataError(
            f"{len(partial)} region(s) have values in some maps but not in others: "
            f"{partial[:8]}. Give every map the same regions (or leave a region empty in all)."
        )
    if np.isnan(vals).all(0).sum() > len(regions) - 3:
        raise InputDataError("maps has values for fewer than 3 of the graph's regions.")
    return out


def build_library(
    model: str, graph, *, laplacian: str = "combinatorial", seed_mass: float = 0.05,
    kappas: Sequence[float] | None = None, n_times: int = 100,
) -> PatternLibrary:  # fmt: skip
    """The pattern library of `model` on `graph` (every region an epicentre).

    Parameters
    ----------
    model : {"diffusion", "fisher_kpp", "distance_kernel"}
        Network diffusion, Fisher-KPP, or the graph-free distance kernel (a baseline).
    graph : RegionGraph
        Its Laplacian (dynamics) or its centroid distances (kernel).
    laplacian : {"combinatorial", "normalized"}
        Laplacian of network diffusion (Fisher-KPP needs the combinatorial one).
    seed_mass : float
        Fisher-KPP initial pathology at the epicentre.
    kappas : sequence of float or None
        Fisher-KPP ``alpha / rho`` grid (default :data:`~crossscale.models.spread.library.KAPPA_GRID`).
    n_times : int
        Times per shape.

    Returns
    -------
    library : PatternLibrary
    """
    if model == "distance_kernel":
        return kernel_library(graph.distances())
    check_model(model)
    if model == "fisher_kpp" and laplacian != "combinatorial":
        raise ParameterError(
            "Fisher-KPP needs laplacian='combinatorial' (x = 1 must be its saturated state)."
        )
    lap = graph_laplacian(graph, laplacian)
    if model == "diffusion":
        return diffusion_library(lap, n_times=n_times, graph_kind=graph.kind)
    return kpp_library(lap, kappas=KAPPA_GRID if kappas is None else kappas, seed_mass=seed_mass,
                       n_times=n_times, graph_kind=graph.kind)  # fmt: skip


def score_library(lib: PatternLibrary, y: np.ndarray, scored: np.ndarray) -> list[np.ndarray]:
    """SSE of every (epicentre, time, map) with the optimal offset and non-negative amplitude.

    For pattern ``x`` and map ``y`` on the scored regions (both centred over them),
    ``SSE = |y_c|^2 - max(0, <x_c, y_c>)^2 / |x_c|^2``; a flat pattern explains nothing.

    Parameters
    ----------
    lib : PatternLibrary
        Pattern library (:func:`build_library`).
    y : numpy.ndarray, shape (n_maps, n_regions)
        Group maps in the library's region order.
    scored : numpy.ndarray of bool, shape (n_regions,)
        Regions whose values are fitted (the others are predicted, not fitted).

    Returns
    -------
    sse : list of numpy.ndarray
        Per shape, shape (n_seeds, n_times_k, n_maps).
    """
    yc = y[:, scored] - y[:, scored].mean(1, keepdims=True)
    yy = (yc**2).sum(1)
    out = []
    for x in lib.x:
        xs = x[..., scored]
        xc = xs - xs.mean(-1, keepdims=True)
        xy = xc @ yc.T  # (S, T, M)
        xx = (xc**2).sum(-1)  # (S, T)
        flat = xx <= 1e-12 * np.maximum((xs**2).sum(-1), 1e-300)
        gain = np.where((xy > 0) & ~flat[..., None], xy**2 / np.where(flat, 1.0, xx)[..., None], 0)
        out.append(np.maximum(yy - gain, 0.0))
    return out


@dataclass(frozen=True)
class BestFit:
    """The best (shape, seed) on some maps, and each map's best time for every (shape, seed)."""

    total: np.ndarray  # (K, S): sum over the maps of their best SSE
    t_idx: list  # per shape (S, M): best time index of each map
    sse_best: list  # per shape (S, M)
    k: int
    s: int


def best_fit(sse: list[np.ndarray], maps: np.ndarray | None = None) -> BestFit:
    """The best shape and epicentre on `maps` (default all) from :func:`score_library` output."""
    t_idx, sse_best = [], []
    for block in sse:
        b = block if maps is None else block[:, :, maps]
        ti = b.argmin(1)
        t_idx.append(ti)
        sse_best.append(np.take_along_axis(b, ti[:, None, :], 1)[:, 0, :])
    total = np.stack([sb.sum(1) for sb in sse_best])  # (K, S)
    k, s = np.unravel_index(int(np.argmin(total)), total.shape)
    return BestFit(total=total, t_idx=t_idx, sse_best=sse_best, k=int(k), s=int(s))


def predict_maps(lib: PatternLibrary, y: np.ndarray, scored: np.ndarray, k: int, s: int,
                 t_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Predicted maps of shape `k`, epicentre `s` and per-map times `t_idx`.

    Offsets and amplitudes are fitted on the `scored` regions; every region is predicted.

    Returns
    -------
    pred : numpy.ndarray, shape (n_maps, n_regions)
    offset, amplitude : numpy.ndarray, shape (n_maps,)
    """
    xs = lib.x[k][s, t_idx]  # (M, N)
    xa, ya = xs[:, scored], y[:, scored]
    xc = xa - xa.mean(1, keepdims=True)
    yc = ya - ya.mean(1, keepdims=True)
    beta = np.maximum(0.0, (xc * yc).sum(1) / np.maximum((xc**2).sum(1), 1e-300))
    offset = ya.mean(1) - beta * xa.mean(1)
    return offset[:, None] + beta[:, None] * xs, offset, beta
