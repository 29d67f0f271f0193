"""What every subject-table reader shares: numeric cells, region columns, measures, subject IDs.

:func:`finish_table` turns a raw subject x column table into the readers' common form (see
:mod:`crossscale.maps.readers`): region columns canonicalised and in ENIGMA order, other columns
dropped (logged), cells numeric, ``attrs`` with measure, units and source.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError
from crossscale._format import format_list
from crossscale.atlas.names import DK_REGIONS, canonical_region, to_canonical
from crossscale.maps._text import read_delimited

logger = logging.getLogger("crossscale.maps.readers")

#: FreeSurfer stats-file column of each measure, and its units.
MEASURES: dict[str, tuple[str, str]] = {
    "thickness": ("ThickAvg", "mm"),
    "area": ("SurfArea", "mm^2"),
    "volume": ("GrayVol", "mm^3"),
}
_SUFFIX_MEASURE = {
    "thickness": "thickness", "thickavg": "thickness", "thick": "thickness",
    "area": "area", "surfavg": "area", "surfarea": "area",
    "volume": "volume", "grayvol": "volume", "vol": "volume",
}  # fmt: skip
#: Non-regional columns that FreeSurfer and ENIGMA tables carry; dropped quietly (logged).
_KNOWN_EXTRAS = re.compile(
    r"^(?:(?:lh|rh)_(?:MeanThickness|WhiteSurfArea)_\w+|BrainSegVol\w*|eTIV|ICV|"
    r"[LR](?:Thickness|SurfArea)|SubjID|subject)$",
    re.IGNORECASE,
)

_list = functools.partial(format_list, limit=8)

_NA_STRINGS = ("", "na", "n/a", "nan", "null", "none", "#n/a", "-nan")


def _measure_from_names(names) -> str | None:
    found = set()
    for n in names:
        last = str(n).lower().replace("-", "_").rsplit("_", 1)[-1]
        if last in _SUFFIX_MEASURE:
            found.add(_SUFFIX_MEASURE[last])
    return found.pop() if len(found) == 1 else None


def numeric_table(table: pd.DataFrame, *, what: str) -> pd.DataFrame:
    """Convert every cell of `table` to float; blanks/NA become NaN, other text is an error.

    Parameters
    ----------
    table : pandas.DataFrame
        Any table (subjects in rows).
    what : str
        How the error message refers to the table.

    Returns
    -------
    table : pandas.DataFrame
        Same index and columns, float64.

    Raises
    ------
    InputDataError
        If a cell holds text that is not a number; the message names subject, column and value.
    """
    cols, bad_cells = {}, []
    for j in range(table.shape[1]):
        col = table.iloc[:, j]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            cols[j] = col.to_numpy(dtype=float)
            continue
        num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        if np.isnan(num).any():
            text = col.astype("string").str.strip().str.lower()
            blank = col.isna().to_numpy() | text.isin(_NA_STRINGS).fillna(True).to_numpy()
            for r in np.flatnonzero(np.isnan(num) & ~blank):
                bad_cells.append((r, j))
        cols[j] = num
    out = pd.DataFrame(
        np.column_stack([cols[j] for j in range(table.shape[1])]) if cols else None,
        index=table.index,
        columns=table.columns,
    )
    if bad_cells:
        rows, cols_ = (np.array(x) for x in zip(*bad_cells, strict=True))
        cells = [
            f"subject '{table.index[r]}', column '{table.columns[c]}': {table.iat[r, c]!r}"
            for r, c in zip(rows[:8], cols_[:8], strict=True)
        ]
        more = f"; … ({len(rows) - 8} more)" if len(rows) > 8 else ""
        raise InputDataError(
            f"{what} has {len(rows)} non-numeric cell(s): {'; '.join(cells)}{more}. Every "
            "regional value must be a number; leave a cell empty (or NA) for a missing value."
        )
    return out


def check_unique_subjects(index: pd.Index, *, what: str) -> None:
    """Raise InputDataError naming the subject IDs that occur more than once in `index`."""
    dup = index[index.duplicated()].unique()
    if len(dup):
        raise InputDataError(
            f"{what} lists {len(dup)} subject(s) more than once: {_list(dup)}. Keep one row per "
            "subject (for longitudinal data, select one visit)."
        )


def finish_table(
    wide: pd.DataFrame, *, what: str, source: str, measure: str | None, units: str | None
) -> pd.DataFrame:
    """Select and canonicalise region columns, make numeric, record attrs."""
    wide = wide.copy()
    wide.index = pd.Index(wide.index.astype(str).str.strip(), name="subject")
    check_unique_subjects(wide.index, what=what)
    keep, extras, unknown = [], [], []
    for c in wide.columns:
        if canonical_region(str(c)) is not None:
            keep.append(c)
        elif _KNOWN_EXTRAS.match(str(c).strip()):
            extras.append(c)
        elif re.match(r"^(?:lh|rh|l|r)[_.\-]", str(c).strip(), re.IGNORECASE):
            unknown.append(c)  # looks like a region name: a typo is an error, not a drop
        else:
            extras.append(c)
    if unknown:
        to_canonical(unknown, what=what)  # raises with suggestions
    if not keep:
        raise InputDataError(
            f"{what} has no Desikan-Killiany region columns (columns: {_list(wide.columns)}). "
            "Expected names such as 'L_bankssts_thickavg' (ENIGMA) or 'lh_bankssts_thickness' "
            "(FreeSurfer aparcstats2table)."
        )
    if extras:
        logger.info("%s: dropped %d non-regional column(s): %s", what, len(extras), _list(extras))
    canon = to_canonical(keep, what=what)
    table = numeric_table(wide[keep], what=what)
    table.columns = pd.Index(canon, name="region")
    order = [r for r in DK_REGIONS if r in table.columns]
    missing = [r for r in DK_REGIONS if r not in table.columns]
    if missing:
        logger.warning("%s has no column for %d region(s): %s", what, len(missing), _list(missing))
    table = table[order]
    table.columns.name = "region"
    measure = measure or _measure_from_names(keep)
    if units is None and measure in MEASURES:
        units = MEASURES[measure][1]
    table.attrs = {"measure": measure, "units": units, "source": source}
    return table


def _subject_column(raw: pd.DataFrame, subject_column: str | None, path: Path) -> str:
    if subject_column is not None:
        if subject_column not in raw.columns:
            raise InputDataError(
                f"'{path}' has no subject column '{subject_column}' (columns: "
                f"{_list(raw.columns)})."
            )
        return subject_column
    lower = {str(c).lower(): c for c in raw.columns}
    for cand in ("subjid", "subject", "subject_id", "subjectid", "participant_id", "id", "rid"):
        if cand in lower:
            return lower[cand]
    return raw.columns[0]


def read_subject_csv(path: Path, what: str, subject_column: str | None) -> tuple[pd.DataFrame, str]:
    """Read a delimited table whose subject-ID column stays text; return it and that column."""
    raw = read_delimited(
        path,
        what,
        text_columns=lambda c: [_subject_column(pd.DataFrame(columns=c), subject_column, path)],
    )
    return raw, _subject_column(raw, subject_column, path)
