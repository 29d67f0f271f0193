"""One denoising step of patch generation: batches of patches, in-process or on Dask workers."""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from crossscale._errors import ParameterError
from crossscale.models.volume.layout import _Layout, position_noise


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
            timesteps: list[int], batches: list[list[tuple[int, int]]], seed: int = 0) -> None:  # fmt: skip
        if self.client is None:
            for n, batch in enumerate(batches, 1):
                _step_batch(model, genes, layout, src, dst, k, timesteps, batch, seed=seed)
                if n % self.gc_every == 0:
                    # zarr leaves cyclic asyncio garbage per chunk written; with torch loaded the
                    # interpreter rarely runs a full collection, so it would pile up with the
                    # number of patches. A full collection every gc_every batches bounds it.
                    gc.collect()
            return
        # every patch writes only its own chunks, so batches of a step run in any order
        futures = [self.client.submit(_step_batch, model, genes, layout, src, dst, k, timesteps,
                                      batch, seed=seed, pure=False) for batch in batches]  # fmt: skip
        self.client.gather(futures)

    def close(self) -> None:
        if self.cluster is not None:
            self.client.close()
            self.cluster.close()


def ddim_step(sched: Any, out: Any, t: int, x: Any, eta: float = 0.0, noise: Any = None) -> Any:
    """One DDIM step from timestep `t` (Song et al. 2021, eq. 12 and 16), with given noise.

    The same formulas as MONAI's ``DDIMScheduler.step`` (which it calls for ``eta = 0``), but the
    noise of a stochastic step (``eta > 0``) is passed in, so that it can be seeded by canvas
    position (the same pixel gets the same noise whatever the patch layout).

    Parameters
    ----------
    sched : monai.networks.schedulers.DDIMScheduler
        With its inference steps set; the step goes from `t` to ``t - T // n``.
    out : torch.Tensor, shape (B, ...)
        The model's output (``sched.prediction_type``) at `t` for the sample `x`.
    t : int
        Current timestep.
    x : torch.Tensor, shape (B, ...)
        Current sample.
    eta : float
        0 (deterministic DDIM) to 1 (the DDPM posterior variance).
    noise : torch.Tensor, optional
        Standard normal noise of the shape of `x`; required when ``eta > 0``.

    Returns
    -------
    x_prev : torch.Tensor, shape of `x`
    """
    if not eta:
        return sched.step(out, t, x)[0]
    if noise is None:
        raise ParameterError("ddim_step: eta > 0 needs noise of the shape of the sample.")
    prev = t - sched.num_train_timesteps // sched.num_inference_steps
    a_t = sched.alphas_cumprod[t]
    a_prev = sched.alphas_cumprod[prev] if prev >= 0 else sched.final_alpha_cumprod
    _, x0 = sched.step(out, t, x)  # the (clipped) predicted clean sample
    kind = str(getattr(sched.prediction_type, "value", sched.prediction_type))
    if kind == "epsilon":
        eps = out
    elif kind == "sample":
        eps = (x - a_t**0.5 * out) / (1 - a_t) ** 0.5
    else:  # v_prediction
        eps = a_t**0.5 * out + (1 - a_t) ** 0.5 * x
    sigma = eta * float(sched._get_variance(t, prev)) ** 0.5
    return a_prev**0.5 * x0 + (1 - a_prev - sigma**2) ** 0.5 * eps + sigma * noise


def _step_batch(model: Any, genes: Any, layout: _Layout, src: str, dst: str, k: int,
                timesteps: list[int], batch: list[tuple[int, int]], seed: int = 0) -> None:  # fmt: skip
    """Denoise one batch of patches from step k (array `src`) to step k + 1 (array `dst`).

    With the model's ``eta > 0`` the step adds noise seeded by (seed, position, step).
    """
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
    out = model.predict(x, tt, g)
    ddim = model.scheduler("ddim")
    eta = float(model.params_.get("eta", 0.0))
    noise = None
    if eta:
        n_s, n_p, win_ = x.shape[1], x.shape[2], x.shape[-1]
        noise = torch.from_numpy(np.stack([position_noise(seed, n_s, n_p, slice(y0, y0 + win_), slice(x0, x0 + win_),
                                                          step=k + 1) for y0, x0 in corners])).to(dev)  # fmt: skip
    x_prev = ddim_step(ddim, out, t, x, eta, noise).cpu().numpy().astype(np.float32)
    for b, ((i, j), (y0, x0)) in enumerate(zip(batch, corners, strict=True)):
        if layout.scheme == "overlap":
            a_dst[i, j] = x_prev[b]
        else:
            cy, cx = i * core - y0, j * core - x0
            a_dst[:, :, i * core : (i + 1) * core, j * core : (j + 1) * core] = x_prev[
                b, :, :, cy : cy + core, cx : cx + core
            ]
