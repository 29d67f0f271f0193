"""``crossscale fit``: GraphVAE from AHBA expression to a regional map, honestly evaluated.

The model is evaluated against baselines with leave-one-region-out and spatial cross-validation,
and written with a report.
"""

from __future__ import annotations

import logging
import platform
import sys
import time
from pathlib import Path

import typer

logger = logging.getLogger(__name__)


def fit(
    map_file: Path = typer.Option(
        None,
        "--map",
        help="CSV with a region column (L_bankssts, lh_bankssts_thickness or ctx-lh-bankssts) and a value column. Default: ADNI2 AD atrophy.",
    ),
    group: str = typer.Option("AD", help="ADNI2 group of the default map (AD, LMCI, EMCI)."),
    timepoint: str = typer.Option(
        "baseline", help="ADNI2 timepoint of the default map (baseline, 2-6)."
    ),
    value_column: str = typer.Option(
        None, help="Column of --map holding the values (default: guessed)."
    ),
    region_column: str = typer.Option(
        None, help="Column of --map holding region names (default: guessed)."
    ),
    out: Path = typer.Option(
        Path("results/fit"), "--out", "-o", help="Output folder (written atomically)."
    ),
    overwrite: bool = typer.Option(False, help="Replace --out if it exists."),
    graph_kind: str = typer.Option(
        "surface",
        "--graph",
        help="Region graph: 'surface' (fsaverage5 adjacency) or 'connectome' (HCP structural weights on surface edges).",
    ),
    preset: str = typer.Option(
        "default",
        help="GraphVAE configuration: 'default' (chosen out of sample; see the ablation benchmark) or 'reference' (the reference's GCN encoder with early stopping). The options below override it.",
    ),
    n_latent: int = typer.Option(None, help="Latent programs per region (default 8)."),
    smoothness: float = typer.Option(
        None, help="λ, spatial smoothness weight (default 0; reference 0.1)."
    ),
    beta: float = typer.Option(None, help="β, KL weight (default 0.01)."),
    max_epochs: int = typer.Option(None, help="Training epochs (default 100; reference 1000 with early stopping)."),
    ensemble: int = typer.Option(
        None, "--ensemble", help="Seed-ensemble members per model, trained as one stack (default 1)."
    ),
    protocol: str = typer.Option(
        "inductive",
        help="Cross-validation protocol for every model: 'inductive' (all preprocessing learned on each fold's training regions) or 'transductive' (expression of all regions known).",
    ),
    cv: str = typer.Option(
        "loro,spatial", help="Cross-validation schemes: loro, spatial, or both."
    ),
    baselines: bool = typer.Option(True, help="Fit the PLS, ridge and spatial-only baselines."),
    seed: int = typer.Option(0, help="Random seed of every stochastic step."),
    device: str = typer.Option("auto", help="'auto' (CUDA when present), 'cpu' or 'cuda'."),
    nulls: str = typer.Option(
        "none",
        "--nulls",
        help="Refit GraphVAE, PLS-1 and ridge on spatial null maps: 'spin' (Hungarian spin test), 'moran' or 'none'.",
    ),
    n_perm: int = typer.Option(1000, "--n-perm", help="Number of null maps (with --nulls)."),
    null_cv: str = typer.Option(
        "10",
        "--null-cv",
        help="Cross-validation of every null refit: a number k of contiguous spatial blocks (k-means of centroids), 'spatial' (the distance-blocked CV above, one fold per region: slow), 'loro' or 'none'.",
    ),
    scheduler: str = typer.Option(
        None,
        "--scheduler",
        help="Run null refits on Dask: 'local' (a LocalCluster) or a scheduler address tcp://host:port (needs crossscale[dask]).",
    ),
    batch_size: int = typer.Option(
        250, "--batch-size", help="Null maps per stacked GraphVAE program / Dask task."
    ),
    n_components: int = typer.Option(
        None,
        help="Leading (whitened) expression axes the encoder sees (default: chosen per fold by leave-one-out error of principal-component regression on the training regions, +3; 0 = full rank).",
    ),
    interpret: bool = typer.Option(
        True,
        help="Interpret the model: gene attributions with rank intervals, programs, region clusters, cell-type enrichment with random-gene and spatial nulls.",
    ),
    interpret_n_perm: int = typer.Option(
        100,
        help="Spin-null refits for the spatially constrained enrichment null (with --interpret).",
    ),
) -> None:
    """Fit GraphVAE on AHBA expression, evaluate it honestly, and write a report."""
    t_start = time.perf_counter()
    schemes = check_fit_options(
        nulls=nulls, cv=cv, graph_kind=graph_kind, n_latent=n_latent, smoothness=smoothness,
        beta=beta, max_epochs=max_epochs, n_perm=n_perm, null_cv=null_cv, scheduler=scheduler,
        batch_size=batch_size, n_components=n_components, interpret=interpret,
        interpret_n_perm=interpret_n_perm, device=device, preset=preset, protocol=protocol,
        ensemble=ensemble,
    )  # fmt: skip
    import numpy as np
    import pandas as pd

    from crossscale import __version__
    from crossscale._utils import atomic_dir, check_output_dir, sha256_file, write_json
    from crossscale.atlas import DK_REGIONS
    from crossscale.cli import _checks as chk
    from crossscale.datasets import checksums
    from crossscale.maps import load_adni_map, read_regional_map

    # -- every check before any work: options, output folder, the map ------------------------
    chk.input_file("--map", map_file, what="map file")
    out = check_output_dir(out, overwrite=overwrite, inputs=[map_file])
    # -- data ---------------------------------------------------------------------------------
    datasets = [
        "ahba_expression",
        "lincs_landmark_genes",
        "dk_annot_fsaverage5_lh",
        "dk_annot_fsaverage5_rh",
    ]
    if map_file is not None:
        y = read_regional_map(map_file, region_column=region_column, value_column=value_column)
        map_name, map_units, map_source = (
            Path(map_file).stem,
            str(y.attrs.get("units", y.attrs.get("value_column", "value"))),
            str(map_file),
        )
    else:
        y = load_adni_map(group, timepoint)
        map_name, map_units, map_source = str(y.name), y.attrs["units"], y.attrs["source"]
        datasets.append(y.attrs["source"])
    # Missing regions: the documented rule is to fit on the regions present (at least 10, which
    # the reader enforces) and to list the missing ones on screen, in run.json and the report.
    missing_regions = [r for r in DK_REGIONS if r not in y.index]
    input_warnings = list(y.attrs.get("warnings", []))
    if missing_regions:
        text = (
            f"The map lacks {len(missing_regions)} of the {len(DK_REGIONS)} Desikan-Killiany "
            f"regions ({', '.join(missing_regions[:8])}{' …' if len(missing_regions) > 8 else ''});"
            f" fitting on the {len(y)} regions present."
        )
        typer.echo(text)
        input_warnings.append(text)
    # every check passed: only now import torch, scikit-learn and matplotlib
    from crossscale.atlas import RegionGraph
    from crossscale.evaluate import evaluate_models
    from crossscale.models.baselines import default_baselines
    from crossscale.models.graphvae import GraphVAE
    from crossscale.report.fit import build_fit_report
    from crossscale.transcriptomics import load_default_expression

    typer.echo("Loading AHBA expression and landmark genes ...")
    X, selection = load_default_expression()
    regions = pd.Index([r for r in X.index if r in y.index], name="region")
    if len(regions) < len(X.index):
        logger.info("the map covers %d of %d regions; fitting on those", len(regions), len(X.index))
    X, y = X.loc[regions], y.loc[regions]
    if graph_kind == "surface":
        graph = RegionGraph.from_surface(regions)
    else:
        graph = RegionGraph.from_connectome(regions, mode="weight")
        datasets += ["enigma_hcp_struc_matrix_ctx", "enigma_hcp_struc_labels_ctx"]
    typer.echo(
        f"Map: {map_name} ({len(regions)} regions); expression: {X.shape[0]} regions x {X.shape[1]} genes; graph: {graph}"
    )
    # -- fit + evaluate -----------------------------------------------------------------------
    overrides = {
        "n_latent": n_latent, "smoothness": smoothness, "beta": beta, "max_epochs": max_epochs,
        "n_ensemble": ensemble,
        "n_components": (n_components or None) if n_components is not None else "unset",
    }  # fmt: skip
    model = GraphVAE.from_preset(
        preset,
        **{k: v for k, v in overrides.items() if v is not None and v != "unset"},
        random_state=seed,
        device=device,
    )
    model.check_params()
    typer.echo(f"Fitting GraphVAE ({preset} configuration) ...")
    model.fit(X, y, graph)
    typer.echo(f"  done in {model.fit_time_:.1f} s ({model.n_epochs_} epochs)")
    models = {"GraphVAE": model} | (default_baselines() if baselines else {})
    typer.echo(
        f"Cross-validating ({', '.join(schemes)}) GraphVAE{' and baselines' if baselines else ''} ..."
    )
    ev = evaluate_models(
        X, y, graph, models, cv=schemes, fitted={"GraphVAE": model}, protocol=protocol
    )
    null_results = _null_refits(
        X, y, graph, model, nulls=nulls, n_perm=n_perm, null_cv=null_cv, scheduler=scheduler,
        seed=seed, batch_size=batch_size, baselines=baselines,
    )  # fmt: skip
    interp = None
    if interpret:
        from crossscale.interpret import interpret_model

        typer.echo(
            "Interpreting: genes, programs, clusters, cell-type enrichment (spatial nulls) ..."
        )
        interp = interpret_model(model, X, y, n_perm=interpret_n_perm, random_state=seed)
    latent = model.transform(X)
    history = model.history_.to_frame()
    total = time.perf_counter() - t_start
    summary = {
        "map_name": map_name, "map_units": map_units, "map_source": map_source,
        "n_regions": len(regions), "n_genes": X.shape[1], "n_genes_requested": selection.n_requested,
        "n_genes_missing": len(selection.missing), "graph_kind": graph.kind, "n_edges": graph.n_edges,
        "smoothness": model.smoothness, "beta": model.beta, "lr": model.lr,
        "val_fraction": model.val_fraction if model.early_stopping else None,
        "preset": preset, "protocol": protocol, "model_params": model.get_params(),
        "is_reference_map": map_file is None and group == "AD" and timepoint == "baseline",
        "seed": seed, "total_time_s": round(total, 1), "missing_regions": missing_regions,
        "input_warnings": input_warnings,
    }  # fmt: skip
    # -- outputs (atomic) ---------------------------------------------------------------------
    with atomic_dir(out, overwrite=overwrite, inputs=[map_file]) as tmp:
        input_map = _copy_input_map(tmp, map_file, y, region_column, value_column)
        preds = ev.predictions.copy()
        preds.to_csv(tmp / "predictions.csv", float_format="%.6g")
        latent.to_csv(tmp / "latent_programs.csv", float_format="%.6g")
        history.to_csv(tmp / "training_history.csv", index=False, float_format="%.6g")
        model.save(tmp / "model")
        write_json(tmp / "metrics.json", {
            "map": map_name, "units": map_units, "n_regions": len(regions), "n_genes": X.shape[1],
            "protocol": protocol, "preset": preset,
            "reference_in_sample": {"r2": 0.8604, "r": 0.9439},
            "models": ev.to_dict(),
            "spatial_fold_r": {k: v.tolist() for k, v in ev.fold_r.items()},
            "gene_selection": selection.to_dict(),
        } | ({"nulls": {k: v.to_dict() for k, v in null_results.items()}} if null_results else {}))  # fmt: skip
        write_json(tmp / "run.json", {
            "command": " ".join(["crossscale", *sys.argv[1:]]),
            "parameters": {"map": str(map_file) if map_file else None, "group": group, "timepoint": timepoint,
                           "graph": graph_kind, "cv": list(schemes), "protocol": protocol, "preset": preset,
                           "baselines": baselines, "seed": seed,
                           "nulls": nulls, "n_perm": n_perm if nulls != "none" else None,
                           "null_cv": null_cv if nulls != "none" else None, "scheduler": scheduler,
                           "interpret": interpret, "interpret_n_perm": interpret_n_perm if interpret else None},
            "model_params": model.get_params(),
            "versions": _versions(__version__),
            "seed": seed,
            "graph": graph.to_dict(),
            "data_checksums": checksums(datasets) | ({"map_file": sha256_file(map_file)} if map_file else {}),
            "input_map": input_map,
            "missing_regions": missing_regions,
            "input_warnings": input_warnings,
            "model_check": {"regions": list(model.regions_), "n_genes": len(model.genes_),
                            "genes_sha256": _genes_sha256(model.genes_), "graph_hash": graph.hash()},
            "total_time_s": total,
        })  # fmt: skip
        typer.echo("Writing report ...")
        report = build_fit_report(
            observed=y, predictions=preds, latent=latent, metrics=ev.metrics, history=history,
            best_epoch=model.n_epochs_ if model.early_stopping else None, summary=summary,
            nulls=null_results or None, interpretation=interp,
        )  # fmt: skip
        if interp is not None:
            (tmp / "interpretation").mkdir()
            interp.save(tmp / "interpretation")
        report.save(tmp / "report.html")
    _print_table(ev.metrics)
    if null_results:
        _print_nulls(null_results)
    typer.echo(f"{out}/report.html written ({time.perf_counter() - t_start:.0f} s)")
    del np


