"""Regional expression for any atlas: the built-in AHBA matrices, or your own (abagen) matrix.

Built-in matrices (:func:`load_expression`):

* ``l1000`` (Desikan-Killiany, with or without subcortex; the default there): the
  imaging-transcriptomics AHBA matrix (15,633 genes) restricted to the LINCS L1000 landmark genes
  it holds (889 of 978).
* ``stable`` (every built-in atlas; the only one for Schaefer and Glasser): the ENIGMA Toolbox's
  AHBA matrices of genes with differential stability >= 0.6 (Hawrylycz 2015; abagen pipeline):
  DK with subcortex 1,645 genes, Schaefer-100 810, -200 430, -300 327, -400 282, Glasser 268.
  Finer parcellations keep fewer stable genes and have parcels without any AHBA sample (9, 28,
  49 and 63 of them in Schaefer-200, -300, -400 and Glasser): those are dropped and listed.
  L1000 is not available for Schaefer or Glasser (26, 12 and 6 landmark genes are among the
  Schaefer-100, -200 and -400 stable genes).

Your own matrix (:func:`~crossscale.transcriptomics.read_expression`): a CSV written from abagen's ``get_expression_data``
(``expression.to_csv("my_expression.csv")``): a region column or index (parcel names of the atlas,
or abagen's integer labels 1..N in atlas order), then one column per gene. It is checked against
the atlas; every dropped region and gene is listed in the returned :class:`ExpressionReport`.

References
----------
.. [1] Hawrylycz M.J. et al. (2012). Nature 489, 391-399.
.. [2] Hawrylycz M. et al. (2015). Canonical genetic signatures of the adult human brain. Nat
   Neurosci 18, 1832-1844 (differential stability).
.. [3] Arnatkeviciute A. et al. (2019). A practical guide to linking brain-wide gene expression and
   neuroimaging data. NeuroImage 189, 353-367.
.. [4] Markello R.D. et al. (2021). Standardizing workflows in imaging transcriptomics with the
   abagen toolbox. eLife 10, e72129.
.. [5] Lariviere S. et al. (2021). The ENIGMA Toolbox. Nat Methods 18, 698-700.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crossscale._errors import InputDataError, ParameterError, RegionMismatchError
from crossscale._format import format_list
from crossscale.atlas.atlases import Atlas
from crossscale.atlas.lookup import get_atlas
from crossscale.atlas.names import canonical_subcortical

logger = logging.getLogger(__name__)

__all__ = ["GENE_PANELS", "ExpressionReport", "check_expression", "load_expression"]

#: Built-in gene panels: ``l1000`` (DK only) and ``stable`` (differential stability >= 0.6).
GENE_PANELS = ("auto", "l1000", "stable")
MIN_GENES = 20
MIN_REGIONS = 10

_EMPTY = "empty parcel: no value (no AHBA sample in it)"
_NOT_IN_ATLAS = "not a region of the atlas"
_NAN_GENE = "NaN in some of the kept regions"
_CONSTANT_GENE = "constant across the kept regions"


@dataclass(frozen=True)
class ExpressionReport:
    """What an expression matrix is and what was dropped from it, and why.

    Attributes
    ----------
    atlas : str
    panel : str
        ``l1000``, ``stable`` or ``user``.
    source : str
        Registry key or file path.
    description : str
        One sentence for reports and the command line.
    n_regions, n_genes : int
        Shape of the matrix after the checks.
    dropped_regions, dropped_genes : dict of str to list of str
        Reason -> names.
    """

    atlas: str
    panel: str
    source: str
    description: str
    n_regions: int
    n_genes: int
    dropped_regions: dict[str, list[str]] = field(default_factory=dict)
    dropped_genes: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for run.json and metrics.json."""
        return {
            "atlas": self.atlas, "panel": self.panel, "source": self.source,
            "description": self.description, "n_regions": self.n_regions,
            "n_genes": self.n_genes, "dropped_regions": self.dropped_regions,
            "dropped_genes": self.dropped_genes,
        }  # fmt: skip

    def lines(self) -> list[str]:
        """Human-readable summary: the matrix, then one line per drop reason."""
        out = [f"{self.description}: {self.n_regions} regions x {self.n_genes} genes"]
        for reason, names in self.dropped_regions.items():
            out.append(f"  dropped {len(names)} region(s), {reason}: {format_list(names, 8)}")
        for reason, names in self.dropped_genes.items():
            out.append(f"  dropped {len(names)} gene(s), {reason}: {format_list(names, 5)}")
        return out


