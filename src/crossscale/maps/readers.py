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

import functools
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale._format import format_list
from crossscale.atlas.names import DK_REGIONS, canonical_region, to_canonical
from crossscale.maps._text import read_delimited, read_text

logger = logging.getLogger(__name__)

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


def _finish(
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


def _read_csv(path: Path, what: str, text_columns=None) -> pd.DataFrame:
    """Read a delimited file (see :func:`crossscale.maps._text.read_delimited`)."""
    return read_delimited(path, what, text_columns=text_columns)


def read_aparcstats2table(*paths: str | os.PathLike[str]) -> pd.DataFrame:
    """Read FreeSurfer ``aparcstats2table`` output (one file per hemisphere).

    Parameters
    ----------
    *paths : path-like
        Tables written by ``aparcstats2table --hemi lh|rh --meas thickness|area|volume``: a
        header whose first cell is ``lh.aparc.thickness`` (subject IDs below it) and columns
        ``lh_bankssts_thickness`` ...; tab, comma or space separated. Give both hemispheres to
        get all 68 regions.

    Returns
    -------
    table : pandas.DataFrame, shape (n_subjects, n_regions)
        Index ``subject``; columns canonical regions; ``attrs`` has ``measure`` and ``units``
        (mm, mm^2 or mm^3).

    Raises
    ------
    InputDataError
        Unreadable file, non-numeric cells, duplicated subjects, or hemispheres whose subjects
        or measures differ.
    """
    if not paths:
        raise ParameterError("read_aparcstats2table needs at least one file (lh and/or rh).")
    parts = []
    measures = set()
    for p in map(Path, paths):
        raw = _read_csv(p, "The aparcstats2table file", text_columns=lambda c: [c[0]])
        first = str(raw.columns[0])
        m = re.match(r"^[lr]h\.[\w.\-]+\.(thickness|area|volume|meancurv|thicknessstd)$", first)
        if not m:
            raise InputDataError(
                f"'{p}' does not look like aparcstats2table output: its first header cell is "
                f"{first!r}, expected e.g. 'lh.aparc.thickness'."
            )
        measures.add(m.group(1))
        raw = raw.set_index(first)
        parts.append(
            _finish(raw, what=f"'{p.name}'", source=str(p), measure=m.group(1), units=None)
        )
    if len(measures) > 1:
        raise InputDataError(
            f"The aparcstats2table files hold different measures ({sorted(measures)}); "
            "give the lh and rh tables of one measure."
        )
    if len(parts) == 1:
        return parts[0]
    ids = [set(t.index) for t in parts]
    if any(s != ids[0] for s in ids[1:]):
        only = sorted(set.union(*ids) - set.intersection(*ids))
        raise InputDataError(
            f"The aparcstats2table files list different subjects: {_list(only)} are not in "
            "every file. Run aparcstats2table with the same --subjects for both hemispheres."
        )
    table = pd.concat([t.loc[parts[0].index] for t in parts], axis=1)
    to_canonical(table.columns, what="The aparcstats2table files")  # duplicated regions
    table = table[[r for r in DK_REGIONS if r in table.columns]]
    table.columns.name = "region"
    table.attrs = dict(parts[0].attrs, source=[str(p) for p in paths])
    return table


@dataclass(frozen=True)
class AparcStats:
    """One parsed FreeSurfer ``?h.aparc.stats`` file.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per structure (index ``StructName``), columns from ``# ColHeaders``.
    measures : dict
        ``# Measure`` lines: name -> (value, units), e.g. ``"eTIV": (1512140.8, "mm^3")``.
    subject, hemi : str
        From the ``# subjectname`` and ``# hemi`` lines (empty when absent).
    """

    table: pd.DataFrame
    measures: dict[str, tuple[float, str]] = field(default_factory=dict)
    subject: str = ""
    hemi: str = ""


def read_aparc_stats(path: str | os.PathLike[str]) -> AparcStats:
    """Parse a FreeSurfer ``lh.aparc.stats`` / ``rh.aparc.stats`` file.

    Parameters
    ----------
    path : path-like
        A stats file written by ``mris_anatomical_stats``: ``#`` header lines (``# Measure``,
        ``# ColHeaders StructName NumVert SurfArea GrayVol ThickAvg ...``) then one
        whitespace-separated row per structure.

    Returns
    -------
    stats : AparcStats

    Raises
    ------
    InputDataError
        Missing file, no ``# ColHeaders`` line, or rows of the wrong length or non-numeric.
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"The FreeSurfer stats file '{path}' does not exist.")
    headers: list[str] | None = None
    measures: dict[str, tuple[float, str]] = {}
    meta: dict[str, str] = {}
    rows: list[list[str]] = []
    for lineno, line in enumerate(read_text(path, "The stats file").splitlines(), start=1):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            body = s.lstrip("#").strip()
            if body.startswith("ColHeaders"):
                headers = body.split()[1:]
            elif body.startswith("Measure "):
                f = [x.strip() for x in body[len("Measure ") :].split(",")]
                if len(f) >= 5:
                    try:
                        measures[f[1]] = (float(f[3]), f[4])
                    except ValueError:
                        pass
            elif body.split(" ", 1)[0] in ("subjectname", "hemi"):
                k, _, v = body.partition(" ")
                meta[k] = v.strip()
            continue
        if headers is None:
            raise InputDataError(
                f"'{path}' line {lineno}: a data row comes before the '# ColHeaders' line; "
                "this is not a FreeSurfer aparc stats file."
            )
        fields = s.split()
        if len(fields) != len(headers):
            raise InputDataError(
                f"'{path}' line {lineno} has {len(fields)} fields, the '# ColHeaders' line "
                f"names {len(headers)}: {s!r}."
            )
        rows.append(fields)
    if headers is None:
        raise InputDataError(
            f"'{path}' has no '# ColHeaders StructName NumVert SurfArea GrayVol ThickAvg ...' "
            "line; this is not a FreeSurfer aparc stats file."
        )
    raw = pd.DataFrame(rows, columns=headers).set_index(headers[0])
    table = numeric_table(raw, what=f"The stats file '{path}'")
    return AparcStats(
        table=table,
        measures=measures,
        subject=meta.get("subjectname", ""),
        hemi=meta.get("hemi", ""),
    )


def _subject_dirs(subjects_dir: Path, parcellation: str) -> list[str]:
    return sorted(
        d.name
        for d in subjects_dir.iterdir()
        if d.is_dir() and (d / "stats" / f"lh.{parcellation}.stats").exists()
    )


def read_freesurfer_subjects(
    subjects_dir: str | os.PathLike[str],
    *,
    measure: str = "thickness",
    subjects: list[str] | None = None,
    parcellation: str = "aparc",
) -> pd.DataFrame:
    """Read one measure for every subject of a FreeSurfer ``SUBJECTS_DIR``.

    Parameters
    ----------
    subjects_dir : path-like
        Folder with one sub-folder per subject, each holding ``stats/lh.aparc.stats`` and
        ``stats/rh.aparc.stats``.
    measure : {"thickness", "area", "volume"}
        ``ThickAvg`` (mm), ``SurfArea`` (mm^2) or ``GrayVol`` (mm^3).
    subjects : list of str or None
        Subject folders to read; None reads every folder that has ``stats/lh.aparc.stats``.
    parcellation : str
        Stats file stem (``aparc`` is Desikan-Killiany).

    Returns
    -------
    table : pandas.DataFrame, shape (n_subjects, n_regions)
        Index ``subject``; columns canonical regions. ``attrs['global_measures']`` is a dict
        subject -> {``eTIV``, ``lh_MeanThickness`` ...} from the ``# Measure`` lines.

    Raises
    ------
    ParameterError
        Unknown `measure`.
    InputDataError
        Missing folder or stats files (named), or malformed stats files.
    """
    if measure not in MEASURES:
        raise ParameterError(
            f"measure={measure!r} is not supported; use one of {sorted(MEASURES)}."
        )
    root = Path(subjects_dir)
    if not root.is_dir():
        raise InputDataError(f"The FreeSurfer subjects directory '{root}' does not exist.")
    names = list(subjects) if subjects is not None else _subject_dirs(root, parcellation)
    if not names:
        raise InputDataError(
            f"'{root}' has no subject folder with 'stats/lh.{parcellation}.stats'. Point to "
            "SUBJECTS_DIR, the folder that holds one folder per subject."
        )
    missing = [
        f"{n}/stats/{h}.{parcellation}.stats"
        for n in names
        for h in ("lh", "rh")
        if not (root / n / "stats" / f"{h}.{parcellation}.stats").exists()
    ]
    if missing:
        raise InputDataError(
            f"'{root}' lacks {len(missing)} stats file(s): {_list(missing)}. Run recon-all to "
            "the end for those subjects, or leave them out with subjects=."
        )
    column, units = MEASURES[measure]
    records: dict[str, dict[str, float]] = {}
    globals_: dict[str, dict[str, float]] = {}
    for n in names:
        rec: dict[str, float] = {}
        glob: dict[str, float] = {}
        for h in ("lh", "rh"):
            st = read_aparc_stats(root / n / "stats" / f"{h}.{parcellation}.stats")
            if column not in st.table.columns:
                raise InputDataError(
                    f"'{n}/stats/{h}.{parcellation}.stats' has no column {column!r} "
                    f"(columns: {list(st.table.columns)})."
                )
            for struct, v in st.table[column].items():
                rec[f"{h}_{struct}"] = v
            for k, (v, _u) in st.measures.items():
                glob[k if k in ("eTIV", "BrainSegVol", "BrainSegVolNotVent") else f"{h}_{k}"] = v
        records[n] = rec
        globals_[n] = glob
    wide = pd.DataFrame.from_dict(records, orient="index")
    table = _finish(
        wide,
        what=f"The subjects directory '{root}'",
        source=str(root),
        measure=measure,
        units=units,
    )
    table.attrs["global_measures"] = globals_
    return table


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
    raw = _read_csv(
        path,
        "The ENIGMA table",
        text_columns=lambda c: [_subject_column(pd.DataFrame(columns=c), subject_column, path)],
    )
    raw = raw.set_index(_subject_column(raw, subject_column, path))
    return _finish(raw, what=f"The table '{path.name}'", source=str(path), measure=None, units=None)


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
    raw = _read_csv(
        path,
        "The covariates table",
        text_columns=lambda c: [_subject_column(pd.DataFrame(columns=c), subject_column, path)],
    )
    sub = _subject_column(raw, subject_column, path)
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
    raw = _read_csv(
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
    return _finish(
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