def parse_null_cv(null_cv: str) -> str | int | None:
    """``--null-cv`` value -> the ``cv`` argument of :func:`crossscale.evaluate.null_distribution`."""
    from crossscale._errors import ParameterError

    value = str(null_cv).strip().lower()
    if value in ("none", ""):
        return None
    if value in ("spatial", "loro"):
        return value
    if value.isdigit() and int(value) >= 2:
        return int(value)
    raise ParameterError(
        f"--null-cv must be a number of spatial folds >= 2, 'spatial', 'loro' or 'none'; got {null_cv!r}."
    )


def _null_refits(
    X, y, graph, model, *, nulls, n_perm, null_cv, scheduler, seed, batch_size, baselines
):  # noqa: ANN001, ANN202
    """Null refits of GraphVAE (and PLS-1, ridge) on the same null maps."""
    from sklearn.base import clone

    from crossscale.evaluate import null_distribution
    from crossscale.models.baselines import PLSBaseline, RidgeBaseline

    if nulls == "none":
        return {}
    cv = parse_null_cv(null_cv)
    models = {"GraphVAE": clone(model)} | (
        {"PLS-1": PLSBaseline(1), "Ridge": RidgeBaseline()} if baselines else {}
    )
    out = {}
    for name, est in models.items():
        typer.echo(f"Null refits of {name} ({n_perm} {nulls} null maps, CV {cv}) ...")
        out[name] = null_distribution(
            est, X, y, graph, nulls, cv=cv, n_perm=n_perm, random_state=seed,
            scheduler=scheduler, batch_size=batch_size,
        )  # fmt: skip
        typer.echo(f"  done in {out[name].time_s:.1f} s")
    return out


