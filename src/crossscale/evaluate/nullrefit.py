"""Null refits: p-values of any estimator's fit against models refitted on spatial null maps.

A model that fits a real map well (in-sample or cross-validated) proves little when the map is
smooth: a flexible model fits smooth random maps too. The honest test refits the *same* estimator
on null maps that keep the map's spatial autocorrelation (spin permutations, Moran spectral
randomisation) and asks how often a null fit is as good as the real one.

GraphVAE refits run as stacked tensor programs (:meth:`GraphVAE.fit_many` in-sample,
:meth:`GraphVAE.fit_predict_folds` for cross-validation: ``n_maps x n_folds`` models as one stack),
in chunks of ``batch_size`` null maps; baselines refit in a Python loop. Chunks run in-process or
as tasks on a Dask cluster (``scheduler="local"`` or an address), with identical results.

References
----------
.. [1] Alexander-Bloch A.F. et al. (2018). On testing for spatial correspondence between maps of
   human brain structure and function. NeuroImage 178, 540-551 (spin test).
.. [2] Váša F. et al. (2018). Adolescent tuning of association cortex in human structural brain
   networks. Cereb Cortex 28, 281-294 (Hungarian spin permutations).
.. [3] Wagner H.H., Dray S. (2015). Generating spatially constrained null models for irregularly
   spaced data using Moran spectral randomization. Methods Ecol Evol 6, 1169-1178.
.. [4] Markello R.D., Misic B. (2021). Comparing spatial null models for brain maps. NeuroImage
   236, 118052.
.. [5] Fulcher B.D. et al. (2021). Overcoming false-positive gene-category enrichment in the
   analysis of spatially resolved transcriptomic brain atlas data. Nat Commun 12, 2669.
.. [6] Hansen J.Y. et al. (2021). Mapping gene transcription and neurocognition across human
   neocortex. Nat Hum Behav 5, 1240-1250 (distance-dependent cross-validation).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from crossscale._errors import InputDataError, ParameterError
from crossscale._progress import progress
from crossscale.atlas.graph import RegionGraph
from crossscale.evaluate.cv import distance_blocked, leave_one_region_out, out_of_fold
from crossscale.evaluate.metrics import explained_variance, pearson_r

logger = logging.getLogger(__name__)

METRICS = ("r2", "r")
_METRIC_FUNCS = {"r2": explained_variance, "r": pearson_r}

__all__ = [
    "NullResult",
    "cv_masks",
    "gene_null_distribution",
    "kmeans_blocks",
    "null_distribution",
    "p_value_upper",
]


# -- results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NullResult:
    """Observed statistics of a fitted model and their null distributions from refits.

    Keys of `observed`, `null` and `p_values` are ``"<scheme>_<metric>"`` with scheme
    ``in_sample`` or ``cv`` (when cross-validated) and metric ``r2`` or ``r``, for example
    ``"cv_r"``.

    Attributes
    ----------
    observed : dict of str to float
        The statistic of the model fitted on the real map.
    null : dict of str to numpy.ndarray, shape (n_perm,)
        The statistic of the model refitted on each null map (NaN where undefined, for example r
        of a constant prediction).
    p_values : dict of str to float
        One-sided ``(1 + #{null >= observed}) / (1 + n_valid)`` over the finite null values.
    n_perm : int
        Number of null maps (or random gene sets).
    method : str
        How the nulls were made: ``"hungarian"`` (spin), ``"moran"``, ``"array"`` (given by the
        caller) or ``"random_genes"``.
    cv : str or None
        Cross-validation scheme of the ``cv_*`` statistics (``"spatial"``, ``"loro"``,
        ``"kfold10"`` …) or None.
    model : str
        Class name of the estimator.
    batched : bool
        Whether GraphVAE refits ran as stacked programs (False: one fit per null map).
    time_s : float
        Wall time of the refits (seconds).
    """

    observed: dict[str, float]
    null: dict[str, np.ndarray]
    p_values: dict[str, float]
    n_perm: int
    method: str
    cv: str | None = None
    model: str = ""
    batched: bool = True
    time_s: float = float("nan")
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def statistics(self) -> list[str]:
        """Statistic keys, in order."""
        return list(self.observed)

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic: observed, p_value, null mean / sd / 95th percentile, n_valid."""
        rows = {}
        for key, obs in self.observed.items():
            null = self.null[key]
            finite = null[np.isfinite(null)]
            rows[key] = {
                "observed": obs,
                "p_value": self.p_values[key],
                "null_mean": float(finite.mean()) if finite.size else np.nan,
                "null_sd": float(finite.std()) if finite.size else np.nan,
                "null_q95": float(np.quantile(finite, 0.95)) if finite.size else np.nan,
                "n_valid": int(finite.size),
            }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "statistic"
        return frame

    def to_dict(self, *, include_null: bool = True) -> dict[str, Any]:
        """JSON-ready dict (null arrays as lists unless ``include_null=False``)."""
        out: dict[str, Any] = {
            "model": self.model, "method": self.method, "cv": self.cv, "n_perm": self.n_perm,
            "batched": self.batched, "time_s": self.time_s,
            "observed": {k: float(v) for k, v in self.observed.items()},
            "p_values": {k: float(v) for k, v in self.p_values.items()},
            "summary": self.to_frame().drop(columns=["observed", "p_value"]).to_dict(orient="index"),
        }  # fmt: skip
        if include_null:
            out["null"] = {
                k: [None if not np.isfinite(x) else float(x) for x in v]
                for k, v in self.null.items()
            }
        return out


def p_value_upper(null: np.ndarray, observed: float) -> float:
    """One-sided permutation p-value ``(1 + #{null >= observed}) / (1 + n)``.

    Non-finite null values are dropped (``n`` counts the finite ones).

    Parameters
    ----------
    null : numpy.ndarray, shape (n_perm,)
    observed : float

    Returns
    -------
    p : float
        In ``(0, 1]``; NaN if `observed` is not finite or no null value is.

    References
    ----------
    .. [1] Phipson B., Smyth G.K. (2010). Permutation p-values should never be zero. Stat Appl
       Genet Mol Biol 9, 39.
    """
    null = np.asarray(null, dtype=float)
    finite = null[np.isfinite(null)]
    if not np.isfinite(observed) or finite.size == 0:
        return float("nan")
    return float((1 + np.count_nonzero(finite >= observed)) / (1 + finite.size))


# -- cross-validation masks ----------------------------------------------------------------------
def kmeans_blocks(graph: RegionGraph, n_folds: int, *, random_state: int = 0) -> np.ndarray:
    """Spatial k-fold CV: contiguous blocks of regions from k-means of centroids per hemisphere.

    The folds partition the regions: ``ceil(n_folds / 2)`` blocks in the left hemisphere and
    ``floor(n_folds / 2)`` in the right (k-means of the pial centroids in mm, within each
    hemisphere), so every region is held out exactly once.

    Parameters
    ----------
    graph : RegionGraph
    n_folds : int
        Number of folds, ``2 <= n_folds <= n_regions``.
    random_state : int
        Seed of k-means.

    Returns
    -------
    test_masks : numpy.ndarray of bool, shape (n_folds, n_regions)
    """
    from sklearn.cluster import KMeans

    n = graph.n_regions
    if not (isinstance(n_folds, (int, np.integer)) and 2 <= n_folds <= n):
        raise ParameterError(f"cv as an int is a number of folds in [2, {n}]; got {n_folds!r}.")
    coords = np.asarray(graph.coords, dtype=float)
    hemi = np.asarray(graph.hemisphere)
    groups = [np.flatnonzero(hemi == h) for h in pd.unique(hemi)]
    if len(groups) == 1:
        counts = [n_folds]
    else:
        counts = [int(np.ceil(n_folds / 2)), n_folds // 2]
    masks = []
    for idx, k in zip(groups, counts, strict=False):
        k = min(k, len(idx))
        labels = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(coords[idx])
        for c in range(k):
            m = np.zeros(n, dtype=bool)
            m[idx[labels == c]] = True
            masks.append(m)
    return np.array(masks)


def cv_masks(
    graph: RegionGraph, cv: str | int | None, spatial_fraction: float = 0.25
) -> tuple[str | None, np.ndarray | None]:
    """Test masks of a cross-validation scheme: None, ``"spatial"``, ``"loro"`` or an int k.

    Returns
    -------
    name : str or None
        ``"spatial"``, ``"loro"``, ``"kfold<k>"``, or None.
    test_masks : numpy.ndarray of bool, shape (n_folds, n_regions), or None
    """
    if cv is None:
        return None, None
    if isinstance(cv, str):
        if cv == "spatial":
            return "spatial", distance_blocked(graph, spatial_fraction)
        if cv == "loro":
            return "loro", leave_one_region_out(graph.n_regions)
        if cv.isdigit():
            cv = int(cv)
        else:
            raise ParameterError(
                f"cv must be None, 'spatial', 'loro' or a number of spatial folds; got {cv!r}."
            )
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return f"kfold{int(cv)}", kmeans_blocks(graph, int(cv))
    raise ParameterError(
        f"cv must be None, 'spatial', 'loro' or a number of spatial folds; got {cv!r}."
    )


# -- the work of one chunk (runs in-process or on a Dask worker) --------------------------------
def _is_batched_model(est: Any) -> bool:
    return bool(getattr(est, "stacked_refits", False))


def _scores(y: np.ndarray, pred: np.ndarray, metrics: Sequence[str]) -> list[float]:
    return [_METRIC_FUNCS[m](y, pred) for m in metrics]


def _in_sample_pred(model: Any, X: pd.DataFrame, regions: list[str]) -> np.ndarray | None:
    if getattr(model, "interpolation_only", False):
        return None  # interpolation-only (spatial baseline): no in-sample fit
    return model.predict(X).loc[regions].to_numpy(dtype=float)


def _with_seed(est: Any, seed: int) -> Any:
    model = clone(est)
    if "random_state" in model.get_params():
        model.set_params(random_state=int(seed))
    return model


def _refit_chunk(
    est: Any,
    X: pd.DataFrame,
    Y: np.ndarray,
    graph: RegionGraph,
    masks: np.ndarray | None,
    metrics: tuple[str, ...],
    seeds: np.ndarray,
    batched: bool,
    in_sample: bool = True,
) -> np.ndarray:
    """Refit `est` on each column of `Y`; scores of shape (n_maps, n_schemes * n_metrics).

    Columns: in-sample metrics, then CV metrics (if `masks`). Batched GraphVAE: one stack per
    chunk, seeded by ``seeds[0]``; otherwise model ``i`` is seeded by ``seeds[i]``.
    """
    regions = list(graph.regions)
    n_maps = Y.shape[1]
    n_cols = len(metrics) * (2 if masks is not None else 1)
    out = np.full((n_maps, n_cols), np.nan)
    frame = pd.DataFrame(Y, index=pd.Index(regions, name="region"))
    frame.columns = [f"null{i}" for i in range(n_maps)]
    k = len(metrics)
    if batched and _is_batched_model(est):
        if in_sample:
            fitted = _with_seed(est, seeds[0]).fit_many(X, frame, graph)
            for i, m in enumerate(fitted):
                out[i, :k] = _scores(Y[:, i], _in_sample_pred(m, X, regions), metrics)
        if masks is not None:
            P = _with_seed(est, seeds[0]).fit_predict_folds(X, frame, graph, masks)
            for i in range(n_maps):
                out[i, k:] = _scores(Y[:, i], out_of_fold(P[i], masks), metrics)
        return out
    for i in range(n_maps):
        y = frame.iloc[:, i]
        if in_sample:
            model = _with_seed(est, seeds[i]).fit(X, y, graph)
            pred = _in_sample_pred(model, X, regions)
            if pred is not None:
                out[i, :k] = _scores(Y[:, i], pred, metrics)
        if masks is not None:
            P = _with_seed(est, seeds[i]).fit_predict_folds(X, y, graph, masks)
            P = np.asarray(P).reshape(len(masks), -1)
            out[i, k:] = _scores(Y[:, i], out_of_fold(P, masks), metrics)
    return out


def _refit_gene_chunk(
    est: Any,
    expression: pd.DataFrame,
    gene_sets: list[list[str]],
    y: pd.Series,
    graph: RegionGraph,
    masks: np.ndarray | None,
    metrics: tuple[str, ...],
    seeds: np.ndarray,
) -> np.ndarray:
    """Refit `est` on the expression of each gene set; scores as in :func:`_refit_chunk`."""
    regions = list(graph.regions)
    yv = y.loc[regions].to_numpy(dtype=float)
    k = len(metrics)
    out = np.full((len(gene_sets), k * (2 if masks is not None else 1)), np.nan)
    for i, genes in enumerate(gene_sets):
        X = expression[genes]
        model = _with_seed(est, seeds[i]).fit(X, y, graph)
        pred = _in_sample_pred(model, X, regions)
        if pred is not None:
            out[i, :k] = _scores(yv, pred, metrics)
        if masks is not None:
            P = _with_seed(est, seeds[i]).fit_predict_folds(X, y, graph, masks)
            P = np.asarray(P).reshape(len(masks), -1)
            out[i, k:] = _scores(yv, out_of_fold(P, masks), metrics)
    return out


# -- scheduling: in-process or Dask ------------------------------------------------------------
def _dask_client(scheduler: Any) -> tuple[Any, Any]:
    """A distributed Client for `scheduler` and the cluster to close (None if not ours)."""
    if isinstance(scheduler, str) and scheduler != "local" and "://" not in scheduler:
        raise ParameterError(
            "scheduler must be None (in-process), 'local' (a Dask LocalCluster), a scheduler address "
            f"such as 'tcp://host:8786', or a distributed.Client; got {scheduler!r}."
        )
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ParameterError(
            f"scheduler={scheduler!r} needs Dask, which is not installed. Install it with "
            "`pip install 'crossscale[dask]'`, or pass scheduler=None to run in-process."
        ) from err
    if isinstance(scheduler, Client):
        return scheduler, None
    if scheduler == "local":
        import os

        n = max(1, os.cpu_count() or 1)
        cluster = LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        )
        return Client(cluster), cluster
    if isinstance(scheduler, str) and "://" in scheduler:
        return Client(scheduler), None
    raise ParameterError(
        "scheduler must be None (in-process), 'local' (a Dask LocalCluster), a scheduler address "
        f"such as 'tcp://10.0.0.1:8786', or a distributed.Client; got {scheduler!r}."
    )


def _run_chunks(
    func: Any,
    shared: dict[str, Any],
    chunks: list[dict[str, Any]],
    sizes: list[int],
    scheduler: Any,
    description: str,
) -> np.ndarray:
    """Run ``func(**shared, **chunk)`` for each chunk; concatenate the results in order."""
    results: list[np.ndarray | None] = [None] * len(chunks)
    with progress(description, total=sum(sizes)) as bar:
        if scheduler is None:
            for i, chunk in enumerate(chunks):
                results[i] = func(**shared, **chunk)
                bar.advance(sizes[i])
        else:
            client, cluster = _dask_client(scheduler)
            from distributed import as_completed

            try:
                run_id = uuid.uuid4().hex
                scattered = {k: client.scatter(v, broadcast=True) for k, v in shared.items()}
                futures = [
                    client.submit(
                        func, **scattered, **chunk, pure=False, key=f"nullrefit-{run_id}-{i}"
                    )
                    for i, chunk in enumerate(chunks)
                ]
                index = {f.key: i for i, f in enumerate(futures)}
                for fut in as_completed(futures):
                    i = index[fut.key]
                    results[i] = fut.result()
                    bar.advance(sizes[i])
            finally:
                if cluster is not None:
                    client.close()
                    cluster.close()
    return np.concatenate(results, axis=0)


# -- public API ----------------------------------------------------------------------------------
def _check_metrics(metric: str | Sequence[str]) -> tuple[str, ...]:
    metrics = (metric,) if isinstance(metric, str) else tuple(metric)
    bad = [m for m in metrics if m not in METRICS]
    if bad or not metrics:
        raise ParameterError(f"metric must be 'r2', 'r' or both; got {metric!r}.")
    return metrics


def _base_seed(random_state: int | np.random.Generator | None) -> int:
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31 - 1))
    if random_state is None:
        return int(np.random.default_rng().integers(2**31 - 1))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    raise ParameterError(
        f"random_state must be an int, a numpy Generator or None; got {random_state!r}."
    )


