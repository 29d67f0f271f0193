"""A library of spreading solutions over a grid of epicentres and rates, solved once per graph.

Both grid searches (per-subject least squares, :mod:`~crossscale.models.spread.baselines`, and the
group-map fit, :mod:`~crossscale.models.spread.groupfit`) score observed maps against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crossscale._errors import ParameterError
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
        Dynamics solved.
    laplacian : numpy.ndarray, shape (n_regions, n_regions)
        Graph Laplacian (:func:`~crossscale.models.spread.dynamics.graph_laplacian`).
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


# -- libraries for group maps, in the parameters that cross-sectional maps identify ---------------
#: Default grid of the growth-to-spread ratio alpha / rho of Fisher-KPP (4 values a decade).
KAPPA_GRID: tuple[float, ...] = tuple(float(v) for v in np.geomspace(0.05, 500.0, 17))
#: Default kernel exponents ``p`` of the graph-free distance kernel ``exp(-(d / width)^p)``.
KERNEL_EXPONENTS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True)
class PatternLibrary:
    """Predicted regional patterns of one model on one graph, for every epicentre.

    Cross-sectional group maps identify only a shape parameter shared by all maps (Fisher-KPP:
    the ratio ``alpha / rho``; a distance kernel: its exponent; network diffusion: none) and,
    per map, a dimensionless time (``rho t``; for a kernel, its width in mm). A library holds,
    for each shape value ``k``, the pattern of every epicentre at every time of that shape's
    time grid.

    Attributes
    ----------
    model : str
        ``"diffusion"``, ``"fisher_kpp"`` or ``"distance_kernel"``.
    graph_kind : str
        The graph's ``kind`` (``"Euclidean distance (no graph)"`` for the kernel).
    shape_name : str or None
        ``"alpha/rho"``, ``"exponent"`` or None (diffusion: one shape).
    shapes : numpy.ndarray, shape (n_shapes,)
    time_name : str
        ``"rho*t"`` or ``"width_mm"``.
    seeds : numpy.ndarray of int, shape (n_seeds,)
        Epicentre region indices.
    times : list of numpy.ndarray
        Per shape, the increasing times, shape (n_times_k,).
    x : list of numpy.ndarray
        Per shape, the patterns, shape (n_seeds, n_times_k, n_regions).
    stationary : list of bool
        Per shape, whether the last time is the stationary state (nothing changes after it).
    """

    model: str
    graph_kind: str
    shape_name: str | None
    shapes: np.ndarray
    time_name: str
    seeds: np.ndarray
    times: list
    x: list
    stationary: list

    @property
    def n_regions(self) -> int:
        """Number of regions of the patterns."""
        return int(self.x[0].shape[-1])


def diffusion_library(
    laplacian: np.ndarray, seeds: np.ndarray | None = None, *, n_times: int = 100,
    graph_kind: str = "graph",
) -> PatternLibrary:  # fmt: skip
    """Network diffusion ``x(s) = exp(-s L) e_seed`` at ``n_times`` values of ``s = rho t``.

    The times are geometric from ``0.01 / lambda_max`` to ``10 / lambda_min`` (``lambda_min`` the
    smallest positive eigenvalue of `laplacian`), by which the pattern has reached its
    stationary state (uniform within each connected component) to ``exp(-10)``.

    Parameters
    ----------
    laplacian : numpy.ndarray, shape (n_regions, n_regions)
        Symmetric graph Laplacian (:func:`~crossscale.models.spread.dynamics.graph_laplacian`).
    seeds : numpy.ndarray of int or None
        Epicentres (default every region).
    n_times : int
        Number of times.
    graph_kind : str
        Recorded in the library.

    Returns
    -------
    library : PatternLibrary

    References
    ----------
    .. [1] Raj A., Kuceyeski A., Weiner M. (2012). Neuron 73, 1204-1215.
    """
    n = laplacian.shape[0]
    seeds = np.arange(n) if seeds is None else np.asarray(seeds, dtype=int)
    evals, evecs = np.linalg.eigh(laplacian)
    evals = np.clip(evals, 0.0, None)
    positive = evals[evals > 1e-9 * max(evals.max(), 1e-300)]
    if len(positive) == 0:
        raise ParameterError("The graph has no edges; network diffusion is undefined on it.")
    times = np.geomspace(0.01 / positive.max(), 10.0 / positive.min(), int(n_times))
    coef = evecs[seeds]  # (S, N): row s holds V[s, :] = V^T e_s
    decay = np.exp(-np.outer(times, evals))  # (T, N)
    x = np.einsum("sk,tk,ik->sti", coef, decay, evecs, optimize=True)
    return PatternLibrary(
        model="diffusion", graph_kind=graph_kind, shape_name=None, shapes=np.array([np.nan]),
        time_name="rho*t", seeds=seeds, times=[times], x=[x], stationary=[True],
    )  # fmt: skip


def kpp_library(
    laplacian: np.ndarray, seeds: np.ndarray | None = None, *,
    kappas: np.ndarray | tuple[float, ...] = KAPPA_GRID, seed_mass: float = 0.05,
    n_times: int = 100, max_time: float = 2000.0, tol: float = 1e-5, graph_kind: str = "graph",
) -> PatternLibrary:  # fmt: skip
    """Fisher-KPP in the time ``s = rho t``: ``dx/ds = -L x + kappa x (1 - x)``, ``kappa = alpha/rho``.

    Dividing ``dx/dt = -rho L x + alpha x (1 - x)`` by ``rho`` leaves one shape parameter,
    ``kappa = alpha / rho``, and the time ``s = rho t``: the only combinations a set of
    cross-sectional maps with free amplitudes can identify. For each `kappa` the system is
    integrated by classical Runge-Kutta (RK4) with step ``h = 0.25 / max(lambda_max, kappa)``
    from `seed_mass` at the epicentre until it is stationary (``max |dx/ds| < tol``) or
    `max_time`; `n_times` states geometrically spaced in ``s`` between the first step and the
    stop are kept.

    Parameters
    ----------
    laplacian : numpy.ndarray, shape (n_regions, n_regions)
        Combinatorial Laplacian (``x = 1`` must be a fixed point).
    seeds : numpy.ndarray of int or None
        Epicentres (default every region).
    kappas : sequence of float
        Values of ``alpha / rho`` (> 0).
    seed_mass : float
        Initial pathology at the epicentre (saturation = 1).
    n_times : int
        Times kept per `kappa`.
    max_time, tol : float
        Stop of the integration.
    graph_kind : str
        Label of the graph, stored in the library.

    Returns
    -------
    library : PatternLibrary

    Raises
    ------
    ParameterError
        A `kappa` <= 0, or `seed_mass` outside (0, 1).

    References
    ----------
    .. [1] Weickenmeier J. et al. (2019). J Mech Phys Solids 124, 264-281.
    .. [2] Fornari S. et al. (2019). J R Soc Interface 16, 20190356.
    """
    n = laplacian.shape[0]
    seeds = np.arange(n) if seeds is None else np.asarray(seeds, dtype=int)
    kappas = np.asarray(kappas, dtype=float)
    if len(kappas) == 0 or not np.all(np.isfinite(kappas)) or kappas.min() <= 0:
        raise ParameterError(f"kappas (alpha/rho) must be numbers > 0; got {kappas.tolist()}.")
    if not 0 < seed_mass < 1:
        raise ParameterError(f"seed_mass must be in (0, 1); got {seed_mass}.")
    lam_max = float(np.linalg.eigvalsh(laplacian).max())
    lt = np.ascontiguousarray(laplacian.T)
    x0 = seed_vector(n, seeds, seed_mass, per_row=True)
    all_t, all_x, stat = [], [], []
    for kappa in kappas:
        h = 0.25 / max(lam_max, kappa)

        def f(x: np.ndarray, kappa: float = float(kappa)) -> np.ndarray:
            return -(x @ lt) + kappa * x * (1.0 - x)

        max_steps = int(np.ceil(max_time / h))
        # keep states on a geometric step grid (about 80 per decade of time)
        keep = np.unique(np.geomspace(1, max_steps, int(80 * np.log10(max_steps)) + 2).astype(int))
        states, steps_kept = [], []
        x, k1 = x0.copy(), f(x0)
        step, done = 0, False
        for target in keep:
            while step < target:
                k2 = f(x + 0.5 * h * k1)
                k3 = f(x + 0.5 * h * k2)
                k4 = f(x + h * k3)
                x = x + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
                k1 = f(x)
                step += 1
            states.append(x.copy())
            steps_kept.append(step)
            if np.abs(k1).max() < tol:
                done = True
                break
        t_kept = np.array(steps_kept) * h
        pick = np.unique(np.rint(np.linspace(0, len(t_kept) - 1, int(n_times))).astype(int))
        all_t.append(t_kept[pick])
        all_x.append(np.stack([states[i] for i in pick], axis=1))  # (S, T, N)
        stat.append(done)
    return PatternLibrary(
        model="fisher_kpp", graph_kind=graph_kind, shape_name="alpha/rho", shapes=kappas,
        time_name="rho*t", seeds=seeds, times=all_t, x=all_x, stationary=stat,
    )  # fmt: skip


def kernel_library(
    distances: np.ndarray, seeds: np.ndarray | None = None, *,
    exponents: np.ndarray | tuple[float, ...] = KERNEL_EXPONENTS, n_widths: int = 80,
) -> PatternLibrary:  # fmt: skip
    """Graph-free baseline: ``x_i = exp(-(d(seed, i) / width)^p)`` from an epicentre.

    The pattern depends only on the Euclidean distance from the epicentre: no graph. As for
    the spreading models, the exponent ``p`` is shared by all maps and the width is per map
    (the kernel's analogue of the disease time), so the baseline has the same structure of free
    parameters as Fisher-KPP.

    Parameters
    ----------
    distances : numpy.ndarray, shape (n_regions, n_regions)
        Euclidean distances between region centroids (mm).
    seeds : numpy.ndarray of int or None
        Epicentres (default every region).
    exponents : sequence of float
        Kernel exponents ``p`` (1: exponential, 2: Gaussian, large: a ball).
    n_widths : int
        Widths, geometric from half the smallest to twice the largest distance.

    Returns
    -------
    library : PatternLibrary
    """
    d = np.asarray(distances, dtype=float)
    n = d.shape[0]
    seeds = np.arange(n) if seeds is None else np.asarray(seeds, dtype=int)
    off = d[~np.eye(n, dtype=bool)]
    widths = np.geomspace(0.5 * off[off > 0].min(), 2.0 * off.max(), int(n_widths))
    ds = d[seeds]  # (S, N)
    xs = [np.exp(-((ds[:, None, :] / widths[None, :, None]) ** p)) for p in exponents]
    return PatternLibrary(
        model="distance_kernel", graph_kind="Euclidean distance (no graph)",
        shape_name="exponent", shapes=np.asarray(exponents, dtype=float), time_name="width_mm",
        seeds=seeds, times=[widths] * len(xs), x=xs, stationary=[False] * len(xs),
    )  # fmt: skip
