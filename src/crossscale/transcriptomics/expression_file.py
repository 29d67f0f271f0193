"""Your own region x gene matrix from a file (e.g. abagen's output), checked against an atlas."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from crossscale._errors import InputDataError
from crossscale.atlas.atlases import Atlas
from crossscale.transcriptomics.atlas_expression import (
    MIN_GENES,
    ExpressionReport,
    check_expression,
)

__all__ = ["read_expression"]


def read_expression(
    path: str | os.PathLike[str], atlas: str | Atlas | None = None, *, min_genes: int = MIN_GENES
) -> tuple[pd.DataFrame, ExpressionReport]:
    """Read your own region x gene matrix (e.g. abagen's output saved as CSV) for an atlas.

    Parameters
    ----------
    path : path-like
        CSV (or TSV): a region column (``label``, ``region``, ``Region`` or the first column;
        parcel names or abagen's integer labels 1..N in atlas order), then one column per gene.
    atlas : str, Atlas or None
        The atlas the matrix was made for (default: the atlas in use, else ``dk``).
    min_genes : int
        Fewest usable genes accepted.

    Returns
    -------
    expression : pandas.DataFrame, shape (n_regions, n_genes)
    report : ExpressionReport

    Raises
    ------
    InputDataError, RegionMismatchError
        As :func:`check_expression`; an unreadable file.

    Examples
    --------
    >>> import abagen  # doctest: +SKIP
    >>> abagen.get_expression_data(("lh.my.annot", "rh.my.annot")).to_csv("my_expression.csv")
    >>> X, report = read_expression("my_expression.csv", atlas="lh.my.annot,rh.my.annot")
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"The expression file '{path}' does not exist.")
    try:
        table = pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise InputDataError(
            f"The expression file '{path}' is not a readable CSV/TSV table ({err}). Save the "
            "matrix with DataFrame.to_csv."
        ) from err
    if table.shape[1] < 2:
        raise InputDataError(
            f"The expression file '{path}' has {table.shape[1]} column(s); it needs a region "
            "column and at least one gene column."
        )
    lower = {str(c).strip().lower(): c for c in table.columns}
    col = next((lower[c] for c in ("label", "region", "regions", "structure", "parcel") if c in lower),
               table.columns[0])  # fmt: skip
    table = table.set_index(col)
    return check_expression(
        table, atlas, source=str(path), min_genes=min_genes,
        description=f"your expression matrix ({path.name})",
    )  # fmt: skip
