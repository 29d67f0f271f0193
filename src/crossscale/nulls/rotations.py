"""Random rotations of the fsaverage5 sphere and the sphere centroids of the regions.

The left hemisphere is rotated by a uniformly random rotation ``R``; the right hemisphere by its
mirror image ``F R F`` with ``F = diag(-1, 1, 1)`` (see :mod:`crossscale.nulls.spins`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

from crossscale._errors import ParameterError
from crossscale.nulls._common import (
    AtlasLike,
    RandomState,
    check_n_perm,
    make_rng,
    regions_and_atlas,
)

#: Reflection across the midsagittal (y-z) plane: turns a left-hemisphere rotation into the
#: mirror-image rotation of the right hemisphere.
REFLECT_X = np.diag([-1.0, 1.0, 1.0])

_BATCH = 64  # rotations handled together (memory ~ _BATCH * 10k vertices for the vertex spins)


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
        Rotation matrices of the left hemisphere.

    Returns
    -------
    mirrored : numpy.ndarray, shape (n_perm, 3, 3)
        Also proper rotations (``det(F R F) = det(R)``).
    """
    return REFLECT_X @ np.asarray(rotations, dtype=float) @ REFLECT_X


def _check_rotations(rotations: np.ndarray | None, n_perm: int, random_state: RandomState):
    return _rotations_and_rng(rotations, n_perm, random_state)[0]


def _rotations_and_rng(
    rotations: np.ndarray | None, n_perm: int, random_state: RandomState
) -> tuple[np.ndarray, np.random.Generator | None]:
    """Random rotations and the generator that drew them (for redraws), or the caller's (None)."""
    if rotations is None:
        rng = make_rng(random_state)
        return random_rotations(n_perm, rng), rng
    rot = np.asarray(rotations, dtype=float)
    if rot.ndim != 3 or rot.shape[1:] != (3, 3):
        raise ParameterError(
            f"rotations must have shape (n_perm, 3, 3), got {rot.shape}. Make them with "
            "crossscale.nulls.random_rotations(n_perm, random_state)."
        )
    return rot, None


# -- geometry of the regions -----------------------------------------------------------------------
def sphere_centroids(regions: pd.Index | None = None, *, atlas: AtlasLike = None) -> pd.DataFrame:
    """Centroids of the regions on the fsaverage5 registration sphere (radius 100 mm).

    Parameters
    ----------
    regions : pandas.Index or None
        Cortical regions of the atlas (default: all of them).
    atlas : str, Atlas or None
        The parcellation (default: the atlas in use, else inferred from the names; DK).

    Returns
    -------
    centroids : pandas.DataFrame, shape (n_regions, 3)
        Columns x, y, z in mm.

    Raises
    ------
    RegionMismatchError
        Unknown or subcortical regions (they have no place on the sphere).
    """
    regions, atlas = regions_and_atlas(regions, atlas, cortex_only=True)
    return pd.DataFrame(
        atlas.centroids("sphere")[atlas.index(regions)], index=regions, columns=["x", "y", "z"]
    )


def identity_columns(perm: np.ndarray) -> np.ndarray:
    """Positions of the columns of `perm` (n, n_perm) that map every row to itself."""
    return np.flatnonzero((perm == np.arange(perm.shape[0])[:, None]).all(axis=0))


def refuse_identity(
    compute, rotations: np.ndarray, rng: np.random.Generator | None, max_rounds: int = 1000
) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Spin permutations with no identity column: such rotations are redrawn (or refused).

    A rotation close to the identity maps every region to itself; its "null" map is the observed
    map and would inflate every p-value by one count. With random rotations (`rng` given) those
    rotations are replaced by new draws from `rng` (so the same seed still gives the same
    result); with rotations given by the caller (`rng` None) they are an error.

    Parameters
    ----------
    compute : callable
        ``compute(rotations) -> (perm, extra)``: permutation indices (n, b) of a batch of
        rotations (b, 3, 3), and anything computed alongside (an array with b columns, or None).
    rotations : numpy.ndarray, shape (n_perm, 3, 3)
        The rotations to check.
    rng : numpy.random.Generator or None
        Draws replacements for identity rotations; None: such a rotation is an error.
    max_rounds : int, default 1000
        Rounds of redrawing before giving up.

    Returns
    -------
    perm : numpy.ndarray, shape (n, n_perm)
    extra : numpy.ndarray or None
        What `compute` returned alongside, with replaced columns recomputed.

    Raises
    ------
    ParameterError
        A given rotation maps every region to itself.
    """
    rotations = np.array(rotations, dtype=float)
    perm, extra = compute(rotations)
    for _ in range(max_rounds):
        ident = identity_columns(perm)
        if not len(ident):
            return perm, extra
        if rng is None:
            raise ParameterError(
                f"{len(ident)} of the given rotations (positions {ident[:8].tolist()}) map every "
                "region to itself, so the null map would equal the observed map. Drop them, or "
                "let crossscale draw the rotations (pass random_state instead of rotations)."
            )
        new = random_rotations(len(ident), rng)
        rotations[ident] = new
        p_new, e_new = compute(new)
        perm[:, ident] = p_new
        if extra is not None:
            extra[:, ident] = e_new
    raise ParameterError(  # pragma: no cover - needs ~1000 identity draws in a row
        "Could not draw spins that move the regions; are there only a few, very large regions?"
    )


def _hemi_rotations(rotations: np.ndarray) -> dict[str, np.ndarray]:
    return {"L": rotations, "R": reflect_rotations(rotations)}


def _centroid_distances(coords: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """``D[k, i, j] = |c_i - R_k c_j|``, shape (n_perm, n, n)."""
    rotated = np.einsum("kab,jb->kja", rotations, coords)
    diff = coords[None, :, None, :] - rotated[:, None, :, :]
    return np.sqrt((diff**2).sum(-1))
