"""Patch-based generation of tissue canvases of any size, step-major on disk, resumable.

Three schemes share one engine and the same position-seeded initial noise (the noise at a canvas
position depends only on the seed and the position, never on the patch layout):

``boundary``
    Boundary-aware: every patch reads a halo of its neighbours' *current* state at every
    denoising step, and all patches advance in lock-step (step ``k + 1`` of any patch needs step
    ``k`` of its neighbourhood). Only the patch core is written back. This is the halo / lock-step
    scheme of Tera-MIND's boundary-aware generation.
``independent``
    Baseline: non-overlapping tiles denoised without any context.
``overlap``
    Baseline: overlapping windows (the boundary scheme's windows) denoised independently, the
    final images averaged where they overlap.

State lives in a folder ``<out>.state/``: one zarr array per denoising step (chunked by patch),
a marker file per finished step, and the parameters. An interrupted run resumes from the last
finished step and gives the same bytes as an uninterrupted run; a resume with other parameters
is refused. Only a patch's window is in memory, so memory does not grow with the canvas. The
final image goes to an OME-Zarr (NGFF 0.5, zarr v3) written through a temporary folder and
renamed into place.

References
----------
.. [1] Wu Y. et al. (2025). Tera-MIND: Tera-scale mouse brain simulation via spatial
   mRNA-guided diffusion. arXiv:2503.01220.
.. [2] Song J., Meng C., Ermon S. (2021). Denoising diffusion implicit models. ICLR.
.. [3] Moore J. et al. (2023). OME-Zarr: a cloud-optimized bioimaging file format with
   international community support. Histochem Cell Biol 160, 223-251.
"""

from __future__ import annotations

import errno
import gc
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crossscale._errors import CrossscaleError, ParameterError
from crossscale._progress import progress
from crossscale._utils import atomic_dir, write_json

logger = logging.getLogger(__name__)

SCHEMES = ("boundary", "independent", "overlap")
NOISE_TILE = 16
GC_EVERY = 2


class GenerationStateError(ParameterError):
    """A generation state folder was made with other parameters than the resumed run."""


class StorageError(CrossscaleError, OSError):
    """Writing generation state or output failed (e.g. the disk is full)."""


@dataclass(frozen=True)
class GenerationResult:
    """Where the generated canvas is and how generation went.

    Attributes
    ----------
    path : pathlib.Path
        The OME-Zarr folder (level 0, see :func:`level_path`, holds (n_stains, n_planes, H, W) float32 in [-1, 1]).
    scheme : str
        ``boundary``, ``independent`` or ``overlap``.
    shape : tuple of int
        (n_stains, n_planes, H, W).
    borders : dict
        ``{"y": [...], "x": [...]}`` pixel rows / columns where one patch meets the next
        (for :func:`crossscale.evaluate.volume.seam_score`).
    n_patches, n_steps : int
        Patches per step and denoising steps.
    seconds : float
        Wall time of the denoising steps of this call (excluding steps resumed from disk).
    steps_run : int
        Steps run by this call (fewer than ``n_steps`` after a resume).
    """

    path: Path
    scheme: str
    shape: tuple[int, int, int, int]
    borders: dict[str, list[int]]
    n_patches: int
    n_steps: int
    seconds: float
    steps_run: int
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def patches_per_second(self) -> float:
        """Patch evaluations per second of wall time in this call."""
        return self.n_patches * self.steps_run / self.seconds if self.seconds > 0 else float("nan")

    def read(self) -> np.ndarray:
        """The full-resolution canvas as numpy (only for canvases that fit in memory)."""
        import zarr

        return np.asarray(zarr.open_array(str(self.path / level_path(self.path)), mode="r")[:])


def level_path(ome: str | os.PathLike[str], level: int = 0) -> str:
    """Name of pyramid level `level` of an OME-Zarr image (from its multiscales metadata)."""
    meta = json.loads((Path(ome) / "zarr.json").read_text("utf-8"))["attributes"]["ome"]
    return str(meta["multiscales"][0]["datasets"][level]["path"])


