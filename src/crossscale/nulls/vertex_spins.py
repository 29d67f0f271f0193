"""Vertex-level spins: every vertex of the fsaverage5 sphere rotated, then re-parcellated.

:func:`spin_alexander_bloch` gives each region the region most of its rotated vertices land in
(indices); :func:`spin_vertex_average` the vertex-weighted average of the values they land in
(the ``vertex`` method of Markello & Misic 2021). Both use the same rotations for the same seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from crossscale._errors import InputDataError
from crossscale.nulls._common import AtlasLike, RandomState, hemisphere_groups, regions_and_atlas
from crossscale.nulls.rotations import (
    _BATCH,
    _centroid_distances,
    _hemi_rotations,
    _rotations_and_rng,
    refuse_identity,
    sphere_centroids,
)


@lru_cache(maxsize=2)
def _sphere_mesh(hemi: str) -> tuple[np.ndarray, cKDTree]:
    from crossscale.atlas.surface import load_fsaverage5

    mesh = load_fsaverage5(hemi, "sphere")
    return mesh.vertices, cKDTree(mesh.vertices)


def _vertex_counts(regions: pd.Index, rotations: np.ndarray, atlas: AtlasLike = None):
    """Count where the rotated vertices of each region land, a batch of rotations at a time.

    Yields ``(hemi, idx, start, rotations, counts)``: ``counts[k, i, j]`` is the number of vertices
    of region ``idx[i]`` whose rotation ``start + k`` lands on region ``idx[j]``.
    """
    regions, atlas = regions_and_atlas(regions, atlas, cortex_only=True)
    index = atlas.index(regions)
    for hemi, idx in hemisphere_groups(regions, atlas).items():
        vertices, tree = _sphere_mesh(hemi)
        labels = atlas.vertex_labels(hemi)
        lut = np.full(atlas.n_regions + 1, -1, dtype=np.int64)  # atlas label -> local position
        lut[index[idx]] = np.arange(len(idx))
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


def _landings(
    regions: pd.Index, rotations: np.ndarray, atlas: AtlasLike = None
) -> Iterator[tuple[np.ndarray, slice, np.ndarray, np.ndarray, np.ndarray | None]]:
    """:func:`_vertex_counts` with totals and the fallback for regions with no valid landing.

    Yields ``(idx, cols, counts, total, nearest)``: ``total = counts.sum(axis=2)`` and, when some
    ``total`` is 0, ``nearest[k, i]`` the local region whose rotated centroid is nearest (else None).
    """
    coords_all = sphere_centroids(regions, atlas=atlas).to_numpy()
    for _hemi, idx, start, rot, counts in _vertex_counts(regions, rotations, atlas):
        total = counts.sum(axis=2)
        nearest = _fallback_nearest(coords_all[idx], rot) if (total == 0).any() else None
        yield idx, slice(start, start + len(rot)), counts, total, nearest


def _vertex_spins(
    regions: pd.Index, rotations: np.ndarray, atlas: AtlasLike, x: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Majority-label permutations (n, b) and, with values `x`, vertex-averaged nulls (n, b)."""
    perm = np.empty((len(regions), len(rotations)), dtype=np.int64)
    out = None if x is None else np.empty((len(regions), len(rotations)))
    for idx, cols, counts, total, nearest in _landings(regions, rotations, atlas):
        local = counts.argmax(axis=2)
        if nearest is not None:
            local = np.where(total == 0, nearest, local)
        perm[idx, cols] = idx[local].T
        if out is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                avg = counts @ x[idx] / total
            if nearest is not None:
                avg = np.where(total == 0, x[idx][nearest], avg)
            out[idx, cols] = avg.T
    return perm, out


def spin_alexander_bloch(
    regions: pd.Index | None = None,
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    rotations: np.ndarray | None = None,
    atlas: AtlasLike = None,
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
        Cortical regions of the atlas, any subset, in the order of the map (default: all).
    n_perm : int
        Number of spins. Ignored when `rotations` is given.
    random_state : int, numpy.random.Generator or None
        Seed of the rotations; the same int gives the same array.
    rotations : numpy.ndarray, shape (n_perm, 3, 3), optional
        Left-hemisphere rotations to use instead of random ones.
    atlas : str, Atlas or None
        The parcellation (default: the atlas in use, else inferred from the names; DK).

    Returns
    -------
    perm : numpy.ndarray of int64, shape (n_regions, n_perm)
        ``values[perm[:, k]]`` is the ``k``-th null map (indices stay within hemispheres). No
        column is the identity: random rotations that give it are redrawn.

    Raises
    ------
    RegionMismatchError, ParameterError
        Unknown or duplicated regions; bad `n_perm`, `random_state` or `rotations`.

    References
    ----------
    .. [1] Alexander-Bloch A.F. et al. (2018). On testing for spatial correspondence between maps
       of human brain structure and function. NeuroImage 178, 540-551.
    .. [2] Markello R.D. & Misic B. (2021). NeuroImage 236, 118052.
    """
    regions, atlas = regions_and_atlas(regions, atlas, cortex_only=True)
    rotations, rng = _rotations_and_rng(rotations, n_perm, random_state)
    compute = lambda rot: _vertex_spins(regions, rot, atlas, None)  # noqa: E731
    return refuse_identity(compute, rotations, rng)[0]


def spin_vertex_average(
    values: pd.Series,
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    rotations: np.ndarray | None = None,
    atlas: AtlasLike = None,
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
        Regional map indexed by cortical regions of the atlas (any subset).
    n_perm : int
        Number of spins. Ignored when `rotations` is given.
    random_state : int, numpy.random.Generator or None
        Seed of the rotations.
    rotations : numpy.ndarray, shape (n_perm, 3, 3), optional
        Left-hemisphere rotations to use instead of random ones.
    atlas : str, Atlas or None
        The parcellation (default: the atlas in use, else inferred from the names; DK).

    Returns
    -------
    nulls : numpy.ndarray of float, shape (n_regions, n_perm)
        Null maps in the order of ``values.index``. Rotations whose majority labels map every
        region to itself (the observed map, up to boundary vertices) are redrawn.

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
    regions, atlas = regions_and_atlas(values.index, atlas, cortex_only=True)
    x = np.asarray(values, dtype=float)
    if not np.isfinite(x).all():
        raise InputDataError("values has NaN or infinite entries; spins need a complete map.")
    rotations, rng = _rotations_and_rng(rotations, n_perm, random_state)
    compute = lambda rot: _vertex_spins(regions, rot, atlas, x)  # noqa: E731
    return refuse_identity(compute, rotations, rng)[1]
