"""The regression net's conditional mean over canvases: Hann-blended overlapping windows.

Used by :func:`crossscale.models.volume.generate` (the mean the residual samples are built on,
written once per canvas to the generation state) and by :func:`predict_canvas` (in memory).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import numpy as np

from crossscale._errors import ParameterError
from crossscale.models.volume.layout import _Layout, hann_window


def _prepare(model: Any, genes: Any) -> Any:
    if tuple(genes.genes) == tuple(model.genes_):
        return genes.with_scale(model.gene_scale_, model.gene_transform_)
    return model.prepare_genes(genes)


def _window_means(model: Any, genes: Any, layout: _Layout, batch: list[tuple[int, int]]) -> np.ndarray:
    """Regression means (standardised) of the windows of `batch`: (len, n_stains, n_planes, win, win)."""
    import torch

    r, win = model.ratio_, layout.win
    corners = [layout.window(i, j) for i, j in batch]
    g = np.stack([genes.values(slice(y0 // r, (y0 + win) // r), slice(x0 // r, (x0 + win) // r))
                  for y0, x0 in corners])  # fmt: skip
    return model.predict_mean(torch.from_numpy(g).to(model.device_)).cpu().numpy().astype(np.float32)


def _mean_windows(model: Any, genes: Any, layout: _Layout, path: Path, batch_size: int, *,
                  gc_every: int = 2) -> None:  # fmt: skip
    """Write the regression mean of every window of `layout` to a zarr array (ny, nx, c, p, win, win)."""
    import zarr

    ny, nx = layout.grid
    n_s, n_p, win = len(model.stains_), len(model.planes_), layout.win
    arr = zarr.open_array(str(path), mode="w", shape=(ny, nx, n_s, n_p, win, win),
                          chunks=(1, 1, n_s, n_p, win, win), dtype="float32", fill_value=0.0)  # fmt: skip
    patches = [(i, j) for i in range(ny) for j in range(nx)]
    for b in range(0, len(patches), batch_size):
        batch = patches[b : b + batch_size]
        for (i, j), m in zip(batch, _window_means(model, genes, layout, batch), strict=True):
            arr[i, j] = m
        if (b // batch_size) % gc_every == 0:
            gc.collect()


def predict_canvas(model: Any, genes: Any, *, core: int | None = None, halo: int | None = None,
                   batch_size: int = 16) -> np.ndarray:  # fmt: skip
    """The regression net's conditional mean over the extent of `genes`, in memory.

    Overlapping windows (the boundary scheme's layout: a window around each core) are averaged
    with Hann weights (:func:`~crossscale.models.volume.layout.hann_window`), so window edges leave
    no seams. For ``objective="residual"`` this is the mean the diffusion samples are built on;
    for ``"regression"`` it is the regression baseline.

    Returns
    -------
    stains : numpy.ndarray, shape (n_stains, n_planes, H, W), float32
        In the original stain intensities (not clipped).

    Raises
    ------
    ParameterError
        A model without a regression net (``objective="diffusion"``), or a canvas that is not a
        multiple of `core` or smaller than the window.
    """
    if model.params_["objective"] not in ("regression", "residual"):
        raise ParameterError(
            "predict_canvas() needs a model with a regression net (objective 'residual' or "
            f"'regression'); this one is {model.params_['objective']!r}. Use generate()."
        )
    genes = _prepare(model, genes)
    r, win = model.ratio_, int(model.params_["window"])
    core = int(core if core is not None else win // 2)
    halo = int(halo if halo is not None else (win - core) // 2)
    h, w = genes.shape[2] * r, genes.shape[3] * r
    if h % core or w % core or h < win or w < win or core + 2 * halo != win:
        raise ParameterError(
            f"The canvas ({h} x {w}) must be a multiple of core ({core}) and at least the window "
            f"({win} = core + 2 halo)."
        )
    layout = _Layout("boundary", h, w, core, win, halo)
    n_s, n_p = len(model.stains_), len(model.planes_)
    acc = np.zeros((n_s, n_p, h, w), np.float64)
    den = np.zeros((h, w), np.float64)
    wts = hann_window(win)
    ny, nx = layout.grid
    patches = [(i, j) for i in range(ny) for j in range(nx)]
    for b in range(0, len(patches), batch_size):
        batch = patches[b : b + batch_size]
        for (i, j), m in zip(batch, _window_means(model, genes, layout, batch), strict=True):
            y0, x0 = layout.window(i, j)
            acc[:, :, y0 : y0 + win, x0 : x0 + win] += wts * m
            den[y0 : y0 + win, x0 : x0 + win] += wts
    return model.destandardise(acc / den)
