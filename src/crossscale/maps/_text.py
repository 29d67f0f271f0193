"""Read the text tables users give: say what a file is when it is not a text table.

One reader for every table crossscale reads (maps, subject tables, covariates, spread cohorts):
it detects empty files, Excel workbooks and other binary files named ``.csv``, decodes text that
is not UTF-8 (UTF-16 with a byte-order mark, Windows-1252, Latin-1; logged), and reads the
European CSV dialect (``;`` separators, decimal commas, the Unicode minus sign ``−``).
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from crossscale._errors import InputDataError

logger = logging.getLogger(__name__)

_MAGIC = [
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"\x7fELF", "a program (ELF binary)"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"\x89HDF", "an HDF5 file"),
    (b"MATLAB", "a MATLAB .mat file"),
]
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?(\d+,\d*|,\d+|\d+)([eE][+-]?\d+)?\s*$")
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-", "\uff0d": "-"})


def _excel_message(path: Path, what: str, kind: str) -> str:
    return (
        f"{what} '{path}' is {kind}, not a text table, although it is named "
        f"'{path.suffix or path.name}'. In Excel or LibreOffice use File > Save As > 'CSV UTF-8 "
        "(comma delimited)'; or convert it with pandas.read_excel(...).to_csv(...)."
    )


def read_text(path: str | os.PathLike[str], what: str = "The file") -> str:
    """The text of a table file, decoded, with the Unicode minus and dashes turned into ``-``.

    Parameters
    ----------
    path : path-like
        A text file.
    what : str
        How messages refer to the file (``"The map"``).

    Returns
    -------
    text : str

    Raises
    ------
    InputDataError
        Missing, empty, Excel or other binary file (named by what it is).
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"{what} '{path}' does not exist. Check the path.")
    if path.is_dir():
        raise InputDataError(f"{what} '{path}' is a folder; give the file itself.")
    from crossscale._files import check_regular_file

    check_regular_file(path, what)
    raw = path.read_bytes()
    if not raw.strip():
        raise InputDataError(
            f"{what} '{path}' is empty ({len(raw)} bytes). Check that the file was saved, and "
            "that the right path was given."
        )
    if raw.startswith(b"PK\x03\x04"):
        if b"xl/" in raw[:4096] or path.suffix.lower() in (".xlsx", ".xlsm", ".csv"):
            raise InputDataError(_excel_message(path, what, "an Excel workbook (.xlsx)"))
        raise InputDataError(f"{what} '{path}' is a zip archive, not a text table. Unzip it.")
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputDataError(_excel_message(path, what, "an old-style Excel workbook (.xls)"))
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            raise InputDataError(
                f"{what} '{path}' is {kind}, not a text table (CSV/TSV). Give the table file."
            )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
        logger.info("%s '%s' is UTF-16 text; read as such", what, path)
    elif b"\x00" in raw[:8192]:
        raise InputDataError(
            f"{what} '{path}' is a binary file (it holds NUL bytes), not a text table. Export "
            "the data as CSV."
        )
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            for enc, name in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
                try:
                    text = raw.decode(enc)
                except UnicodeDecodeError:
                    continue
                logger.warning(
                    "%s '%s' is not UTF-8 (byte %d); read it as %s. If names look wrong, save "
                    "the file as UTF-8.",
                    what,
                    path,
                    err.start,
                    name,
                )
                break
    return text.translate(_MINUS)


def _separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in ("\t", ";", ",")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else r"\s+"


def _decimal_commas(table: pd.DataFrame, skip: set[str]) -> pd.DataFrame:
    """Columns of numbers written with decimal commas (``-0,25``) become floats."""
    for c in table.columns:
        col = table[c]
        if c in skip or pd.api.types.is_numeric_dtype(col):
            continue
        text = col.dropna().astype(str).str.strip()
        text = text[text != ""]
        if len(text) and text.str.contains(",").any() and text.map(_DECIMAL_COMMA.match).all():
            table[c] = pd.to_numeric(col.astype("string").str.strip().str.replace(",", "."))
    return table


def _is_number(cell: str) -> bool:
    cell = cell.strip().strip('"').strip()
    try:
        float(cell.replace(",", ".") if _DECIMAL_COMMA.match(cell) else cell)
    except ValueError:
        return False
    return cell.lower() not in ("nan", "inf", "-inf", "infinity")


def _check_header(path: Path, what: str, first: str, sep: str) -> None:
    """Refuse a table whose first line is data (no header) or names a column twice."""
    cells = [c.strip().strip('"').strip() for c in re.split(sep, first.strip())]
    named = [c for c in cells if c]
    dupes = sorted({c for c in named if named.count(c) > 1})
    if dupes:
        raise InputDataError(
            f"{what} '{path}' names the column(s) {', '.join(map(repr, dupes))} twice in its "
            "header, so it is not clear which to use. Rename or remove the duplicate column."
        )
    numbers = [c for c in named if _is_number(c)]
    if not numbers:
        return
    from crossscale.atlas.names import looks_like

    texts = [c for c in named if not _is_number(c)]
    region_like = bool(texts) and looks_like(texts) is not None
    if region_like or len(numbers) == len(named):
        raise InputDataError(
            f"{what} '{path}' has no header line: its first line ({first.strip()[:60]!r}) is "
            "data, not column names. Add a header line such as 'region,d' at the top (reading "
            "it as a header would lose that row)."
        )


def read_delimited(
    path: str | os.PathLike[str],
    what: str = "The table",
    *,
    text_columns: Callable[[pd.Index], list[str]] | None = None,
) -> pd.DataFrame:
    """Read a comma, semicolon, tab or space separated table, whatever its encoding.

    Parameters
    ----------
    path : path-like
        Text table; the separator is the most frequent of tab, ``;`` and ``,`` in the header
        (whitespace if none). With ``;`` or tab separators, numbers with decimal commas are read.
    what : str
        How messages refer to the file.
    text_columns : callable or None
        Given the header's columns, the columns to keep as text (e.g. subject IDs).

    Returns
    -------
    table : pandas.DataFrame

    Raises
    ------
    InputDataError
        See :func:`read_text`; also a header without data rows, or text that is not a table.
    """
    path = Path(path)
    text = read_text(path, what)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    sep = _separator(lines[0])
    _check_header(path, what, lines[0], sep)
    try:
        cols = pd.read_csv(io.StringIO(text), sep=sep, nrows=0).columns
        dtype = dict.fromkeys(text_columns(cols), str) if text_columns is not None else None
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=dtype)
    except InputDataError:
        raise
    except Exception as err:
        raise InputDataError(
            f"Could not read {what} '{path}' as a table (separator {sep!r}): "
            f"{str(err).strip()}. Save it as a CSV file with one header line."
        ) from err
    if table.empty and len(table.columns):
        raise InputDataError(
            f"{what} '{path}' has a header line ({', '.join(map(str, table.columns[:6]))}) but "
            "no data rows."
        )
    table.columns = [str(c).strip() for c in table.columns]
    return _decimal_commas(table, set(dtype or ()))  # also quoted "0,25" in a comma CSV
