"""Read regional maps from files: any CSV with a region column and a value column."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from crossscale._errors import InputDataError
from crossscale.atlas.names import canonical_region, validate_regional_map
from crossscale.datasets import fetch
from crossscale.maps._text import read_delimited
from crossscale.maps.checks import check_map_values

_VALUE_PREFERENCE = ("d", "d_icv", "cohens_d", "effect_size", "value", "t", "atrophy", "beta")


def read_regional_map(
    path: str | os.PathLike[str],
    *,
    region_column: str | None = None,
    value_column: str | None = None,
    min_regions: int = 10,
) -> pd.Series:
    """Read a regional map from a CSV/TSV file.

    The region column is the first column whose values look like Desikan-Killiany names (ENIGMA
    ``L_bankssts``, FreeSurfer ``lh_bankssts_thickness``, ``ctx-lh-bankssts`` …); the value column
    is the first of ``d``, ``d_icv``, ``value``, ``t`` … or else the only numeric column.

    Parameters
    ----------
    path : path-like
        CSV (or tab-separated) file.
    region_column, value_column : str or None
        Column names, when the guess is not wanted.
    min_regions : int
        Fewest cortical regions accepted.

    Returns
    -------
    map : pandas.Series, shape (n_regions,)
        Index ``region`` (canonical, ENIGMA order); ``attrs['source']`` is the path.

    Raises
    ------
    InputDataError
        Unreadable file, no region or value column, NaN, constant map, too few regions.
    RegionMismatchError
        Unknown or duplicated region names (with suggestions).
    """
    path = Path(path)
    table = read_delimited(path, "The map file")
    if region_column is None:
        scores = {
            c: table[c].astype(str).map(canonical_region).notna().mean()
            for c in table.columns
            if not pd.api.types.is_numeric_dtype(table[c])  # object, or str in pandas 3
        }
        good = [c for c, s in scores.items() if s >= 0.5]
        if not good:
            raise InputDataError(
                f"'{path}' has no column of Desikan-Killiany region names (columns: "
                f"{list(table.columns)}). Add a column such as 'region' with names like "
                "'L_bankssts', or pass region_column= / --region-column."
            )
        region_column = max(good, key=lambda c: scores[c])
    elif region_column not in table.columns:
        raise InputDataError(
            f"'{path}' has no column '{region_column}' (columns: {list(table.columns)})."
        )
    if value_column is None:
        lower = {str(c).lower(): c for c in table.columns if c != region_column}
        value_column = next((lower[v] for v in _VALUE_PREFERENCE if v in lower), None)
        if value_column is None:
            numeric = [
                c
                for c in table.columns
                if c != region_column and pd.api.types.is_numeric_dtype(table[c])
            ]
            if len(numeric) != 1:
                raise InputDataError(
                    f"'{path}' has {len(numeric)} numeric columns ({numeric}); say which holds the "
                    "map with value_column= / --value-column."
                )
            value_column = numeric[0]
    elif value_column not in table.columns:
        raise InputDataError(
            f"'{path}' has no column '{value_column}' (columns: {list(table.columns)})."
        )
    s = pd.Series(
        table[value_column].to_numpy(),
        index=table[region_column].astype(str),
        name=str(value_column),
    )
    s.attrs = {"source": str(path), "value_column": str(value_column)}
    what = f"The map '{path.name}'"
    return check_map_values(validate_regional_map(s, min_regions=min_regions, what=what), what=what)


def load_enigma_map(name: str) -> pd.Series:
    """An ENIGMA Toolbox case-control cortical-thickness Cohen's d map.

    Parameters
    ----------
    name : str
        Registry key such as ``enigma_scz_case_controls_thickness`` (``crossscale data list``).

    Returns
    -------
    d : pandas.Series, shape (68,)
        Cohen's d (patients - controls, ICV-adjusted); negative = thinner in patients.

    References
    ----------
    .. [1] Lariviere S. et al. (2021). The ENIGMA Toolbox. Nat Methods 18, 698-700.
    """
    s = read_regional_map(fetch(name), region_column="Structure", value_column="d_icv")
    s.name = name
    s.attrs.update({"units": "Cohen's d (patients - controls)", "source": name})
    return s