def _make_nulls(
    y: pd.Series, graph: RegionGraph, nulls: Any, n_perm: int, seed: int
) -> tuple[np.ndarray, str]:
    regions = list(graph.regions)
    if isinstance(nulls, str):
        from crossscale.nulls import generate_nulls

        method = {"spin": "hungarian", "moran": "moran"}.get(nulls, nulls)
        if method not in ("hungarian", "vasa", "alexander_bloch", "moran", "moran_pair"):
            raise ParameterError(
                f"nulls must be 'spin', 'moran' or an array of null maps (n_regions, n_perm); got {nulls!r}."
            )
        values = y.loc[regions].astype(float)
        arr = generate_nulls(values, method, n_perm=n_perm, random_state=seed, graph=graph)
        return np.asarray(arr, dtype=float), method
    if isinstance(nulls, pd.DataFrame):
        nulls = nulls.loc[regions].to_numpy(dtype=float)
    arr = np.asarray(nulls, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != len(regions):
        raise InputDataError(
            f"nulls as an array must have shape (n_regions, n_perm) = ({len(regions)}, n_perm), rows "
            f"in the order of graph.regions; got shape {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise InputDataError("nulls has NaN or infinite values; every null map must be complete.")
    return arr, "array"


def _observed(
    est: Any,
    X: pd.DataFrame,
    y: pd.Series,
    graph: RegionGraph,
    masks: np.ndarray | None,
    metrics: tuple[str, ...],
    seed: int,
    in_sample: bool = True,
) -> np.ndarray:
    own = getattr(est, "random_state", None)
    seeds = np.array([own if isinstance(own, (int, np.integer)) else seed])
    Y = y.loc[list(graph.regions)].to_numpy(dtype=float)[:, None]
    return _refit_chunk(est, X, Y, graph, masks, metrics, seeds, False, in_sample)[0]


def _result(
    scores: np.ndarray,
    observed: np.ndarray,
    metrics: tuple[str, ...],
    cv_name: str | None,
    in_sample: bool = True,
    **kwargs: Any,
) -> NullResult:
    keys = [f"in_sample_{m}" for m in metrics] if in_sample else []
    if cv_name is not None:
        keys += [f"cv_{m}" for m in metrics]
    obs = {k: float(v) for k, v in zip(keys, observed, strict=True)}
    null = {k: scores[:, j].copy() for j, k in enumerate(keys)}
    for v in null.values():
        v.setflags(write=False)
    pvals = {k: p_value_upper(null[k], obs[k]) for k in keys}
    return NullResult(observed=obs, null=null, p_values=pvals, cv=cv_name, **kwargs)


def _chunk_seeds(seed: int, n: int) -> np.ndarray:
    """One seed per null map, derived from the base seed (independent of chunking)."""
    ss = np.random.SeedSequence([seed, 1])
    return ss.generate_state(n, dtype=np.uint32).astype(np.int64) % (2**31 - 1)


def null_distribution(
    estimator: Any,
    X: pd.DataFrame,
    y: pd.Series,
    graph: RegionGraph,
    nulls: str | np.ndarray | pd.DataFrame = "spin",
    *,
    metric: str | Sequence[str] = METRICS,
    cv: str | int | None = None,
    n_perm: int = 1000,
    random_state: int | np.random.Generator | None = None,
    scheduler: Any = None,
    batch_size: int = 100,
    batched: bool = True,
    in_sample: bool = True,
    spatial_fraction: float = 0.25,
) -> NullResult:
    """Refit an estimator on spatial null maps; p-values of its in-sample and CV fit.

    Parameters
    ----------
    estimator : estimator
        Unfitted; ``fit(X, y, graph)``, ``predict(X)``, ``fit_predict_folds(X, y, graph, masks)``
        (GraphVAE or any baseline). Cloned for every fit; if it has ``random_state``, each fit is
        seeded from `random_state`.
    X : pandas.DataFrame, shape (n_regions, n_genes)
        Regional expression.
    y : pandas.Series, shape (n_regions,)
        The observed map.
    graph : RegionGraph
        Region graph over the regions of `X` and `y` (Moran nulls and spatial CV use it).
    nulls : {"spin", "moran"} or array of shape (n_regions, n_perm)
        ``"spin"``: Hungarian spin permutations (Váša 2018); ``"moran"``: Moran spectral
        randomisation over `graph`; an array: null maps given by the caller (rows in the order of
        ``graph.regions``).
    metric : {"r2", "r"} or sequence of them
        Explained variance and/or Pearson r of the prediction.
    cv : None, "spatial", "loro" or int
        Also cross-validate every refit: distance-blocked spatial CV (one fold per region, the
        nearest `spatial_fraction` of its hemisphere held out), leave-one-region-out, or k folds
        of contiguous blocks (:func:`kmeans_blocks`). CV statistics use each region's held-out
        prediction averaged over the folds holding it out.
    n_perm : int
        Number of null maps (ignored if `nulls` is an array).
    random_state : int, numpy.random.Generator or None
        Seed of the null maps and of every refit: the same int gives the same result whatever
        `scheduler`. Batched GraphVAE refits share one seed stream per chunk, so GraphVAE null
        values also depend on `batch_size` (baselines' do not).
    scheduler : None, "local", str or distributed.Client
        None: in-process. ``"local"``: a Dask ``LocalCluster`` (processes, one single-threaded worker per core).
        ``"tcp://host:port"``: join an existing Dask cluster. A ``distributed.Client``: use it.
        Each chunk of `batch_size` null maps is one task.
    batch_size : int
        Null maps per chunk (per stacked GraphVAE program and per Dask task). With CV, a chunk
        trains ``batch_size x n_folds`` GraphVAE models at once.
    batched : bool
        GraphVAE only: stack the refits of a chunk (True) or fit one model per null map (False,
        slower; each map's models seeded by its own seed).
    in_sample : bool
        Also refit in-sample (False with `cv` saves one fit per null map; only ``cv_*``
        statistics are returned).
    spatial_fraction : float
        Fraction of a hemisphere held out per fold of ``cv="spatial"``.

    Returns
    -------
    NullResult

    Raises
    ------
    ParameterError
        Unknown `nulls`, `metric`, `cv` or `scheduler`; Dask missing.
    InputDataError
        A null array of the wrong shape or with NaN.

    Notes
    -----
    Model ``i`` of a looped refit, and the stack of a chunk starting at null map ``i``, are
    seeded with the ``i``-th seed of ``SeedSequence([random_state, 1])``; with
    ``batch_size=1`` the batched and looped GraphVAE paths give identical numbers. With larger
    chunks a stack draws all its models' initial weights from one generator, so the null values
    differ map by map (same distribution).

    References
    ----------
    .. [1] Alexander-Bloch A.F. et al. (2018). NeuroImage 178, 540-551.
    .. [2] Váša F. et al. (2018). Cereb Cortex 28, 281-294.
    .. [3] Wagner H.H., Dray S. (2015). Methods Ecol Evol 6, 1169-1178.
    .. [4] Markello R.D., Misic B. (2021). NeuroImage 236, 118052.

    Examples
    --------
    >>> from crossscale.models.baselines import PLSBaseline
    >>> res = null_distribution(PLSBaseline(1), X, y, graph, "spin", cv="spatial",
    ...                         n_perm=1000, random_state=0)  # doctest: +SKIP
    >>> res.p_values["cv_r"]  # doctest: +SKIP
    """
    metrics = _check_metrics(metric)
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ParameterError(f"batch_size must be an integer >= 1; got {batch_size!r}.")
    seed = _base_seed(random_state)
    regions = list(graph.regions)
    X = X.loc[regions]
    y = y.loc[regions].astype(float)
    cv_name, masks = cv_masks(graph, cv, spatial_fraction)
    null_maps, method = _make_nulls(y, graph, nulls, n_perm, seed)
    n = null_maps.shape[1]
    seeds = _chunk_seeds(seed, n)
    is_gvae = _is_batched_model(estimator)
    t0 = time.perf_counter()
    if not in_sample and masks is None:
        raise ParameterError("in_sample=False needs a cross-validation scheme (cv).")
    observed = _observed(estimator, X, y, graph, masks, metrics, seed, in_sample)
    starts = list(range(0, n, int(batch_size)))
    chunks = [
        {"Y": null_maps[:, s : s + batch_size], "seeds": seeds[s : s + batch_size]} for s in starts
    ]
    sizes = [c["Y"].shape[1] for c in chunks]
    shared = {"est": estimator, "X": X, "graph": graph, "masks": masks, "metrics": metrics,
              "batched": bool(batched), "in_sample": bool(in_sample)}  # fmt: skip
    name = type(estimator).__name__
    scores = _run_chunks(
        _refit_chunk, shared, chunks, sizes, scheduler, f"Null refits of {name} ({n} maps)"
    )
    elapsed = time.perf_counter() - t0
    logger.info("%d null refits of %s in %.1f s", n, name, elapsed)
    if not in_sample:
        keep = np.r_[len(metrics) : 2 * len(metrics)]
        scores, observed = scores[:, keep], observed[keep]
    return _result(
        scores, observed, metrics, cv_name, n_perm=n, method=method, model=name,
        batched=bool(batched) and is_gvae, time_s=elapsed, in_sample=in_sample,
    )  # fmt: skip


def gene_null_distribution(
    estimator: Any,
    expression_all: pd.DataFrame,
    genes: Sequence[str],
    y: pd.Series,
    graph: RegionGraph,
    n_perm: int = 100,
    *,
    metric: str | Sequence[str] = METRICS,
    cv: str | int | None = None,
    random_state: int | np.random.Generator | None = None,
    scheduler: Any = None,
    batch_size: int = 10,
    spatial_fraction: float = 0.25,
) -> NullResult:
    """Gene-specificity null: refit on random gene sets of the same size.

    Does the chosen gene set (for example the LINCS landmark genes) predict the map better than
    random sets of as many genes drawn from all genes of `expression_all`? Each random set is
    drawn without replacement; the estimator is refitted on it and scored like the real set.

    Parameters
    ----------
    estimator : estimator
        As in :func:`null_distribution`.
    expression_all : pandas.DataFrame, shape (n_regions, n_genes_all)
        All genes (for example ``crossscale.transcriptomics.load_ahba_expression()``, 15,633).
    genes : sequence of str
        The gene set under test; genes absent from `expression_all` are dropped (logged).
    y : pandas.Series, shape (n_regions,)
    graph : RegionGraph
    n_perm : int
        Number of random gene sets.
    metric, cv, random_state, scheduler, spatial_fraction
        As in :func:`null_distribution`.
    batch_size : int
        Gene sets per chunk (per Dask task); these fits are not stacked (each has its own X).

    Returns
    -------
    NullResult
        ``method="random_genes"``; ``extra["n_genes"]`` is the set size.

    Notes
    -----
    Random genes are a weak null for the *spatial* question (random genes are themselves
    spatially autocorrelated); this tests gene specificity only. Use :func:`null_distribution`
    with spins for the spatial question (Fulcher et al. 2021).

    References
    ----------
    .. [1] Fulcher B.D. et al. (2021). Nat Commun 12, 2669.
    """
    metrics = _check_metrics(metric)
    if not (isinstance(n_perm, (int, np.integer)) and n_perm >= 1):
        raise ParameterError(f"n_perm must be an integer >= 1; got {n_perm!r}.")
    regions = list(graph.regions)
    expression_all = expression_all.loc[regions]
    all_genes = pd.Index(expression_all.columns)
    genes = list(dict.fromkeys(genes))
    present = [g for g in genes if g in all_genes]
    if len(present) < len(genes):
        logger.info(
            "%d of %d genes are not in expression_all; dropped",
            len(genes) - len(present),
            len(genes),
        )
    if not present:
        raise InputDataError("None of `genes` are columns of `expression_all`.")
    if len(present) > len(all_genes):
        raise InputDataError("The gene set is larger than the set of all genes.")
    seed = _base_seed(random_state)
    y = y.loc[regions].astype(float)
    cv_name, masks = cv_masks(graph, cv, spatial_fraction)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    sets = [
        list(all_genes[rng.choice(len(all_genes), len(present), replace=False)])
        for _ in range(n_perm)
    ]
    seeds = _chunk_seeds(seed, n_perm)
    t0 = time.perf_counter()
    observed = _refit_gene_chunk(
        estimator, expression_all, [present], y, graph, masks, metrics, np.array([seed])
    )[0]
    chunks = [
        {"gene_sets": sets[s : s + batch_size], "seeds": seeds[s : s + batch_size]}
        for s in range(0, n_perm, int(batch_size))
    ]
    sizes = [len(c["gene_sets"]) for c in chunks]
    shared = {"est": estimator, "expression": expression_all, "y": y, "graph": graph,
              "masks": masks, "metrics": metrics}  # fmt: skip
    name = type(estimator).__name__
    scores = _run_chunks(
        _refit_gene_chunk, shared, chunks, sizes, scheduler, f"Random gene sets ({name})"
    )
    elapsed = time.perf_counter() - t0
    return _result(
        scores, observed, metrics, cv_name, n_perm=n_perm, method="random_genes", model=name,
        batched=False, time_s=elapsed, extra={"n_genes": len(present), "gene_sets": sets},
    )  # fmt: skip
