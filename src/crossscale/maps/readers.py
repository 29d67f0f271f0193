"""Read subject-level regional tables: FreeSurfer, ENIGMA and long (tidy) formats.

Every reader returns a subject x region ``pandas.DataFrame``: index ``subject`` (str), columns a
``pandas.Index`` named ``region`` of canonical Desikan-Killiany names (``L_bankssts`` ...) in ENIGMA
order, float values. ``table.attrs`` records ``measure`` (``thickness``, ``area``, ``volume`` or
what the file says), ``units`` and ``source``. Blank or ``NA`` cells become NaN (a missing value,
e.g. a region that failed quality control); any other cell that is not a number is an error that
names the subject and the column. Columns that are not cortical regions (``eTIV``,
``lh_MeanThickness_thickness``, ENIGMA ``LThickness`` ...) are dropped and logged.

References
----------
.. [1] Fischl B. (2012). FreeSurfer. NeuroImage 62, 774-781.
.. [2] Lariviere S. et al. (2021). The ENIGMA Toolbox. Nat Methods 18, 698-700.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from crossscale._errors import InputDataError
from crossscale.maps._tables import (
    MEASURES,
    _list,
    check_unique_subjects,
    finish_table,
    numeric_table,
    read_subject_csv,
)
from crossscale.maps._text import read_delimited, read_text
from crossscale.maps.freesurfer import (
    AparcStats,
    read_aparc_stats,
    read_aparcstats2table,
    read_freesurfer_subjects,
)

__all__ = [
    "MEASURES",
    "AparcStats",
    "check_unique_subjects",
    "numeric_table",
    "read_aparc_stats",
    "read_aparcstats2table",
    "read_covariates",
    "read_delimited",
    "read_enigma_table",
    "read_freesurfer_subjects",
    "read_long_table",
    "read_subject_table",
]


def read_enigma_table(
    path: str | os.PathLike[str], *, subject_column: str | None = None
) -> pd.DataFrame:
    """Read an ENIGMA-format subject table (``SubjID, L_bankssts_thickavg, ...``).

    Parameters
    ----------
    path : path-like
        CSV with one row per subject: a subject-ID column (``SubjID`` by default, else the first
        column) and one column per region (``L_bankssts_thickavg`` for thickness in mm,
        ``L_bankssts_surfavg`` for area in mm^2). Summary columns (``LThickness``, ``ICV`` ...)
        are dropped.
    subject_column : str or None
        Name of the subject-ID column.

    Returns
    -------
    table : pandas.DataFrame, shape (n_subjects, n_regions)

    Raises
    ------
    InputDataError
        Unreadable file, no region columns, non-numeric cells, duplicated subjects.

    References
    ----------
    .. [1] ENIGMA Cortical Thickness and Surface Area protocols, enigma.ini.usc.edu/protocols.
    """
    path = Path(path)
    raw, sub = read_subject_csv(path, "The ENIGMA table", subject_column)
    return finish_table(
        raw.set_index(sub),
        what=f"The table '{path.name}'",
        source=str(path),
        measure=None,
        units=None,
    )


def read_covariates(
    path: str | os.PathLike[str], *, subject_column: str | None = None
) -> pd.DataFrame:
    """Read a covariates table such as ENIGMA ``cov.csv`` (``SubjID, Dx, Age, Sex, ICV, Site``).

    Parameters
    ----------
    path : path-like
        CSV with one row per subject.
    subject_column : str or None
        Subject-ID column; None takes ``SubjID``/``subject``/… or else the first column.

    Returns
    -------
    covariates : pandas.DataFrame
        Index ``subject`` (str); other columns as read (numbers stay numbers).

    Raises
    ------
    InputDataError
        Unreadable file or duplicated subjects.
    """
    path = Path(path)
    raw, sub = read_subject_csv(path, "The covariates table", subject_column)
    cov = raw.set_index(sub)
    cov.index = pd.Index(cov.index.astype(str).str.strip(), name="subject")
    check_unique_subjects(cov.index, what=f"The covariates table '{path.name}'")
    cov.attrs = {"source": str(path)}
    return cov


def read_long_table(
    path: str | os.PathLike[str],
    *,
    subject_column: str = "subject",
    region_column: str = "region",
    value_column: str = "value",
    measure: str | None = None,
    units: str | None = None,
) -> pd.DataFrame:
    """Read a long (tidy) table with one row per subject and region and pivot it.

    Parameters
    ----------
    path : path-like
        CSV with columns `subject_column`, `region_column` (any supported region spelling) and
        `value_column`.
    subject_column, region_column, value_column : str
        Column names.
    measure, units : str or None
        Recorded in ``attrs`` (guessed from region-name suffixes when None).

    Returns
    -------
    table : pandas.DataFrame, shape (n_subjects, n_regions)
        Subject-region pairs absent from the file are NaN (missing).

    Raises
    ------
    InputDataError
        Missing columns, a subject-region pair given twice (named), non-numeric values.
    """
    path = Path(path)
    raw = read_delimited(
        path,
        "The long table",
        text_columns=lambda c: [x for x in (subject_column, region_column) if x in c],
    )
    need = [subject_column, region_column, value_column]
    absent = [c for c in need if c not in raw.columns]
    if absent:
        raise InputDataError(
            f"'{path}' lacks column(s) {absent} (columns: {_list(raw.columns)}). Pass "
            "subject_column=, region_column=, value_column= to name them."
        )
    raw[subject_column] = raw[subject_column].astype(str).str.strip()
    raw[region_column] = raw[region_column].str.strip()
    dup = raw.duplicated([subject_column, region_column], keep=False)
    if dup.any():
        pairs = raw.loc[dup, [subject_column, region_column]].drop_duplicates()
        shown = [f"{s}/{r}" for s, r in pairs.itertuples(index=False)]
        raise InputDataError(
            f"'{path}' gives {len(shown)} subject/region pair(s) more than once: {_list(shown)}. "
            "Keep one value per subject and region (rows "
            f"{', '.join(str(i) for i in (raw.index[dup] + 2)[:16])} of the file)."
        )
    wide = raw.pivot(index=subject_column, columns=region_column, values=value_column)
    wide.columns.name = None
    return finish_table(
        wide, what=f"The long table '{path.name}'", source=str(path), measure=measure, units=units
    )


def read_subject_table(path: str | os.PathLike[str], *, measure: str = "thickness") -> pd.DataFrame:
    """Read a subject x region table in whichever supported format `path` is.

    A folder is read as a FreeSurfer ``SUBJECTS_DIR`` (`measure` selects the column); a file whose
    first header cell is ``lh.aparc.thickness``-like as aparcstats2table output (a second file
    for the other hemisphere next to it, ``rh`` for ``lh``, is read too); a file with columns
    ``subject``, ``region``, ``value`` as a long table; anything else as an ENIGMA table.

    Parameters
    ----------
    path : path-like
        File or folder.
    measure : {"thickness", "area", "volume"}
        Only used for a FreeSurfer subjects directory.

    Returns
    -------
    table : pandas.DataFrame, shape (n_subjects, n_regions)
    """
    path = Path(path)
    if path.is_dir():
        return read_freesurfer_subjects(path, measure=measure)
    if not path.exists():
        raise InputDataError(f"The table '{path}' does not exist. Check the path.")
    head = read_text(path, "The table").lstrip().splitlines()[0]
    first = re.split(r"[,\t ;]+", head.strip())[0] if head.strip() else ""
    cols = {c.strip().lower() for c in re.split(r"[,\t;]", head)}
    if re.match(r"^[lr]h\.[\w.\-]+\.\w+$", first):
        other_name = re.sub(
            r"(?<![a-z])([lr])h", lambda m: "rh" if m.group(1) == "l" else "lh", path.name, count=1
        )
        other = path.with_name(other_name)
        files = [path] + ([other] if other != path and other.exists() else [])
        return read_aparcstats2table(*sorted(files, key=lambda p: p.name.startswith("r")))
    if {"subject", "region", "value"} <= cols:
        return read_long_table(path)
    return read_enigma_table(path)
