"""Spatial-omics inputs on a µm grid: transcripts -> gene fields, stain images -> stain stacks.

A *gene field* is a (n_genes, n_planes, H, W) tensor of transcript counts binned on a regular grid
in µm (default Tera-MIND's: 16 image pixels per gene bin), with the count transform (``log1p``) and
the per-gene scaling recorded so that generation applies exactly the training transform. A *stain
stack* is (n_stains, n_planes, H, W) in [-1, 1]. Both may be held in memory (numpy) or in a chunked
zarr array on disk, so that inputs larger than memory work: binning streams the transcript table
in row chunks and accumulates one spatial block at a time.

References
----------
.. [1] Wu Y. et al. (2025). Tera-MIND: Tera-scale mouse brain simulation via spatial
   mRNA-guided diffusion. arXiv:2503.01220.
.. [2] Moffitt J. R. et al. (2018). Molecular, spatial, and functional single-cell profiling of
   the hypothalamic preoptic region. Science 362, eaau5324 (MERFISH).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError

logger = logging.getLogger(__name__)

TRANSCRIPT_COLUMNS = ("global_x", "global_y", "gene", "global_z")
BLANK_PREFIXES = ("Blank-", "blank-", "BLANK")


class ImageSizeError(InputDataError):
    """A stain image does not have the size its µm extent and pixel size imply."""


@dataclass(frozen=True)
class Grid:
    """A regular 2-D grid in µm: origin of pixel (0, 0)'s corner, pixel size, shape.

    Row ``r`` covers y in ``[y0 + r*step, y0 + (r+1)*step)``; row 0 is the smallest y.

    Attributes
    ----------
    x0, y0 : float
        µm coordinates of the lower corner of pixel (row 0, column 0).
    step : float
        Pixel (bin) size in µm.
    shape : tuple of int
        (H, W) = (rows along y, columns along x).
    """

    x0: float
    y0: float
    step: float
    shape: tuple[int, int]

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """(x_min, x_max, y_min, y_max) in µm."""
        h, w = self.shape
        return (self.x0, self.x0 + w * self.step, self.y0, self.y0 + h * self.step)

    def coarsen(self, factor: int) -> Grid:
        """The grid with `factor` x `factor` pixels merged (trailing partial pixels dropped)."""
        h, w = self.shape
        return Grid(self.x0, self.y0, self.step * factor, (h // factor, w // factor))

    def crop(self, rows: slice, cols: slice) -> Grid:
        """The sub-grid of `rows` x `cols` (unit-step slices)."""
        h, w = self.shape
        r0, r1, _ = rows.indices(h)
        c0, c1, _ = cols.indices(w)
        return Grid(self.x0 + c0 * self.step, self.y0 + r0 * self.step, self.step,
                    (r1 - r0, c1 - c0))  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON)."""
        return {"x0": self.x0, "y0": self.y0, "step": self.step, "shape": list(self.shape)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Grid:
        """Inverse of :meth:`to_dict`."""
        return cls(float(d["x0"]), float(d["y0"]), float(d["step"]), tuple(d["shape"]))  # type: ignore[arg-type]


@dataclass(frozen=True)
class GeneField:
    """Binned transcript counts of each gene and imaging plane on a µm grid.

    Attributes
    ----------
    counts : numpy.ndarray or zarr.Array, shape (n_genes, n_planes, H, W)
        Transcript counts per bin (int32). A zarr array is read lazily, window by window.
    genes : tuple of str
        Gene symbols, in channel order (blanks removed).
    planes : tuple of int
        Imaging-plane indices (``global_z``) in plane order.
    grid : Grid
        The µm grid of the bins.
    transform : {"log1p", "none"}
        Applied to counts before scaling.
    scale : numpy.ndarray, shape (n_genes,)
        Per-gene divisor applied after the transform (the maximum over the binned data, see
        :func:`bin_transcripts`); values are ``transform(counts) / scale``.
    dropped : dict
        What binning dropped and why (blank controls, transcripts outside the grid or planes).
    """

    counts: Any
    genes: tuple[str, ...]
    planes: tuple[int, ...]
    grid: Grid
    transform: str = "log1p"
    scale: np.ndarray = field(default_factory=lambda: np.ones(0, np.float32))
    dropped: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(n_genes, n_planes, H, W)."""
        return tuple(self.counts.shape)  # type: ignore[return-value]

    def values(self, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
        """Transformed, scaled values of a window, float32, shape (n_genes, n_planes, h, w)."""
        c = np.asarray(self.counts[:, :, rows, cols], dtype=np.float32)
        v = np.log1p(c) if self.transform == "log1p" else c
        return v / self.scale[:, None, None, None].astype(np.float32)

    def density(self) -> np.ndarray:
        """Total transcripts of all genes per bin, shape (n_planes, H, W) (reads blockwise)."""
        out = np.zeros(self.shape[1:], np.float64)
        step = 256
        for r in range(0, self.shape[2], step):
            out[:, r : r + step] = np.asarray(self.counts[:, :, r : r + step]).sum(0)
        return out

    def with_scale(self, scale: np.ndarray, transform: str | None = None) -> GeneField:
        """The same counts with another per-gene scale (e.g. the training scale)."""
        scale = np.asarray(scale, np.float32)
        if scale.shape != (len(self.genes),):
            raise ParameterError(
                f"scale must have one value per gene ({len(self.genes)}); got shape {scale.shape}."
            )
        return replace(self, scale=scale, transform=transform or self.transform)

    def select(self, genes: Sequence[str]) -> GeneField:
        """The field restricted to (and ordered as) `genes`.

        Raises
        ------
        InputDataError
            If some of `genes` are not in this field.
        """
        index = {g: i for i, g in enumerate(self.genes)}
        missing = [g for g in genes if g not in index]
        if missing:
            raise InputDataError(
                f"{len(missing)} of the {len(genes)} requested genes are not in the gene field "
                f"({len(self.genes)} genes): {', '.join(missing[:10])}"
                f"{' ...' if len(missing) > 10 else ''}. Use data measured with the same gene panel."
            )
        idx = [index[g] for g in genes]
        counts = np.asarray(self.counts)[idx] if not _is_zarr(self.counts) else self.counts.oindex[idx]
        return replace(self, counts=counts, genes=tuple(genes), scale=self.scale[idx])

    def crop(self, rows: slice, cols: slice) -> GeneField:
        """A spatial window as an in-memory field (same genes, planes and scaling)."""
        return replace(self, counts=np.asarray(self.counts[:, :, rows, cols]),
                       grid=self.grid.crop(rows, cols))  # fmt: skip


@dataclass(frozen=True)
class StainStack:
    """Stain images of every imaging plane on a µm grid, scaled to [-1, 1].

    Attributes
    ----------
    data : numpy.ndarray or zarr.Array, shape (n_stains, n_planes, H, W), float32
        ``2 * intensity / 255 - 1`` of the 8-bit images after block-mean downsampling.
    stains : tuple of str
        Stain names (e.g. ``("dapi", "polyT")``).
    planes : tuple of int
        Imaging planes.
    grid : Grid
        The µm grid of the (downsampled) pixels.
    downsample : int
        Image pixels merged per side.
    """

    data: Any
    stains: tuple[str, ...]
    planes: tuple[int, ...]
    grid: Grid
    downsample: int = 1

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(n_stains, n_planes, H, W)."""
        return tuple(self.data.shape)  # type: ignore[return-value]

    def crop(self, rows: slice, cols: slice) -> StainStack:
        """A spatial window as an in-memory stack."""
        return replace(self, data=np.asarray(self.data[:, :, rows, cols]),
                       grid=self.grid.crop(rows, cols))  # fmt: skip


def _is_zarr(a: Any) -> bool:
    return type(a).__module__.startswith("zarr")


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


def _read_grey(path: str | os.PathLike[str]) -> np.ndarray:
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    with Image.open(path) as im:
        return np.asarray(im.convert("L"))


def load_stains(
    images: Mapping[str, Sequence[str | os.PathLike[str]]],
    image_grid: Grid,
    *,
    downsample: int = 1,
    extent: Grid | None = None,
    planes: Sequence[int] | None = None,
    store: str | os.PathLike[str] | None = None,
    tolerance_px: int = 2,
) -> StainStack:
    """Read 8-bit stain images of every plane into a (n_stains, n_planes, H, W) stack in [-1, 1].

    Parameters
    ----------
    images : mapping of str to sequence of path-like
        Stain name -> one image per plane (in plane order), e.g.
        ``{"dapi": [z0, z1], "polyT": [z0, z1]}``.
    image_grid : Grid
        Where the full-resolution images lie in µm (origin, pixel size and the shape the µm
        extent implies).
    downsample : int
        Pixels merged per side (block mean).
    extent : Grid, optional
        Crop to this µm extent (e.g. the gene grid); its step must be a multiple of the
        downsampled pixel size. Default: the whole image.
    planes : sequence of int, optional
        Plane indices (default ``0 .. n_planes - 1``).
    store : path-like, optional
        Write the stack to this zarr array (one image at a time in memory).
    tolerance_px : int
        Allowed difference between the image size and `image_grid.shape`.

    Returns
    -------
    stack : StainStack

    Raises
    ------
    ImageSizeError
        An image's size does not match the µm extent of `image_grid` within `tolerance_px`.
    ParameterError
        Unequal numbers of planes, or a bad `downsample` / `extent`.
    """
    stains = list(images)
    n_planes = {len(v) for v in images.values()}
    if len(n_planes) != 1:
        raise ParameterError(
            f"Every stain needs one image per plane; got {({k: len(v) for k, v in images.items()})}."
        )
    n_p = n_planes.pop()
    if not isinstance(downsample, int) or downsample < 1:
        raise ParameterError(f"downsample must be a positive integer; got {downsample!r}.")
    ds_grid = image_grid.coarsen(downsample)
    if extent is not None:
        ratio = extent.step / ds_grid.step
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
            raise ParameterError(
                f"The extent's step ({extent.step:.5f} um) must be a whole multiple of the "
                f"downsampled pixel ({ds_grid.step:.5f} um); change downsample or the bin size."
            )
        k = int(round(ratio))
        r0 = int(round((extent.y0 - image_grid.y0) / ds_grid.step))
        c0 = int(round((extent.x0 - image_grid.x0) / ds_grid.step))
        rows, cols = slice(r0, r0 + extent.shape[0] * k), slice(c0, c0 + extent.shape[1] * k)
        if r0 < 0 or c0 < 0 or rows.stop > ds_grid.shape[0] or cols.stop > ds_grid.shape[1]:
            raise ParameterError(f"The extent {extent} lies outside the images {image_grid}.")
    else:
        rows, cols = slice(0, ds_grid.shape[0]), slice(0, ds_grid.shape[1])
    out_grid = ds_grid.crop(rows, cols)
    shape = (len(stains), n_p, out_grid.shape[0], out_grid.shape[1])
    if store is not None:
        import zarr

        data: Any = zarr.open_array(str(store), mode="w", shape=shape, dtype="float32",
                                    chunks=(1, 1, 256, 256), fill_value=0.0)  # fmt: skip
    else:
        data = np.zeros(shape, np.float32)
    for si, s in enumerate(stains):
        for pi, path in enumerate(images[s]):
            img = _read_grey(path)
            dh, dw = img.shape[0] - image_grid.shape[0], img.shape[1] - image_grid.shape[1]
            if abs(dh) > tolerance_px or abs(dw) > tolerance_px:
                x0, x1, y0, y1 = image_grid.extent
                raise ImageSizeError(
                    f"The image '{path}' ({s}, plane {pi}) is {img.shape[1]} x {img.shape[0]} px "
                    f"(columns x rows), but its µm extent x {x0:.2f}-{x1:.2f}, y {y0:.2f}-{y1:.2f} "
                    f"at {image_grid.step} um/px implies {image_grid.shape[1]} x "
                    f"{image_grid.shape[0]} px (tolerance {tolerance_px} px). Check the pixel size "
                    "and the extent, or pass the image that belongs to these transcripts."
                )
            hh, ww = ds_grid.shape[0] * downsample, ds_grid.shape[1] * downsample
            img = img[:hh, :ww].astype(np.float32)
            if img.shape != (hh, ww):  # a slightly smaller image: pad by edge values
                img = np.pad(img, ((0, hh - img.shape[0]), (0, ww - img.shape[1])), mode="edge")
            small = img.reshape(ds_grid.shape[0], downsample, ds_grid.shape[1], downsample).mean((1, 3))
            data[si, pi] = (small[rows, cols] / 127.5 - 1.0).astype(np.float32)
    return StainStack(data, tuple(stains), tuple(planes or range(n_p)), out_grid, downsample)


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


class TiledCounts:
    """A lazy (n_genes, n_planes, H, W) array that repeats a base field periodically in y and x.

    For scale demonstrations only: the conditioning is *replicated*, not new data. Slicing
    ``[:, :, rows, cols]`` reads only the needed part of the base (memory of one window).
    """

    def __init__(self, base: Any, shape: tuple[int, int]) -> None:
        self.base = base
        self.shape = (*tuple(base.shape[:2]), int(shape[0]), int(shape[1]))
        self.dtype = np.dtype(getattr(base, "dtype", np.int32))

    def __getitem__(self, key: Any) -> np.ndarray:
        if not (isinstance(key, tuple) and len(key) == 4):
            raise IndexError("TiledCounts supports [genes, planes, rows, cols] indexing only")
        g, p, rows, cols = key
        bh, bw = self.base.shape[2], self.base.shape[3]
        ri = np.arange(self.shape[2])[rows] % bh
        ci = np.arange(self.shape[3])[cols] % bw
        r0, r1 = int(ri.min()), int(ri.max()) + 1
        c0, c1 = int(ci.min()), int(ci.max()) + 1
        if r1 - r0 == len(ri) and c1 - c0 == len(ci) and np.all(np.diff(ri) == 1) and np.all(np.diff(ci) == 1):
            return np.asarray(self.base[g, p, r0:r1, c0:c1])
        block = np.asarray(self.base[g, p, r0:r1, c0:c1])
        return block[..., ri - r0, :][..., ci - c0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:, :, :, :]
        return out.astype(dtype) if dtype is not None else out


def tile_field(field: GeneField, shape: tuple[int, int]) -> GeneField:
    """`field` repeated periodically to `shape` (H, W) gene bins, lazily (replicated data).

    Returns
    -------
    tiled : GeneField
        Same genes, planes and scaling; ``dropped["tiled_from"]`` records the base shape.
    """
    h, w = shape
    if h < 1 or w < 1:
        raise ParameterError(f"shape must be positive; got {shape}.")
    grid = Grid(field.grid.x0, field.grid.y0, field.grid.step, (int(h), int(w)))
    return replace(field, counts=TiledCounts(field.counts, (h, w)), grid=grid,
                   dropped={**field.dropped, "tiled_from": list(field.shape[2:])})  # fmt: skip
