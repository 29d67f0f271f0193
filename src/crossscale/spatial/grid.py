"""Containers on a µm grid: the grid itself, gene fields, stain stacks, tiled (replicated) fields.

See :mod:`crossscale.spatial.fields`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from crossscale._errors import InputDataError, ParameterError


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
