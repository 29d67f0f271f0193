"""Moran spectral randomisation over a region graph.

The doubly-centred spatial weight matrix ``H W H`` (``H = I - 11'/n``) has eigenvectors, the
Moran eigenvector maps, that are orthogonal, orthogonal to the constant map, and whose
eigenvalues are proportional to their Moran's I. A map is written in that basis; surrogates keep
the size of each coefficient but randomise its sign ("singleton") or rotate pairs of
coefficients by a random angle ("pair"). Surrogates keep the mean and the variance of the map
exactly and, with "singleton", its Moran's I exactly ("pair" keeps it approximately).

References
----------
.. [1] Wagner H.H. & Dray S. (2015). Generating spatially constrained null models for irregularly
   spaced data using Moran spectral randomization methods. Methods Ecol Evol 6, 1169-1178.
.. [2] Vos de Wael R. et al. (2020). BrainSpace: a toolbox for the analysis of macroscale gradients
   in neuroimaging and connectomics datasets. Commun Biol 3, 103.
.. [3] Markello R.D. & Misic B. (2021). Comparing spatial null models for brain maps. NeuroImage
   236, 118052.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas import RegionGraph
from crossscale.nulls._common import RandomState, check_n_perm, make_rng


def _weights(graph: RegionGraph, regions: pd.Index) -> np.ndarray:
    if list(graph.regions) != list(regions):
        graph = graph.subgraph(regions)
    return np.asarray(graph.adjacency.toarray(), dtype=float)


@lru_cache(maxsize=8)
def _eigen_cached(key: str, weights_bytes: bytes, n: int):
    w = np.frombuffer(weights_bytes, dtype=float).reshape(n, n)
    return _moran_eigen(w)


def _moran_eigen(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = len(w)
    w = (w + w.T) / 2.0
    m = w.mean(axis=0, keepdims=True)
    wc = w - m - m.T + w.mean()  # H W H for symmetric W
    # Shift the constant map (always in the kernel of H W H) to an eigenvalue above the spectrum,
    # so that it separates from any other zero eigenvalue and every remaining eigenvector is
    # exactly orthogonal to it.
    shift = 2.0 * np.abs(wc).sum(axis=1).max() + 1.0
    ev, vec = np.linalg.eigh(wc + shift / n)
    ev, vec = ev[::-1][1:], vec[:, ::-1][:, 1:]
    ev = np.ascontiguousarray(ev)
    vec = np.ascontiguousarray(vec)
    ev.setflags(write=False)
    vec.setflags(write=False)
    return ev, vec


def moran_eigenvectors(
    graph: RegionGraph, regions: pd.Index | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Moran eigenvector maps of a region graph (eigenvectors of ``H W H``).

    Parameters
    ----------
    graph : RegionGraph
        Weights ``W`` are its adjacency (for example binary surface adjacency, or connectome
        strength).
    regions : pandas.Index or None
        Restrict (and reorder) to these regions; default the graph's own.

    Returns
    -------
    eigenvalues : numpy.ndarray, shape (n_regions - 1,)
        Descending; ``n / sum(W) * eigenvalue`` is the Moran's I of the eigenvector.
    eigenvectors : numpy.ndarray, shape (n_regions, n_regions - 1)
        Orthonormal columns spanning every map orthogonal to the constant map (zero-eigenvalue
        eigenvectors are kept, as BrainSpace's ``spectrum="all"``), so any centred map is
        represented exactly. Read-only (cached).

    References
    ----------
    .. [1] Dray S., Legendre P. & Peres-Neto P.R. (2006). Spatial modelling: a comprehensive
       framework for principal coordinate analysis of neighbour matrices (PCNM). Ecol Model
       196, 483-493.
    """
    regions = graph.regions if regions is None else pd.Index(regions, name="region")
    w = np.ascontiguousarray(_weights(graph, regions))
    return _eigen_cached(graph.hash() + "|" + "|".join(regions), w.tobytes(), len(regions))


