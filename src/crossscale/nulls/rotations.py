"""Random rotations of the fsaverage5 sphere and the sphere centroids of the regions.

The left hemisphere is rotated by a uniformly random rotation ``R``; the right hemisphere by its
mirror image ``F R F`` with ``F = diag(-1, 1, 1)`` (see :mod:`crossscale.nulls.spins`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

from crossscale._errors import ParameterError
from crossscale.nulls._common import RandomState, atlas_index, check_n_perm, check_regions, make_rng

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
