"""Null refits: p-values of any estimator's fit against models refitted on spatial null maps.

A model that fits a real map well (in-sample or cross-validated) proves little when the map is
smooth: a flexible model fits smooth random maps too. The honest test refits the *same* estimator
on null maps that keep the map's spatial autocorrelation (spin permutations, Moran spectral
randomisation) and asks how often a null fit is as good as the real one.

GraphVAE refits run as stacked tensor programs (:meth:`GraphVAE.fit_many` in-sample,
:meth:`GraphVAE.fit_predict_folds` for cross-validation: ``n_maps x n_folds`` models as one stack),
in chunks of ``batch_size`` null maps; other estimators refit one null map at a time, in chunks
of at most ``ceil(n_perm / 20)`` maps. Chunks run in-process, in ``n_jobs`` joblib worker
processes, or as tasks on a Dask cluster (``scheduler="local"`` or an address), with identical
results.

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
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale._progress import progress
from crossscale._validate import resolve_seed
from crossscale.atlas.graph import RegionGraph
from crossscale.evaluate._workers import (
    chunk_seeds,
    chunk_starts,
    refit_chunk,
    refit_gene_chunk,
    run_chunks,
)
from crossscale.evaluate.estimators import as_estimator, get_tag, model_name, without_attrs
from crossscale.evaluate.folds import cv_masks, kmeans_blocks
from crossscale.evaluate.metrics import NULL_METRICS
from crossscale.evaluate.nullmethods import NULL_CHOICES, make_nulls
from crossscale.evaluate.nullresult import NullResult, make_result, p_value_upper

logger = logging.getLogger(__name__)

#: Metric names of null refits (kept here for old imports; defined in :mod:`.metrics`).
METRICS = NULL_METRICS

__all__ = [
    "METRICS",
    "NULL_CHOICES",
    "NullResult",
    "cv_masks",
    "gene_null_distribution",
    "kmeans_blocks",
    "null_distribution",
    "p_value_upper",
]


def _check_metrics(metric: str | Sequence[str]) -> tuple[str, ...]:
    metrics = (metric,) if isinstance(metric, str) else tuple(metric)
    bad = [m for m in metrics if m not in NULL_METRICS]
    if bad or not metrics:
        raise ParameterError(f"metric must be 'r2', 'r' or both; got {metric!r}.")
    return metrics


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
    return refit_chunk(est, X, Y, graph, masks, metrics, seeds, False, in_sample)[0]


def null_distribution(
    estimator: Any,
    X: pd.DataFrame,
    y: pd.Series,
    graph: RegionGraph,
    nulls: str | np.ndarray | pd.DataFrame = "spin",
    *,
    metric: str | Sequence[str] = NULL_METRICS,
    cv: str | int | None = None,
    n_perm: int = 1000,
    random_state: int | np.random.Generator | None = None,
    scheduler: Any = None,
    batch_size: int = 100,
    batched: bool = True,
    in_sample: bool = True,
    spatial_fraction: float = 0.25,
    n_jobs: int | None = None,
    label: str | None = None,
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
        Each chunk of null maps is one task.
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
    n_jobs : int or None
        Worker processes (joblib) for the chunks when `scheduler` is None: None or 1 in this
        process, -1 every core. Results do not depend on it. A progress bar follows the chunks
        (on in a terminal or notebook; :func:`crossscale.set_progress`).
    label : str, optional
        The model's name in the progress bar (default: its class name).

    Returns
    -------
    NullResult

    Raises
    ------
    ParameterError
        Unknown `nulls`, `metric`, `cv`, `scheduler` or `n_jobs`; Dask missing; an estimator
        without ``fit`` / ``predict``.
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
    estimator = as_estimator(estimator)
    seed = resolve_seed(random_state)
    regions = list(graph.regions)
    X = without_attrs(X.loc[regions])  # pandas would copy the metadata into every operation
    y = without_attrs(y.loc[regions].astype(float))
    cv_name, masks = cv_masks(graph, cv, spatial_fraction)
    null_maps, method = make_nulls(y, graph, nulls, n_perm, seed)
    n = null_maps.shape[1]
    seeds = chunk_seeds(seed, n)
    stacked = get_tag(estimator, "stacked_refits")
    t0 = time.perf_counter()
    if not in_sample and masks is None:
        raise ParameterError("in_sample=False needs a cross-validation scheme (cv).")
    name = model_name(estimator)
    # one bar for the stage: the bars of the observed fit nest in it (and vanish when done)
    with progress(f"Null refits of {label or name} ({n} maps)", total=n) as bar:
        observed = _observed(estimator, X, y, graph, masks, metrics, seed, in_sample)
        scores = _null_scores(estimator, X, graph, masks, metrics, batched, in_sample, null_maps,
                              seeds, batch_size, stacked, scheduler, n_jobs, bar)  # fmt: skip
    elapsed = time.perf_counter() - t0
    logger.info("%d null refits of %s in %.1f s", n, name, elapsed)
    if not in_sample:
        keep = np.r_[len(metrics) : 2 * len(metrics)]
        scores, observed = scores[:, keep], observed[keep]
    return make_result(
        scores, observed, metrics, cv_name, n_perm=n, method=method, model=name,
        batched=bool(batched) and stacked, time_s=elapsed, in_sample=in_sample,
    )  # fmt: skip


def _null_scores(
    estimator: Any, X: pd.DataFrame, graph: RegionGraph, masks: np.ndarray | None,
    metrics: tuple[str, ...], batched: bool, in_sample: bool, null_maps: np.ndarray,
    seeds: np.ndarray, batch_size: int, stacked: bool, scheduler: Any, n_jobs: int | None,
    bar: Any,
) -> np.ndarray:  # fmt: skip
    """Scores of the refits on every null map, in chunks (see :func:`null_distribution`)."""
    n = null_maps.shape[1]
    starts = chunk_starts(n, batch_size, stacked and bool(batched))
    ends = [*starts[1:], n]
    chunks = [{"Y": null_maps[:, s:e], "seeds": seeds[s:e]} for s, e in zip(starts, ends, strict=True)]
    sizes = [c["Y"].shape[1] for c in chunks]
    shared = {"est": estimator, "X": X, "graph": graph, "masks": masks, "metrics": metrics,
              "batched": bool(batched), "in_sample": bool(in_sample)}  # fmt: skip
    return run_chunks(refit_chunk, shared, chunks, sizes, scheduler, "", n_jobs=n_jobs, bar=bar)


def gene_null_distribution(
    estimator: Any,
    expression_all: pd.DataFrame,
    genes: Sequence[str],
    y: pd.Series,
    graph: RegionGraph,
    n_perm: int = 100,
    *,
    metric: str | Sequence[str] = NULL_METRICS,
    cv: str | int | None = None,
    random_state: int | np.random.Generator | None = None,
    scheduler: Any = None,
    batch_size: int = 10,
    spatial_fraction: float = 0.25,
    n_jobs: int | None = None,
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
        The observed map, indexed by the regions of `expression_all`.
    graph : RegionGraph
        Region graph over the same regions (spatial CV uses its centroids).
    n_perm : int
        Number of random gene sets.
    metric, cv, random_state, scheduler, spatial_fraction, n_jobs
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
    estimator = as_estimator(estimator)
    if not (isinstance(n_perm, (int, np.integer)) and n_perm >= 1):
        raise ParameterError(f"n_perm must be an integer >= 1; got {n_perm!r}.")
    regions = list(graph.regions)
    expression_all = without_attrs(expression_all.loc[regions])
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
    seed = resolve_seed(random_state)
    y = without_attrs(y.loc[regions].astype(float))
    cv_name, masks = cv_masks(graph, cv, spatial_fraction)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))
    sets = [
        list(all_genes[rng.choice(len(all_genes), len(present), replace=False)])
        for _ in range(n_perm)
    ]
    seeds = chunk_seeds(seed, n_perm)
    t0 = time.perf_counter()
    observed = refit_gene_chunk(
        estimator, expression_all, [present], y, graph, masks, metrics, np.array([seed])
    )[0]
    chunks = [
        {"gene_sets": sets[s : s + batch_size], "seeds": seeds[s : s + batch_size]}
        for s in range(0, n_perm, int(batch_size))
    ]
    sizes = [len(c["gene_sets"]) for c in chunks]
    shared = {"est": estimator, "expression": expression_all, "y": y, "graph": graph,
              "masks": masks, "metrics": metrics}  # fmt: skip
    name = model_name(estimator)
    scores = run_chunks(
        refit_gene_chunk, shared, chunks, sizes, scheduler, f"Random gene sets ({name})",
        n_jobs=n_jobs,
    )
    elapsed = time.perf_counter() - t0
    return make_result(
        scores, observed, metrics, cv_name, n_perm=n_perm, method="random_genes", model=name,
        batched=False, time_s=elapsed, extra={"n_genes": len(present), "gene_sets": sets},
    )  # fmt: skip
