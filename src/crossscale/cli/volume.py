"""``crossscale volume train|generate|evaluate``: the doorway to :mod:`crossscale.pipeline.volume`."""

from __future__ import annotations

from pathlib import Path

import typer

from crossscale.cli import _options as o

app = typer.Typer(
    help="Gene-conditioned 3D tissue generation: train on MERFISH + stains, generate any size "
    "to OME-Zarr (resumable), evaluate on the held-out region.",
    no_args_is_help=True,
)


def _prepare(config: object, out: Path, overwrite: bool) -> Path:
    """Check `config` and `out` before any work; set torch's threads for this process."""
    from crossscale._threads import set_torch_threads
    from crossscale.pipeline import volume

    config.check()  # type: ignore[attr-defined]
    out = volume.check_output(config, out, overwrite=overwrite)
    set_torch_threads(config.threads)  # type: ignore[attr-defined]
    return out


@app.command("train")
def train(
    out: o.TrainOut, preset: o.VolumePreset = "smoke", objective: o.Objective = "residual",
    max_iter: o.MaxIter = None, steps: o.TrainSteps = None, bin_px: o.BinPx = 16,
    downsample: o.Downsample = 8, holdout: o.Holdout = 0.25, regression: o.Regression = False,
    seed: o.Seed = 0, device: o.Device = "auto", threads: o.Threads = None,
    overwrite: o.ReplaceOut = False,
) -> None:  # fmt: skip
    """Train the gene-conditioned diffusion model on the Vizgen MERFISH crop (held-out quarter kept out)."""
    from crossscale.pipeline._workflow import command_line
    from crossscale.pipeline.volume import TrainConfig, run

    config = TrainConfig(preset=preset, objective=objective, max_iter=max_iter, steps=steps,
                         bin_px=bin_px, downsample=downsample, holdout=holdout,
                         regression=regression, seed=seed, device=device, threads=threads)  # fmt: skip
    out = _prepare(config, out, overwrite)
    res = run(config)
    res.save(out, overwrite=overwrite, command=command_line())
    typer.echo(f"trained in {res.results['diffusion_fit_time_s']:.1f} s; model written to {out}")


@app.command("generate")
def generate_cmd(
    model: o.VolumeModel, out: o.GenerateOut, size: o.Size = None, scheme: o.Scheme = "boundary",
    steps: o.Steps = None, seed: o.NoiseSeed = 0, batch_size: o.BatchSize = 16,
    scheduler: o.DaskScheduler = None, device: o.Device = "auto", threads: o.Threads = None,
    overwrite: o.ResumeOverwrite = False,
) -> None:  # fmt: skip
    """Generate stains for a canvas of any size, step-major on disk; rerun the same command to resume."""
    from crossscale.pipeline._workflow import command_line
    from crossscale.pipeline.volume_generate import GenerateConfig, generate_canvas

    config = GenerateConfig(model=str(model), size=size, scheme=scheme, steps=steps, seed=seed,
                            batch_size=batch_size, scheduler=scheduler, device=device,
                            threads=threads)  # fmt: skip
    out = _prepare(config, out, overwrite)
    res = generate_canvas(config, out, overwrite=overwrite, command=command_line())
    typer.echo(f"{res.path}: {res.shape} in {res.seconds:.1f} s, {res.patches_per_second:.2f} "
               "patches/s" + (" (gene field tiled: replicated conditioning, not new data)"
                              if res.tiled else ""))  # fmt: skip


@app.command("evaluate")
def evaluate_cmd(
    model: o.VolumeModel, out: o.EvaluateOut, seed: o.EvalSeed = 0, max_rows: o.MaxRows = None,
    batch_size: o.BatchSize = 16, device: o.Device = "auto", threads: o.Threads = None,
    overwrite: o.ReplaceOut = False,
) -> None:  # fmt: skip
    """Score the three generation schemes and the baselines on the held-out region; write a report."""
    from crossscale.cli._render import print_split_table
    from crossscale.pipeline._workflow import command_line
    from crossscale.pipeline.volume import EvaluateConfig, run

    config = EvaluateConfig(model=str(model), seed=seed, max_rows=max_rows,
                            batch_size=batch_size, device=device, threads=threads)  # fmt: skip
    out = _prepare(config, out, overwrite)
    res = run(config)
    res.save(out, overwrite=overwrite, command=command_line())
    metrics = res.evaluation.metrics
    print_split_table({str(n): [f"{v:.3f}" for v in r.to_numpy(float)] for n, r in metrics.iterrows()},
                      [str(c) for c in metrics.columns], first="method")  # fmt: skip
    typer.echo(f"report: {out / 'report.html'}")
