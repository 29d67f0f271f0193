"""``crossscale benchmark``: the doorway to :mod:`crossscale.pipeline.benchmark_config`.

One table: per map and model, in-sample, leave-one-region-out and spatial-CV R² and r, the
spin-test p-value of the cross-validated r (refits on spun maps), and wall times.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from crossscale.cli import _options_fit as o
from crossscale.models.registry import DEFAULT_MODEL

__all__ = ["benchmark"]


def benchmark(
    maps: o.BMaps = "ad", out: o.BOut = Path("results/benchmark"), overwrite: o.BOverwrite = False,
    n_perm: o.BNPerm = 100, null_cv: o.BNullCv = "10", scheduler: o.BScheduler = None,
    batch_size: o.BBatchSize = 250, null_models: o.BNullModels = "all",
    model: o.BModel = DEFAULT_MODEL, param: o.BParam = None, preset: o.BPreset = "default",
    max_epochs: o.BMaxEpochs = None, ensemble: o.BEnsemble = None, atlas: o.BAtlas = "dk",
    gene_panel: o.BGenePanel = "auto", seed: o.BSeed = 0, device: o.BDevice = "auto",
) -> None:  # fmt: skip
    """Run a model (default GraphVAE) and the baselines (PLS 1-5, ridge, spatial-only) on many maps."""
    from crossscale.pipeline.benchmark_config import BenchmarkConfig, check_output, run

    t_start = time.perf_counter()
    config = BenchmarkConfig(
        maps=maps, n_perm=n_perm, null_cv=null_cv, scheduler=scheduler, batch_size=batch_size,
        null_models=null_models, model=model, params=tuple(param or ()), preset=preset,
        max_epochs=max_epochs, ensemble=ensemble, atlas=atlas, gene_panel=gene_panel, seed=seed,
        device=device,
    )  # fmt: skip
    config.check_inputs()  # every check before any work: options and maps, the output folder,
    out = check_output(config, out, overwrite=overwrite)
    result = run(config, echo=typer.echo)  # then the model (its libraries take seconds to load)
    result.save(out, overwrite=overwrite, command="crossscale benchmark")
    total = time.perf_counter() - t_start
    typer.echo(f"{out}/benchmark.csv, benchmark.md, report.html written ({total:.0f} s)")
