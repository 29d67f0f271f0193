"""MERFISH transcript tables -> binned gene fields; gene panels.

See :mod:`crossscale.spatial.fields`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.spatial.grid import GeneField, Grid

logger = logging.getLogger(__name__)

TRANSCRIPT_COLUMNS = ("global_x", "global_y", "gene", "global_z")
BLANK_PREFIXES = ("Blank-", "blank-", "BLANK")


def is_blank(name: str) -> bool:
    """True for MERFISH blank (negative-control) barcodes such as ``Blank-12``."""
    return str(name).startswith(BLANK_PREFIXES)


def _check_columns(columns: Iterable[str], source: str) -> None:
    missing = [c for c in TRANSCRIPT_COLUMNS if c not in set(columns)]
    if missing:
        raise InputDataError(
            f"The transcript table {source} lacks the column(s) {', '.join(missing)}; it has "
            f"{', '.join(map(str, columns))}. A transcript table needs {', '.join(TRANSCRIPT_COLUMNS)} "
            "(x, y in µm, gene symbol, imaging plane), as in Vizgen's detected_transcripts.csv; "
            "rename your columns to these names."
        )


def read_transcripts(
    path: str | os.PathLike[str], *, chunksize: int | None = None
) -> pd.DataFrame | Iterable[pd.DataFrame]:
    """Read a MERFISH transcript table (CSV, optionally gzipped).

    Parameters
    ----------
    path : path-like
        CSV with columns ``global_x``, ``global_y`` (µm), ``gene``, ``global_z`` (plane).
    chunksize : int, optional
        Rows per chunk; if given, an iterator of DataFrames is returned (tables larger than
        memory).

    Returns
    -------
    table : pandas.DataFrame or iterator of DataFrame
        Only the four needed columns.

    Raises
    ------
    InputDataError
        If a needed column is missing.
    """
    header = pd.read_csv(path, nrows=0).columns
    _check_columns(header, f"'{path}'")
    kw = dict(usecols=list(TRANSCRIPT_COLUMNS),
              dtype={"global_x": np.float64, "global_y": np.float64, "gene": str, "global_z": np.int64})  # fmt: skip
    if chunksize is not None:
        return pd.read_csv(path, chunksize=chunksize, **kw)
    return pd.read_csv(path, **kw)


def bin_transcripts(
    table: pd.DataFrame | str | os.PathLike[str],
    grid: Grid,
    *,
    genes: Sequence[str] | None = None,
    planes: Sequence[int] | None = None,
    transform: str = "log1p",
    store: str | os.PathLike[str] | None = None,
    chunk_rows: int = 500_000,
    block: int = 128,
) -> GeneField:
    """Bin transcripts into a (n_genes, n_planes, H, W) count field on `grid`.

    A transcript at (x, y) falls in row ``floor((y - y0) / step)`` and column
    ``floor((x - x0) / step)``; transcripts outside the grid or the planes are dropped and counted.
    Blank (negative-control) barcodes are dropped and reported.

    Parameters
    ----------
    table : pandas.DataFrame or path-like
        Transcript table (see :func:`read_transcripts`); a path is streamed in `chunk_rows` rows.
    grid : Grid
        Bins in µm (for Tera-MIND's default, ``step = 16 * pixel size``).
    genes : sequence of str, optional
        Genes in channel order (default: every non-blank gene of the table, sorted).
    planes : sequence of int, optional
        Imaging planes (default: those of the table, sorted).
    transform : {"log1p", "none"}
        Count transform applied by :meth:`GeneField.values`.
    store : path-like, optional
        Write counts to this zarr array (chunked by `block` bins) instead of memory.
    chunk_rows : int
        Rows per chunk when streaming a file.
    block : int
        Spatial block (bins) of the zarr chunks and of the accumulation.

    Returns
    -------
    field : GeneField
        ``scale`` is the per-gene maximum of the transformed counts (1 for a gene never seen),
        so values lie in [0, 1] on the binned data; ``dropped`` reports blanks
        (``blank_genes``, ``n_blank_transcripts``), genes not requested
        (``n_other_transcripts``) and out-of-grid transcripts (``n_outside``).

    Raises
    ------
    InputDataError
        Missing columns.
    ParameterError
        Unknown `transform`, or an empty grid.
    """
    if transform not in ("log1p", "none"):
        raise ParameterError(f"transform must be 'log1p' or 'none'; got {transform!r}.")
    h, w = grid.shape
    if h < 1 or w < 1 or grid.step <= 0:
        raise ParameterError(f"The grid must have positive shape and step; got {grid}.")

    def chunks() -> Iterable[pd.DataFrame]:
        if isinstance(table, pd.DataFrame):
            _check_columns(table.columns, "passed as a DataFrame")
            yield table
        else:
            yield from read_transcripts(table, chunksize=chunk_rows)  # type: ignore[misc]

    if genes is None or planes is None:  # a first pass for the names
        names: set[str] = set()
        zs: set[int] = set()
        for ch in chunks():
            names.update(ch["gene"].astype(str).unique())
            zs.update(int(z) for z in ch["global_z"].unique())
        if genes is None:
            genes = sorted(g for g in names if not is_blank(g))
        if planes is None:
            planes = sorted(zs)
    genes, planes = list(genes), [int(p) for p in planes]
    if not genes:
        raise InputDataError("The transcript table has no (non-blank) genes to bin.")
    gidx = {g: i for i, g in enumerate(genes)}
    pidx = {p: i for i, p in enumerate(planes)}
    shape = (len(genes), len(planes), h, w)
    if store is not None:
        import zarr

        counts: Any = zarr.open_array(str(store), mode="w", shape=shape, dtype="int32",
                                      chunks=(len(genes), len(planes), block, block), fill_value=0)  # fmt: skip
    else:
        counts = np.zeros(shape, np.int32)
    blanks: dict[str, int] = {}
    n_other = n_outside = n_total = 0
    for ch in chunks():
        n_total += len(ch)
        g = ch["gene"].astype(str)
        blank = g.map(is_blank).to_numpy(bool)
        if blank.any():
            for name, n in g[blank].value_counts().items():
                blanks[str(name)] = blanks.get(str(name), 0) + int(n)
        gi = g.map(gidx).to_numpy()
        known = ~pd.isna(gi) & ~blank
        n_other += int((~blank & ~known).sum())
        pi = ch["global_z"].map(pidx).to_numpy()
        col = np.floor((ch["global_x"].to_numpy() - grid.x0) / grid.step)
        row = np.floor((ch["global_y"].to_numpy() - grid.y0) / grid.step)
        inside = (row >= 0) & (row < h) & (col >= 0) & (col < w) & ~pd.isna(pi)
        n_outside += int((known & ~inside).sum())
        keep = known & inside
        gi, pi = gi[keep].astype(np.int64), pi[keep].astype(np.int64)
        row, col = row[keep].astype(np.int64), col[keep].astype(np.int64)
        if store is None:
            np.add.at(counts, (gi, pi, row, col), 1)
            continue
        bid = (row // block) * ((w + block - 1) // block) + col // block
        order = np.argsort(bid, kind="stable")
        bid, gi, pi, row, col = bid[order], gi[order], pi[order], row[order], col[order]
        starts = np.flatnonzero(np.r_[True, bid[1:] != bid[:-1]])
        for s, e in zip(starts, np.r_[starts[1:], len(bid)], strict=True):
            r0, c0 = int(row[s] // block * block), int(col[s] // block * block)
            rs, cs = slice(r0, min(r0 + block, h)), slice(c0, min(c0 + block, w))
            blk = np.asarray(counts[:, :, rs, cs])
            np.add.at(blk, (gi[s:e], pi[s:e], row[s:e] - r0, col[s:e] - c0), 1)
            counts[:, :, rs, cs] = blk
    # per-gene scale: the maximum transformed count
    mx = np.zeros(len(genes), np.float64)
    for r in range(0, h, block):
        blk = np.asarray(counts[:, :, r : r + block])
        mx = np.maximum(mx, blk.reshape(len(genes), -1).max(1))
    tmax = np.log1p(mx) if transform == "log1p" else mx
    scale = np.where(tmax > 0, tmax, 1.0).astype(np.float32)
    dropped = {
        "n_transcripts": n_total,
        "blank_genes": sorted(blanks),
        "n_blank_transcripts": int(sum(blanks.values())),
        "n_other_transcripts": n_other,
        "n_outside": n_outside,
    }
    logger.info(
        "binned %d transcripts of %d genes x %d planes on %dx%d bins of %.3f um; dropped %d blank "
        "controls (%d transcripts), %d of genes not requested, %d outside the grid",
        n_total - dropped["n_blank_transcripts"] - n_other - n_outside, len(genes), len(planes),
        h, w, grid.step, len(blanks), dropped["n_blank_transcripts"], n_other, n_outside,
    )  # fmt: skip
    return GeneField(counts, tuple(genes), tuple(planes), grid, transform, scale, dropped)



def read_panel(path: str | os.PathLike[str]) -> list[str]:
    """Gene symbols of a one-column panel CSV (header ``gene``), e.g. Tera-MIND's panels."""
    df = pd.read_csv(path)
    if "gene" not in df.columns:
        raise InputDataError(f"The gene panel '{path}' has no 'gene' column; it has {list(df.columns)}.")
    return [str(g) for g in df["gene"]]


def panel_overlap(genes: Iterable[str], panels: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Which of `genes` are in each panel (and in any).

    Returns
    -------
    overlap : pandas.DataFrame
        Index ``gene`` (those in at least one panel, sorted); one boolean column per panel.
    """
    genes = sorted(set(genes))
    sets = {k: set(v) for k, v in panels.items()}
    df = pd.DataFrame({k: [g in s for g in genes] for k, s in sets.items()},
                      index=pd.Index(genes, name="gene"))  # fmt: skip
    return df[df.any(axis=1)]
