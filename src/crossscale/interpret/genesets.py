"""Gene sets: GMT parsing and the Lake 2018 cell-type sets."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from crossscale._errors import InputDataError, ParameterError

logger = logging.getLogger(__name__)

_CELL_TYPE_KEYS = {"lake": "celltypes_lake", "pooled": "celltypes_pooled"}


def read_gmt(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Read a GMT gene-set file.

    Each line is ``name<TAB>description<TAB>gene<TAB>gene…``. Blank lines and lines starting with
    ``#`` are skipped; empty fields (trailing tabs) and ``NA`` descriptions are tolerated; gene
    symbols are stripped and de-duplicated in order; Windows line ends are accepted.

    Parameters
    ----------
    path : path-like
        A ``.gmt`` file.

    Returns
    -------
    sets : dict of str to list of str
        Set name -> gene symbols, in file order.

    Raises
    ------
    InputDataError
        A line has fewer than 3 fields, a set name repeats, or the file holds no set.

    References
    ----------
    .. [1] Subramanian A. et al. (2005). Gene set enrichment analysis. PNAS 102, 15545-15550
       (the GMT format).
    """
    path = Path(path)
    if not path.exists():
        raise InputDataError(f"GMT file '{path}' does not exist.")
    sets: dict[str, list[str]] = {}
    text = path.read_text(encoding="utf-8-sig")
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            raise InputDataError(
                f"'{path}' line {lineno}: a GMT line needs name, description and genes separated "
                f"by tabs; got {len(fields)} field(s): {line[:60]!r}."
            )
        name = fields[0].strip()
        if name in sets:
            raise InputDataError(f"'{path}' line {lineno}: gene set {name!r} appears twice.")
        genes = list(dict.fromkeys(g.strip() for g in fields[2:] if g.strip()))
        sets[name] = genes
    if not sets:
        raise InputDataError(f"'{path}' holds no gene set.")
    return sets


def load_cell_type_sets(which: str = "lake") -> dict[str, list[str]]:
    """Cell-type gene sets of Lake et al. (2018).

    Parameters
    ----------
    which : {"lake", "pooled"}
        ``lake``: 30 cell types (snDrop-seq); ``pooled``: 7 pooled classes.

    Returns
    -------
    sets : dict of str to list of str

    Raises
    ------
    ParameterError
        Unknown `which`.

    References
    ----------
    .. [1] Lake B.B. et al. (2018). Integrative single-cell analysis of transcriptional and
       epigenetic states in the human adult brain. Nat Biotechnol 36, 70-80.
    .. [2] Martins D. et al. (2021). imaging-transcriptomics. eLife 10, e65334 (the GMT files).
    """
    from crossscale.datasets import fetch

    if which not in _CELL_TYPE_KEYS:
        raise ParameterError(
            f"which must be one of {sorted(_CELL_TYPE_KEYS)}; got {which!r}. For another GMT file "
            "use read_gmt(path)."
        )
    return read_gmt(fetch(_CELL_TYPE_KEYS[which]))
