"""``crossscale volume train|generate|evaluate``: gene-conditioned tissue generation (Tera-MIND)."""

from __future__ import annotations

import logging
import resource
import time
from pathlib import Path

import typer

from crossscale._threads import set_torch_threads

app = typer.Typer(
    help="Gene-conditioned 3D tissue generation: train on MERFISH + stains, generate any size "
    "to OME-Zarr (resumable), evaluate on the held-out region.",
    no_args_is_help=True,
)
logger = logging.getLogger(__name__)


def _run_info(command: str, params: dict, extra: dict | None = None) -> dict:
    from crossscale._provenance import run_record
    from crossscale.spatial.vizgen import data_keys

    return run_record(command, parameters=params, datasets=data_keys(),
                      packages=("monai", "zarr", "ome-zarr", "scikit-image"), **(extra or {}))  # fmt: skip


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


THREADS_HELP = "torch CPU threads (default torch's; 1 is fastest on a busy shared machine)."


def _sample(bin_px: int, downsample: int):  # noqa: ANN202
    from crossscale.spatial import load_vizgen_mini

    return load_vizgen_mini(bin_px=bin_px, downsample=downsample)


def _load_models(model_dir: Path, device: str):  # noqa: ANN202
    from crossscale._errors import ParameterError
    from crossscale.models.volume import VolumeDiffusion

    if not (model_dir / "model").exists():
        raise ParameterError(
            f"'{model_dir}' is not a 'crossscale volume train' output folder: it has no model/. "
            "Pass the --out folder of 'crossscale volume train'."
        )
    diff = VolumeDiffusion.load(model_dir / "model", device=device)
    reg = VolumeDiffusion.load(model_dir / "regression", device=device) if (model_dir / "regression").exists() else None
    return diff, reg


def _check_common(*, seed: int, threads: int | None, device: str, batch_size: int | None = None,
                  steps: int | None = None) -> None:  # fmt: skip
    """The numeric options every volume command shares, checked before any work."""
    from crossscale._device import check_device
    from crossscale._validate import MAX_STEPS
    from crossscale.cli import _checks as chk

    chk.seed("--seed", seed)
    chk.threads("--threads", threads)
    chk.count("--batch-size", batch_size, 1, 1_000_000)
    chk.count("--steps", steps, 1, MAX_STEPS, hint="Give the number of DDIM denoising steps, e.g. 20.")
    check_device(device)


def _check_model_out(model: Path, out: Path, *, overwrite: bool, resume: str | None = None) -> Path:
    """The output guard of generate / evaluate: --out is not, in, or around the model folder."""
    from crossscale._errors import ParameterError
    from crossscale._utils import check_output_dir

    if not Path(model).exists():
        raise ParameterError(f"--model '{model}' does not exist. Pass the --out folder of "
                             "'crossscale volume train'.")  # fmt: skip
    if not Path(model).is_dir():
        raise ParameterError(f"--model '{model}' is a file; pass the --out folder of "
                             "'crossscale volume train'.")  # fmt: skip
    if not (Path(model) / "model").is_dir():
        raise ParameterError(
            f"'{model}' is not a 'crossscale volume train' output folder: it has no model/. "
            "Pass the --out folder of 'crossscale volume train'."
        )
    m, o = Path(model).resolve(), Path(out).resolve()
    if m in o.parents:
        raise ParameterError(
            f"--out '{out}' is inside the model folder '{model}'; writing there would change the "
            "model's folder. Choose an --out outside it, e.g. --out generated."
        )
    return check_output_dir(out, overwrite=overwrite, inputs=[model], option="--out",
                            resume=resume)  # fmt: skip


