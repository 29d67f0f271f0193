"""A library of spreading solutions over a grid of epicentres and rates, solved once per graph.

Both grid searches (per-subject least squares, :mod:`~crossscale.models.spread.baselines`, and the
group-map fit, :mod:`~crossscale.models.spread.groupfit`) score observed maps against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossscale._threads import torch_threads
from crossscale.models.spread.dynamics import seed_vector, solve_torch


@dataclass(frozen=True)
class SolutionLibrary:
    """Solutions ``x(t)`` for every (rho, alpha, epicentre) of a grid.

    Attributes
    ----------
    rho, alpha : numpy.ndarray, shape (n_lib,)
        Rates of each entry.
    seeds : numpy.ndarray of int, shape (n_lib,)
        Epicentre region index of each entry.
    times : numpy.ndarray, shape (n_t,)
    x : numpy.ndarray, shape (n_lib, n_t, n_regions)
    """

    rho: np.ndarray
    alpha: np.ndarray
    seeds: np.ndarray
    times: np.ndarray
    x: np.ndarray


def solution_library(
    model: str,
    laplacian: np.ndarray,
    rho_grid: np.ndarray,
    alpha_grid: np.ndarray,
    seeds: np.ndarray,
    times: np.ndarray,
    *,
    seed_mass: float,
    n_steps: int,
    n_threads: int | None = 1,
) -> SolutionLibrary:
    """Solve the dynamics for the grid ``rho x alpha x seeds`` (that order, 'ij' meshgrid).

    One batched solve per rho value, so that the RK4 step count is set by each chunk's own
    stiffness (:func:`~crossscale.models.spread.dynamics.fisher_kpp_torch`).

    Parameters
    ----------
    model : {"fisher_kpp", "diffusion"}
    laplacian : numpy.ndarray, shape (n_regions, n_regions)
    rho_grid, alpha_grid : numpy.ndarray
        Rates searched.
    seeds : numpy.ndarray of int
        Epicentre region indices searched.
    times : numpy.ndarray, shape (n_t,)
        Output times (same unit as 1 / rho).
    seed_mass : float
        Initial pathology at the epicentre (:func:`~crossscale.models.spread.dynamics.seed_vector`).
    n_steps : int
        Minimum RK4 steps (Fisher-KPP).
    n_threads : int or None
        Torch threads.

    Returns
    -------
    library : SolutionLibrary
    """
    import torch

    rr, aa, ss = (v.ravel() for v in np.meshgrid(rho_grid, alpha_grid, seeds, indexing="ij"))
    n = laplacian.shape[0]
    f = torch.float32
    lib = np.empty((len(ss), len(times), n))
    with torch_threads(n_threads), torch.no_grad():
        lt = torch.as_tensor(laplacian, dtype=f)
        tt = torch.as_tensor(times, dtype=f)
        for rho in np.unique(rr):
            sel = np.flatnonzero(rr == rho)
            x0 = seed_vector(n, torch.as_tensor(ss[sel]), seed_mass, per_row=True, dtype=f)
            lib[sel] = solve_torch(
                model, lt, x0, tt.repeat(len(sel), 1), torch.as_tensor(rr[sel], dtype=f),
                torch.as_tensor(aa[sel], dtype=f), n_steps=n_steps,
            ).numpy()  # fmt: skip
    return SolutionLibrary(rho=rr, alpha=aa, seeds=ss.astype(int), times=np.asarray(times), x=lib)
