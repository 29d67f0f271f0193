"""``crossscale interpret``: recompute the interpretation of a saved ``crossscale fit`` run."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import typer

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
    n_spins: int = typer.Option(1000, help="Spin permutations for the cluster tests."),
    n_clusters: int = typer.Option(None, help="Region clusters (default: by silhouette, 2-8)."),
    seed: int = typer.Option(0, help="Random seed."),
    figures: bool = typer.Option(True, help="Draw brain figures in interpretation.html."),
    overwrite: bool = typer.Option(False, help="Replace RESULTS_DIR/interpretation if it exists."),
) -> None:
    """Interpret a fitted GraphVAE: genes with rank intervals, programs, clusters, cell types."""
    from crossscale import __version__
    from crossscale._errors import InputDataError
    from crossscale._utils import atomic_dir, write_json
    from crossscale.interpret import interpret_model, load_cell_type_sets, read_gmt
    from crossscale.maps import load_adni_map, read_regional_map
    from crossscale.models.graphvae import GraphVAE
    from crossscale.report import Report
    from crossscale.report.interpret import add_interpretation_section
    from crossscale.transcriptomics import load_default_expression

    t0 = time.perf_counter()
    results_dir = Path(results_dir)
    run_file, model_dir = results_dir / "run.json", results_dir / "model"
    if not run_file.exists() or not model_dir.exists():
        raise InputDataError(
            f"'{results_dir}' is not a `crossscale fit` output folder: it needs run.json and model/. "
            "Run `crossscale fit --out DIR` first."
        )
    out = results_dir / "interpretation"
    if out.exists() and not overwrite:
        from crossscale._errors import ParameterError

        raise ParameterError(f"'{out}' already exists. Pass --overwrite to recompute it.")
    run = json.loads(run_file.read_text())
    params = run.get("parameters", {})
    model = GraphVAE.load(model_dir)
    if params.get("map"):
        y = read_regional_map(params["map"])
    else:
        y = load_adni_map(params.get("group", "AD"), params.get("timepoint", "baseline"))
    X, _ = load_default_expression()
    missing = [g for g in model.genes_ if g not in X.columns]
    if missing:
        raise InputDataError(
            f"The expression data lack {len(missing)} gene(s) of the saved model (e.g. {missing[:5]})."
        )
    X, y = X.loc[model.regions_, list(model.genes_)], y.loc[model.regions_]
    if abs(float(y.mean()) - model.y_mean_) > 1e-6 * max(1.0, abs(model.y_mean_)):
        raise InputDataError(
            f"The map loaded for this run (mean {y.mean():.6g}) is not the one the model was fitted "
            f"on (mean {model.y_mean_:.6g}); check run.json's 'parameters'."
        )
    gene_sets = {"lake": load_cell_type_sets("lake"), "pooled": load_cell_type_sets("pooled")}
    for path in gmt or []:
        gene_sets[Path(path).stem] = read_gmt(path)
    typer.echo(
        f"Interpreting {results_dir} ({len(X)} regions x {X.shape[1]} genes; {n_replicates} "
        f"replicates, {n_perm} spin-null refits) ..."
    )
    interp = interpret_model(
        model, X, y, gene_sets=gene_sets, n_replicates=n_replicates, holdout=holdout,
        n_perm=n_perm, n_steps=n_steps, n_random=n_random, n_clusters=n_clusters,
        n_spins=n_spins, random_state=seed,
    )  # fmt: skip
    with atomic_dir(out, overwrite=overwrite) as tmp:
        interp.save(tmp)
        rep = Report("crossscale interpret", subtitle=f"{results_dir} ({y.name})")
        add_interpretation_section(rep, interp, figures=figures)
        rep.save(tmp / "interpretation.html")
        write_json(tmp / "run.json", {
            "command": " ".join(["crossscale", *sys.argv[1:]]),
            "parameters": interp.params | {"results_dir": str(results_dir),
                                           "gmt": [str(p) for p in gmt or []]},
            "crossscale_version": __version__,
            "seed": seed,
            "total_time_s": time.perf_counter() - t0,
        })  # fmt: skip
    top = interp.genes.head(10)
    typer.echo("Top genes of the prediction (rank, 95% interval over replicates):")
    for g, row in top.iterrows():
        typer.echo(
            f"  {g:<10} {int(row['rank']):>4}  [{row['rank_low']:.0f}, {row['rank_high']:.0f}]"
        )
    typer.echo(f"{out}/interpretation.html written ({time.perf_counter() - t0:.0f} s)")