@app.command("train")
def train(
    out: Path = typer.Option(..., "--out", help="Output folder (model/, regression/, run.json)."),
    preset: str = typer.Option("smoke", help="Model size: 'smoke' (CPU, minutes) or 'default' (GPU)."),
    objective: str = typer.Option("residual", help="'residual' (regression mean + diffusion on the "
                                  "residual), 'diffusion' (plain) or 'regression'."),
    max_iter: int = typer.Option(None, help="Optimisation steps (default: the preset's)."),
    steps: int = typer.Option(10, help="DDIM steps used at generation."),
    bin_px: int = typer.Option(16, help="Image pixels per gene bin (Tera-MIND: 16)."),
    downsample: int = typer.Option(8, help="Image pixels per stain pixel; must divide --bin-px."),
    holdout: float = typer.Option(0.25, help="Rightmost fraction of the crop never trained on."),
    regression: bool = typer.Option(False, help="Also train a separate regression baseline (a "
                                    "residual model holds its own regression net)."),
    seed: int = typer.Option(0, help="Random seed."),
    device: str = typer.Option("auto", help="'auto', 'cpu' or 'cuda'."),
    threads: int = typer.Option(None, help=THREADS_HELP),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
) -> None:
    """Train the gene-conditioned diffusion model on the Vizgen MERFISH crop (held-out quarter kept out)."""
    from crossscale._utils import atomic_dir, check_output_dir, write_json
    from crossscale._validate import MAX_EPOCHS
    from crossscale.cli import _checks as chk

    chk.one_of("--preset", preset, ("smoke", "default"))
    chk.count("--max-iter", max_iter, 1, MAX_EPOCHS)
    chk.count("--bin-px", bin_px, 1, 4096)
    chk.count("--downsample", downsample, 1, 4096)
    if bin_px % downsample:
        chk.one_of("--downsample", str(downsample),
                   [str(d) for d in range(1, bin_px + 1) if bin_px % d == 0])  # fmt: skip
    chk.in_range("--holdout", holdout, 0.0, 1.0)
    _check_common(seed=seed, threads=threads, device=device, steps=steps)
    check_output_dir(out, overwrite=overwrite)
    from crossscale.models.volume import VolumeDiffusion

    set_torch_threads(threads)
    params = {"preset": preset, "objective": objective, "max_iter": max_iter, "steps": steps, "bin_px": bin_px,
              "downsample": downsample, "holdout": holdout, "regression": regression,
              "seed": seed, "device": device}  # fmt: skip
    sample = _sample(bin_px, downsample)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        kw = dict(preset=preset, max_iter=max_iter, num_inference_steps=steps,
                  holdout_fraction=holdout, random_state=seed, device=device)  # fmt: skip
        model = VolumeDiffusion(objective=objective, **kw).fit(sample)
        model.save(tmp / "model")
        info = {"diffusion_fit_time_s": model.fit_time_s_,
                "final_loss": float(model.history_.loss[-10:].mean())}  # fmt: skip
        if regression:
            reg = VolumeDiffusion(objective="regression", **kw).fit(sample)
            reg.save(tmp / "regression")
            info["regression_fit_time_s"] = reg.fit_time_s_
        info["genes"] = len(model.genes_)
        info["dropped"] = sample.genes.dropped
        info["train_cols_stain_px"] = list(model.history_.train_cols)
        write_json(tmp / "run.json", _run_info("crossscale volume train", params,
                                                {"results": info, "peak_rss_mb": _peak_rss_mb()}))  # fmt: skip
    typer.echo(f"trained in {info['diffusion_fit_time_s']:.1f} s; model written to {out}")


def _parse_size(size: str | None, base: tuple[int, int]) -> tuple[int, int]:
    from crossscale._errors import ParameterError

    if size is None:
        return base
    try:
        h, w = (int(v) for v in size.lower().split("x"))
    except ValueError as err:
        raise ParameterError(f"--size must be ROWSxCOLS in stain pixels, e.g. 2048x2048; got {size!r}.") from err
    if h < 1 or w < 1:
        raise ParameterError(f"--size must be positive; got {size!r}.")
    return h, w