def morans_i(values: np.ndarray | pd.Series, graph: RegionGraph) -> np.ndarray:
    """Moran's I of one map or of each column of a stack of maps.

    Parameters
    ----------
    values : array-like, shape (n_regions,) or (n_regions, n_maps)
        Rows in the order of ``graph.regions`` (a Series is aligned to it).
    graph : RegionGraph
        Spatial weights ``W``.

    Returns
    -------
    I : float or numpy.ndarray, shape (n_maps,)
        ``n / sum(W) * z' W z / z' z`` with ``z`` the centred map.

    References
    ----------
    .. [1] Moran P.A.P. (1950). Notes on continuous stochastic phenomena. Biometrika 37, 17-23.
    """
    if isinstance(values, pd.Series):
        values = values.reindex(graph.regions).to_numpy()
    x = np.asarray(values, dtype=float)
    w = graph.adjacency.toarray()
    z = x - x.mean(axis=0, keepdims=True)
    num = np.einsum("i...,ij,j...->...", z, w, z)
    return len(w) / w.sum() * num / (z**2).sum(axis=0)


def moran_randomization(
    values: pd.Series,
    graph: RegionGraph | None = None,
    *,
    n_perm: int = 1000,
    procedure: Literal["singleton", "pair"] = "singleton",
    random_state: RandomState = None,
) -> np.ndarray:
    """Moran spectral randomisation surrogates of a regional map.

    Parameters
    ----------
    values : pandas.Series, shape (n_regions,)
        Regional map indexed by Desikan-Killiany regions.
    graph : RegionGraph or None
        Spatial weights; default ``RegionGraph.from_surface()`` (binary shared-border adjacency on
        fsaverage5), restricted to ``values.index``.
    n_perm : int
        Number of surrogates.
    procedure : {"singleton", "pair"}
        ``singleton``: random sign of each eigenvector coefficient (keeps Moran's I exactly).
        ``pair``: eigenvectors are randomly paired and each pair's coefficients rotated by a
        uniform random angle (an odd one out gets a random sign).
    random_state : int, numpy.random.Generator or None
        Seed; the same int gives the same surrogates.

    Returns
    -------
    surrogates : numpy.ndarray of float, shape (n_regions, n_perm)
        Surrogate maps (values, not indices) in the order of ``values.index``; each has the mean
        and standard deviation of `values`.

    Raises
    ------
    ParameterError
        Unknown `procedure`, bad `n_perm` or `random_state`.
    InputDataError
        NaN or constant `values`.
    RegionMismatchError
        `values` has regions the graph lacks.

    References
    ----------
    .. [1] Wagner H.H. & Dray S. (2015). Methods Ecol Evol 6, 1169-1178.
    .. [2] Vos de Wael R. et al. (2020). BrainSpace. Commun Biol 3, 103.
    """
    if procedure not in ("singleton", "pair"):
        raise ParameterError(f"procedure must be 'singleton' or 'pair', got {procedure!r}.")
    n_perm = check_n_perm(n_perm)
    x = np.asarray(values, dtype=float)
    if not np.isfinite(x).all():
        raise InputDataError(
            "values has NaN or infinite entries; Moran surrogates need a complete map."
        )
    if x.std() == 0:
        raise InputDataError("values is constant; there is no spatial pattern to randomise.")
    if graph is None:
        graph = RegionGraph.from_surface()
    regions = pd.Index(values.index, name="region")
    _, vec = moran_eigenvectors(graph, regions)
    rng = make_rng(random_state)
    n, n_comp = vec.shape
    z = x - x.mean()
    coef = vec.T @ z  # (n_comp,)
    if procedure == "singleton":
        signs = rng.choice(np.array([-1.0, 1.0]), size=(n_comp, n_perm))
        new = coef[:, None] * signs
    else:
        new = np.empty((n_comp, n_perm))
        n_pairs = n_comp // 2
        for k in range(n_perm):
            p = rng.permutation(n_comp)
            a, b = p[:n_pairs], p[n_pairs : 2 * n_pairs]
            radius = np.hypot(coef[a], coef[b])
            phi = rng.uniform(0.0, 2.0 * np.pi, size=n_pairs)
            new[a, k] = radius * np.cos(phi)
            new[b, k] = radius * np.sin(phi)
            if n_comp % 2:
                new[p[-1], k] = coef[p[-1]] * rng.choice(np.array([-1.0, 1.0]))
    return x.mean() + vec @ new
