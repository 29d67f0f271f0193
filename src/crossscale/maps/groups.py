"""Read a table of group-level regional maps (case-control t or d, group-mean SUVR, ...).

Three layouts are read, whichever a file has:

* **wide**: one row per map, one column per region (any spelling ``crossscale.atlas``
  understands), and optional ``map``, ``stage`` and ``time`` columns;
* **long**: one row per map and region: a region column, a ``value`` column and optional
  ``map``, ``stage``, ``time`` columns;
* **regions as rows**: a region column and one numeric column per map (the column names are the
  map names).

Column names are matched case-insensitively: map (``map``, ``name``, ``label``, ``contrast``),
stage (``stage``, ``group``, ``diagnosis``, ``dx``, ``cohort``), time (``time``, ``timepoint``,
``visit``, ``years``, ``months``). A ``subject`` column means subject-level visits, not group maps:
several subjects are refused (the subject-level model is ``crossscale spread fit``), one subject
is read with a warning.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError
from crossscale.atlas.names import canonical_region, to_canonical
from crossscale.maps._text import read_delimited

logger = logging.getLogger(__name__)

__all__ = ["GroupMaps", "read_group_maps", "sign_warnings"]

MAP_COLUMNS = ("map", "name", "label", "contrast", "map_name")
STAGE_COLUMNS = ("stage", "group", "diagnosis", "dx", "cohort")
TIME_COLUMNS = ("time", "timepoint", "visit", "years", "months", "time_years")
VALUE_COLUMNS = ("value", "t", "d", "z", "suvr", "atrophy", "w", "effect_size", "beta")
#: Numeric columns of a wide table that are not regions and are ignored.
IGNORED_COLUMNS = ("n", "n_case", "n_cases", "n_control", "n_controls", "n_patients", "age", "sex")


@dataclass(frozen=True)
class GroupMaps:
    """Group maps read from a table.

    Attributes
    ----------
    maps : pandas.DataFrame, shape (n_maps, n_regions)
        Index ``map`` (labels), columns canonical region names in file order.
    stages : pandas.Series or None
        Stage of each map (from a stage column).
    times : pandas.Series or None
        Time of each map (from a time column), float.
    layout : str
        ``"wide"``, ``"long"`` or ``"regions as rows"``.
    source : str
    warnings : list of str
    """

    maps: pd.DataFrame
    stages: pd.Series | None
    times: pd.Series | None
    layout: str
    source: str
    warnings: list = field(default_factory=list)


def _find(columns, names) -> str | None:
    low = {str(c).strip().lower(): c for c in columns}
    return next((low[n] for n in names if n in low), None)


def _labels(table: pd.DataFrame, map_col, stage_col, time_col) -> pd.Series:
    if map_col is not None:
        return table[map_col].astype(str).str.strip()
    parts = [table[c].astype(str).str.strip() for c in (stage_col, time_col) if c is not None]
    if not parts:
        return pd.Series([f"map{i + 1}" for i in range(len(table))], index=table.index)
    out = parts[0]
    for p in parts[1:]:
        out = out + "/" + p
    return out


def read_group_maps(path: str | os.PathLike[str], *, columns: Sequence[str] | None = None) -> GroupMaps:
    """Read a CSV/TSV of group maps in any of the three layouts (module docstring).

    Parameters
    ----------
    path : path-like
        CSV of group maps: wide (one row per map), long (``region``, ``value`` and
        ``map``/``stage``/``time``) or regions as rows.
    columns : sequence of str or None
        The value column(s): in a long table its value column, in a table with regions as rows
        the columns that are maps (e.g. ``["d_icv"]`` of an ENIGMA summary table, whose other
        numeric columns are standard errors, p-values and sample sizes). Default: guessed;
        a table with regions as rows that has such statistics columns must name them.

    Returns
    -------
    maps : GroupMaps

    Raises
    ------
    InputDataError
        Unreadable file, no region names, a map given twice, a ``subject`` column with several
        subjects, missing values that differ between maps, `columns` not in the table, or a
        table with regions as rows whose numeric columns include statistics other than maps
        (standard errors, p-values, sample sizes) without `columns`.
    RegionMismatchError
        Column or row names that are not region names (with suggestions).
    """
    path = Path(path)
    what = f"The group maps table '{path.name}'"
    table = read_delimited(path, "The group maps table")
    cols = list(table.columns)
    map_col, stage_col = _find(cols, MAP_COLUMNS), _find(cols, STAGE_COLUMNS)
    time_col, subj_col = _find(cols, TIME_COLUMNS), _find(cols, ("subject", "subject_id", "rid"))
    warnings: list[str] = []
    if subj_col is not None:
        n_subj = table[subj_col].nunique()
        if n_subj > 1:
            raise InputDataError(
                f"{what} has a '{subj_col}' column with {n_subj} subjects: these are "
                "subject-level visits, not group maps. Fit them with `crossscale spread fit` (the "
                "subject-level mixture), or average them into group maps (one row per stage)."
            )
        text = (f"{what} holds the visits of one subject ({table[subj_col].iloc[0]}), not group "
                "maps of a cohort: the fitted times and rates describe this subject only.")  # fmt: skip
        logger.warning("%s", text)
        warnings.append(text)
        if stage_col is None and time_col is None and map_col is None:
            map_col = subj_col
    meta = {c for c in (map_col, stage_col, time_col, subj_col) if c is not None}
    header_regions = [c for c in cols if c not in meta and canonical_region(c) is not None]
    if len(header_regions) >= 3:
        layout = "wide"
        rest = [c for c in cols if c not in meta and c not in header_regions]
        numeric_rest = [c for c in rest if pd.api.types.is_numeric_dtype(table[c])
                        and str(c).strip().lower() not in IGNORED_COLUMNS]  # fmt: skip
        if numeric_rest:  # raises with suggestions for misspelled regions
            to_canonical(numeric_rest, what=f"{what} (columns)")
        labels = _labels(table, map_col, stage_col, time_col)
        maps = table[header_regions].copy()
        maps.columns = to_canonical(header_regions, what=f"{what} (columns)")
        maps.index = pd.Index(labels, name="map")
        first = table.index
    else:
        scores = {c: table[c].astype(str).map(canonical_region).notna().mean() for c in cols
                  if not pd.api.types.is_numeric_dtype(table[c])}  # fmt: skip
        good = [c for c, v in scores.items() if v >= 0.5]
        if not good:
            raise InputDataError(
                f"{what} has neither region columns nor a column of region names (columns: "
                f"{cols[:10]}). Give one row per map with one column per region (e.g. "
                "'L_bankssts'), or a long table with columns region, value (and map/stage/time)."
            )
        reg_col = max(good, key=lambda c: scores[c])
        regions = to_canonical(table[reg_col].astype(str).str.strip(), what=f"{what} ('{reg_col}')") \
            if map_col is None and stage_col is None and time_col is None else None  # fmt: skip
        numeric = [c for c in cols if c != reg_col and c not in meta
                   and pd.api.types.is_numeric_dtype(table[c])]  # fmt: skip
        if columns is not None:
            absent = [c for c in columns if c not in numeric]
            if absent:
                raise InputDataError(
                    f"{what} has no numeric column(s) {absent} (numeric columns: {numeric})."
                )
            numeric = list(columns)
        if regions is not None:  # no map/stage/time column: each numeric column is a map
            layout = "regions as rows"
            extra = [c for c in numeric if _ancillary(c)]
            if extra and columns is None:
                raise InputDataError(
                    f"{what} has regions as rows and numeric columns {numeric}, some of which "
                    f"look like statistics rather than maps ({extra}). Say which column(s) are "
                    "maps with --columns (e.g. --columns d_icv for an ENIGMA summary table)."
                )
            if not numeric:
                raise InputDataError(f"{what} has a region column '{reg_col}' but no numeric column.")
            maps = table[numeric].T.copy()
            maps.columns = regions
            maps.index = pd.Index([str(c) for c in numeric], name="map")
            first = None
        else:
            layout = "long"
            value_col = _find(numeric, VALUE_COLUMNS) or (numeric[0] if len(numeric) == 1 else None)
            if value_col is None:
                raise InputDataError(
                    f"{what} looks like a long table (a region column '{reg_col}' and map/stage/"
                    f"time columns) but has no single value column (numeric columns: {numeric}). "
                    "Name it 'value'."
                )
            labels = _labels(table, map_col, stage_col, time_col)
            reg = to_canonical(table[reg_col].astype(str).str.strip().unique(),
                               what=f"{what} ('{reg_col}')")  # fmt: skip
            canon = dict(zip(table[reg_col].astype(str).str.strip().unique(), reg, strict=True))
            long = pd.DataFrame({"map": labels.to_numpy(),
                                 "region": table[reg_col].astype(str).str.strip().map(canon),
                                 "value": table[value_col].to_numpy()})  # fmt: skip
            dup = long.duplicated(["map", "region"], keep=False)
            if dup.any():
                pairs = long.loc[dup, ["map", "region"]].drop_duplicates().head(6)
                raise InputDataError(
                    f"{what} gives {int(dup.sum())} map/region values more than once (e.g. "
                    f"{', '.join(f'{m}/{r}' for m, r in pairs.itertuples(index=False))}). Keep "
                    "one row per map and region, or add a 'map' column that tells the maps apart."
                )
            order = list(pd.unique(long["map"]))
            maps = long.pivot(index="map", columns="region", values="value").loc[order]
            maps = maps[[r for r in pd.unique(long["region"])]]
            first = labels.drop_duplicates().index
    dup = maps.index.duplicated(keep=False)
    if dup.any():
        raise InputDataError(
            f"{what} has {int(dup.sum())} rows with the same map label "
            f"({sorted(set(maps.index[dup]))[:6]}); add a 'map' column (or stage and time "
            "columns) that tells them apart."
        )
    maps.columns.name = "region"
    try:
        maps = maps.astype(float)
    except (TypeError, ValueError) as err:
        raise InputDataError(f"{what} has non-numeric map values: {err}.") from None
    stages = times = None
    if first is not None and stage_col is not None:
        stages = pd.Series(table.loc[first, stage_col].astype(str).str.strip().to_numpy(),
                           index=maps.index, name="stage")  # fmt: skip
    if first is not None and time_col is not None:
        t = pd.to_numeric(table.loc[first, time_col].astype(str).str.strip()
                          .replace({"baseline": "0", "bl": "0"}), errors="coerce")  # fmt: skip
        times = pd.Series(t.to_numpy(float), index=maps.index, name="time")
    missing = maps.isna()
    if missing.any().any() and not missing.all(0).equals(missing.any(0)):
        partial = list(maps.columns[missing.any(0) & ~missing.all(0)])
        raise InputDataError(
            f"{what}: region(s) {partial[:8]} have values in some maps but not in others; "
            "give every map the same regions (or leave a region empty in all maps)."
        )
    maps.attrs = {"source": str(path)}
    return GroupMaps(maps=maps, stages=stages, times=times, layout=layout, source=str(path),
                     warnings=warnings)  # fmt: skip


_ANCILLARY = frozenset({
    "se", "sd", "sem", "std", "stderr", "p", "pval", "pvalue", "pobs", "pw", "fdr", "q",
    "qvalue", "padj", "n", "df", "ci", "low", "lower", "up", "upper", "high",
})  # fmt: skip


def _ancillary(name: object) -> bool:
    """A column name of a standard error, p-value, sample size or interval, not a map."""
    return bool(_ANCILLARY & set(re.split(r"[^a-z0-9]+", str(name).strip().lower())))


def sign_warnings(maps: pd.DataFrame) -> list[str]:
    """Warnings for maps whose sign looks inverted (most values negative).

    Spreading models describe pathology that grows from 0: larger values must mean more
    atrophy, tau or amyloid. A map with most regions negative (e.g. a Cohen's d of thickness,
    patients - controls) is probably inverted.

    Returns
    -------
    warnings : list of str
        One warning naming the maps, or none.
    """
    vals = maps.to_numpy(float)
    neg = np.nanmean(vals < 0, axis=1) > 0.5
    med = np.nanmedian(vals, axis=1) < 0
    bad = [str(i) for i, b in zip(maps.index, neg & med, strict=True) if b]
    if not bad:
        return []
    text = (
        f"{len(bad)} of {len(maps)} map(s) are negative in most regions ({', '.join(bad[:6])}"
        f"{' …' if len(bad) > 6 else ''}): spreading models need larger = more pathology "
        "(atrophy, tau, amyloid). If these are e.g. thickness or volume differences (patients - "
        "controls), flip their sign (--flip-sign)."
    )
    return [text]
