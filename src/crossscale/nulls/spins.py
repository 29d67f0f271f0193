"""Spin tests: random rotations of the fsaverage5 sphere, mapped back onto the regions of an atlas.

Every spin function returns an integer array ``perm`` of shape (n_regions, n_perm) of positions in
`regions`; column ``k`` gives the ``k``-th null map as ``values[perm[:, k]]``. Region ``i`` of a
null map takes the value of the region whose rotated position lands on region ``i``. The left
hemisphere is rotated by a uniformly random rotation ``R``; the right hemisphere by its mirror
image ``F R F`` with ``F = diag(-1, 1, 1)`` (reflection across the midsagittal plane), so the two
hemispheres are spun symmetrically and no region ever moves to the other hemisphere. Any
cortical atlas works (:func:`crossscale.atlas.get_atlas`: DK, Schaefer, Glasser, your ``.annot``
files): the centroids and vertex labels come from the atlas. Random rotations that map every
region to itself are redrawn (:func:`~crossscale.nulls.rotations.refuse_identity`): such a "null"
map is the observed map.

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

from crossscale._errors import ParameterError, RegionMismatchError
from crossscale.nulls._common import (
    AtlasLike,
    RandomState,
    atlas_key,
    cache_key,
    check_n_perm,
    hemisphere_groups,
    load_cached,
    make_rng,
    regions_and_atlas,
    save_cached,
)
from crossscale.nulls.rotations import (
    _BATCH,
    _centroid_distances,
    _hemi_rotations,
    _rotations_and_rng,
    refuse_identity,
    sphere_centroids,
)
from crossscale.nulls.vertex_spins import spin_alexander_bloch

logger = logging.getLogger(__name__)

SPIN_METHODS = ("hungarian", "vasa", "alexander_bloch")
SpinMethod = Literal["hungarian", "vasa", "alexander_bloch"]


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
    atlas: AtlasLike = None,
    *,
    redraw_rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Permutations from rotated centroids; identity spins are redrawn from `redraw_rng`.

    With ``redraw_rng=None`` (rotations given by the caller) an identity spin is an error.
    """
    regions, atlas = regions_and_atlas(regions, atlas, cortex_only=True)
    coords_all = sphere_centroids(regions, atlas=atlas).to_numpy()
    groups = hemisphere_groups(regions, atlas)

    def compute(rot_all: np.ndarray) -> tuple[np.ndarray, None]:
        n_perm = len(rot_all)
        perm = np.empty((len(regions), n_perm), dtype=np.int64)
        for hemi, idx in groups.items():
            rot = _hemi_rotations(rot_all)[hemi]
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
                        ordering = rng.permuted(  # type: ignore[union-attr]
                            np.tile(np.arange(len(idx)), (stop - start, 1)), axis=1
                        )
                    local = _greedy_assign(dist, ordering)
                perm[idx, start:stop] = idx[local].T
        return perm, None

    return refuse_identity(compute, rotations, redraw_rng)[0]


