"""The work of null refits: one chunk of refits, and running the chunks in-process or on Dask.

A chunk is a function of plain arguments (estimator, data, null maps, seeds), so the same
function runs in this process or as a task on a Dask worker, with identical results.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale._progress import progress
from crossscale.atlas.graph import RegionGraph
from crossscale.evaluate.cv import out_of_fold
from crossscale.evaluate.estimators import (
    fit_model,
    fit_predict_folds,
    get_tag,
    in_sample_prediction,
    with_seed,
)
from crossscale.evaluate.metrics import METRIC_FUNCS


def _scores(y: np.ndarray, pred: np.ndarray, metrics: Sequence[str]) -> list[float]:
    """Each metric of one null refit.

    A refit that predicts one constant (e.g. a model shrunk fully to the training mean on a null
    map) has no linear association with the map: its r counts as 0, not as a missing null value
    (which would shrink the null distribution and bias p towards the refits that did fit).
    """
    out = [METRIC_FUNCS[m](y, pred) for m in metrics]
    if np.ptp(pred) == 0 and np.ptp(y) > 0:  # every value equal (a float SD may be ~1e-17)
        out = [0.0 if m == "r" and np.isnan(v) else v for m, v in zip(metrics, out, strict=True)]
    return out


def refit_chunk(
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
    if batched and get_tag(est, "stacked_refits"):
        if in_sample:
            fitted = with_seed(est, seeds[0]).fit_many(X, frame, graph)
            for i, m in enumerate(fitted):
                out[i, :k] = _scores(Y[:, i], in_sample_prediction(m, X, regions), metrics)
        if masks is not None:
            P = with_seed(est, seeds[0]).fit_predict_folds(X, frame, graph, masks)
            for i in range(n_maps):
                out[i, k:] = _scores(Y[:, i], out_of_fold(P[i], masks), metrics)
        return out
    for i in range(n_maps):
        y = frame.iloc[:, i]
        if in_sample:
            model = fit_model(with_seed(est, seeds[i]), X, y, graph)
            pred = in_sample_prediction(model, X, regions)
            if pred is not None:
                out[i, :k] = _scores(Y[:, i], pred, metrics)
        if masks is not None:
            P = fit_predict_folds(with_seed(est, seeds[i]), X, y, graph, masks)
            out[i, k:] = _scores(Y[:, i], out_of_fold(P, masks), metrics)
    return out


def refit_gene_chunk(
    est: Any,
    expression: pd.DataFrame,
    gene_sets: list[list[str]],
    y: pd.Series,
    graph: RegionGraph,
    masks: np.ndarray | None,
    metrics: tuple[str, ...],
    seeds: np.ndarray,
) -> np.ndarray:
    """Refit `est` on the expression of each gene set; scores as in :func:`refit_chunk`."""
    regions = list(graph.regions)
    yv = y.loc[regions].to_numpy(dtype=float)
    k = len(metrics)
    out = np.full((len(gene_sets), k * (2 if masks is not None else 1)), np.nan)
    for i, genes in enumerate(gene_sets):
        X = expression[genes]
        model = fit_model(with_seed(est, seeds[i]), X, y, graph)
        pred = in_sample_prediction(model, X, regions)
        if pred is not None:
            out[i, :k] = _scores(yv, pred, metrics)
        if masks is not None:
            P = fit_predict_folds(with_seed(est, seeds[i]), X, y, graph, masks)
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


def _quiet_call(func: Any, kwargs: dict[str, Any]) -> np.ndarray:
    """``func(**kwargs)`` in a worker process: no progress bars of its own."""
    from crossscale._progress import set_progress_enabled

    set_progress_enabled(False)
    return func(**kwargs)


def effective_n_jobs(n_jobs: int | None) -> int:
    """Worker processes of ``n_jobs`` (joblib's convention: None = 1, -1 = every core).

    Raises
    ------
    ParameterError
        `n_jobs` is 0 or not an integer.
    """
    if n_jobs is None:
        return 1
    if not isinstance(n_jobs, (int, np.integer)) or isinstance(n_jobs, bool) or n_jobs == 0:
        raise ParameterError(
            f"n_jobs must be None, a positive number of worker processes, or -1 (every core); "
            f"got {n_jobs!r}."
        )
    import os

    n_cpu = max(1, os.cpu_count() or 1)
    return int(n_jobs) if n_jobs > 0 else max(1, n_cpu + 1 + int(n_jobs))


def run_chunks(
    func: Any,
    shared: dict[str, Any],
    chunks: list[dict[str, Any]],
    sizes: list[int],
    scheduler: Any,
    description: str,
    n_jobs: int | None = None,
    bar: Any = None,
) -> np.ndarray:
    """Run ``func(**shared, **chunk)`` for each chunk; concatenate the results in order.

    In this process (``scheduler=None``, ``n_jobs`` None or 1), in ``n_jobs`` joblib worker
    processes, or as Dask tasks (`scheduler`); one progress bar advances as chunks finish (`bar`,
    a task of :func:`crossscale._progress.progress`, else a new bar named `description`).
    """
    results: list[np.ndarray | None] = [None] * len(chunks)
    n_workers = effective_n_jobs(n_jobs)
    own = progress(description, total=sum(sizes)) if bar is None else contextlib.nullcontext(bar)
    with own as bar:
        if scheduler is None and (n_workers == 1 or len(chunks) == 1):
            for i, chunk in enumerate(chunks):
                results[i] = func(**shared, **chunk)
                bar.advance(sizes[i])
        elif scheduler is None:
            from joblib import Parallel, delayed

            jobs = Parallel(n_jobs=min(n_workers, len(chunks)), return_as="generator")(
                delayed(_quiet_call)(func, shared | chunk) for chunk in chunks
            )
            for i, res in enumerate(jobs):
                results[i] = res
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


def chunk_starts(n: int, batch_size: int, stacked: bool) -> list[int]:
    """First null map of each chunk.

    Stacked refits (GraphVAE) run `batch_size` maps per program (their values depend on it);
    one-at-a-time refits do not depend on the chunking, so they run in chunks of at most
    ``ceil(n / 20)`` maps: a progress bar that moves, and work for parallel workers.
    """
    size = int(batch_size) if stacked else max(1, min(int(batch_size), -(-n // 20)))
    return list(range(0, n, size))


def chunk_seeds(seed: int, n: int) -> np.ndarray:
    """One seed per null map, derived from the base seed (independent of chunking)."""
    ss = np.random.SeedSequence([seed, 1])
    return ss.generate_state(n, dtype=np.uint32).astype(np.int64) % (2**31 - 1)