@app.command("generate")
def generate_cmd(
    model: Path = typer.Option(..., "--model", help="Output folder of 'crossscale volume train'."),
    out: Path = typer.Option(..., "--out", help="Output folder (generated.ome.zarr, run.json)."),
    size: str = typer.Option(None, help="Canvas ROWSxCOLS in stain pixels; larger than the crop "
                             "tiles the real gene field (replicated conditioning). Default: the crop."),
    scheme: str = typer.Option("boundary", help="'boundary', 'independent' or 'overlap'."),
    steps: int = typer.Option(None, help="DDIM steps (default: the model's)."),
    seed: int = typer.Option(0, help="Seed of the position-seeded noise."),
    batch_size: int = typer.Option(16, help="Windows per forward pass."),
    scheduler: str = typer.Option(None, help="Dask: 'local' or a scheduler address (default in-process)."),
    device: str = typer.Option("auto", help="'auto', 'cpu' or 'cuda'."),
    threads: int = typer.Option(None, help=THREADS_HELP),
    overwrite: bool = typer.Option(False, help="Replace an existing result (a state folder is resumed)."),
) -> None:
    """Generate stains for a canvas of any size, step-major on disk; rerun the same command to resume."""
    from crossscale._utils import write_json
    from crossscale.cli import _checks as chk

    chk.one_of("--scheme", scheme, ("boundary", "independent", "overlap"))
    chk.scheduler("--scheduler", scheduler)
    _check_common(seed=seed, threads=threads, device=device, batch_size=batch_size, steps=steps)
    if size is not None:
        _parse_size(size, (1, 1))
    _check_model_out(model, out, overwrite=overwrite, resume="generated.ome.zarr.state")
    from crossscale.models.volume import generate
    from crossscale.spatial import tile_field

    set_torch_threads(threads)
    diff, _ = _load_models(model, device)
    if steps is not None:
        diff.num_inference_steps = int(steps)
        diff.params_["num_inference_steps"] = int(steps)
    cfg = _train_params(model)
    sample = _sample(cfg["bin_px"], cfg["downsample"])
    r = diff.ratio_
    core = int(diff.params_["window"]) // 2
    base = (sample.stains.shape[2] // core * core, sample.stains.shape[3] // core * core)
    h, w = _parse_size(size, base)
    h, w = max(core, h // core * core), max(core, w // core * core)
    genes = sample.genes
    tiled = h > genes.shape[2] * r or w > genes.shape[3] * r
    genes = tile_field(genes, (h // r, w // r)) if tiled else genes.crop(slice(0, h // r), slice(0, w // r))
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    import ome_zarr.writer  # noqa: F401 - imported before the memory baseline
    import zarr  # noqa: F401

    diff.scheduler("ddim")  # imports MONAI before the memory baseline
    rss_before = _status_mb("VmRSS")
    reset = _reset_peak_rss()
    t0 = time.perf_counter()
    try:
        res = generate(diff, genes, out / "generated.ome.zarr", scheme=scheme, seed=seed,
                       batch_size=batch_size, scheduler=scheduler, overwrite=overwrite)  # fmt: skip
    except BaseException:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # nothing to resume: leave no empty folder behind
        raise
    wall = time.perf_counter() - t0
    voxels = res.shape[0] * res.shape[1] * res.shape[2] * res.shape[3]
    vox_per_s = voxels * res.steps_run / res.n_steps / res.seconds if res.seconds > 0 else float("nan")
    results = {"shape": list(res.shape), "voxels": voxels, "tiled_gene_field": tiled,
               "n_patches_per_step": res.n_patches, "n_steps": res.n_steps,
               "steps_run": res.steps_run, "seconds": res.seconds, "wall_seconds": wall,
               "patches_per_s": res.patches_per_second, "voxels_per_s": vox_per_s,
               "peak_rss_mb": _peak_rss_mb(),
               "rss_before_generation_mb": rss_before,
               "peak_rss_during_generation_mb": _status_mb("VmHWM") if reset else None,
               "extrapolated_hours_to_1e12_voxels": 1e12 / vox_per_s / 3600 if vox_per_s else None,
               "extrapolation_note": "linear extrapolation of this run's voxels/s; not measured"}  # fmt: skip
    params = {"model": str(model), "size": [h, w], "scheme": scheme, "seed": seed, "steps": steps,
              "batch_size": batch_size, "scheduler": scheduler, "device": device}  # fmt: skip
    write_json(out / "run.json", _run_info("crossscale volume generate", params, {"results": results}))
    from crossscale._outdir import _stamp_run_json

    _stamp_run_json(out)  # written_by + the files: a later --overwrite knows them as crossscale's
    typer.echo(f"{res.path}: {res.shape} in {res.seconds:.1f} s, {res.patches_per_second:.2f} patches/s"
               + (" (gene field tiled: replicated conditioning, not new data)" if tiled else ""))  # fmt: skip


def _train_params(model_dir: Path) -> dict:
    import json

    from crossscale._errors import ParameterError

    run = model_dir / "run.json"
    if not run.exists():
        return {"bin_px": 16, "downsample": 8}
    try:
        params = json.loads(run.read_text("utf-8"))["parameters"]
        return {"bin_px": int(params["bin_px"]), "downsample": int(params["downsample"])}
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ParameterError(
            f"'{run}' is not the record that 'crossscale volume train' wrote (it lacks the "
            "parameters bin_px and downsample): it was changed or replaced. Put back the "
            "original run.json, or train again with 'crossscale volume train --out ...'."
        ) from None


@app.command("evaluate")
def evaluate_cmd(
    model: Path = typer.Option(..., "--model", help="Output folder of 'crossscale volume train'."),
    out: Path = typer.Option(..., "--out", help="Output folder (metrics.csv, report.html, run.json)."),
    seed: int = typer.Option(0, help="Noise seed."),
    max_rows: int = typer.Option(None, help="Only the first rows (stain px) of the held-out region."),
    batch_size: int = typer.Option(16, help="Windows per forward pass."),
    device: str = typer.Option("auto", help="'auto', 'cpu' or 'cuda'."),
    threads: int = typer.Option(None, help=THREADS_HELP),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
) -> None:
    """Score the three generation schemes and the baselines on the held-out region; write a report."""
    import json

    from crossscale._utils import atomic_dir, write_json
    from crossscale.cli import _checks as chk

    _check_common(seed=seed, threads=threads, device=device, batch_size=batch_size)
    chk.count("--max-rows", max_rows, 1, 1_000_000)
    _check_model_out(model, out, overwrite=overwrite)
    from crossscale.evaluate.volume import evaluate_volume
    from crossscale.report.volume import build_volume_report

    set_torch_threads(threads)
    diff, reg = _load_models(model, device)
    cfg = _train_params(model)
    sample = _sample(cfg["bin_px"], cfg["downsample"])
    with atomic_dir(out, overwrite=overwrite, inputs=[model]) as tmp:
        ev = evaluate_volume(diff, sample, tmp / "generated", regression=reg, seed=seed,
                             max_rows=max_rows, batch_size=batch_size)  # fmt: skip
        ev.metrics.to_csv(tmp / "metrics.csv")
        ev.attention.to_csv(tmp / "attention_pairs.csv")
        mcfg = json.loads((model / "model" / "config.json").read_text("utf-8"))
        build_volume_report(ev, model_info=mcfg, genes=list(diff.genes_)).save(tmp / "report.html")
        params = {"model": str(model), "seed": seed, "max_rows": max_rows, "batch_size": batch_size}
        write_json(tmp / "run.json", _run_info("crossscale volume evaluate", params,
                                               {"results": {"metrics": ev.metrics.reset_index().to_dict("records"),
                                                            "attention": ev.attention.reset_index().to_dict("records"),
                                                            **ev.info}, "peak_rss_mb": _peak_rss_mb()}))  # fmt: skip
    from rich.console import Console
    from rich.table import Table

    table = Table("method", *[str(c) for c in ev.metrics.columns])
    for name, row in ev.metrics.iterrows():
        table.add_row(str(name), *[f"{v:.3f}" for v in row.to_numpy(float)])
    Console().print(table)
    typer.echo(f"report: {out / 'report.html'}")
