"""Allen Human Brain Atlas regional expression and gene sets, with drop logs.

References
----------
.. [1] Hawrylycz M.J. et al. (2012). An anatomically comprehensive atlas of the adult human brain
   transcriptome. Nature 489, 391-399.
.. [2] Markello R.D. et al. (2021). Standardizing workflows in imaging transcriptomics with the
   abagen toolbox. eLife 10, e72129.
.. [3] Martins D. et al. (2021). Imaging transcriptomics. Cell Reports 37, 110173.
.. [4] Subramanian A. et al. (2017). A next generation connectivity map: L1000 platform and the
   first 1,000,000 profiles. Cell 171, 1437-1452.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from crossscale._errors import InputDataError
from crossscale.atlas.names import DK_REGIONS, canonical_region
from crossscale.datasets import fetch

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _read_ahba() -> pd.DataFrame:
    return pd.read_csv(fetch("ahba_expression"), encoding="utf-8-sig")


def load_ahba_expression(*, cortex_only: bool = True) -> pd.DataFrame:
    """Regional AHBA microarray expression in the Desikan-Killiany atlas.

    Parameters
    ----------
    cortex_only : bool
        Keep the 68 cortical regions (canonical names, ENIGMA order). If False, the 15 subcortical
        and brainstem rows are kept too, under their original names, after the cortex.

    Returns
    -------
    expression : pandas.DataFrame, shape (68, 15633)
        Index ``region``; columns ``gene_symbol``; values are scaled robust sigmoid normalised
        expression in [0, 1] (abagen). ``attrs`` holds ``source``, ``units`` and ``dropped``.

    Notes
    -----
    Only 2 of the 6 AHBA donors were sampled in the right hemisphere, so right-hemisphere rows
    are noisier than left-hemisphere ones.
    """
    raw = _read_ahba()
    names = raw["Region"].astype(str)
    canon = [canonical_region(n) for n in names]
    values = raw.drop(columns=["label", "Region"])
    values.columns = pd.Index(values.columns.astype(str), name="gene_symbol")
    cortex = pd.DataFrame(
        values.to_numpy(dtype=float)[[c is not None for c in canon]],
        index=pd.Index([c for c in canon if c is not None], name="region"),
        columns=values.columns,
    ).loc[list(DK_REGIONS)]
    dropped = [n for n, c in zip(names, canon, strict=True) if c is None]
    if cortex_only:
        out = cortex
        logger.info(
            "AHBA expression: kept 68 cortical regions, dropped %d non-cortical rows", len(dropped)
        )
    else:
        sub = values.loc[[c is None for c in canon]].set_axis(pd.Index(dropped, name="region"))
        out = pd.concat([cortex, sub.astype(float)])
        dropped = []
    out.attrs = {
        "source": "ahba_expression",
        "units": "scaled robust sigmoid normalised expression (0-1)",
        "dropped": {"regions": dropped, "reason": "not a Desikan-Killiany cortical region"},
    }
    return out


def load_landmark_genes() -> list[str]:
    """The 978 LINCS L1000 landmark gene symbols (cmap/cmapM ``row_meta_n978.txt``).

    Returns
    -------
    genes : list of str, length 978
    """
    meta = pd.read_csv(fetch("lincs_landmark_genes"), sep="\t")
    return meta["pr_gene_symbol"].astype(str).tolist()


@dataclass(frozen=True)
class GeneSelection:
    """Result of :func:`select_genes`: the genes kept and those dropped, with the reason."""

    kept: list[str]
    missing: list[str] = field(default_factory=list)
    n_requested: int = 0

    def to_dict(self) -> dict[str, object]:
        """Plain dict for run.json / metrics.json."""
        return {
            "n_requested": self.n_requested,
            "n_kept": len(self.kept),
            "n_missing": len(self.missing),
            "missing": self.missing,
            "reason_missing": "symbol is not a column of the expression matrix",
        }


def select_genes(
    expression: pd.DataFrame, genes: Iterable[str]
) -> tuple[pd.DataFrame, GeneSelection]:
    """Keep the columns of `expression` named in `genes`, in `genes` order, reporting the rest.

    Parameters
    ----------
    expression : pandas.DataFrame, shape (n_regions, n_genes)
        Regional expression, columns gene symbols.
    genes : iterable of str
        Requested gene symbols (duplicates are ignored).

    Returns
    -------
    subset : pandas.DataFrame, shape (n_regions, n_kept)
    selection : GeneSelection

    Raises
    ------
    InputDataError
        If none of the requested genes is in the matrix.
    """
    requested = list(dict.fromkeys(str(g) for g in genes))
    present = set(expression.columns)
    kept = [g for g in requested if g in present]
    missing = [g for g in requested if g not in present]
    if not kept:
        raise InputDataError(
            f"None of the {len(requested)} requested genes is a column of the expression matrix "
            f"(e.g. {requested[:5]}). Use HGNC gene symbols such as 'APOE'."
        )
    if missing:
        logger.info(
            "gene selection: kept %d of %d genes; %d not in the matrix",
            len(kept),
            len(requested),
            len(missing),
        )
    sel = GeneSelection(kept=kept, missing=missing, n_requested=len(requested))
    out = expression.loc[:, kept]
    out.attrs = dict(expression.attrs, gene_selection=sel.to_dict())
    return out, sel


def load_default_expression() -> tuple[pd.DataFrame, GeneSelection]:
    """The default model input: 68 cortical regions x the landmark genes present in the AHBA matrix.

    Returns
    -------
    expression : pandas.DataFrame, shape (68, 889)
    selection : GeneSelection
        889 of the 978 L1000 landmark genes are columns of the matrix; 89 are not (mostly
        because the abagen matrix drops probes failing its intensity filter or uses a newer
        symbol). The reference reports 910; its gene matching is not described.
    """
    return select_genes(load_ahba_expression(), load_landmark_genes())
