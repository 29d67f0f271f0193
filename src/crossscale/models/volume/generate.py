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

For the residual objective (CorrDiff) the schemes denoise the residual only; the regression mean
of every window of the boundary layout is computed once (``<out>.state/mean.zarr``), Hann-averaged
over overlapping windows and added, with the residual scaled by its per-stain SD, when the final
image is written. Outputs are in the original stain intensities (the model's standardisation
undone), not clipped; a model ``contrast`` other than 1 scales each pixel's deviation from the
training mean image at that point.

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

import contextlib
import gc
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crossscale._errors import ParameterError
from crossscale._outdir import atomic_dir
from crossscale._progress import progress
from crossscale.models.volume.layout import (
    _blend_tile,
    _Layout,
    position_noise,
)
from crossscale.models.volume.mean import _mean_windows, _prepare
from crossscale.models.volume.omezarr import _write_ome_zarr, level_path
from crossscale.models.volume.state import (
    _disk_error,
    _mark,
    _open_state,
    _params_record,
)
from crossscale.models.volume.steps import _Runner

logger = logging.getLogger(__name__)

SCHEMES = ("boundary", "independent", "overlap")
GC_EVERY = 2

# layout, state, the regression mean and OME-Zarr writing live in their own modules
__all__ = ["GC_EVERY", "SCHEMES", "GenerationResult", "generate"]


@dataclass(frozen=True)
class GenerationResult:
    """Where the generated canvas is and how generation went.

    Attributes
    ----------
    path : pathlib.Path
        The OME-Zarr folder (level 0, see :func:`level_path`, holds (n_stains, n_planes, H, W)
        float32 in the original stain intensities, about [-1, 1]; not clipped).
    scheme : str
        ``boundary``, ``independent`` or ``overlap``.
    shape : tuple of int
        (n_stains, n_planes, H, W).
    borders : dict
        ``{"y": [...], "x": [...]}`` pixel rows / columns where one patch meets the next
        (for :func:`crossscale.evaluate.volume_metrics.seam_score`).
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

    _check_generate_args(model, seed=seed, batch_size=batch_size, chunk_px=chunk_px)
    if scheme not in SCHEMES:
        raise ParameterError(f"scheme must be one of {', '.join(SCHEMES)}; got {scheme!r}.")
    if model.params_["objective"] not in ("residual", "diffusion"):
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
    done = _open_state(state, record, discard_damaged=overwrite)
    state_shape = (ny, nx, n_s, n_p, eff_win, eff_win) if scheme == "overlap" else (n_s, n_p, h, w)
    chunks = (1, 1, n_s, n_p, eff_win, eff_win) if scheme == "overlap" else (n_s, n_p, core, core)

    def step_path(k: int) -> Path:
        return state / f"step_{k:04d}.zarr"

    try:
        with _gc_frozen():  # periodic collections scan only objects made here
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
            mean_layout = _Layout("boundary", h, w, core, win, halo)
            t_mean = time.perf_counter()
            if model.params_["objective"] == "residual" and not (state / "mean.done").exists():
                _mean_windows(model, genes, mean_layout, state / "mean.zarr", batch_size, gc_every=GC_EVERY)
                _mark_file(state / "mean.done")
            t_mean = time.perf_counter() - t_mean
    except OSError as err:
        raise _disk_error(err, state) from err
    patches = [(i, j) for i in range(ny) for j in range(nx)]
    batches = [patches[b : b + batch_size] for b in range(0, n_patches, batch_size)]
    t0 = time.perf_counter()
    steps_run = 0
    runner = _Runner(scheduler, gc_every=GC_EVERY)
    try:
        with _gc_frozen(), progress(f"generating ({scheme})", total=n_steps - done) as bar:
            for k in range(done, n_steps):
                src, dst = step_path(k), step_path(k + 1)
                shutil.rmtree(dst, ignore_errors=True)  # a half-written step from a crash
                try:
                    zarr.open_array(str(dst), mode="w", shape=state_shape, chunks=chunks,
                                    dtype="float32", fill_value=0.0)  # fmt: skip
                    runner.run(model, genes, layout, str(src), str(dst), k, timesteps, batches, seed)
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
    seconds = time.perf_counter() - t0
    final = zarr.open_array(str(step_path(n_steps)), mode="r")
    px = float(pixel_um if pixel_um is not None else genes.grid.step / r)
    sh = (-1, 1, 1, 1)
    loc, sd = model.stain_loc_.reshape(sh), model.stain_scale_.reshape(sh)
    # contrast c: mean image + c (sample - mean image), i.e. in standardised units around mu
    c = float(model.params_.get("contrast", 1.0))
    mu = ((model.stain_mean_ - model.stain_loc_[:, None]) / model.stain_scale_[:, None])[:, :, None, None]
    if model.params_["objective"] == "residual":
        means = zarr.open_array(str(state / "mean.zarr"), mode="r")
        rs = model.residual_scale_.reshape(sh)

        def post(tile: np.ndarray, i: int, j: int) -> np.ndarray:
            """Sample = blended regression mean + residual SD x residual, in stain intensities."""
            z = _blend_tile(means, mean_layout, i, j) + rs * tile
            return (((mu + c * (z - mu)) if c != 1.0 else z) * sd + loc).astype(np.float32)
    else:

        def post(tile: np.ndarray, i: int, j: int) -> np.ndarray:
            return (((mu + c * (tile - mu)) if c != 1.0 else tile) * sd + loc).astype(np.float32)

    try:
        with _gc_frozen(), atomic_dir(out, overwrite=overwrite) as tmp:
            _write_ome_zarr(final, layout, tmp, px, model.stains_,
                            origin=(genes.grid.y0, genes.grid.x0), chunk_px=chunk_px,
                            gc_every=GC_EVERY, post=post)  # fmt: skip
    except OSError as err:
        raise _disk_error(err, out.parent) from err
    if not keep_state:
        shutil.rmtree(state, ignore_errors=True)
    return GenerationResult(out, scheme, (n_s, n_p, h, w), layout.borders(), n_patches, n_steps,
                            seconds, steps_run, {"core": core, "halo": layout.halo,
                                                 "window": eff_win, "seed": seed, "pixel_um": px,
                                                 "mean_seconds": t_mean})  # fmt: skip


@contextlib.contextmanager
def _gc_frozen() -> Iterator[None]:
    """Every object alive so far frozen (:func:`gc.freeze`) for the block.

    Generation collects zarr's cyclic garbage every few batches; with the objects of torch, MONAI
    and the caller's session frozen, each of those collections scans only what the block made
    (a full collection took ~0.1-0.25 s in a test session, hundreds of times per canvas). No full
    collection first: it cost as much (0.25 s with torch and MONAI imported, three per
    :func:`generate`), and garbage made before the block is freed after it, as usual.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _check_generate_args(model: Any, *, seed: Any, batch_size: Any, chunk_px: Any) -> None:
    """The numeric arguments of :func:`generate`, checked before any state is written."""
    from crossscale._validate import MAX_STEPS, check_int, check_seed

    check_seed("seed", seed)
    check_int("batch_size", batch_size, 1)
    check_int("chunk_px", chunk_px, 1)
    check_int("num_inference_steps (the model's; --steps)",
              getattr(model, "params_", {}).get("num_inference_steps"), 1, MAX_STEPS)  # fmt: skip


def _mark_file(path: Path) -> None:
    path.write_text("done\n", "utf-8")
