"""Baselines for spreading-subtype inference: clustering raw maps, per-subject least squares.

References
----------
.. [1] Lloyd S. (1982). Least squares quantization in PCM. IEEE Trans Inf Theory 28, 129-137.
.. [2] Raj A. et al. (2012). Neuron 73, 1204-1215 (epicentre search by model fit).
.. [3] Weickenmeier J. et al. (2019). J Mech Phys Solids 124, 264-281 (Fisher-KPP).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale._threads import torch_threads
from crossscale.models.spread.dynamics import check_model, graph_laplacian, seed_vector, solve_torch
from crossscale.models.spread.library import solution_library
from crossscale.models.spread.visits import to_visit_arrays

logger = logging.getLogger(__name__)


def _features(X: pd.DataFrame, regions) -> tuple[np.ndarray, pd.Index]:
    arr = to_visit_arrays(X, regions)
    return arr.y.reshape(len(arr.subjects), -1), arr.subjects


def kmeans_subtypes(X: pd.DataFrame, n_subtypes: int, *, random_state: int | None = None):
    """k-means on each subject's concatenated raw visit maps.

    Returns
    -------
    labels : pandas.Series, shape (n_subjects,)
    """
    from sklearn.cluster import KMeans

    feats, subjects = _features(X, list(X.columns))
    lab = KMeans(n_subtypes, n_init=10, random_state=random_state).fit_predict(feats)
    return pd.Series(lab, index=subjects, name="subtype")


def gmm_subtypes(X: pd.DataFrame, n_subtypes: int, *, random_state: int | None = None):
    """Gaussian mixture (diagonal covariances) on each subject's concatenated raw visit maps.

    Returns
    -------
    labels : pandas.Series, shape (n_subjects,)
    """
    from sklearn.mixture import GaussianMixture

    feats, subjects = _features(X, list(X.columns))
    gm = GaussianMixture(
        n_subtypes, covariance_type="diag", n_init=3, reg_covar=1e-4, random_state=random_state
    )
    return pd.Series(gm.fit(feats).predict(feats), index=subjects, name="subtype")


@dataclass(frozen=True)
class SubjectFits:
    """Per-subject least-squares fits.

    Attributes
    ----------
    params : pandas.DataFrame, shape (n_subjects, 6)
        ``epicentre``, ``rho``, ``alpha``, ``onset``, ``sse``, ``subtype`` (subjects grouped by the
        `n_subtypes` most frequent fitted epicentres, each subject joining the nearest one).
    fit_time_s : float
    """

    params: pd.DataFrame
    fit_time_s: float

    def to_frame(self) -> pd.DataFrame:
        """The per-subject table."""
        return self.params

    def to_dict(self) -> dict[str, object]:
        """Summary."""
        return {"n_subjects": len(self.params), "fit_time_s": self.fit_time_s}


def fit_subjects_least_squares(
    X: pd.DataFrame,
    graph,
    *,
    n_subtypes: int = 1,
    model: str = "fisher_kpp",
    laplacian: str = "combinatorial",
    seed_mass: float = 0.05,
    rho_grid: np.ndarray | None = None,
    alpha_grid: np.ndarray | None = None,
    t_max: float = 40.0,
    dt_grid: float = 0.25,
    refine_steps: int = 150,
    n_threads: int | None = 1,
) -> SubjectFits:
    """Fit Fisher-KPP to each subject alone by least squares, searching every epicentre.

    A library of solutions over all seed regions and a (rho, alpha) grid is solved once; each
    subject takes the (seed, rho, alpha, onset) with the smallest squared error over its visits,
    then (rho, alpha, onset) are refined by gradient descent for that seed.

    Parameters
    ----------
    X : pandas.DataFrame
        Visits table (MultiIndex ``(subject, time)``), columns the graph's regions.
    graph : RegionGraph
        Graph the pathology spreads on.
    n_subtypes : int
        Used only to group subjects into subtypes by their fitted epicentres.
    model : {"fisher_kpp", "diffusion"}
        Dynamics fitted to each subject.
    laplacian : {"combinatorial", "normalized"}
        See :func:`~crossscale.models.spread.dynamics.graph_laplacian`.
    seed_mass : float
        Initial pathology at the epicentre.
    rho_grid, alpha_grid : numpy.ndarray or None
        Search grids (1/year).
    t_max, dt_grid : float
        Time span and resolution of the library (years).
    refine_steps : int
        Adam steps of the refinement (0 to skip).
    n_threads : int or None
        Torch threads.

    Returns
    -------
    fits : SubjectFits
    """
    check_model(model)
    if n_subtypes < 1:
        raise ParameterError(f"n_subtypes must be >= 1; got {n_subtypes}.")
    t0 = time.perf_counter()
    regions = list(graph.regions)
    arr = to_visit_arrays(X, regions)
    n = len(regions)
    lap = graph_laplacian(graph, laplacian)
    rho_grid = np.geomspace(0.02, 0.6, 6) if rho_grid is None else np.asarray(rho_grid)
    alpha_grid = (
        (np.geomspace(0.1, 1.5, 6) if model == "fisher_kpp" else np.zeros(1))
        if alpha_grid is None
        else np.asarray(alpha_grid)
    )
    tgrid = np.arange(0.0, t_max + 1e-9, dt_grid)
    lib_ = solution_library(model, lap, rho_grid, alpha_grid, np.arange(n), tgrid,
                            seed_mass=seed_mass, n_steps=int(t_max / 0.5), n_threads=n_threads)  # fmt: skip
    rr, aa, ss, lib = lib_.rho, lib_.alpha, lib_.seeds, lib_.x
    flat = lib.reshape(-1, n)
    sq = (flat**2).sum(1).reshape(lib.shape[:2])
    best = []
    for y, dt, m in zip(arr.y, arr.dt, arr.mask, strict=True):
        obs = np.flatnonzero(m > 0)
        shifts = np.rint(dt[obs] / dt_grid).astype(int)
        n_on = len(tgrid) - shifts.max()
        sse = np.zeros((len(ss), n_on))
        for j, k in zip(obs, shifts, strict=True):
            term = sq - 2 * (flat @ y[j]).reshape(lib.shape[:2]) + (y[j] ** 2).sum()
            sse += term[:, k : k + n_on]
        i, o = np.unravel_index(np.argmin(sse), sse.shape)
        best.append((int(ss[i]), rr[i], aa[i], max(tgrid[o], dt_grid), float(sse[i, o])))
    best_arr = np.array(best)
    seeds = best_arr[:, 0].astype(int)
    rho, alpha, onset, sse = (best_arr[:, i] for i in range(1, 5))
    if refine_steps > 0:
        rho, alpha, onset, sse = _refine(
            model, lap, arr, seeds, rho, alpha, onset, seed_mass, refine_steps, n_threads
        )
    out = pd.DataFrame(
        {"epicentre": [regions[s] for s in seeds], "rho": rho,
         "alpha": alpha if model == "fisher_kpp" else 0.0, "onset": onset, "sse": sse},
        index=arr.subjects,
    )  # fmt: skip
    out["subtype"] = _group_epicentres(seeds, graph, n_subtypes)
    return SubjectFits(params=out, fit_time_s=time.perf_counter() - t0)


def _group_epicentres(seeds: np.ndarray, graph, k: int) -> np.ndarray:
    values, counts = np.unique(seeds, return_counts=True)
    top = values[np.argsort(-counts, kind="stable")[:k]]
    d = graph.distances()[np.ix_(seeds, top)]
    return d.argmin(1)


def _refine(model, lap, arr, seeds, rho, alpha, onset, seed_mass, steps, n_threads):
    """Refine every subject's (rho, alpha, onset) by Adam on its squared error, by the plan.

    The subjects are stacked as independent models (:func:`~crossscale.train.loop.fit_stacked`),
    each keeping its best iterate.
    """
    import torch

    from crossscale.train.loop import fit_stacked
    from crossscale.train.plan import TrainPlan
    from crossscale.train.record import LossRecord

    f = torch.float32
    y, dt, mask = (torch.as_tensor(v, dtype=f) for v in (arr.y, arr.dt, arr.mask))
    lt = torch.as_tensor(lap, dtype=f)
    n = lap.shape[0]
    x0 = seed_vector(n, torch.as_tensor(seeds), seed_mass, per_row=True, dtype=f)
    eig = torch.linalg.eigh(lt)
    fits = torch.nn.Module()
    fits.z = torch.nn.Parameter(
        torch.log(torch.as_tensor(np.c_[rho, np.maximum(alpha, 1e-3), onset], dtype=f))
    )

    def loss_fn() -> LossRecord:
        zz = fits.z.clamp(-7.0, math.log(60.0))
        pred = solve_torch(model, lt, x0, zz[:, 2:3].exp() + dt, zz[:, 0].exp(), zz[:, 1].exp(),
                           eig=eig, n_steps=30)  # fmt: skip
        return LossRecord((((pred - y) ** 2) * mask[..., None]).sum((1, 2)))

    with torch_threads(n_threads):
        hist = fit_stacked(fits, loss_fn, None, n_models=len(seeds), keep_best="train",
                           plan=TrainPlan(lr=0.02, max_epochs=steps),
                           description="Refining per-subject fits")  # fmt: skip
    # the loss of epoch e is that of the weights after e - 1 steps: the kept ones at best_epoch
    best_sse = hist.loss[hist.best_epoch, np.arange(len(seeds))].astype(np.float32)
    zz = fits.z.detach().clamp(-7.0, math.log(60.0)).exp().numpy()
    return zz[:, 0], zz[:, 1], zz[:, 2], best_sse
