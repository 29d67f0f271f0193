"""``crossscale interpret``: recompute the interpretation of a saved ``crossscale fit`` run."""

from __future__ import annotations

import json
import logging
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
    from crossscale._errors import InputDataError
    from crossscale._utils import atomic_dir, check_output_dir, write_json
    from crossscale.cli import _checks as chk

    t0 = time.perf_counter()
    results_dir = Path(results_dir)
    run_file, model_dir = results_dir / "run.json", results_dir / "model"
    if not run_file.exists() or not model_dir.exists():
        raise InputDataError(
            f"'{results_dir}' is not a `crossscale fit` output folder: it needs run.json and model/. "
            "Run `crossscale fit --out DIR` first."
        )
    # -- every check before any work ----------------------------------------------------------
    for option, value, minimum in [
        ("--n-perm", n_perm, 1), ("--n-replicates", n_replicates, 1), ("--n-steps", n_steps, 1),
        ("--n-random", n_random, 1), ("--n-spins", n_spins, 1),
    ]:  # fmt: skip
        chk.at_least(option, value, minimum)
    chk.in_range("--holdout", holdout, 0.0, 1.0, closed="left")
    if n_clusters is not None:
        chk.at_least("--n-clusters", n_clusters, 2)
    for path in gmt or []:
        chk.input_file("--gmt", path, what="GMT gene-set file")
    out = check_output_dir(
        results_dir / "interpretation", overwrite=overwrite, option="RESULTS_DIR/interpretation",
        inputs=[*(gmt or []), run_file, model_dir],
    )  # fmt: skip
    try:
        run = json.loads(run_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise InputDataError(
            f"'{run_file}' is not valid JSON ({err}); rerun `crossscale fit`."
        ) from err
    check_model_matches_run(model_dir, run)
    y = load_run_map(results_dir, run)
    # every check passed: only now import torch, scikit-learn and matplotlib
    from crossscale._provenance import run_record
    from crossscale.interpret import interpret_model, load_cell_type_sets, read_gmt
    from crossscale.models import registry
    from crossscale.report import Report
    from crossscale.report.interpret import add_interpretation_section
    from crossscale.transcriptomics import load_default_expression

    model = registry.get(run.get("model") or registry.DEFAULT_MODEL).load(model_dir)
    X, _ = load_default_expression()
    missing = [g for g in model.genes_ if g not in X.columns]
    if missing:
        raise InputDataError(
            f"The expression data lack {len(missing)} gene(s) of the saved model (e.g. {missing[:5]})."
        )
    X, y = X.loc[model.regions_, list(model.genes_)], y.loc[model.regions_]
    if abs(float(y.mean()) - model.y_mean_) > 1e-6 * max(1.0, abs(model.y_mean_)):
        raise InputDataError(
            f"The map of this run (mean {y.mean():.6g}) is not the one the model was fitted "
            f"on (mean {model.y_mean_:.6g}); the model/ folder of '{results_dir}' belongs to another "
            "run. Refit with `crossscale fit`."
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
        write_json(tmp / "run.json", run_record(
            "crossscale interpret",
            parameters=interp.params | {"results_dir": str(results_dir),
                                        "gmt": [str(p) for p in gmt or []]},
            seed=seed, datasets=["ahba_expression", "lincs_landmark_genes"],
            inputs={"run_json": run_file, "model_config": model_dir / "config.json",
                    "model_weights": model_dir / "model.safetensors",
                    **{f"gmt:{Path(p).name}": p for p in gmt or []}},
            total_time_s=time.perf_counter() - t0,
        ))  # fmt: skip
    top = interp.genes.head(10)
    typer.echo("Top genes of the prediction (rank, 95% interval over replicates):")
    for g, row in top.iterrows():
        typer.echo(
            f"  {g:<10} {int(row['rank']):>4}  [{row['rank_low']:.0f}, {row['rank_high']:.0f}]"
        )
    typer.echo(f"{out}/interpretation.html written ({time.perf_counter() - t0:.0f} s)")


def load_run_map(results_dir: Path, run: dict):  # noqa: ANN201
    """The map of a `crossscale fit` run, read from the run folder alone when it holds a copy.

    Runs written since the results folder became self-contained carry ``input_map.*`` and its
    sha256 in run.json; older runs fall back to the original ``--map`` path or the ADNI2 map.

    Raises
    ------
    InputDataError
        The copy's checksum differs from run.json, or (older runs) the original file is gone.
    """
    from crossscale._errors import InputDataError
    from crossscale._utils import sha256_file
    from crossscale.maps import load_adni_map, read_regional_map

    params = run.get("parameters", {})
    entry = run.get("input_map")
    if isinstance(entry, dict) and entry.get("file"):
        path = Path(results_dir) / entry["file"]
        if not path.is_file():
            raise InputDataError(
                f"'{results_dir}' lacks '{entry['file']}', the copy of the input map that "
                "run.json records; the folder is incomplete. Rerun `crossscale fit`."
            )
        digest = sha256_file(path)
        if entry.get("sha256") and digest != entry["sha256"]:
            raise InputDataError(
                f"'{path}' has sha256 {digest[:12]}…, not the {entry['sha256'][:12]}… that "
                "run.json records: the copy of the input map was changed. Rerun `crossscale fit`."
            )
        y = read_regional_map(
            path, region_column=entry.get("region_column"), value_column=entry.get("value_column")
        )
        y.name = Path(str(entry.get("original") or path)).stem
        return y
    if params.get("map"):
        original = Path(params["map"])
        if not original.is_file():
            raise InputDataError(
                f"'{results_dir}' was written by an older crossscale that did not copy the input "
                f"map, and the map it was fitted on, '{original}', is gone. Put the file back at "
                "that path, or rerun `crossscale fit`."
            )
        return read_regional_map(original)
    return load_adni_map(params.get("group", "AD"), params.get("timepoint", "baseline"))


def check_model_matches_run(model_dir: Path, run: dict) -> None:
    """Refuse a ``model/`` whose regions, genes or graph differ from those run.json records.

    Raises
    ------
    ModelStateError
        Naming what differs.
    """
    from crossscale._errors import ModelStateError
    from crossscale.pipeline._common import genes_sha256

    expected = run.get("model_check")
    try:
        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ModelStateError(
            f"'{model_dir}' has no readable config.json ({err}); it is not a saved GraphVAE."
        ) from err
    graph_hash = (run.get("graph") or {}).get("hash")
    if expected is None and graph_hash is None:
        return  # a run.json from before these checks: nothing to compare
    problems = []
    if graph_hash and config.get("graph_hash") and config["graph_hash"] != graph_hash:
        problems.append(f"graph hash {config['graph_hash'][:12]}… (run.json: {graph_hash[:12]}…)")
    if expected is not None:
        regions = list(config.get("regions", []))
        if regions != list(expected.get("regions", [])):
            problems.append(
                f"{len(regions)} regions (run.json: {len(expected.get('regions', []))}, or in "
                "another order)"
            )
        genes = config.get("genes", [])
        if genes_sha256(genes) != expected.get("genes_sha256"):
            problems.append(f"{len(genes)} genes (run.json: {expected.get('n_genes')}, or others)")
    if problems:
        raise ModelStateError(
            f"The model in '{model_dir}' is not the model of this run: it has "
            f"{'; '.join(problems)}. Put back the model/ folder that `crossscale fit` wrote, or "
            "rerun `crossscale fit`."
        )
