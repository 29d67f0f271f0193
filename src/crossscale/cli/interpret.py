"""``crossscale interpret``: recompute the interpretation of a saved ``crossscale fit`` run."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer

__all__ = ["interpret"]

logger = logging.getLogger(__name__)


def interpret(
    results_dir: Path = typer.Argument(..., help="Folder written by `crossscale fit`."),
    gmt: list[Path] = typer.Option(
        None,
        "--gmt",
        help="Extra GMT gene-set file (repeatable); Lake 2018 cell types and pooled classes are always used.",
    ),
    n_perm: int = typer.Option(100, help="Spin-null refits of the spatial ensemble null."),
    n_replicates: int = typer.Option(
        10, help="Refits (seeds x region subsamples) for rank intervals."
    ),
    holdout: float = typer.Option(0.1, help="Fraction of regions each replicate does not see."),
    n_steps: int = typer.Option(32, help="Integrated-gradient steps."),
    n_random: int = typer.Option(10000, help="Random gene sets per set."),
    n_map_spins: int = typer.Option(1000, help="Spin permutations of fixed maps (cluster labels, program maps): no model refits, unlike --n-perm."),
    n_clusters: int = typer.Option(None, help="Region clusters (default: by silhouette, 2-8)."),
    seed: int = typer.Option(0, help="Random seed."),
    figures: bool = typer.Option(True, help="Draw brain figures in interpretation.html."),
    atlas: str = typer.Option(
        None, "--atlas", help="Atlas of the fit (default: the one its run.json records; another one is refused)."
    ),
    expression: Path = typer.Option(
        None, "--expression", help="Your expression matrix, when the fit used one and it moved (default: the path run.json records)."
    ),
    overwrite: bool = typer.Option(False, help="Replace RESULTS_DIR/interpretation if it exists."),
) -> None:
    """Interpret a fitted GraphVAE: genes with rank intervals, programs, clusters, cell types."""
    from crossscale.pipeline.interpret_config import InterpretConfig, check_output, run

    t0 = time.perf_counter()
    config = InterpretConfig(
        Path(results_dir), gmt=tuple(gmt or ()), n_perm=n_perm, n_replicates=n_replicates,
        holdout=holdout, n_steps=n_steps, n_random=n_random, n_map_spins=n_map_spins,
        n_clusters=n_clusters, seed=seed, atlas=atlas, expression=expression,
    )  # fmt: skip
    out = check_output(config, overwrite=overwrite)  # every check before any work
    result = run(config, echo=typer.echo)
    result.save(out, overwrite=overwrite, figures=figures)
    top = result.interpretation.genes.head(10)
    typer.echo("Top genes of the prediction (rank, 95% interval over replicates):")
    for g, row in top.iterrows():
        typer.echo(
            f"  {g:<10} {int(row['rank']):>4}  [{row['rank_low']:.0f}, {row['rank_high']:.0f}]"
        )
    typer.echo(f"{out}/interpretation.html written ({time.perf_counter() - t0:.0f} s)")
