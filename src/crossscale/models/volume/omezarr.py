"""Writing a generated canvas as OME-Zarr (NGFF 0.5, zarr v3) with a 2x pyramid, chunk by chunk."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from crossscale.models.volume.layout import _canvas_tile, _Layout


def level_path(ome: str | os.PathLike[str], level: int = 0) -> str:
    """Name of pyramid level `level` of an OME-Zarr image (from its multiscales metadata)."""
    meta = json.loads((Path(ome) / "zarr.json").read_text("utf-8"))["attributes"]["ome"]
    return str(meta["multiscales"][0]["datasets"][level]["path"])


def _collect(n: int, gc_every: int) -> int:
    """Count a chunk write; run a full garbage collection every ``4 * gc_every`` writes."""
    n += 1
    if n % (4 * gc_every) == 0:
        gc.collect()
    return n


def _write_ome_zarr(final: Any, layout: _Layout, folder: Path, pixel_um: float,
                    stains: tuple[str, ...], *, origin: tuple[float, float] = (0.0, 0.0),
                    chunk_px: int = 256, gc_every: int = 2,
                    post: Callable[[np.ndarray, int, int], np.ndarray] | None = None) -> None:  # fmt: skip
    """Write the final state as an OME-Zarr (czyx), level 0 and a 2x pyramid, tile by tile.

    ``post(tile, i, j)`` maps each core tile of the final state to the written values (e.g.
    adding the regression mean and undoing the stain standardisation).

    Every level is written chunk by chunk (level k from level k - 1 by 2 x 2 block means, the
    plane axis kept), so memory is bounded by one chunk whatever the canvas size; no task graph
    proportional to the number of chunks is built.
    """
    import zarr
    from ome_zarr.writer import write_multiscales_metadata

    ny, nx = layout.grid
    c = layout.core
    n_s, n_p = (final.shape[2], final.shape[3]) if layout.scheme == "overlap" else final.shape[:2]
    group = zarr.open_group(str(folder), mode="w")
    ch = max(c, chunk_px // c * c)  # a multiple of the core so that tiles fill whole chunks
    level0 = group.create_array("s0", shape=(n_s, n_p, layout.h, layout.w), dtype="float32",
                                chunks=(n_s, n_p, min(ch, layout.h), min(ch, layout.w)),
                                fill_value=0.0)  # fmt: skip
    step = max(1, ch // c)
    written = 0
    for i0 in range(0, ny, step):  # one output chunk at a time
        for j0 in range(0, nx, step):
            ii, jj = range(i0, min(ny, i0 + step)), range(j0, min(nx, j0 + step))
            def tile(i: int, j: int) -> np.ndarray:
                t = _canvas_tile(final, layout, i, j)
                return t if post is None else post(t, i, j)

            block = np.concatenate([np.concatenate([tile(i, j) for j in jj], -1) for i in ii], -2)
            level0[:, :, i0 * c : i0 * c + block.shape[-2], j0 * c : j0 * c + block.shape[-1]] = block
            written = _collect(written, gc_every)
    datasets = [{"path": "s0", "coordinateTransformations": [
        {"type": "scale", "scale": [1.0, 1.0, pixel_um, pixel_um]}]}]  # fmt: skip
    prev, f = level0, 1
    while min(prev.shape[2], prev.shape[3]) // 2 >= 32 and len(datasets) < 5:
        f *= 2
        h2, w2 = prev.shape[2] // 2, prev.shape[3] // 2
        cur = group.create_array(f"s{len(datasets)}", shape=(n_s, n_p, h2, w2), dtype="float32",
                                 chunks=(n_s, n_p, min(ch, h2), min(ch, w2)), fill_value=0.0)  # fmt: skip
        for y in range(0, h2, ch):
            for x in range(0, w2, ch):
                y1, x1 = min(h2, y + ch), min(w2, x + ch)
                src = np.asarray(prev[:, :, 2 * y : 2 * y1, 2 * x : 2 * x1])
                cur[:, :, y:y1, x:x1] = src.reshape(n_s, n_p, y1 - y, 2, x1 - x, 2).mean((3, 5))
                written = _collect(written, gc_every)
        datasets.append({"path": f"s{len(datasets)}", "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 1.0, pixel_um * f, pixel_um * f]}]})  # fmt: skip
        prev = cur
    gc.collect()
    write_multiscales_metadata(group, datasets, axes=["c", "z", "y", "x"],
                               axes_units={"y": "micrometer", "x": "micrometer"}, name="generated")  # fmt: skip
    group.attrs["crossscale"] = {"stains": list(stains), "scheme": layout.scheme,
                                 "value_range": [-1.0, 1.0], "clipped": False, "core": c,
                                 "origin_um": {"y": origin[0], "x": origin[1]}}  # fmt: skip
