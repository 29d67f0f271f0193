"""Generate a canvas of any size from a trained volume model (``crossscale volume generate``).

:class:`GenerateConfig` -> :func:`generate_canvas` (config, out): the canvas is generated
step-major on disk into ``OUT/generated.ome.zarr`` (:func:`crossscale.models.volume.generate`:
memory constant in the canvas size, larger than memory is fine), so it is written while it is
made rather than by a ``save``; an interrupted run resumes to the same bytes; ``run.json``
(with the measured speed and memory) is written last.
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from crossscale._errors import ParameterError
from crossscale.pipeline import _checks as chk
from crossscale.pipeline._workflow import call_text
from crossscale.pipeline.volume import (
    _check_common,
    _load,
    _record,
    _sample,
    check_output,
    peak_rss_mb,
    train_parameters,
)

__all__ = ["GenerateConfig", "GenerateResult", "generate_canvas"]


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _status_mb(name: str) -> float | None:
    """A memory field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in MiB, or None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _parse_size(size: str | None, base: tuple[int, int]) -> tuple[int, int]:
    if size is None:
        return base
    try:
        h, w = (int(v) for v in str(size).lower().split("x"))
    except ValueError as err:
        raise ParameterError(
            f"--size must be ROWSxCOLS in stain pixels, e.g. 2048x2048; got {size!r}."
        ) from err
    if h < 1 or w < 1:
        raise ParameterError(f"--size must be positive; got {size!r}.")
    return h, w


@dataclass(frozen=True)
class GenerateConfig:
    """Options of ``crossscale volume generate``.

    ``model`` the folder of ``volume train``; ``size`` the canvas 'ROWSxCOLS' in stain pixels
    (None: the crop; larger tiles the real gene field, i.e. replicated conditioning); ``scheme``
    'boundary', 'independent' or 'overlap'; ``steps`` DDIM steps (None: the model's);
    ``seed`` of the position-seeded noise; ``batch_size`` windows per forward pass;
    ``scheduler`` Dask ('local' or an address; None in-process).
    """

    model: str
    size: str | None = None
    scheme: str = "boundary"
    steps: int | None = None
    seed: int = 0
    batch_size: int = 16
    scheduler: str | None = None
    device: str = "auto"
    threads: int | None = None
    #: An `out` holding only this (an interrupted run) is resumed without `overwrite`.
    resume_state: ClassVar[str] = "generated.ome.zarr.state"

    def check(self) -> None:
        """Validate every option before any work (the model folder: :func:`check_output`)."""
        chk.one_of("--scheme", self.scheme, ("boundary", "independent", "overlap"))
        chk.scheduler("--scheduler", self.scheduler)
        _check_common(self)
        if self.size is not None:
            _parse_size(self.size, (1, 1))


@dataclass(frozen=True)
class GenerateResult:
    """What :func:`generate_canvas` wrote (``path``) and measured (``results``)."""

    config: GenerateConfig
    path: Path
    shape: tuple[int, ...]
    seconds: float
    patches_per_second: float
    tiled: bool
    results: dict[str, Any] = field(default_factory=dict)


def generate_canvas(config: GenerateConfig, out: str | os.PathLike[str], *,
                    overwrite: bool = False, command: str | None = None) -> GenerateResult:  # fmt: skip
    """Generate the canvas of `config` into ``out/generated.ome.zarr`` and write ``run.json``.

    Step-major on disk (:func:`crossscale.models.volume.generate`): memory is constant in the
    canvas size, and rerunning the same call resumes an interrupted run to the same bytes.

    Parameters
    ----------
    config : GenerateConfig
        The options.
    out : path-like
        The output folder (checked by :func:`check_output`).
    overwrite : bool
        Replace an existing result (a state folder is resumed without it).
    command : str or None
        run.json's ``command`` (default: the Python call).

    Returns
    -------
    GenerateResult

    Raises
    ------
    ParameterError
        Bad options, a folder that is not a ``volume train`` output, an `out` that may not be
        written; before any work.
    """
    import ome_zarr.writer  # noqa: F401 - imported before the memory baseline
    import zarr  # noqa: F401

    from crossscale._outdir import _stamp_run_json
    from crossscale._threads import torch_threads
    from crossscale.models.volume import generate
    from crossscale.spatial import tile_field

    config.check()
    out = check_output(config, out, overwrite=overwrite)
    model = Path(config.model)
    cfg = train_parameters(model)
    loaded, _ = _load(model, config.device)
    diff = loaded
    if config.steps is not None:  # a copy with other steps: the loaded model stays as it is
        diff = copy.copy(loaded)
        diff.num_inference_steps = int(config.steps)
        diff.params_ = {**loaded.params_, "num_inference_steps": int(config.steps)}
    sample = _sample(cfg["bin_px"], cfg["downsample"])
    r, core = diff.ratio_, int(diff.params_["window"]) // 2
    base = (sample.stains.shape[2] // core * core, sample.stains.shape[3] // core * core)
    h, w = _parse_size(config.size, base)
    h, w = max(core, h // core * core), max(core, w // core * core)
    genes = sample.genes
    tiled = h > genes.shape[2] * r or w > genes.shape[3] * r
    genes = tile_field(genes, (h // r, w // r)) if tiled else \
        genes.crop(slice(0, h // r), slice(0, w // r))  # fmt: skip
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    diff.scheduler("ddim")  # imports MONAI before the memory baseline
    rss_before, reset = _status_mb("VmRSS"), _reset_peak_rss()
    t0 = time.perf_counter()
    try:
        with torch_threads(config.threads):
            res = generate(diff, genes, out / "generated.ome.zarr", scheme=config.scheme,
                           seed=config.seed, batch_size=config.batch_size,
                           scheduler=config.scheduler, overwrite=overwrite)  # fmt: skip
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # nothing to resume: leave no empty folder behind
        raise
    wall = time.perf_counter() - t0
    voxels = int(res.shape[0] * res.shape[1] * res.shape[2] * res.shape[3])
    vox_s = voxels * res.steps_run / res.n_steps / res.seconds if res.seconds > 0 else float("nan")
    results = {"shape": list(res.shape), "voxels": voxels, "tiled_gene_field": tiled,
               "n_patches_per_step": res.n_patches, "n_steps": res.n_steps,
               "steps_run": res.steps_run, "seconds": res.seconds, "wall_seconds": wall,
               "patches_per_s": res.patches_per_second, "voxels_per_s": vox_s,
               "peak_rss_mb": peak_rss_mb(), "rss_before_generation_mb": rss_before,
               "peak_rss_during_generation_mb": _status_mb("VmHWM") if reset else None,
               "extrapolated_hours_to_1e12_voxels": 1e12 / vox_s / 3600 if vox_s else None,
               "extrapolation_note": "linear extrapolation of this run's voxels/s; not measured"}  # fmt: skip
    params = {"model": str(model), "size": [h, w], "scheme": config.scheme, "seed": config.seed,
              "steps": config.steps, "batch_size": config.batch_size,
              "scheduler": config.scheduler, "device": config.device}  # fmt: skip
    from crossscale._files import write_json

    write_json(out / "run.json", _record(command or call_text("generate_canvas", config), params,
                                         results=results))  # fmt: skip
    _stamp_run_json(out)  # written_by + the files: a later --overwrite knows them as crossscale's
    return GenerateResult(config, Path(res.path), tuple(res.shape), res.seconds,
                          res.patches_per_second, tiled, results)  # fmt: skip
