"""One front door to every null model: ``generate_nulls(values, method=...)`` -> null maps.

Any atlas works. Spins move cortical regions only (a rotation of the cortical sphere cannot move
the thalamus); in a map with subcortical regions, the cortex is spun and the subcortical regions
get Moran spectral randomisation over inverse centroid distances (they keep their own spatial
autocorrelation). :func:`describe_nulls` states which null each region set got.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas import RegionGraph
from crossscale.atlas.atlases import Atlas
from crossscale.atlas.lookup import resolve_atlas
from crossscale.atlas.validate import validate_regional_map
from crossscale.nulls._common import AtlasLike, RandomState, check_n_perm, make_rng
from crossscale.nulls.moran import moran_randomization
from crossscale.nulls.spins import SPIN_METHODS, spin_permutations
from crossscale.nulls.vertex_spins import spin_vertex_average

logger = logging.getLogger(__name__)

NULL_METHODS = (*SPIN_METHODS, "vertex", "moran", "moran_pair")
NullMethod = Literal["hungarian", "vasa", "alexander_bloch", "vertex", "moran", "moran_pair"]

_LABELS = {
    "hungarian": "spin test (Hungarian assignment of rotated centroids)",
    "vasa": "spin test (Váša greedy assignment of rotated centroids)",
    "alexander_bloch": "spin test (vertex rotation, majority label)",
    "vertex": "spin test (vertex rotation, vertex-weighted average)",
    "moran": "Moran spectral randomisation (singleton) over the region graph",
    "moran_pair": "Moran spectral randomisation (pair) over the region graph",
}
SUBCORTEX_NULL = "Moran spectral randomisation (singleton) over inverse centroid distances"


def check_map(values: pd.Series, what: str = "values", atlas: AtlasLike = None) -> pd.Series:
    """Canonical, finite, non-constant regional map, in the order given (not re-sorted)."""
    if not isinstance(values, pd.Series):
        raise InputDataError(
            f"{what} must be a pandas Series indexed by region names, got {type(values).__name__}."
        )
    atlas = resolve_atlas(atlas, values.index)
    regions = pd.Index(atlas.match(list(values.index), what="regions"), name="region")
    if len(regions) < 2:
        raise InputDataError(f"The '{what}' map needs at least 2 regions; got {len(regions)}.")
    vals = values.copy()
    vals.index = regions
    return validate_regional_map(
        vals, regions=regions, min_regions=2, what=f"The '{what}' map", atlas=atlas
    )


def _split(regions: pd.Index, atlas: Atlas) -> tuple[np.ndarray, np.ndarray]:
    cortex = atlas.is_cortex[atlas.index(regions)]
    return np.flatnonzero(cortex), np.flatnonzero(~cortex)


def describe_nulls(regions: pd.Index, method: str, atlas: AtlasLike = None) -> dict[str, str]:
    """Which null model each set of regions gets from :func:`generate_nulls`.

    Returns
    -------
    description : dict of str to str
        ``{"cortex (100 regions)": "spin test (…)", "subcortex (14 regions)": "Moran …"}``.
    """
    atlas = resolve_atlas(atlas, regions)
    regions = pd.Index(atlas.match(list(regions), what="regions"))
    ctx, sub = _split(regions, atlas)
    label = _LABELS.get(method, method)
    if method.startswith("moran") or not len(sub):
        part = (
            "cortex and subcortex"
            if len(sub) and len(ctx)
            else ("subcortex" if len(sub) else "cortex")
        )
        return {f"{part} ({len(regions)} regions)": label}
    out = {}
    if len(ctx):
        out[f"cortex ({len(ctx)} regions)"] = label
    out[f"subcortex ({len(sub)} regions)"] = SUBCORTEX_NULL
    return out


def _sub_rng(random_state: RandomState) -> RandomState:
    """The generator of the subcortical part: independent of the spins, same seed -> same maps."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return None
    return np.random.default_rng([int(random_state), 23])