def position_noise(seed: int, n_c: int, n_p: int, rows: slice, cols: slice) -> np.ndarray:
    """Standard normal noise of a canvas window that depends only on (seed, position).

    The canvas is cut into fixed tiles of :data:`NOISE_TILE` pixels, each drawn from its own
    generator seeded with ``(seed, tile_row, tile_col)``.

    Returns
    -------
    noise : numpy.ndarray, shape (n_c, n_p, rows, cols), float32
    """
    t = NOISE_TILE
    r0, r1, c0, c1 = rows.start, rows.stop, cols.start, cols.stop
    out = np.empty((n_c, n_p, r1 - r0, c1 - c0), np.float32)
    for ty in range(r0 // t, (r1 - 1) // t + 1):
        for tx in range(c0 // t, (c1 - 1) // t + 1):
            tile = np.random.default_rng([seed, ty, tx]).standard_normal((n_c, n_p, t, t), np.float32)
            ya, yb = max(r0, ty * t), min(r1, (ty + 1) * t)
            xa, xb = max(c0, tx * t), min(c1, (tx + 1) * t)
            out[:, :, ya - r0 : yb - r0, xa - c0 : xb - c0] = tile[:, :, ya - ty * t : yb - ty * t,
                                                                    xa - tx * t : xb - tx * t]  # fmt: skip
    return out


@dataclass(frozen=True)
class _Layout:
    scheme: str
    h: int
    w: int
    core: int
    win: int
    halo: int

    @property
    def grid(self) -> tuple[int, int]:
        return self.h // self.core, self.w // self.core

    def window(self, i: int, j: int) -> tuple[int, int]:
        """Top-left corner of patch (i, j)'s window, clamped inside the canvas."""
        if self.scheme == "independent":
            return i * self.core, j * self.core
        return (int(np.clip(i * self.core - self.halo, 0, self.h - self.win)),
                int(np.clip(j * self.core - self.halo, 0, self.w - self.win)))  # fmt: skip

    def borders(self) -> dict[str, list[int]]:
        ny, nx = self.grid
        if self.scheme == "overlap":  # where a window starts or ends contributing
            ys = sorted({v for i in range(ny) for v in (self.window(i, 0)[0], self.window(i, 0)[0] + self.win)} - {0, self.h})
            xs = sorted({v for j in range(nx) for v in (self.window(0, j)[1], self.window(0, j)[1] + self.win)} - {0, self.w})
            return {"y": ys, "x": xs}
        return {"y": [i * self.core for i in range(1, ny)], "x": [j * self.core for j in range(1, nx)]}


def _params_record(model: Any, genes: Any, layout: _Layout, seed: int, shape: tuple) -> dict:
    return {"model": model.fingerprint(), "genes_sha": _field_digest(genes), "scheme": layout.scheme,
            "core": layout.core, "halo": layout.halo, "window": layout.win, "seed": int(seed),
            "shape": list(shape), "num_inference_steps": int(model.params_["num_inference_steps"]),
            "clip_sample": bool(model.params_.get("clip_sample", True))}  # fmt: skip


def _field_digest(genes: Any) -> str:
    """A cheap digest of a gene field: genes, grid and a strided sample of counts."""
    import hashlib

    h = hashlib.sha256(repr((genes.genes, genes.planes, genes.grid.to_dict())).encode())
    g, p, hh, ww = genes.shape
    sy, sx = max(1, hh // 16), max(1, ww // 16)
    h.update(np.ascontiguousarray(np.asarray(genes.counts[:, :, ::sy, ::sx])).tobytes())
    h.update(np.asarray(genes.scale, np.float32).tobytes())
    return h.hexdigest()


def _disk_error(err: OSError, where: Path) -> StorageError:
    what = "the disk is full" if err.errno in (errno.ENOSPC, errno.EDQUOT) else str(err)
    return StorageError(
        f"Writing generation state to '{where}' failed: {what}. Finished steps are kept; free "
        "space (or choose another --out) and run the same command again to resume."
    )


def generate(
    model: Any,
    genes: Any,
    out: str | os.PathLike[str],
    *,
    scheme: str = "boundary",
    core: int | None = None,
    halo: int | None = None,
    seed: int = 0,
    batch_size: int = 16,
    overwrite: bool = False,
    keep_state: bool = False,
    scheduler: Any = None,
    on_step: Callable[[int], None] | None = None,
    pixel_um: float | None = None,
    chunk_px: int = 256,
) -> GenerationResult:
    """Generate stains for the whole extent of `genes`, patch by patch, on disk.

    Parameters
    ----------
    model : VolumeDiffusion
        A fitted diffusion model.
    genes : crossscale.spatial.GeneField, shape (n_genes, n_planes, H_g, W_g)
        Conditioning; reordered and scaled with the model's training panel and scaling.
        The canvas is (n_stains, n_planes, H_g * r, W_g * r).
    out : path-like
        The OME-Zarr folder to create (e.g. ``generated.ome.zarr``); state goes to
        ``<out>.state``.
    scheme : {"boundary", "independent", "overlap"}
        See the module docstring.
    core, halo : int, optional
        Patch core and halo in stain pixels (default: half the model window each side
        ``core = window / 2``, ``halo = window / 4``; ``core + 2 halo = window``). The canvas must
        be a multiple of `core`.
    seed : int
        Seed of the position-seeded initial noise.
    batch_size : int
        Windows per forward pass.
    overwrite : bool
        Replace an existing `out`.
    keep_state : bool
        Keep the state folder after success.
    scheduler : None, "local", address or distributed.Client
        Run each step's patch batches on Dask workers; None runs in-process. Results are
        identical.
    on_step : callable, optional
        Called with the step number after each finished step (used to test interruptions).
    pixel_um : float, optional
        Stain pixel size in µm for the OME-Zarr metadata (default: gene bin / r).
    chunk_px : int
        In-plane chunk size of the OME-Zarr output (memory of the pyramid step scales with it).

    Returns
    -------
    result : GenerationResult

    Raises
    ------
    ParameterError
        Unknown scheme, canvas not a multiple of `core`, or `core + 2 halo` different from the
        model window.
    GenerationStateError
        A state folder from a run with other parameters exists.
    StorageError
        Writing failed (full disk); finished steps are kept for a resume.
    ModelStateError
        The gene field lacks genes of the model's panel.
    """
    import zarr

    if scheme not in SCHEMES:
        raise ParameterError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}.")
    if model.params_["objective"] != "diffusion":
        raise ParameterError("generate() needs a diffusion model; use predict_canvas() for regression.")
    out = Path(out)
    if out.exists() and not overwrite:
        raise ParameterError(
            f"The output '{out}' already exists. Choose another --out, or pass --overwrite."
        )
    genes = _prepare(model, genes)
    r = model.ratio_
    win = int(model.params_["window"])
    core = int(core if core is not None else win // 2)
    halo = int(halo if halo is not None else (win - core) // 2)
    if core + 2 * halo != win:
        raise ParameterError(
            f"core + 2 * halo must equal the model window {win}; got core {core}, halo {halo}."
        )
    lvl = 2 ** (len(model.params_["channels"]) - 1)
    if core % lvl or core % r or halo % r:
        raise ParameterError(
            f"core ({core}) must be a multiple of {int(np.lcm(lvl, r))} and halo ({halo}) of {r}."
        )
    n_s, n_p = len(model.stains_), len(model.planes_)
    h, w = genes.shape[2] * r, genes.shape[3] * r
    if h % core or w % core or h < win or w < win:
        raise ParameterError(
            f"The canvas ({h} x {w} stain px from {genes.shape[2]} x {genes.shape[3]} gene bins) "
            f"must be at least the window ({win}) and a multiple of core ({core}) on each side; "
            f"crop the gene field to {h // core * core // r} x {w // core * core // r} bins."
        )
    eff_win = core if scheme == "independent" else win
    layout = _Layout(scheme, h, w, core, eff_win, 0 if scheme == "independent" else halo)
    ny, nx = layout.grid
    n_patches = ny * nx
    ddim = model.scheduler("ddim")
    timesteps = [int(t) for t in ddim.timesteps]
    n_steps = len(timesteps)
    state = Path(str(out) + ".state")
    record = _params_record(model, genes, layout, seed, (n_s, n_p, h, w))
    done = _open_state(state, record)
    state_shape = (ny, nx, n_s, n_p, eff_win, eff_win) if scheme == "overlap" else (n_s, n_p, h, w)
    chunks = (1, 1, n_s, n_p, eff_win, eff_win) if scheme == "overlap" else (n_s, n_p, core, core)

    def step_path(k: int) -> Path:
        return state / f"step_{k:04d}.zarr"

    try:
        if done < 0:  # write the initial noise (step 0)
            arr = zarr.open_array(str(step_path(0)), mode="w", shape=state_shape, chunks=chunks,
                                  dtype="float32", fill_value=0.0)  # fmt: skip
            for i in range(ny):
                for j in range(nx):
                    if scheme == "overlap":
                        y0, x0 = layout.window(i, j)
                        arr[i, j] = position_noise(seed, n_s, n_p, slice(y0, y0 + eff_win), slice(x0, x0 + eff_win))
                    else:
                        rs, cs = slice(i * core, (i + 1) * core), slice(j * core, (j + 1) * core)
                        arr[:, :, rs, cs] = position_noise(seed, n_s, n_p, rs, cs)
            _mark(state, 0, timesteps[0])
            done = 0
    except OSError as err:
        raise _disk_error(err, state) from err
    patches = [(i, j) for i in range(ny) for j in range(nx)]
    batches = [patches[b : b + batch_size] for b in range(0, n_patches, batch_size)]
    t0 = time.perf_counter()
    steps_run = 0
    runner = _Runner(scheduler)
    gc.collect()
    gc.freeze()  # the periodic collections below then scan only objects made during generation
    try:
        with progress(f"generating ({scheme})", total=n_steps - done) as bar:
            for k in range(done, n_steps):
                src, dst = step_path(k), step_path(k + 1)
                shutil.rmtree(dst, ignore_errors=True)  # a half-written step from a crash
                try:
                    zarr.open_array(str(dst), mode="w", shape=state_shape, chunks=chunks,
                                    dtype="float32", fill_value=0.0)  # fmt: skip
                    runner.run(model, genes, layout, str(src), str(dst), k, timesteps, batches)
                    _mark(state, k + 1, timesteps[k])
                except OSError as err:
                    raise _disk_error(err, state) from err
                shutil.rmtree(src, ignore_errors=True)
                gc.collect()  # zarr's per-chunk asyncio objects are cyclic garbage
                steps_run += 1
                bar.advance()
                if on_step is not None:
                    on_step(k + 1)
    finally:
        runner.close()
        gc.unfreeze()
    seconds = time.perf_counter() - t0
    final = zarr.open_array(str(step_path(n_steps)), mode="r")
    px = float(pixel_um if pixel_um is not None else genes.grid.step / r)
    gc.freeze()
    try:
        with atomic_dir(out, overwrite=overwrite) as tmp:
            _write_ome_zarr(final, layout, tmp, px, model.stains_,
                            origin=(genes.grid.y0, genes.grid.x0), chunk_px=chunk_px)  # fmt: skip
    except OSError as err:
        raise _disk_error(err, out.parent) from err
    finally:
        gc.unfreeze()
    if not keep_state:
        shutil.rmtree(state, ignore_errors=True)
    return GenerationResult(out, scheme, (n_s, n_p, h, w), layout.borders(), n_patches, n_steps,
                            seconds, steps_run, {"core": core, "halo": layout.halo,
                                                 "window": eff_win, "seed": seed, "pixel_um": px})  # fmt: skip


def _prepare(model: Any, genes: Any) -> Any:
    if tuple(genes.genes) == tuple(model.genes_):
        return genes.with_scale(model.gene_scale_, model.gene_transform_)
    return model.prepare_genes(genes)


def _mark(state: Path, k: int, t: int) -> None:
    write_json(state / f"step_{k:04d}.done", {"step": k, "timestep": t})


def _open_state(state: Path, record: dict) -> int:
    """Create or check the state folder; return the last finished step (-1 if none)."""
    pfile = state / "params.json"
    if pfile.exists():
        old = json.loads(pfile.read_text("utf-8"))
        diff = [f"{k}: {old.get(k)!r} -> {v!r}" for k, v in record.items() if old.get(k) != v]
        if diff:
            raise GenerationStateError(
                f"The state folder '{state}' belongs to a run with other parameters "
                f"({'; '.join(diff)}). Resume with the same parameters, or delete '{state}' "
                "(or choose another --out) to start afresh."
            )
        steps = sorted(int(p.stem.split("_")[1]) for p in state.glob("step_*.done"))
        steps = [k for k in steps if (state / f"step_{k:04d}.zarr").exists()]
        if steps:
            logger.info("resuming from step %d in %s", steps[-1], state)
            return steps[-1]
        return -1
    state.mkdir(parents=True, exist_ok=True)
    write_json(pfile, record)
    return -1


class _Runner:
    """Runs the patch batches of one step in-process or on Dask workers (same results)."""

    def __init__(self, scheduler: Any) -> None:
        self.client = self.cluster = None
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
                if n % GC_EVERY == 0:
                    # zarr leaves cyclic asyncio garbage per chunk written; with torch loaded the
                    # interpreter rarely runs a full collection, so it would pile up with the
                    # number of patches. A full collection every GC_EVERY batches bounds it.
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


def _canvas_tile(final: Any, layout: _Layout, i: int, j: int) -> np.ndarray:
    """Core tile (i, j) of the final canvas (averaging overlapping windows for 'overlap')."""
    c = layout.core
    if layout.scheme != "overlap":
        return np.asarray(final[:, :, i * c : (i + 1) * c, j * c : (j + 1) * c])
    ny, nx = layout.grid
    acc = np.zeros(final.shape[2:4] + (c, c), np.float64)
    cnt = 0
    for a in range(max(0, i - 2), min(ny, i + 3)):
        for b in range(max(0, j - 2), min(nx, j + 3)):
            y0, x0 = layout.window(a, b)
            if y0 <= i * c and i * c + c <= y0 + layout.win and x0 <= j * c and j * c + c <= x0 + layout.win:
                acc += np.asarray(final[a, b, :, :, i * c - y0 : i * c - y0 + c, j * c - x0 : j * c - x0 + c])
                cnt += 1
    return (acc / cnt).astype(np.float32)


def _collect(n: int) -> int:
    """Count a chunk write; run a full garbage collection every ``4 * GC_EVERY`` writes."""
    n += 1
    if n % (4 * GC_EVERY) == 0:
        gc.collect()
    return n


def _write_ome_zarr(final: Any, layout: _Layout, folder: Path, pixel_um: float,
                    stains: tuple[str, ...], *, origin: tuple[float, float] = (0.0, 0.0),
                    chunk_px: int = 256) -> None:  # fmt: skip
    """Write the final state as an OME-Zarr (czyx), level 0 and a 2x pyramid, tile by tile.

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
            block = np.concatenate([np.concatenate([_canvas_tile(final, layout, i, j) for j in jj], -1)
                                    for i in ii], -2)  # fmt: skip
            level0[:, :, i0 * c : i0 * c + block.shape[-2], j0 * c : j0 * c + block.shape[-1]] = block
            written = _collect(written)
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
                written = _collect(written)
        datasets.append({"path": f"s{len(datasets)}", "coordinateTransformations": [
            {"type": "scale", "scale": [1.0, 1.0, pixel_um * f, pixel_um * f]}]})  # fmt: skip
        prev = cur
    gc.collect()
    write_multiscales_metadata(group, datasets, axes=["c", "z", "y", "x"],
                               axes_units={"y": "micrometer", "x": "micrometer"}, name="generated")  # fmt: skip
    group.attrs["crossscale"] = {"stains": list(stains), "scheme": layout.scheme,
                                 "value_range": [-1.0, 1.0], "core": c,
                                 "origin_um": {"y": origin[0], "x": origin[1]}}  # fmt: skip


def predict_canvas(model: Any, genes: Any, *, core: int | None = None, halo: int | None = None,
                   batch_size: int = 16) -> np.ndarray:  # fmt: skip
    """Deterministic stains of the regression baseline over the extent of `genes`, in memory.

    Patches use the same halo layout as the boundary scheme (a window around each core), so the
    comparison with the diffusion model differs only in the model.

    Returns
    -------
    stains : numpy.ndarray, shape (n_stains, n_planes, H, W), float32
    """
    import torch

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
    out = np.zeros((len(model.stains_), len(model.planes_), h, w), np.float32)
    ny, nx = layout.grid
    patches = [(i, j) for i in range(ny) for j in range(nx)]
    dev = model.device_
    for b in range(0, len(patches), batch_size):
        batch = patches[b : b + batch_size]
        corners = [layout.window(i, j) for i, j in batch]
        g = np.stack([genes.values(slice(y0 // r, (y0 + win) // r), slice(x0 // r, (x0 + win) // r))
                      for y0, x0 in corners])  # fmt: skip
        x = torch.zeros((len(batch), out.shape[0], out.shape[1], win, win), device=dev)
        pred = model.predict(x, torch.zeros(len(batch), dtype=torch.long, device=dev),
                             torch.from_numpy(g).to(dev)).cpu().numpy()  # fmt: skip
        for p, ((i, j), (y0, x0)) in enumerate(zip(batch, corners, strict=True)):
            cy, cx = i * core - y0, j * core - x0
            out[:, :, i * core : (i + 1) * core, j * core : (j + 1) * core] = pred[
                p, :, :, cy : cy + core, cx : cx + core
            ]
    return np.clip(out, -1.0, 1.0)