def _stable_key(atlas: Atlas) -> str:
    return "ahba_stable_dk_subcortex" if atlas.name in ("dk", "dk-subcortex") else (
        f"ahba_stable_{atlas.name}"
    )  # fmt: skip


def load_expression(
    atlas: str | Atlas | None = None, panel: str = "auto"
) -> tuple[pd.DataFrame, ExpressionReport]:
    """The built-in regional AHBA expression of an atlas.

    Parameters
    ----------
    atlas : str, Atlas or None
        A built-in atlas (default: the atlas in use, else ``dk``).
    panel : {"auto", "l1000", "stable"}
        ``l1000``: the landmark genes in the imaging-transcriptomics matrix (DK atlases only;
        the default there, so the DK numbers stay those of ``load_default_expression``).
        ``stable``: the ENIGMA Toolbox matrix of genes with differential stability >= 0.6 (the
        default, and the only panel, for Schaefer and Glasser). ``auto``: as stated.

    Returns
    -------
    expression : pandas.DataFrame, shape (n_regions, n_genes)
        Index ``region`` (canonical names, atlas order, empty parcels dropped); columns
        ``gene_symbol``; values in [0, 1] (scaled robust sigmoid).
    report : ExpressionReport

    Raises
    ------
    ParameterError
        Unknown panel, ``l1000`` on an atlas other than DK, or a user atlas (which has no
        built-in expression: pass your own matrix).
    """
    atlas = get_atlas(atlas)
    if panel not in GENE_PANELS:
        raise ParameterError(f"panel must be one of {GENE_PANELS}; got {panel!r}.")
    if atlas.info is None:
        raise ParameterError(
            f"The atlas '{atlas.name}' is your own parcellation: crossscale has no expression "
            "matrix for it. Make one with abagen (abagen.get_expression_data(atlas=your annot "
            "files) and save it as CSV) and pass it with --expression FILE (expression=FILE)."
        )
    dk = atlas.name in ("dk", "dk-subcortex")
    if panel == "auto":
        panel = "l1000" if dk else "stable"
    if panel == "l1000":
        if not dk:
            n = _landmarks_in_stable(atlas)
            raise ParameterError(
                f"The L1000 landmark gene panel is not available for the {atlas.title} atlas: "
                f"only {n} of the 978 landmark genes are among the {_stable_key(atlas)} genes "
                "(the AHBA matrices for this atlas keep genes with differential stability >= 0.6). "
                "Use the stable-gene panel (--gene-panel stable, panel='stable'), or bring your "
                "own abagen matrix with --expression."
            )
        return _load_l1000(atlas)
    return _load_stable(atlas)


def _landmarks_in_stable(atlas: Atlas) -> int:
    from crossscale.datasets import fetch
    from crossscale.transcriptomics.expression import load_landmark_genes

    cols = pd.read_csv(fetch(_stable_key(atlas)), nrows=0).columns
    return len(set(cols) & set(load_landmark_genes()))


def _load_l1000(atlas: Atlas) -> tuple[pd.DataFrame, ExpressionReport]:
    from crossscale.transcriptomics.expression import (
        load_ahba_expression,
        load_default_expression,
        load_landmark_genes,
        select_genes,
    )

    desc = "AHBA (imaging-transcriptomics) x L1000 landmark genes"
    if atlas.name == "dk":
        X, sel = load_default_expression()  # exactly the default of earlier versions
        dropped_regions = {"not a Desikan-Killiany cortical region": X.attrs["dropped"]["regions"]}
    else:
        full = load_ahba_expression(cortex_only=False)
        X, sel = select_genes(full, load_landmark_genes())
        X, dropped_regions = _match_rows(X, atlas, what="The AHBA matrix")
    report = ExpressionReport(
        atlas=atlas.name, panel="l1000", source="ahba_expression", description=desc,
        n_regions=X.shape[0], n_genes=X.shape[1], dropped_regions=dropped_regions,
        dropped_genes={"not a column of the AHBA matrix": list(sel.missing)} if sel.missing else {},
    )  # fmt: skip
    X.attrs = dict(X.attrs, expression=report.to_dict(), gene_selection=sel.to_dict())
    return X, report