def generate_nulls(
    values: pd.Series,
    method: NullMethod = "hungarian",
    *,
    n_perm: int = 1000,
    random_state: RandomState = None,
    graph: RegionGraph | None = None,
    disk_cache: bool = False,
    atlas: AtlasLike = None,
) -> np.ndarray:
    """Null maps of a regional map under a spatial null model.

    Parameters
    ----------
    values : pandas.Series, shape (n_regions,)
        Regional map indexed by regions of the atlas (any subset, any naming convention).
    method : {"hungarian", "vasa", "alexander_bloch", "vertex", "moran", "moran_pair"}
        ``hungarian`` / ``vasa``: spin permutations (true permutations within hemisphere; see
        :func:`~crossscale.nulls.spin_hungarian`, :func:`~crossscale.nulls.spin_vasa`).
        ``alexander_bloch``: vertex spins, majority label (not a permutation).
        ``vertex``: vertex spins, vertex-weighted average of values (Markello & Misic 2021).
        ``moran`` / ``moran_pair``: Moran spectral randomisation over `graph` (singleton / pair).
        With a spin method, subcortical regions (which no rotation moves) get Moran spectral
        randomisation over inverse centroid distances, the cortex is spun
        (:func:`describe_nulls`).
    n_perm : int
        Number of null maps.
    random_state : int, numpy.random.Generator or None
        Seed; the same int gives the same null maps. Spin indices for int seeds are cached.
    graph : RegionGraph or None
        Spatial weights for the Moran methods (default: fsaverage5 surface adjacency of the
        atlas, subcortical regions joined to their nearest regions); ignored by spins. Its atlas
        is used when `atlas` is None.
    disk_cache : bool
        Keep spin indices on disk under ``data_home()/nulls`` (int seeds only).
    atlas : str, Atlas or None
        The parcellation (default: the graph's, else the atlas in use, else inferred from the
        names: DK).

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
            "'hungarian' (spin test) is the usual choice on a cortical parcellation."
        )
    n_perm = check_n_perm(n_perm)
    if atlas is None and graph is not None:
        atlas = graph.atlas
    atlas = resolve_atlas(atlas, values.index if isinstance(values, pd.Series) else None)
    x = check_map(values, atlas=atlas)
    if method in ("moran", "moran_pair"):
        if graph is None:
            graph = RegionGraph.from_surface(atlas=atlas)
        procedure = "pair" if method == "moran_pair" else "singleton"
        return moran_randomization(
            x, graph, n_perm=n_perm, procedure=procedure, random_state=random_state
        )
    ctx, sub = _split(x.index, atlas)
    if len(sub) and len(ctx) < 2:
        logger.info("no cortex to spin: Moran nulls over distances for all %d regions", len(x))
        return _distance_moran(x, atlas, n_perm, random_state)
    if len(sub):
        out = np.empty((len(x), n_perm))
        out[ctx] = _spin_nulls(x.iloc[ctx], method, n_perm, random_state, disk_cache, atlas)
        if len(sub) >= 3:
            out[sub] = _distance_moran(x.iloc[sub], atlas, n_perm, _sub_rng(random_state))
        else:  # one or two regions: a random permutation is all one can do
            rng = make_rng(_sub_rng(random_state))
            out[sub] = x.to_numpy()[sub][
                rng.permuted(np.tile(np.arange(len(sub)), (n_perm, 1)), axis=1).T
            ]
        return out
    return _spin_nulls(x, method, n_perm, random_state, disk_cache, atlas)


def _distance_moran(
    x: pd.Series, atlas: Atlas, n_perm: int, random_state: RandomState
) -> np.ndarray:
    if float(x.std()) == 0.0:
        return np.repeat(x.to_numpy()[:, None], n_perm, axis=1)
    graph = RegionGraph.from_distances(x.index, atlas=atlas)
    return moran_randomization(x, graph, n_perm=n_perm, random_state=random_state)


def _spin_nulls(
    x: pd.Series, method: str, n_perm: int, random_state: RandomState, disk_cache: bool,
    atlas: Atlas,
) -> np.ndarray:  # fmt: skip
    if method == "vertex":
        return spin_vertex_average(x, n_perm=n_perm, random_state=random_state, atlas=atlas)
    if isinstance(random_state, np.random.Generator):
        from crossscale.nulls.spins import spin_hungarian, spin_vasa
        from crossscale.nulls.vertex_spins import spin_alexander_bloch

        func = {"hungarian": spin_hungarian, "vasa": spin_vasa}.get(method, spin_alexander_bloch)
        perm = func(x.index, n_perm=n_perm, random_state=random_state, atlas=atlas)
    else:
        perm = spin_permutations(
            x.index, method=method, n_perm=n_perm, random_state=random_state,
            disk_cache=disk_cache, atlas=atlas,
        )  # fmt: skip
    return x.to_numpy()[perm]