def _print_nulls(null_results) -> None:  # noqa: ANN001
    from rich.console import Console
    from rich.table import Table

    keys = list(next(iter(null_results.values())).observed)
    table = Table("model", *[f"{k} (p)" for k in keys], title="Null refits")
    for name, res in null_results.items():
        table.add_row(name, *(f"{res.observed[k]:.3f} ({res.p_values[k]:.3g})" for k in keys))
    Console().print(table)


def check_fit_options(
    *, nulls, cv, graph_kind, n_latent, smoothness, beta, max_epochs, n_perm, null_cv, scheduler,
    batch_size, n_components, interpret, interpret_n_perm, device, preset="default",
    protocol="inductive", ensemble=None,
) -> tuple[str, ...]:  # fmt: skip  # noqa: ANN001
    """Check every option of ``crossscale fit`` (before any work); return the CV schemes."""
    from crossscale._device import check_device
    from crossscale.cli import _checks as chk

    chk.one_of("--nulls", nulls, ("spin", "moran", "none"))
    schemes = chk.cv_schemes("--cv", cv)
    chk.one_of("--graph", graph_kind, ("surface", "connectome"))
    chk.one_of("--preset", preset, ("default", "reference"))
    chk.one_of("--protocol", protocol, ("inductive", "transductive"))
    # model options left out (None) take the preset's value
    for option, value, low, hint in [
        ("--n-latent", n_latent, 1, ""), ("--smoothness", smoothness, 0, ""),
        ("--beta", beta, 0, ""), ("--max-epochs", max_epochs, 1, ""),
        ("--n-components", n_components, 0, "0 means full rank."), ("--ensemble", ensemble, 1, ""),
    ]:  # fmt: skip
        if value is not None:
            chk.at_least(option, value, low, hint=hint)
    chk.at_least("--n-perm", n_perm, 1, hint="Give the number of null maps, e.g. --n-perm 1000.")
    parse_null_cv(null_cv)
    chk.scheduler("--scheduler", scheduler)
    chk.at_least("--batch-size", batch_size, 1)
    if interpret:
        chk.at_least("--interpret-n-perm", interpret_n_perm, 1, hint="Or pass --no-interpret.")
    check_device(device)
    return schemes