def _load_stable(atlas: Atlas) -> tuple[pd.DataFrame, ExpressionReport]:
    from crossscale.datasets import fetch

    key = _stable_key(atlas)
    raw = pd.read_csv(fetch(key))
    table = raw.set_index(raw.columns[0])
    X, report = check_expression(
        table, atlas, source=key, min_genes=1,
        description="AHBA genes with differential stability >= 0.6 (ENIGMA Toolbox)",
        drop_constant=False,
    )  # fmt: skip
    report = ExpressionReport(**(report.to_dict() | {"panel": "stable"}))
    X.attrs = dict(X.attrs, expression=report.to_dict())
    return X, report


def _match_rows(
    table: pd.DataFrame, atlas: Atlas, *, what: str
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Rows of `table` renamed to canonical atlas names, in atlas order; the rest dropped/listed.

    Integer row labels are abagen's parcel labels 1..N in atlas order. Subcortical rows of a
    cortical atlas (and the brainstem) are dropped and listed; other unknown names are an error.
    """
    index = list(table.index)
    labels = pd.to_numeric(pd.Series(index, dtype=object), errors="coerce")
    if len(index) and labels.notna().all() and (labels % 1 == 0).all():
        ids = labels.astype(int).to_numpy()
        bad = [int(i) for i in ids if not 1 <= i <= atlas.n_regions]
        if bad:
            raise RegionMismatchError(
                f"{what} has integer region labels outside 1..{atlas.n_regions} (the "
                f"{atlas.title} parcels in atlas order): {format_list(sorted(set(bad)), 8)}. "
                "Label 0 is the background; pass the matrix abagen made for this atlas."
            )
        names = [atlas.regions[i - 1] for i in ids]
        return _finish_rows(table, names, atlas, {}, what)
    dropped: dict[str, list[str]] = {}
    keep_rows, names = [], []
    outside: list[str] = []
    for pos, raw in enumerate(index):
        canon = atlas.canonical(raw)
        if canon is not None:
            keep_rows.append(pos)
            names.append(canon)
        elif canonical_subcortical(str(raw)) or str(raw).lower() in ("brainstem", "brain-stem"):
            outside.append(str(raw))
        else:
            keep_rows.append(pos)
            names.append(None)
    if outside:
        why = "a structure the atlas lacks" if atlas.has_subcortex else (
            f"subcortical; the {atlas.title} atlas is cortical"
        )  # fmt: skip
        dropped[f"{_NOT_IN_ATLAS} ({why})"] = outside
    unknown = [str(index[p]) for p, n in zip(keep_rows, names, strict=True) if n is None]
    if unknown:
        atlas.match(unknown, what=what)  # raises with suggestions and a hint at the atlas
    return _finish_rows(table.iloc[keep_rows], names, atlas, dropped, what)


def _finish_rows(
    table: pd.DataFrame, names: list[str], atlas: Atlas, dropped: dict[str, list[str]], what: str
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    seen: dict[str, int] = {}
    dups = []
    for n in names:
        if n in seen:
            dups.append(n)
        seen[n] = 1
    if dups:
        raise RegionMismatchError(
            f"{what} has {len(dups)} region(s) more than once: {format_list(dups, 8)}. Keep one "
            "row per region."
        )
    out = table.set_axis(pd.Index(names, name="region"))
    order = [r for r in atlas.regions if r in seen]
    return out.loc[order], dropped


def check_expression(
    table: pd.DataFrame,
    atlas: str | Atlas | None = None,
    *,
    source: str = "DataFrame",
    min_genes: int = MIN_GENES,
    description: str = "your expression matrix",
    drop_constant: bool = True,
) -> tuple[pd.DataFrame, ExpressionReport]:
    """Check a region x gene matrix against an atlas; drop and list what cannot be used.

    Parameters
    ----------
    table : pandas.DataFrame, shape (n_rows, n_genes)
        Index: region names of the atlas in any supported spelling, or abagen's integer labels
        1..N (atlas order). Columns: gene symbols; numeric values.
    atlas : str, Atlas or None
        Default: the atlas in use, else ``dk``.
    source : str
        Where the table came from (for messages and the report).
    min_genes : int
        Fewest usable genes accepted.
    description : str
        How the report names the matrix.
    drop_constant : bool
        Drop genes that are constant across the kept regions.

    Returns
    -------
    expression : pandas.DataFrame, shape (n_regions, n_genes)
        Index ``region`` (canonical, atlas order), columns ``gene_symbol``, float.
    report : ExpressionReport
        Regions dropped (subcortical rows of a cortical atlas, empty parcels) and genes dropped
        (NaN in a kept region, constant), each with its reason.

    Raises
    ------
    RegionMismatchError
        Unknown or duplicated region names (with suggestions), labels outside 1..N.
    InputDataError
        Non-numeric gene columns, fewer than 10 regions or `min_genes` genes left.
    """
    atlas = get_atlas(atlas)
    what = f"The expression matrix '{source}'"
    if not isinstance(table, pd.DataFrame) or table.shape[1] == 0:
        raise InputDataError(
            f"{what} must be a table with one row per region and one column per gene."
        )
    values = table.apply(pd.to_numeric, errors="coerce")
    bad = [c for c in table.columns if values[c].isna().sum() > table[c].isna().sum()]
    if bad:
        raise InputDataError(
            f"{what} has {len(bad)} column(s) with values that are not numbers: "
            f"{format_list(bad, 6)}. Every column after the region column must be one gene's "
            "expression; move other columns out, or name the region column 'label'."
        )
    X, dropped = _match_rows(values.astype(float), atlas, what=what)
    empty = list(X.index[X.isna().all(axis=1)])
    if empty:
        dropped[_EMPTY] = empty
        X = X.drop(index=empty)
    genes_dropped: dict[str, list[str]] = {}
    nan_genes = [str(g) for g in X.columns[X.isna().any(axis=0)]]
    if nan_genes:
        genes_dropped[_NAN_GENE] = nan_genes
        X = X.drop(columns=nan_genes)
    if drop_constant and len(X):
        const = [str(g) for g in X.columns[(X.max() - X.min()) <= 0]]
        if const:
            genes_dropped[_CONSTANT_GENE] = const
            X = X.drop(columns=const)
    if len(X) < MIN_REGIONS:
        raise InputDataError(
            f"{what} has {len(X)} usable region(s) of the {atlas.title} atlas; at least "
            f"{MIN_REGIONS} are needed. Check that it was made for this atlas."
        )
    if X.shape[1] < min_genes:
        raise InputDataError(
            f"{what} has {X.shape[1]} usable gene(s) (after dropping "
            f"{sum(map(len, genes_dropped.values()))} with NaN or constant values); at least "
            f"{min_genes} are needed to learn expression programs. Use a larger gene set (e.g. "
            "abagen with a lower differential-stability threshold)."
        )
    X.columns = pd.Index([str(c) for c in X.columns], name="gene_symbol")
    for reason, names in {**dropped, **genes_dropped}.items():
        logger.info("%s: dropped %d (%s)", source, len(names), reason)
    report = ExpressionReport(
        atlas=atlas.name, panel="user", source=source, description=description,
        n_regions=X.shape[0], n_genes=X.shape[1], dropped_regions=dropped,
        dropped_genes=genes_dropped,
    )  # fmt: skip
    X.attrs = {"source": source, "units": "as given", "expression": report.to_dict()}
    return X, report
