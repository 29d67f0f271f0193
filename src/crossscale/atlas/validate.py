"""Validation of a regional map against an atlas: canonical names, atlas order, finite values.

Kept apart from :mod:`crossscale.atlas.names` (spellings) and :mod:`crossscale.atlas.atlases`
(the atlas objects) because it needs both; importing it from either would make an import cycle.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, RegionMismatchError
from crossscale._format import format_list
from crossscale.atlas.lookup import get_atlas

_list = functools.partial(format_list, limit=8)


def validate_regional_map(
    values: pd.Series,
    *,
    regions: pd.Index | None = None,
    min_regions: int = 10,
    what: str = "The 'map'",
    atlas: object = None,
) -> pd.Series:
    """Check a regional map and return it indexed by canonical region names in atlas order.

    Parameters
    ----------
    values : pandas.Series, shape (n_regions,)
        Values indexed by region names in any spelling the atlas accepts.
    regions : pandas.Index or None
        Regions that must all be present; None requires at least `min_regions` regions.
    min_regions : int
        Fewest regions accepted when `regions` is None.
    what : str
        How the error message refers to the input.
    atlas : str, Atlas or None
        The parcellation (:func:`crossscale.atlas.get_atlas`; default: the atlas in use, else
        Desikan-Killiany).

    Returns
    -------
    map : pandas.Series
        Float values, index ``region`` with canonical names, in atlas order.

    Raises
    ------
    RegionMismatchError
        Unknown, duplicated or missing regions (with suggestions).
    InputDataError
        NaN or non-numeric values, a constant map, or too few regions.
    """
    atlas = get_atlas(atlas)  # type: ignore[arg-type]
    canon = atlas.match(values.index, what=what)
    s = pd.Series(pd.to_numeric(values.to_numpy(), errors="coerce"), index=canon, dtype=float)
    bad = [orig for orig, v, raw in zip(values.index, s, values, strict=True) if pd.isna(v)]
    if bad:
        raise InputDataError(
            f"{what} has {len(bad)} region(s) with a missing or non-numeric value: {_list(bad)}. "
            "Fill them in, or remove those rows and pass a map on the remaining regions."
        )
    inf = [orig for orig, v in zip(values.index, s, strict=True) if v in (np.inf, -np.inf)]
    if inf:
        raise InputDataError(
            f"{what} has {len(inf)} infinite value(s) in {_list(inf)}. Every value must be a "
            "finite number; check how the map was computed."
        )
    if regions is not None:
        missing = [r for r in regions if r not in s.index]
        if missing:
            raise RegionMismatchError(
                f"{what} lacks {len(missing)} of the {len(regions)} regions needed: "
                f"{_list(missing)}. Add values for them."
            )
        s = s.loc[list(regions)]
    else:
        order = [r for r in atlas.regions if r in s.index]
        s = s.loc[order]
        if len(s) < min_regions:
            raise InputDataError(
                f"{what} has only {len(s)} region(s); at least {min_regions} are needed to fit "
                f"and cross-validate a model. Provide a map on more {atlas.title} regions."
            )
    if float(s.max() - s.min()) <= 1e-9 * float(s.abs().max()):  # constant relative to scale
        raise InputDataError(
            f"{what} is constant (every region is {float(s.iloc[0])!r}); there is nothing to "
            "predict. Check that the value column is the effect size, not a count or label."
        )
    s.index = pd.Index(s.index, name="region")
    s.name = values.name
    s.attrs = dict(values.attrs)
    return s
