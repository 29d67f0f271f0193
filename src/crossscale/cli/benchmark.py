"""``crossscale benchmark``: GraphVAE and the baselines side by side on many disease maps.

One table: per map and model, in-sample, leave-one-region-out and spatial-CV R² and r, the
spin-test p-value of the cross-validated r (refits on spun maps), and wall times.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import typer

from crossscale.maps.catalog import enigma_thickness_keys, load_map, resolve_maps
from crossscale.report.benchmark import markdown_table

logger = logging.getLogger(__name__)

__all__ = [
    "TABLE_COLUMNS", "benchmark", "enigma_thickness_keys", "load_map", "markdown_table",
    "resolve_maps",
]  # fmt: skip

TABLE_COLUMNS = [
    "map", "model", "in_sample_r2", "in_sample_r", "loro_r2", "loro_r", "spatial_r2", "spatial_r",
    "null_cv_r", "p_spin", "fit_time_s", "cv_time_s", "null_time_s",
]  # fmt: skip


def benchmark(
    maps: str = typer.Option(
        "ad",
        "--maps",
        help="Comma list: ad, lmci, emci (ADNI2 baseline), enigma-thickness (33 ENIGMA case-control maps), or registry keys.",
    ),
    out: Path = typer.Option(
        Path("results/benchmark"), "--out", "-o", help="Output folder (written atomically)."
    ),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
    n_perm: int = typer.Option(
        100, "--n-perm", help="Spin null maps per map for p_spin (0: no null refits)."
    ),
    null_cv: str = typer.Option(
        "10",
        "--null-cv",
        help="CV of p_spin: k contiguous spatial blocks (k-means of centroids), or 'spatial' (distance-blocked, one fold per region: slow).",
    ),
    scheduler: str = typer.Option(
        None, "--scheduler", help="Dask: 'local' or tcp://host:port (needs crossscale[dask])."
    ),
    batch_size: int = typer.Option(
        250, "--batch-size", help="Null maps per stacked GraphVAE program / Dask task."
    ),
    null_models: str = typer.Option(
        "all",
        "--null-models",
        help="Models refitted on the spin nulls: 'all', or a comma list such as 'GraphVAE,PLS-4'.",
    ),
    preset: str = typer.Option(
        "default", help="GraphVAE configuration: 'default' or 'reference' (see crossscale fit)."
    ),
    max_epochs: int = typer.Option(None, help="GraphVAE epochs (default: the preset's)."),
    ensemble: int = typer.Option(None, "--ensemble", help="GraphVAE seed-ensemble members."),
    seed: int = typer.Option(0, help="Random seed of every stochastic step."),
    device: str = typer.Option("auto", help="'auto' (CUDA when present), 'cpu' or 'cuda'."),
) -> None:
    """Run GraphVAE and the baselines (PLS 1-5, ridge, spatial-only) on many maps; one table."""
    import numpy as np
    import pandas as pd
    from sklearn.base import clone

    from crossscale import __version__
    from crossscale._device import check_device
    from crossscale._errors import ParameterError
    from crossscale._utils import atomic_dir, check_output_dir, write_json
    from crossscale.cli import _checks as chk
    from crossscale.cli.fit import _versions, parse_null_cv
    from crossscale.datasets import checksums

    t_start = time.perf_counter()
    # -- every check before any work ----------------------------------------------------------
    keys = resolve_maps(maps)
    chk.at_least("--n-perm", n_perm, 0, hint="0 skips the null refits.")
    cv = parse_null_cv(null_cv)
    if n_perm and cv is None:
        raise ParameterError("--null-cv must name a CV scheme when --n-perm > 0.")
    chk.scheduler("--scheduler", scheduler)
    chk.at_least("--batch-size", batch_size, 1)
    if max_epochs is not None:
        chk.at_least("--max-epochs", max_epochs, 1)
    if ensemble is not None:
        chk.at_least("--ensemble", ensemble, 1)
    chk.one_of("--preset", preset, ("default", "reference"))
    known_models = ["GraphVAE", "PLS-1", "PLS-2", "PLS-3", "PLS-4", "PLS-5", "Ridge",
                    "Spatial (Laplacian)"]  # fmt: skip
    null_set = (set(known_models) if null_models.strip().lower() == "all"
                else {m.strip() for m in null_models.split(",") if m.strip()})  # fmt: skip
    unknown = sorted(null_set - set(known_models))
    if unknown or not null_set:
        raise ParameterError(
            f"--null-models must be 'all' or a comma list of {', '.join(known_models)}; got "
            f"{null_models!r}."
        )
    check_device(device)
    out = check_output_dir(out, overwrite=overwrite)
    # every check passed: only now import torch, scikit-learn and matplotlib
    from crossscale.atlas import RegionGraph
    from crossscale.evaluate import evaluate_models, null_distribution
    from crossscale.models.baselines import default_baselines
    from crossscale.models.graphvae import GraphVAE
    from crossscale.report.benchmark import build_benchmark_report
    from crossscale.transcriptomics import load_default_expression

    overrides = {k: v for k, v in {"max_epochs": max_epochs, "n_ensemble": ensemble}.items()
                 if v is not None}  # fmt: skip
    template = GraphVAE.from_preset(preset, **overrides, random_state=seed, device=device)
    template.check_params()
    typer.echo("Loading AHBA expression and landmark genes ...")
    X_all, selection = load_default_expression()
    rows = []
    for i, key in enumerate(keys, 1):
        y = load_map(key)
        regions = pd.Index([r for r in X_all.index if r in y.index], name="region")
        X, y = X_all.loc[regions], y.loc[regions].astype(float)
        graph = RegionGraph.from_surface(regions)
        typer.echo(f"[{i}/{len(keys)}] {key}: {len(regions)} regions")
        models = {"GraphVAE": clone(template)} | default_baselines()
        ev = evaluate_models(X, y, graph, models, cv=("loro", "spatial"))
        for name, est in models.items():
            row = {"map": key, "model": name} | ev.metrics.loc[name].to_dict()
            row["null_cv_r"], row["p_spin"], row["null_time_s"] = np.nan, np.nan, np.nan
            if n_perm and name in null_set:
                res = null_distribution(
                    est, X, y, graph, "spin", metric="r", cv=cv, n_perm=n_perm,
                    random_state=seed, scheduler=scheduler, batch_size=batch_size,
                    in_sample=False,
                )  # fmt: skip
                row["null_cv_r"], row["p_spin"] = res.observed["cv_r"], res.p_values["cv_r"]
                row["null_time_s"] = res.time_s
            rows.append(row)
        best = ev.metrics["spatial_r"].idxmax()
        typer.echo(
            f"  GraphVAE spatial-CV r = {ev.metrics.loc['GraphVAE', 'spatial_r']:.3f}; best: {best} "
            f"({ev.metrics.loc[best, 'spatial_r']:.3f})"
        )
    table = pd.DataFrame(rows)[TABLE_COLUMNS]
    cv_name = (f"kfold{cv}" if isinstance(cv, int) else cv) if n_perm else None
    total = time.perf_counter() - t_start
    with atomic_dir(out, overwrite=overwrite) as tmp:
        table.to_csv(tmp / "benchmark.csv", index=False, float_format="%.6g")
        (tmp / "benchmark.md").write_text(markdown_table(table))
        write_json(tmp / "run.json", {
            "command": " ".join(["crossscale", *sys.argv[1:]]),
            "parameters": {"maps": keys, "n_perm": n_perm, "null_cv": cv_name, "scheduler": scheduler,
                           "batch_size": batch_size, "preset": preset, "seed": seed,
                           "null_models": sorted(null_set),
                           "protocol": "inductive"},
            "model_params": template.get_params(),
            "versions": _versions(__version__),
            "seed": seed,
            "n_genes": X_all.shape[1],
            "data_checksums": checksums(["ahba_expression", "lincs_landmark_genes", *keys]),
            "total_time_s": total,
        })  # fmt: skip
        report = build_benchmark_report(
            table, n_perm=n_perm, null_cv=cv_name, n_genes=X_all.shape[1], seed=seed
        )
        report.save(tmp / "report.html")
    typer.echo(f"{out}/benchmark.csv, benchmark.md, report.html written ({total:.0f} s)")
    del selection
