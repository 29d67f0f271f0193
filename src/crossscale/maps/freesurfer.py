"""Read FreeSurfer outputs: ``aparcstats2table`` tables, ``?h.aparc.stats`` files, SUBJECTS_DIR.

Every reader returns the subject x region table described in :mod:`crossscale.maps.readers`.

References
----------
.. [1] Fischl B. (2012). FreeSurfer. NeuroImage 62, 774-781.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas.names import DK_REGIONS, to_canonical
from crossscale.maps._tables import MEASURES, _list, finish_table, numeric_table
from crossscale.maps._text import read_delimited, read_text


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
        raw = read_delimited(p, "The aparcstats2table file", text_columns=lambda c: [c[0]])
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
            finish_table(raw, what=f"'{p.name}'", source=str(p), measure=m.group(1), units=None)
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
    table = finish_table(
        wide,
        what=f"The subjects directory '{root}'",
        source=str(root),
        measure=measure,
        units=units,
    )
    table.attrs["global_measures"] = globals_
    return table