def _genes_sha256(genes) -> str:  # noqa: ANN001
    import hashlib

    return hashlib.sha256("\n".join(map(str, genes)).encode()).hexdigest()


def _copy_input_map(tmp: Path, map_file, y, region_column, value_column) -> dict:  # noqa: ANN001
    """Copy the input map into the run folder (``input_map.*``); return its run.json entry."""
    import shutil

    from crossscale._utils import sha256_file

    if map_file is not None:
        dest = tmp / f"input_map{Path(map_file).suffix.lower() or '.csv'}"
        shutil.copyfile(map_file, dest)
        entry = {"original": str(map_file), "region_column": region_column,
                 "value_column": value_column}  # fmt: skip
    else:  # the default ADNI2 map: its values, as read
        dest = tmp / "input_map.csv"
        y.rename("value").rename_axis("region").to_csv(dest, float_format="%.17g")
        entry = {"original": str(y.attrs.get("source")), "region_column": "region",
                 "value_column": "value"}  # fmt: skip
    return {"file": dest.name, "sha256": sha256_file(dest)} | entry


def _versions(own: str) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"crossscale": own, "python": platform.python_version()}
    for pkg in (
        "numpy",
        "pandas",
        "scipy",
        "scikit-learn",
        "torch",
        "torch_geometric",
        "nilearn",
        "nibabel",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _print_table(metrics) -> None:  # noqa: ANN001
    from rich.console import Console
    from rich.table import Table

    from crossscale.evaluate.runner import METRIC_COLUMNS

    cols = [c for c in METRIC_COLUMNS if not c.startswith("spatial_fold")]
    table = Table("model", *cols)
    for name, row in metrics.iterrows():
        table.add_row(str(name), *("–" if row[c] != row[c] else f"{row[c]:.3f}" for c in cols))
    table.add_row("Reference (in-sample)", "0.860", "0.944", *["–"] * 6)
    Console().print(table)