def spin_hungarian(
    regions: pd.Index | None = None,
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    rotations: np.ndarray | None = None,
    atlas: AtlasLike = None,
) -> np.ndarray:
    """Spin permutations by optimal one-to-one matching of rotated region centroids.

    Each hemisphere's sphere centroids are rotated (left by ``R``, right by ``F R F``); each region
    is matched to one rotated centroid so that the total distance between regions and their
    matched rotated centroids is minimal (Hungarian algorithm, :func:`scipy.optimize.linear_sum_assignment`).

    Parameters
    ----------
    regions : pandas.Index or None
        Cortical regions of the atlas, any subset, in the order of the map to permute
        (default: every cortical region).
    n_perm : int
        Number of spins. Ignored when `rotations` is given.
    random_state : int, numpy.random.Generator or None
        Seed of the rotations; the same int gives the same array.
    rotations : numpy.ndarray, shape (n_perm, 3, 3), optional
        Left-hemisphere rotations to use instead of random ones (see :func:`random_rotations`).
    atlas : str, Atlas or None
        The parcellation (default: the atlas in use, else inferred from the names; DK).

    Returns
    -------
    perm : numpy.ndarray of int64, shape (n_regions, n_perm)
        Positions in `regions`; ``values[perm[:, k]]`` is the ``k``-th null map. Each column is a
        permutation that keeps every region in its hemisphere, and none is the identity (random
        rotations that give it are redrawn).

    Raises
    ------
    RegionMismatchError
        Unknown, duplicated or subcortical regions.
    ParameterError
        Bad `n_perm`, `random_state` or `rotations`, or a given rotation that maps every region
        to itself.

    References
    ----------
    .. [1] Alexander-Bloch A.F. et al. (2018). NeuroImage 178, 540-551.
    .. [2] Markello R.D. & Misic B. (2021). Comparing spatial null models for brain maps.
       NeuroImage 236, 118052.
    .. [3] Kuhn H.W. (1955). The Hungarian method for the assignment problem. Naval Res Logist Q
       2, 83-97.
    """
    regions, atlas = regions_and_atlas(regions, atlas, cortex_only=True)
    rotations, rng = _rotations_and_rng(rotations, n_perm, random_state)
    return _centroid_spins(regions, rotations, "hungarian", atlas=atlas, redraw_rng=rng)


