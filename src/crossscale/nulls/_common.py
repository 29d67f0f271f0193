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
from crossscale.atlas.names import DK_REGIONS, dk_regions, to_canonical

logger = logging.getLogger(__name__)

RandomState = int | np.integer | np.random.Generator | None

#: Bump when the algorithm of a null changes, so stale cached files are not reused.
CACHE_VERSION = 1


def check_regions(regions: pd.Index | list[str] | None) -> pd.Index:
    """Canonical region names in the given order (default: the 68 Desikan-Killiany regions).

    Raises
    ------
    RegionMismatchError
        Unknown or duplicated region names, or fewer than two regions.
    """
    if regions is None:
        return dk_regions()
    names = to_canonical(list(regions), what="regions")
    if len(names) < 2:
        raise RegionMismatchError(
            f"regions must hold at least 2 Desikan-Killiany regions, got {len(names)}: "
            f"{list(names)}. Pass more regions, or None for all 68."
        )
    return pd.Index(names, name="region")


def hemisphere_groups(regions: pd.Index) -> dict[str, np.ndarray]:
    """Positions in `regions` of the regions of each hemisphere, ``{"L": idx, "R": idx}``."""
    hemi = np.array([r.split("_", 1)[0] for r in regions])
    return {h: np.flatnonzero(hemi == h) for h in ("L", "R") if (hemi == h).any()}


def atlas_index(regions: pd.Index) -> np.ndarray:
    """Index of each region in ``DK_REGIONS``, shape (n_regions,)."""
    return np.array([DK_REGIONS.index(r) for r in regions], dtype=np.int64)


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
