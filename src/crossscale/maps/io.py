"""Read regional maps from files: any CSV with a region column and a value column."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from crossscale._errors import InputDataError
from crossscale.atlas.atlases import Atlas
from crossscale.atlas.lookup import get_atlas
from crossscale.atlas.names import looks_like
from crossscale.atlas.validate import validate_regional_map
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
    atlas: str | Atlas | None = None,
) -> pd.Series:
    """Read a regional map from a CSV/TSV file.

    The region column is the first column whose values look like region names of the atlas
    (Desikan-Killiany: ENIGMA ``L_bankssts``, FreeSurfer ``lh_bankssts_thickness``,
    ``ctx-lh-bankssts`` …; Schaefer ``7Networks_LH_Vis_1`` or ``LH_Vis_1``; Glasser ``L_V1`` or
    ``L_V1_ROI``); the value column is the first of ``d``, ``d_icv``, ``value``, ``t`` … or else
    the only numeric column.

    Parameters
    ----------
    path : path-like
        CSV (or tab-separated) file.
    region_column, value_column : str or None
        Column names, when the guess is not wanted.
    min_regions : int
        Fewest regions accepted.
    atlas : str, Atlas or None
        The parcellation of the map (:func:`crossscale.atlas.get_atlas`; default: the atlas in
        use, else Desikan-Killiany).

    Returns
    -------
    map : pandas.Series, shape (n_regions,)
        Index ``region`` (canonical, atlas order); ``attrs['source']`` is the path and
        ``attrs['atlas']`` the atlas name.

    Raises
    ------
    InputDataError
        Unreadable file, no region or value column, NaN, constant map, too few regions.
    RegionMismatchError
        Unknown or duplicated region names (with suggestions).
    """
    path = Path(path)
    atlas = get_atlas(atlas)
    table = read_delimited(path, "The map file")
    if region_column is None:
        text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
        scores = {c: table[c].astype(str).map(atlas.canonical).notna().mean() for c in text}
        good = [c for c, s in scores.items() if s >= 0.5]
        if not good:
            raise InputDataError(_no_region_column(path, table, text, atlas))
        region_column = max(good, key=lambda c: scores[c])
    elif region_column not in table.columns:
        raise InputDataError(
            f"'{path}' has no column '{region_column}' (columns: {list(table.columns)})."
        )
    elif pd.api.types.is_numeric_dtype(table[region_column]):
        raise InputDataError(
            f"--region-column {region_column}: the column '{region_column}' of '{path}' holds "
            f"numbers, not region names (columns: {list(table.columns)}). Give the column of "
            "names (e.g. --region-column region), or leave --region-column out to find it."
        )
    if value_column is not None and value_column == region_column:
        raise InputDataError(
            f"--value-column and --region-column both name '{value_column}' in '{path}'; the "
            "values and the region names must be two different columns."
        )
    if value_column is None:
        value_column = _guess_value_column(path, table, region_column)
    elif value_column not in table.columns:
        raise InputDataError(
            f"'{path}' has no column '{value_column}' (columns: {list(table.columns)})."
        )
    s = pd.Series(
        table[value_column].to_numpy(),
        index=table[region_column].astype(str),
        name=str(value_column),
    )
    s.attrs = {"source": str(path), "value_column": str(value_column),
               "region_column": str(region_column), "atlas": atlas.name}  # fmt: skip
    what = f"The map '{path.name}'"
    out = validate_regional_map(s, min_regions=min_regions, what=what, atlas=atlas)
    return check_map_values(out, what=what)


def _no_region_column(path: Path, table: pd.DataFrame, text: list, atlas: Atlas) -> str:
    """The message for a table without names of `atlas`: say which atlas the names look like."""
    for c in text:
        family = looks_like(table[c].astype(str))
        if family is None:
            continue
        example = table[c].astype(str).iloc[0]
        if family == "destrieux":
            return (
                f"The column '{c}' of '{path}' holds region names, but they look like Destrieux "
                f"(FreeSurfer aparc.a2009s) names (e.g. '{example}'), not {atlas.title} ones; "
                "crossscale has no Destrieux atlas. Use a map parcellated with Desikan-Killiany "
                "(aparc), Schaefer or Glasser, or give the Destrieux .annot files as --atlas "
                "lh.aparc.a2009s.annot,rh.aparc.a2009s.annot with an --expression matrix."
            )
        names = {"dk": "dk", "dk-subcortex": "dk-subcortex", "schaefer": "schaefer200",
                 "glasser": "glasser360"}  # fmt: skip
        if atlas.name.startswith(family.split("-")[0]) and family != "dk-subcortex":
            continue  # the right family: the names are misspelt (reported by the validator)
        titles = {"dk": "Desikan-Killiany", "dk-subcortex": "Desikan-Killiany + subcortex",
                  "schaefer": "Schaefer", "glasser": "Glasser (HCP-MMP1.0)"}  # fmt: skip
        suggestion = names[family]
        how = (f"--atlas {suggestion} (atlas='{suggestion}')" if family != "schaefer" else
               "--atlas schaefer100, schaefer200, schaefer300 or schaefer400, the one with "
               "their number of parcels")  # fmt: skip
        return (
            f"The column '{c}' of '{path}' holds region names, but they look like "
            f"{titles[family]} names (e.g. '{example}'), not {atlas.title} ones. Pass their "
            f"atlas: {how}."
        )
    return (
        f"'{path}' has no column of {atlas.title} region names (columns: "
        f"{list(table.columns)}). Add a column such as 'region' with names like "
        f"{atlas.names.examples or repr(atlas.regions[0])}, or pass region_column= / "
        "--region-column."
    )


#: Columns of the table `crossscale vulnerability` writes (its map is the column ``d``).
_VULNERABILITY_COLUMNS = {"d", "se", "ci_low", "ci_high", "t", "p", "fdr_p", "n_case", "n_control"}


def _guess_value_column(path: Path, table: pd.DataFrame, region_column: str) -> str:
    """The value column of a map when none is named; refuse when two columns could be it."""
    lower = {str(c).lower(): c for c in table.columns if c != region_column}
    named = [lower[v] for v in _VALUE_PREFERENCE if v in lower]
    numeric = [c for c in table.columns
               if c != region_column and pd.api.types.is_numeric_dtype(table[c])]  # fmt: skip
    if len(named) > 1 and _VULNERABILITY_COLUMNS <= set(table.columns):
        return "d"  # the layout `crossscale vulnerability` writes: its map is Cohen's d
    if len(named) > 1:
        raise InputDataError(
            f"'{path}' has {len(named)} columns that could hold the map "
            f"({', '.join(map(repr, named))}); crossscale will not guess which. Name it with "
            f"--value-column (value_column=), e.g. --value-column {named[0]}."
        )
    if named:
        return named[0]
    if len(numeric) != 1:
        if not numeric:
            raise InputDataError(
                f"'{path}' has no numeric column besides the region names '{region_column}' "
                f"(columns: {list(table.columns)}); give a column of numbers (e.g. 'd'), and "
                "check the separator and the decimal mark."
            )
        raise InputDataError(
            f"'{path}' has {len(numeric)} numeric columns ({numeric}); say which holds the map "
            "with value_column= / --value-column."
        )
    return numeric[0]


def load_bigbrain_map(atlas: str | Atlas | None = None) -> pd.Series:
    """The BigBrain histological gradient in a built-in atlas (cortex only).

    The first principal gradient of BigBrain microstructure profile covariance (Paquola et al.
    2019), averaged in the parcels of the atlas by the ENIGMA Toolbox: a real regional map for
    every built-in parcellation (``dk``, ``dk-subcortex``: its 68 cortical regions, Schaefer,
    Glasser).

    Parameters
    ----------
    atlas : str, Atlas or None
        A built-in atlas (default: the atlas in use, else ``dk``).

    Returns
    -------
    gradient : pandas.Series, shape (n_cortical_regions,)
        Unitless; index ``region`` in atlas order.

    Raises
    ------
    ParameterError
        A user atlas (no BigBrain map was made for it).

    References
    ----------
    .. [1] Paquola C. et al. (2019). Microstructural and functional gradients are increasingly
       dissociated in transmodal cortices. PLoS Biol 17, e3000284.
    .. [2] Lariviere S. et al. (2021). The ENIGMA Toolbox. Nat Methods 18, 698-700.
    """
    import numpy as np

    from crossscale._errors import ParameterError

    atlas = get_atlas(atlas)
    if atlas.info is None or atlas.info.bigbrain is None:
        raise ParameterError(
            f"No BigBrain gradient map is available for the atlas '{atlas.name}'; use a built-in "
            "atlas (dk, schaefer100 ... schaefer400, glasser360)."
        )
    key = atlas.info.bigbrain
    values = np.loadtxt(fetch(key), delimiter=",", ndmin=1)
    regions = atlas.cortex_regions
    if len(values) != len(regions):  # pragma: no cover - checksum-verified files
        raise InputDataError(f"{key} has {len(values)} values for {len(regions)} regions.")
    out = pd.Series(values, index=regions, name=f"BigBrain gradient ({atlas.name})")
    out.attrs = {"units": "gradient score (unitless)", "source": key, "atlas": atlas.name,
                 "description": "BigBrain histological gradient (Paquola et al. 2019)"}  # fmt: skip
    return out


def load_enigma_map(name: str) -> pd.Series:
    """An ENIGMA Toolbox case-control Cohen's d map of cortical thickness or surface area.

    Parameters
    ----------
    name : str
        Registry key such as ``enigma_scz_case_controls_thickness`` or
        ``enigma_scz_case_controls_surfarea`` (``crossscale data list``).

    Returns
    -------
    d : pandas.Series, shape (68,)
        Cohen's d (patients - controls, ICV-adjusted); negative = thinner (smaller) in patients.

    References
    ----------
    .. [1] Lariviere S. et al. (2021). The ENIGMA Toolbox. Nat Methods 18, 698-700.
    """
    s = read_regional_map(fetch(name), region_column="Structure", value_column="d_icv")
    s.name = name
    s.attrs.update({"units": "Cohen's d (patients - controls)", "source": name})
    return s