def spin_vasa(
    regions: pd.Index | None = None,
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    rotations: np.ndarray | None = None,
    order: Literal["farthest", "random"] = "farthest",
    atlas: AtlasLike = None,
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
        Cortical regions of the atlas, any subset, in the order of the map (default: all).
    n_perm : int
        Number of spins. Ignored when `rotations` is given.
    random_state : int, numpy.random.Generator or None
        Seed of the rotations (and of the order, if random); same int, same array.
    rotations : numpy.ndarray, shape (n_perm, 3, 3), optional
        Left-hemisphere rotations to use instead of random ones.
    order : {"farthest", "random"}
        Order in which regions are assigned.
    atlas : str, Atlas or None
        The parcellation (default: the atlas in use, else inferred from the names; DK).

    Returns
    -------
    perm : numpy.ndarray of int64, shape (n_regions, n_perm)
        ``values[perm[:, k]]`` is the ``k``-th null map; each column is a permutation within
        hemispheres and none is the identity.

    Raises
    ------
    RegionMismatchError
        Unknown, duplicated or subcortical regions.
    ParameterError
        Bad `n_perm`, `random_state`, `rotations` or `order`; a given identity rotation.

    References
    ----------
    .. [1] Váša F. et al. (2018). Adolescent tuning of association cortex in human structural
       brain networks. Cereb Cortex 28, 281-294.
    .. [2] Markello R.D. & Misic B. (2021). NeuroImage 236, 118052.
    """
    if order not in ("farthest", "random"):
        raise ParameterError(f"order must be 'farthest' or 'random', got {order!r}.")
    regions, atlas = regions_and_atlas(regions, atlas, cortex_only=True)
    rng = make_rng(random_state)
    rotations, redraw_rng = _rotations_and_rng(rotations, n_perm, rng)
    return _centroid_spins(regions, rotations, "greedy", rng=rng, order=order, atlas=atlas,
                           redraw_rng=redraw_rng)  # fmt: skip


# -- front door with caching ----------------------------------------------------------------------
_SPIN_FUNCS = {
    "hungarian": spin_hungarian,
    "vasa": spin_vasa,
    "alexander_bloch": spin_alexander_bloch,
}


@lru_cache(maxsize=32)
def _cached_spins(
    method: str, regions: tuple[str, ...], n_perm: int, seed: int, atlas: object = None
) -> np.ndarray:
    perm = _SPIN_FUNCS[method](
        pd.Index(regions, name="region"), n_perm=n_perm, random_state=seed, atlas=atlas
    )
    perm.setflags(write=False)
    return perm


def spin_permutations(
    regions: pd.Index | None = None,
    *,
    method: SpinMethod = "hungarian",
    n_perm: int = 1000,
    random_state: int | None = None,
    disk_cache: bool = False,
    atlas: AtlasLike = None,
    subcortex: Literal["fixed", "refuse"] = "fixed",
) -> np.ndarray:
    """Spin permutation indices, cached in memory (and optionally on disk) for integer seeds.

    Parameters
    ----------
    regions : pandas.Index or None
        Regions of the atlas in the order of the maps (default: every cortical region).
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
    atlas : str, Atlas or None
        The parcellation (default: the atlas in use, else inferred from the names; DK).
    subcortex : {"fixed", "refuse"}
        Subcortical regions among `regions` (no rotation of the cortical sphere moves them):
        ``fixed`` keeps each in place in every column while the cortex is spun -- index nulls
        cannot keep a subcortical map's autocorrelation, and keeping the subcortex aligned
        makes tests on these permutations conservative; ``refuse`` raises. For null *maps* of a
        map with subcortex, :func:`~crossscale.nulls.generate_nulls` gives the subcortex Moran
        surrogates instead.

    Returns
    -------
    perm : numpy.ndarray of int64, shape (n_regions, n_perm)
        ``values[perm[:, k]]`` is the ``k``-th null map.

    Raises
    ------
    ParameterError
        Unknown `method` or `subcortex`, bad `n_perm` or `random_state`.
    RegionMismatchError
        Unknown or duplicated regions; subcortical ones with ``subcortex="refuse"``; fewer than
        two cortical regions.

    References
    ----------
    .. [1] Markello R.D. & Misic B. (2021). Comparing spatial null models for brain maps.
       NeuroImage 236, 118052.
    """
    if method not in _SPIN_FUNCS:
        raise ParameterError(
            f"method must be one of {', '.join(repr(m) for m in SPIN_METHODS)}, got {method!r}."
        )
    if subcortex not in ("fixed", "refuse"):
        raise ParameterError(f"subcortex must be 'fixed' or 'refuse', got {subcortex!r}.")
    regions, atlas = regions_and_atlas(regions, atlas)
    cortex = atlas.is_cortex[atlas.index(regions)]
    if not cortex.all():
        if subcortex == "refuse":
            regions_and_atlas(regions, atlas, cortex_only=True)  # raises, naming them
        if cortex.sum() < 2:
            raise RegionMismatchError(
                f"Spins need at least 2 cortical regions; got {int(cortex.sum())} among "
                f"{len(regions)} regions. Use crossscale.nulls.generate_nulls (Moran nulls)."
            )
        ctx = np.flatnonzero(cortex)
        logger.info("spin permutations: %d subcortical region(s) kept in place", (~cortex).sum())
        inner = spin_permutations(regions[ctx], method=method, n_perm=n_perm,
                                  random_state=random_state, disk_cache=disk_cache, atlas=atlas)  # fmt: skip
        perm = np.tile(np.arange(len(regions), dtype=np.int64)[:, None], (1, inner.shape[1]))
        perm[ctx] = ctx[inner]
        perm.setflags(write=False)
        return perm
    n_perm = check_n_perm(n_perm)
    if random_state is None:
        return _SPIN_FUNCS[method](regions, n_perm=n_perm, atlas=atlas)
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise ParameterError(
            f"random_state must be an int or None for cached spins, got {random_state!r}."
        )
    seed = int(random_state)
    if disk_cache:
        name = "spins-" + cache_key(method=method, regions=list(regions), n_perm=n_perm, seed=seed,
                                    atlas=atlas_key(atlas))  # fmt: skip
        perm = load_cached(name, (len(regions), n_perm))
        if perm is None:
            perm = _cached_spins(method, tuple(regions), n_perm, seed, atlas)
            save_cached(name, perm)
        perm.setflags(write=False)
        return perm
    return _cached_spins(method, tuple(regions), n_perm, seed, atlas)
