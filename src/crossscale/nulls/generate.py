"""One front door to every null model: ``generate_nulls(values, method=...)`` -> null maps."""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas import RegionGraph
from crossscale.atlas.names import validate_regional_map
from crossscale.nulls._common import RandomState, check_n_perm, check_regions
from crossscale.nulls.moran import moran_randomization
from crossscale.nulls.spins import SPIN_METHODS, spin_permutations, spin_vertex_average

logger = logging.getLogger(__name__)

NULL_METHODS = (*SPIN_METHODS, "vertex", "moran", "moran_pair")
NullMethod = Literal["hungarian", "vasa", "alexander_bloch", "vertex", "moran", "moran_pair"]


def check_map(values: pd.Series, what: str = "values") -> pd.Series:
    """Canonical, finite, non-constant regional map, in the order given (not re-sorted)."""
    if not isinstance(values, pd.Series):
        raise InputDataError(
            f"{what} must be a pandas Series indexed by region names, got {type(values).__name__}."
        )
    regions = check_regions(values.index)
    vals = values.copy()
    vals.index = regions
    return validate_regional_map(vals, regions=regions, min_regions=2, what=f"The '{what}' map")


def generate_nulls(
    values: pd.Series,
    method: NullMethod = "hungarian",
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    graph: RegionGraph | None = None,
    disk_cache: bool = False,
) -> np.ndarray:
    """Null maps of a regional map under a spatial null model.

    Parameters
    ----------
    values : pandas.Series, shape (n_regions,)
        Regional map indexed by Desikan-Killiany regions (any subset, any naming convention).
    method : {"hungarian", "vasa", "alexander_bloch", "vertex", "moran", "moran_pair"}
        ``hungarian`` / ``vasa``: spin permutations (true permutations within hemisphere; see
        :func:`~crossscale.nulls.spin_hungarian`, :func:`~crossscale.nulls.spin_vasa`).
        ``alexander_bloch``: vertex spins, majority label (not a permutation).
        ``vertex``: vertex spins, vertex-weighted average of values (Markello & Misic 2021).
        ``moran`` / ``moran_pair``: Moran spectral randomisation over `graph` (singleton / pair).
    n_perm : int
        Number of null maps.
    random_state : int, numpy.random.Generator or None
        Seed; the same int gives the same null maps. Spin indices for int seeds are cached.
    graph : RegionGraph or None
        Spatial weights for the Moran methods (default: fsaverage5 surface adjacency); ignored by
        spins.
    disk_cache : bool
        Keep spin indices on disk under ``data_home()/nulls`` (int seeds only).

    Returns
    -------
    nulls : numpy.ndarray of float, shape (n_regions, n_perm)
        Column ``k`` is the ``k``-th null map, rows in the order of ``values.index``.

    Raises
    ------
    ParameterError
        Unknown `method`, bad `n_perm` or `random_state`.
    RegionMismatchError, InputDataError
        Unknown regions; NaN or constant values.

    Examples
    --------
    >>> from crossscale.maps import load_adni_map
    >>> ad = load_adni_map("AD", "baseline")
    >>> nulls = generate_nulls(ad, "hungarian", n_perm=1000, random_state=0)
    >>> nulls.shape
    (68, 1000)

    References
    ----------
    .. [1] Alexander-Bloch A.F. et al. (2018). NeuroImage 178, 540-551.
    .. [2] Váša F. et al. (2018). Cereb Cortex 28, 281-294.
    .. [3] Wagner H.H. & Dray S. (2015). Methods Ecol Evol 6, 1169-1178.
    .. [4] Markello R.D. & Misic B. (2021). Comparing spatial null models for brain maps.
       NeuroImage 236, 118052.
    """
    if method not in NULL_METHODS:
        raise ParameterError(
            f"method must be one of {', '.join(repr(m) for m in NULL_METHODS)}, got {method!r}. "
            "'hungarian' (spin test) is the usual choice on the Desikan-Killiany atlas."
        )
    n_perm = check_n_perm(n_perm)
    x = check_map(values)
    if method in SPIN_METHODS:
        if isinstance(random_state, np.random.Generator):
            from crossscale.nulls.spins import spin_alexander_bloch, spin_hungarian, spin_vasa

            func = {"hungarian": spin_hungarian, "vasa": spin_vasa}.get(
                method, spin_alexander_bloch
            )
            perm = func(x.index, n_perm=n_perm, random_state=random_state)
        else:
            perm = spin_permutations(
                x.index,
                method=method,
                n_perm=n_perm,
                random_state=random_state,
                disk_cache=disk_cache,
            )
        return x.to_numpy()[perm]
    if method == "vertex":
        return spin_vertex_average(x, n_perm=n_perm, random_state=random_state)
    procedure = "pair" if method == "moran_pair" else "singleton"
    return moran_randomization(
        x, graph, n_perm=n_perm, procedure=procedure, random_state=random_state
    )
