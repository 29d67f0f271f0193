"""Shared helpers of the null models: region subsets, seeds, the on-disk cache."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError, RegionMismatchError
from crossscale.atlas.atlases import Atlas
from crossscale.atlas.lookup import resolve_atlas

logger = logging.getLogger(__name__)

RandomState = int | np.integer | np.random.Generator | None

#: Bump when the algorithm of a null changes, so stale cached files are not reused.
#: 2: random spins that map every region to itself are redrawn (issue 23); the atlas is in the key.
CACHE_VERSION = 2

AtlasLike = str | Atlas | None


def regions_and_atlas(
    regions: pd.Index | list[str] | None, atlas: AtlasLike = None, *, cortex_only: bool = False
) -> tuple[pd.Index, Atlas]:
    """Canonical region names in the given order, and the atlas they belong to.

    Parameters
    ----------
    regions : sequence of str or None
        Region names in any spelling of the atlas; None: every region (every cortical region
        with `cortex_only`).
    atlas : str, Atlas or None
        Default: the atlas in use (:func:`crossscale.atlas.use_atlas`), else inferred from the
        names (Desikan-Killiany when there are none).
    cortex_only : bool
        Refuse subcortical regions (spins: a rotation of the sphere cannot move them).

    Raises
    ------
    RegionMismatchError
        Unknown or duplicated region names, fewer than two regions, or subcortical regions
        where only cortex is allowed.
    """
    atlas = resolve_atlas(atlas, regions)
    if regions is None:
        return (atlas.cortex_regions if cortex_only else atlas.regions), atlas
    names = atlas.match(list(regions), what="regions")
    if len(names) < 2:
        raise RegionMismatchError(
            f"regions must hold at least 2 {atlas.title} regions, got {len(names)}: "
            f"{list(names)}. Pass more regions, or None for all {atlas.n_regions}."
        )
    if cortex_only:
        sub = [r for r in names if not atlas.is_cortex[atlas.index([r])[0]]]
        if sub:
            raise RegionMismatchError(
                f"{len(sub)} subcortical region(s) cannot be spun (a rotation of the cortical "
                f"sphere does not move them): {sub[:8]}. Use crossscale.nulls.generate_nulls, "
                "which spins the cortex and gives subcortical regions a Moran null, or pass "
                "cortical regions only."
            )
    return pd.Index(names, name="region"), atlas


def check_regions(regions: pd.Index | list[str] | None, atlas: AtlasLike = None) -> pd.Index:
    """Canonical region names in the given order (default: every region of the atlas).

    Raises
    ------
    RegionMismatchError
        Unknown or duplicated region names, or fewer than two regions.
    """
    return regions_and_atlas(regions, atlas)[0]


def hemisphere_groups(regions: pd.Index, atlas: Atlas | None = None) -> dict[str, np.ndarray]:
    """Positions in `regions` of the regions of each hemisphere, ``{"L": idx, "R": idx}``."""
    if atlas is None:
        from crossscale.atlas.names import hemisphere_of

        hemi = np.array([hemisphere_of(r) for r in regions])
    else:
        hemi = atlas.hemisphere[atlas.index(regions)]
    return {h: np.flatnonzero(hemi == h) for h in ("L", "R") if (hemi == h).any()}


def atlas_index(regions: pd.Index, atlas: AtlasLike = None) -> np.ndarray:
    """Index of each region in the atlas (default Desikan-Killiany), shape (n_regions,)."""
    return resolve_atlas(atlas, regions).index(regions)


def atlas_key(atlas: Atlas) -> str:
    """What identifies an atlas in cache keys: its name (built-in) or name and hash (user)."""
    return atlas.name if atlas.info is not None else f"{atlas.name}:{atlas.hash()[:16]}"


def check_n_perm(n_perm: int) -> int:
    """Validate the number of permutations."""
    if isinstance(n_perm, bool) or not isinstance(n_perm, int | np.integer) or n_perm < 1:
        raise ParameterError(
            f"n_perm must be a positive integer, got {n_perm!r}. 1000 is usual for a p-value; "
            "use 10000 for p-values near 0.001."
        )
    return int(n_perm)


def make_rng(random_state: RandomState) -> np.random.Generator:
    """A numpy Generator from an int seed, a Generator (used as is) or None (fresh entropy)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, int | np.integer):
        if isinstance(random_state, bool):
            raise ParameterError(
                f"random_state must be an int, a Generator or None, got {random_state!r}."
            )
        return np.random.default_rng(None if random_state is None else int(random_state))
    raise ParameterError(
        f"random_state must be an int, a numpy Generator or None, got {type(random_state).__name__} "
        f"{random_state!r}."
    )


def cache_key(**params: object) -> str:
    """A short sha256 of the parameters that define a null (JSON, sorted keys)."""
    payload = json.dumps({"version": CACHE_VERSION, **params}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def nulls_cache_dir() -> Path:
    """Folder of cached null permutations: ``crossscale.datasets.data_home() / "nulls"``."""
    from crossscale.datasets.fetch import data_home

    return data_home() / "nulls"


def load_cached(name: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """Read ``<cache>/<name>.npy`` if it exists with the expected shape; None otherwise."""
    path = nulls_cache_dir() / f"{name}.npy"
    if not path.exists():
        return None
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:  # a damaged file is recomputed, not trusted
        logger.warning("Ignoring unreadable cached nulls %s: %s", path, exc)
        return None
    if arr.shape != shape:
        logger.warning(
            "Ignoring cached nulls %s with shape %s (expected %s)", path, arr.shape, shape
        )
        return None
    logger.info("Loaded cached nulls from %s", path)
    return arr


def save_cached(name: str, arr: np.ndarray) -> Path:
    """Write ``<cache>/<name>.npy`` atomically (temporary file, then rename)."""
    folder = nulls_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.npy"
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".npy", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, arr, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("Cached nulls in %s", path)
    return path
