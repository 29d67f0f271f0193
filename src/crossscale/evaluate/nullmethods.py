"""Null maps for null refits: the method names null refits accept, and the null maps themselves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas.graph import RegionGraph
from crossscale.nulls.generate import NULL_METHODS

#: Short names of null refits: ``"spin"`` is the Hungarian spin test, ``"moran"`` Moran
#: spectral randomisation. Every method of :func:`crossscale.nulls.generate_nulls` is accepted
#: by its own name as well (``"vertex"``, ``"vasa"``, ``"alexander_bloch"``, ``"moran_pair"`` …).
NULL_ALIASES = {"spin": "hungarian", "moran": "moran"}

#: Every name :func:`crossscale.evaluate.null_distribution` accepts for `nulls`.
NULL_CHOICES = (*NULL_ALIASES, *(m for m in NULL_METHODS if m not in NULL_ALIASES))

__all__ = ["NULL_ALIASES", "NULL_CHOICES", "make_nulls", "resolve_null_method"]


def resolve_null_method(nulls: str) -> str:
    """The :func:`~crossscale.nulls.generate_nulls` method of a null name (``"spin"`` -> ``"hungarian"``).

    Raises
    ------
    ParameterError
        Unknown name; the message lists every accepted one.
    """
    method = NULL_ALIASES.get(nulls, nulls)
    if method not in NULL_METHODS:
        raise ParameterError(
            f"nulls must be {', '.join(map(repr, NULL_CHOICES))} or an array of null maps "
            f"(n_regions, n_perm); got {nulls!r}."
        )
    return method


def make_nulls(
    y: pd.Series, graph: RegionGraph, nulls: Any, n_perm: int, seed: int
) -> tuple[np.ndarray, str]:
    """Null maps of shape (n_regions, n_perm) in ``graph.regions`` order, and the method name.

    `nulls` is a name (see :data:`NULL_CHOICES`) or an array / DataFrame of null maps given by the
    caller (method ``"array"``).

    Raises
    ------
    ParameterError
        Unknown method name.
    InputDataError
        An array of the wrong shape or with NaN.
    """
    regions = list(graph.regions)
    if isinstance(nulls, str):
        from crossscale.nulls import generate_nulls

        method = resolve_null_method(nulls)
        values = y.loc[regions].astype(float)
        arr = generate_nulls(values, method, n_perm=n_perm, random_state=seed, graph=graph)
        return np.asarray(arr, dtype=float), method
    if isinstance(nulls, pd.DataFrame):
        nulls = nulls.loc[regions].to_numpy(dtype=float)
    arr = np.asarray(nulls, dtype=float)
    if arr.ndim != 2 or arr.shape[0] != len(regions):
        raise InputDataError(
            f"nulls as an array must have shape (n_regions, n_perm) = ({len(regions)}, n_perm), rows "
            f"in the order of graph.regions; got shape {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise InputDataError("nulls has NaN or infinite values; every null map must be complete.")
    return arr, "array"
