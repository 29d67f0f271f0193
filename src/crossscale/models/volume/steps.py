"""One denoising step of patch generation: batches of patches, in-process or on Dask workers."""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from crossscale._errors import ParameterError
from crossscale.models.volume.layout import _Layout


class _Runner:
    """Runs the patch batches of one step in-process or on Dask workers (same results)."""

    def __init__(self, scheduler: Any, gc_every: int = 2) -> None:
        self.client = self.cluster = None
        self.gc_every = gc_every
        if scheduler is None:
            return
        if isinstance(scheduler, str) and scheduler != "local" and "://" not in scheduler:
            raise ParameterError(
                "scheduler must be None (in-process), 'local' (a Dask LocalCluster), a scheduler "
                f"address such as 'tcp://host:8786', or a distributed.Client; got {scheduler!r}."
            )
        try:
            from distributed import Client, LocalCluster
        except ImportError as err:  # pragma: no cover - dask is in the volume extra
            raise ParameterError(
                f"scheduler={scheduler!r} needs Dask; install 'crossscale[volume]' or pass None."
            ) from err
        if isinstance(scheduler, Client):
            self.client = scheduler
        elif scheduler == "local":
            self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                        dashboard_address=None)  # fmt: skip
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler)

    def run(self, model: Any, genes: Any, layout: _Layout, src: str, dst: str, k: int,
            timesteps: list[int], batches: list[list[tuple[int, int]]]) -> None:  # fmt: skip
        if self.client is None:
            for n, batch in enumerate(batches, 1):
                _step_batch(model, genes, layout, src, dst, k, timesteps, batch)
                if n % self.gc_every == 0:
                    # zarr leaves cyclic asyncio garbage per chunk written; with torch loaded the
                    # interpreter rarely runs a full collection, so it would pile up with the
                    # number of patches. A full collection every gc_every batches bounds it.
                    gc.collect()
            return
        # every patch writes only its own chunks, so batches of a step run in any order
        futures = [self.client.submit(_step_batch, model, genes, layout, src, dst, k, timesteps,
                                      batch, pure=False) for batch in batches]  # fmt: skip
        self.client.gather(futures)

    def close(self) -> None:
        if self.cluster is not None:
            self.client.close()
            self.cluster.close()


def _step_batch(model: Any, genes: Any, layout: _Layout, src: str, dst: str, k: int,
                timesteps: list[int], batch: list[tuple[int, int]]) -> None:  # fmt: skip
    """Denoise one batch of patches from step k (array `src`) to step k + 1 (array `dst`)."""
    import torch
    import zarr

    a_src = zarr.open_array(src, mode="r")
    a_dst = zarr.open_array(dst, mode="r+")
    r, win, core = model.ratio_, layout.win, layout.core
    xs, gs, corners = [], [], []
    for i, j in batch:
        y0, x0 = layout.window(i, j)
        if layout.scheme == "overlap":
            xs.append(np.asarray(a_src[i, j]))
        else:
            xs.append(np.asarray(a_src[:, :, y0 : y0 + win, x0 : x0 + win]))
        gs.append(genes.values(slice(y0 // r, (y0 + win) // r), slice(x0 // r, (x0 + win) // r)))
        corners.append((y0, x0))
    dev = model.device_
    x = torch.from_numpy(np.stack(xs)).to(dev)
    g = torch.from_numpy(np.stack(gs)).to(dev)
    t = timesteps[k]
    tt = torch.full((x.shape[0],), t, dtype=torch.long, device=dev)
    eps = model.predict(x, tt, g)
    ddim = model.scheduler("ddim")
    x_prev = ddim.step(eps, t, x)[0].cpu().numpy().astype(np.float32)
    for b, ((i, j), (y0, x0)) in enumerate(zip(batch, corners, strict=True)):
        if layout.scheme == "overlap":
            a_dst[i, j] = x_prev[b]
        else:
            cy, cx = i * core - y0, j * core - x0
            a_dst[:, :, i * core : (i + 1) * core, j * core : (j + 1) * core] = x_prev[
                b, :, :, cy : cy + core, cx : cx + core
            ]
