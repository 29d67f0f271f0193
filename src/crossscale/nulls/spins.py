"""Spin tests: random rotations of the fsaverage5 sphere, mapped back onto Desikan-Killiany regions.

Every spin function returns an integer array ``perm`` of shape (n_regions, n_perm) of positions in
`regions`; column ``k`` gives the ``k``-th null map as ``values[perm[:, k]]``. Region ``i`` of a
null map takes the value of the region whose rotated position lands on region ``i``. The left
hemisphere is rotated by a uniformly random rotation ``R``; the right hemisphere by its mirror
image ``F R F`` with ``F = diag(-1, 1, 1)`` (reflection across the midsagittal plane), so the two
hemispheres are spun symmetrically and no region ever moves to the other hemisphere.

Three ways of going from a rotated sphere back to regions are provided, as compared by Markello &
Misic (2021):

* :func:`spin_vasa` and :func:`spin_hungarian` rotate the region centroids and assign each region
  a rotated centroid one-to-one, so every column is a true permutation within each hemisphere
  (greedy in Váša et al. 2018; optimal in total distance with the Hungarian algorithm).
* :func:`spin_alexander_bloch` rotates every vertex of the sphere (Alexander-Bloch et al. 2018)
  and gives each region the region its rotated vertices mostly land in (medial wall ignored). A
  column is therefore *not* necessarily a permutation: a region can be used twice, another not at
  all. :func:`spin_vertex_average` gives the values of the same rotations with the literature's
  parcel-level rule (each region takes the vertex-weighted average of the values its rotated
  vertices land in; the ``vertex`` method of Markello & Misic 2021).

References
----------
.. [1] Alexander-Bloch A.F. et al. (2018). On testing for spatial correspondence between maps of
   human brain structure and function. NeuroImage 178, 540-551.
.. [2] Váša F. et al. (2018). Adolescent tuning of association cortex in human structural brain
   networks. Cereb Cortex 28, 281-294.
.. [3] Markello R.D. & Misic B. (2021). Comparing spatial null models for brain maps. NeuroImage
   236, 118052.
.. [4] Kuhn H.W. (1955). The Hungarian method for the assignment problem. Naval Res Logist Q 2,
   83-97.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from crossscale._errors import InputDataError, ParameterError
from crossscale.nulls._common import (
    RandomState,
    atlas_index,
    cache_key,
    check_n_perm,
    check_regions,
    hemisphere_groups,
    load_cached,
    make_rng,
    save_cached,
)

logger = logging.getLogger(__name__)

#: Reflection across the midsagittal (y-z) plane: turns a left-hemisphere rotation into the
#: mirror-image rotation of the right hemisphere.
REFLECT_X = np.diag([-1.0, 1.0, 1.0])

SPIN_METHODS = ("hungarian", "vasa", "alexander_bloch")
SpinMethod = Literal["hungarian", "vasa", "alexander_bloch"]

_BATCH = 64  # rotations handled together (memory ~ _BATCH * 10k vertices for the vertex spins)


# -- rotations ------------------------------------------------------------------------------------
def random_rotations(n_perm: int = 1000, random_state: RandomState = None) -> np.ndarray:
    """Uniformly random proper rotations of 3-D space (Haar measure on SO(3)).

    Parameters
    ----------
    n_perm : int
        Number of rotations.
    random_state : int, numpy.random.Generator or None
        Seed; the same int gives the same rotations.

    Returns
    -------
    rotations : numpy.ndarray, shape (n_perm, 3, 3)
        Rotation matrices (orthogonal, determinant +1), applied to column vectors as ``R @ x``.

    References
    ----------
    .. [1] Shoemake K. (1992). Uniform random rotations. Graphics Gems III, 124-132.
    """
    n_perm = check_n_perm(n_perm)
    rng = make_rng(random_state)
    mats = Rotation.random(n_perm, rng=rng).as_matrix()
    return np.asarray(mats, dtype=float).reshape(n_perm, 3, 3)


def reflect_rotations(rotations: np.ndarray) -> np.ndarray:
    """Right-hemisphere rotations ``F R F`` mirroring left ones, ``F = diag(-1, 1, 1)``.

    Parameters
    ----------
    rotations : numpy.ndarray, shape (n_perm, 3, 3)

    Returns
    -------
    mirrored : numpy.ndarray, shape (n_perm, 3, 3)
        Also proper rotations (``det(F R F) = det(R)``).
    """
    return REFLECT_X @ np.asarray(rotations, dtype=float) @ REFLECT_X


def _check_rotations(rotations: np.ndarray | None, n_perm: int, random_state: RandomState):
    if rotations is None:
        return random_rotations(n_perm, random_state)
    rot = np.asarray(rotations, dtype=float)
    if rot.ndim != 3 or rot.shape[1:] != (3, 3):
        raise ParameterError(
            f"rotations must have shape (n_perm, 3, 3), got {rot.shape}. Make them with "
            "crossscale.nulls.random_rotations(n_perm, random_state)."
        )
    return rot


# -- geometry of the regions -----------------------------------------------------------------------
@lru_cache(maxsize=1)
def _sphere_centroids_all() -> np.ndarray:
    from crossscale.atlas.surface import region_centroids

    out = region_centroids("sphere")
    out.setflags(write=False)
    return out


def sphere_centroids(regions: pd.Index | None = None) -> pd.DataFrame:
    """Centroids of the regions on the fsaverage5 registration sphere (radius 100 mm).

    Parameters
    ----------
    regions : pandas.Index or None
        Desikan-Killiany regions (default: all 68).

    Returns
    -------
    centroids : pandas.DataFrame, shape (n_regions, 3)
        Columns x, y, z in mm.
    """
    regions = check_regions(regions)
    return pd.DataFrame(
        _sphere_centroids_all()[atlas_index(regions)], index=regions, columns=["x", "y", "z"]
    )


def _hemi_rotations(rotations: np.ndarray) -> dict[str, np.ndarray]:
    return {"L": rotations, "R": reflect_rotations(rotations)}


def _centroid_distances(coords: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """``D[k, i, j] = |c_i - R_k c_j|``, shape (n_perm, n, n)."""
    rotated = np.einsum("kab,jb->kja", rotations, coords)
    diff = coords[None, :, None, :] - rotated[:, None, :, :]
    return np.sqrt((diff**2).sum(-1))


# -- centroid spins ----------------------------------------------------------------------------------
def _greedy_assign(dist: np.ndarray, order: np.ndarray | None) -> np.ndarray:
    """Greedy one-to-one matching of rows to columns for each rotation (batched).

    With ``order=None``, the next row is the one whose nearest free column is farthest
    ("most distant minimum", Váša's published code); otherwise rows go in the given order.
    """
    dist = dist.copy()
    b, n, _ = dist.shape
    batch = np.arange(b)
    perm = np.empty((b, n), dtype=np.int64)
    done = np.zeros((b, n), dtype=bool)
    for step in range(n):
        if order is None:
            row_min = dist.min(axis=2)
            row_min[done] = -np.inf
            ref = row_min.argmax(axis=1)
        else:
            ref = order[:, step]
        rot = dist[batch, ref].argmin(axis=1)
        perm[batch, ref] = rot
        done[batch, ref] = True
        dist[batch, :, rot] = np.inf
    return perm


def _centroid_spins(
    regions: pd.Index,
    rotations: np.ndarray,
    assign: str,
    rng: np.random.Generator | None = None,
    order: str = "farthest",
) -> np.ndarray:
    coords_all = sphere_centroids(regions).to_numpy()
    n_perm = len(rotations)
    perm = np.empty((len(regions), n_perm), dtype=np.int64)
    for hemi, idx in hemisphere_groups(regions).items():
        rot = _hemi_rotations(rotations)[hemi]
        coords = coords_all[idx]
        for start in range(0, n_perm, 4 * _BATCH):
            stop = min(start + 4 * _BATCH, n_perm)
            dist = _centroid_distances(coords, rot[start:stop])
            if assign == "hungarian":
                local = np.empty((stop - start, len(idx)), dtype=np.int64)
                for k in range(stop - start):
                    rows, cols = linear_sum_assignment(dist[k])
                    local[k, rows] = cols
            else:
                ordering = None
                if order == "random":
                    ordering = rng.permuted(np.tile(np.arange(len(idx)), (stop - start, 1)), axis=1)
                local = _greedy_assign(dist, ordering)
            perm[idx, start:stop] = idx[local].T
    return perm


def spin_hungarian(
    regions: pd.Index | None = None,
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    rotations: np.ndarray | None = None,
) -> np.ndarray:
    """Spin permutations by optimal one-to-one matching of rotated region centroids.

    Each hemisphere's sphere centroids are rotated (left by ``R``, right by ``F R F``); each region
    is matched to one rotated centroid so that the total distance between regions and their
    matched rotated centroids is minimal (Hungarian algorithm, :func:`scipy.optimize.linear_sum_assignment`).

    Parameters
    ----------
    regions : pandas.Index or None
        Desikan-Killiany regions, any subset, in the order of the map to permute (default: all 68).
    n_perm : int
        Number of spins. Ignored when `rotations` is given.
    random_state : int, numpy.random.Generator or None
        Seed of the rotations; the same int gives the same array.
    rotations : numpy.ndarray, shape (n_perm, 3, 3), optional
        Left-hemisphere rotations to use instead of random ones (see :func:`random_rotations`).

    Returns
    -------
    perm : numpy.ndarray of int64, shape (n_regions, n_perm)
        Positions in `regions`; ``values[perm[:, k]]`` is the ``k``-th null map. Each column is a
        permutation that keeps every region in its hemisphere.

    Raises
    ------
    RegionMismatchError
        Unknown or duplicated regions.
    ParameterError
        Bad `n_perm`, `random_state` or `rotations`.

    References
    ----------
    .. [1] Alexander-Bloch A.F. et al. (2018). NeuroImage 178, 540-551.
    .. [2] Markello R.D. & Misic B. (2021). Comparing spatial null models for brain maps.
       NeuroImage 236, 118052.
    .. [3] Kuhn H.W. (1955). The Hungarian method for the assignment problem. Naval Res Logist Q
       2, 83-97.
    """
    regions = check_regions(regions)
    rotations = _check_rotations(rotations, n_perm, random_state)
    return _centroid_spins(regions, rotations, "hungarian")


def spin_vasa(
    regions: pd.Index | None = None,
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    rotations: np.ndarray | None = None,
    order: Literal["farthest", "random"] = "farthest",
) -> np.ndarray:
    """Spin permutations by greedy one-to-one matching of rotated region centroids (Váša 2018).

    Each hemisphere's sphere centroids are rotated (left by ``R``, right by ``F R F``); regions are
    then matched one at a time to the nearest rotated centroid not yet taken. With
    ``order="farthest"`` (Váša's published code, also netneurotools and the ENIGMA Toolbox) the
    next region is the one whose nearest free rotated centroid is farthest away -- the hardest to
    place; with ``order="random"`` regions are taken in a random order.

    Parameters
    ----------
    regions : pandas.Index or None
        Desikan-Killiany regions, any subset, in the order of the map (default: all 68).
    n_perm : int
        Number of spins. Ignored when `rotations` is given.
    random_state : int, numpy.random.Generator or None
        Seed of the rotations (and of the order, if random); same int, same array.
    rotations : numpy.ndarray, shape (n_perm, 3, 3), optional
        Left-hemisphere rotations to use instead of random ones.
    order : {"farthest", "random"}
        Order in which regions are assigned.

    Returns
    -------
    perm : numpy.ndarray of int64, shape (n_regions, n_perm)
        ``values[perm[:, k]]`` is the ``k``-th null map; each column is a permutation within
        hemispheres.

    Raises
    ------
    RegionMismatchError
        Unknown or duplicated regions.
    ParameterError
        Bad `n_perm`, `random_state`, `rotations` or `order`.

    References
    ----------
    .. [1] Váša F. et al. (2018). Adolescent tuning of association cortex in human structural
       brain networks. Cereb Cortex 28, 281-294.
    .. [2] Markello R.D. & Misic B. (2021). NeuroImage 236, 118052.
    """
    if order not in ("farthest", "random"):
        raise ParameterError(f"order must be 'farthest' or 'random', got {order!r}.")
    regions = check_regions(regions)
    rng = make_rng(random_state)
    rotations = _check_rotations(rotations, n_perm, rng)
    return _centroid_spins(regions, rotations, "greedy", rng=rng, order=order)


# -- vertex spins ---------------------------------------------------------------------------------
@lru_cache(maxsize=2)
def _sphere_mesh(hemi: str) -> tuple[np.ndarray, np.ndarray, cKDTree]:
    from crossscale.atlas.surface import load_fsaverage5

    mesh = load_fsaverage5(hemi, "sphere")
    return mesh.vertices, np.asarray(mesh.labels), cKDTree(mesh.vertices)


def _vertex_counts(regions: pd.Index, rotations: np.ndarray):
    """Count where the rotated vertices of each region land, a batch of rotations at a time.

    Yields ``(hemi, idx, start, rotations, counts)``: ``counts[k, i, j]`` is the number of vertices
    of region ``idx[i]`` whose rotation ``start + k`` lands on region ``idx[j]``.
    """
    atlas = atlas_index(regions)
    for hemi, idx in hemisphere_groups(regions).items():
        vertices, labels, tree = _sphere_mesh(hemi)
        lut = np.full(labels.max() + 2, -1, dtype=np.int64)  # atlas label -> local position
        lut[atlas[idx]] = np.arange(len(idx))
        local = np.where(labels >= 0, lut[labels], -1)
        src = np.flatnonzero(local >= 0)
        src_label = local[src]
        pts = vertices[src]
        n = len(idx)
        rot = _hemi_rotations(rotations)[hemi]
        for start in range(0, len(rot), _BATCH):
            r = rot[start : start + _BATCH]
            b = len(r)
            # vertex v takes the label found at R^T v: the vertex u with R u ~ v
            query = np.einsum("vb,kba->kva", pts, r).reshape(-1, 3)
            _, nearest = tree.query(query, k=1, workers=-1)
            landed = local[nearest].reshape(b, -1)
            ok = landed >= 0
            k_idx = np.broadcast_to(np.arange(b)[:, None], landed.shape)
            codes = (k_idx[ok] * n + np.broadcast_to(src_label, landed.shape)[ok]) * n + landed[ok]
            counts = np.bincount(codes, minlength=b * n * n).reshape(b, n, n)
            yield hemi, idx, start, r, counts


def _fallback_nearest(coords: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """For each rotation and region, the region whose rotated centroid is nearest, (b, n)."""
    return _centroid_distances(coords, rot).argmin(axis=2)


def spin_alexander_bloch(
    regions: pd.Index | None = None,
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    rotations: np.ndarray | None = None,
) -> np.ndarray:
    """Vertex-level spins (Alexander-Bloch 2018) re-parcellated by majority label.

    Every labelled vertex of the fsaverage5 sphere is rotated (left hemisphere by ``R``, right by
    ``F R F``) and takes the label of the nearest original vertex; each region then takes the
    label most of its rotated vertices received. Vertices landing on the medial wall (or on a
    region not in `regions`) are ignored; a region all of whose vertices land there takes the
    region whose rotated centroid is nearest.

    This is **not** a permutation: a region can appear in several places of a null map and
    another not at all. The parcel-level rule of the literature (Markello & Misic 2021, method
    ``vertex``) averages values instead of taking a majority; it is
    :func:`spin_vertex_average`, which returns values, not indices.

    Parameters
    ----------
    regions : pandas.Index or None
        Desikan-Killiany regions, any subset, in the order of the map (default: all 68).
    n_perm : int
        Number of spins. Ignored when `rotations` is given.
    random_state : int, numpy.random.Generator or None
        Seed of the rotations; the same int gives the same array.
    rotations : numpy.ndarray, shape (n_perm, 3, 3), optional
        Left-hemisphere rotations to use instead of random ones.

    Returns
    -------
    perm : numpy.ndarray of int64, shape (n_regions, n_perm)
        ``values[perm[:, k]]`` is the ``k``-th null map (indices stay within hemispheres).

    Raises
    ------
    RegionMismatchError
        Unknown or duplicated regions.
    ParameterError
        Bad `n_perm`, `random_state` or `rotations`.

    References
    ----------
    .. [1] Alexander-Bloch A.F. et al. (2018). On testing for spatial correspondence between maps
       of human brain structure and function. NeuroImage 178, 540-551.
    .. [2] Markello R.D. & Misic B. (2021). NeuroImage 236, 118052.
    """
    regions = check_regions(regions)
    rotations = _check_rotations(rotations, n_perm, random_state)
    coords_all = sphere_centroids(regions).to_numpy()
    perm = np.empty((len(regions), len(rotations)), dtype=np.int64)
    for _hemi, idx, start, rot, counts in _vertex_counts(regions, rotations):
        local = counts.argmax(axis=2)
        empty = counts.sum(axis=2) == 0
        if empty.any():
            local = np.where(empty, _fallback_nearest(coords_all[idx], rot), local)
        perm[idx, start : start + len(rot)] = idx[local].T
    return perm


def spin_vertex_average(
    values: pd.Series,
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    rotations: np.ndarray | None = None,
) -> np.ndarray:
    """Vertex-level spin nulls with parcel values averaged over rotated vertices.

    The same rotations as :func:`spin_alexander_bloch` (same seed, same rotations); each region
    takes the average of the values of the regions its rotated vertices land in, weighted by the
    number of vertices (the ``vertex`` method of Markello & Misic 2021). Medial-wall landings are
    ignored; a region with no valid landing takes the value of the region whose rotated centroid
    is nearest.

    Parameters
    ----------
    values : pandas.Series, shape (n_regions,)
        Regional map indexed by Desikan-Killiany regions (any subset).
    n_perm : int
        Number of spins. Ignored when `rotations` is given.
    random_state : int, numpy.random.Generator or None
        Seed of the rotations.
    rotations : numpy.ndarray, shape (n_perm, 3, 3), optional
        Left-hemisphere rotations to use instead of random ones.

    Returns
    -------
    nulls : numpy.ndarray of float, shape (n_regions, n_perm)
        Null maps in the order of ``values.index``.

    Raises
    ------
    RegionMismatchError, InputDataError
        Unknown regions or non-finite values.

    References
    ----------
    .. [1] Alexander-Bloch A.F. et al. (2018). NeuroImage 178, 540-551.
    .. [2] Markello R.D. & Misic B. (2021). Comparing spatial null models for brain maps.
       NeuroImage 236, 118052.
    """
    regions = check_regions(values.index)
    x = np.asarray(values, dtype=float)
    if not np.isfinite(x).all():
        raise InputDataError("values has NaN or infinite entries; spins need a complete map.")
    rotations = _check_rotations(rotations, n_perm, random_state)
    coords_all = sphere_centroids(regions).to_numpy()
    out = np.empty((len(regions), len(rotations)))
    for _hemi, idx, start, rot, counts in _vertex_counts(regions, rotations):
        total = counts.sum(axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            avg = counts @ x[idx] / total
        empty = total == 0
        if empty.any():
            near = _fallback_nearest(coords_all[idx], rot)
            avg = np.where(empty, x[idx][near], avg)
        out[idx, start : start + len(rot)] = avg.T
    return out


# -- front door with caching ----------------------------------------------------------------------
_SPIN_FUNCS = {
    "hungarian": spin_hungarian,
    "vasa": spin_vasa,
    "alexander_bloch": spin_alexander_bloch,
}


@lru_cache(maxsize=32)
def _cached_spins(method: str, regions: tuple[str, ...], n_perm: int, seed: int) -> np.ndarray:
    perm = _SPIN_FUNCS[method](pd.Index(regions, name="region"), n_perm=n_perm, random_state=seed)
    perm.setflags(write=False)
    return perm


def spin_permutations(
    regions: pd.Index | None = None,
    *,
    method: SpinMethod = "hungarian",
    n_perm: int = 1000,
    random_state: int | None = None,
    disk_cache: bool = False,
) -> np.ndarray:
    """Spin permutation indices, cached in memory (and optionally on disk) for integer seeds.

    Parameters
    ----------
    regions : pandas.Index or None
        Desikan-Killiany regions in the order of the maps (default: all 68).
    method : {"hungarian", "vasa", "alexander_bloch"}
        :func:`spin_hungarian`, :func:`spin_vasa` or :func:`spin_alexander_bloch`.
    n_perm : int
        Number of spins.
    random_state : int or None
        Seed. With an int, the result is cached in memory (the arrays are read-only; copy before
        editing); None draws fresh spins every call.
    disk_cache : bool
        With an int seed, also keep the array in
        ``crossscale.datasets.data_home() / "nulls" / "<hash>.npy"``, keyed by method, regions,
        `n_perm` and seed.

    Returns
    -------
    perm : numpy.ndarray of int64, shape (n_regions, n_perm)
        ``values[perm[:, k]]`` is the ``k``-th null map.

    Raises
    ------
    ParameterError
        Unknown `method`, bad `n_perm` or `random_state`.
    RegionMismatchError
        Unknown or duplicated regions.

    References
    ----------
    .. [1] Markello R.D. & Misic B. (2021). Comparing spatial null models for brain maps.
       NeuroImage 236, 118052.
    """
    if method not in _SPIN_FUNCS:
        raise ParameterError(
            f"method must be one of {', '.join(repr(m) for m in SPIN_METHODS)}, got {method!r}."
        )
    regions = check_regions(regions)
    n_perm = check_n_perm(n_perm)
    if random_state is None:
        return _SPIN_FUNCS[method](regions, n_perm=n_perm)
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise ParameterError(
            f"random_state must be an int or None for cached spins, got {random_state!r}."
        )
    seed = int(random_state)
    if disk_cache:
        name = "spins-" + cache_key(method=method, regions=list(regions), n_perm=n_perm, seed=seed)
        perm = load_cached(name, (len(regions), n_perm))
        if perm is None:
            perm = _cached_spins(method, tuple(regions), n_perm, seed)
            save_cached(name, perm)
        perm.setflags(write=False)
        return perm
    return _cached_spins(method, tuple(regions), n_perm, seed)
