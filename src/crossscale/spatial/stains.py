"""Stain images -> stain stacks on the gene-field grid, in [-1, 1].

See :mod:`crossscale.spatial.fields`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from crossscale._errors import InputDataError, ParameterError
from crossscale.spatial.grid import Grid, StainStack


class ImageSizeError(InputDataError):
    """A stain image does not have the size its µm extent and pixel size imply."""



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
