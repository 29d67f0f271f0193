"""``crossscale fit``: GraphVAE from AHBA expression to a regional map, honestly evaluated.

The model is evaluated against baselines with leave-one-region-out and spatial cross-validation,
and written with a report.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer

from crossscale.models import registry
from crossscale.models.registry import DEFAULT_MODEL
from crossscale.pipeline import parse_null_cv

__all__ = ["check_fit_options", "fit", "parse_null_cv"]

logger = logging.getLogger(__name__)


def fit(
    map_file: Path = typer.Option(
        None,
        "--map",
        help="CSV with a region column (names of the --atlas: L_bankssts, lh_bankssts_thickness, 7Networks_LH_Vis_1, L_V1 ...) and a value column; or 'bigbrain' (the BigBrain gradient in the atlas). Default: ADNI2 AD atrophy (dk atlases).",
    ),
    atlas: str = typer.Option(
        "dk",
        "--atlas",
        help="Parcellation of the map and the expression: dk (default), dk-subcortex, schaefer100, schaefer200, schaefer300, schaefer400, glasser360, or your own as two fsaverage5 .annot files 'lh.x.annot,rh.x.annot' (then pass --expression). See 'crossscale data atlases'.",
    ),
    expression: Path = typer.Option(
        None,
        "--expression",
        help="Your own region x gene matrix for the atlas (CSV, e.g. abagen's get_expression_data output): a region column (names or abagen labels 1..N), then genes. Default: the built-in AHBA matrix of the atlas.",
    ),
    gene_panel: str = typer.Option(
        "auto",
        "--gene-panel",
        help="Genes of the built-in expression: 'auto' (L1000 landmark genes on dk, genes with differential stability >= 0.6 elsewhere), 'l1000' (dk atlases only) or 'stable'.",
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
        None, help="λ, spatial smoothness weight on the latent means (default 0.1, as the reference; 0 turns the graph term off)."
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
    from crossscale._utils import check_output_dir
    from crossscale.cli import _checks as chk
    from crossscale.pipeline import fit_map

    # -- every check before any work: options, output folder, the map ------------------------
    atlas_obj = chk.atlas_option("--atlas", atlas)
    chk.one_of("--gene-panel", gene_panel, ("auto", "l1000", "stable"))
    if map_file is not None and str(map_file).lower() == "bigbrain":
        map_file = "bigbrain"
    else:
        chk.input_file("--map", map_file, what="map file")
    chk.input_file("--expression", expression, what="expression file")
    out = check_output_dir(out, overwrite=overwrite, inputs=[m for m in (map_file, expression)
                                                           if m not in (None, "bigbrain")])  # fmt: skip
    overrides = {
        "n_latent": n_latent, "smoothness": smoothness, "beta": beta, "max_epochs": max_epochs,
        "n_ensemble": ensemble,
        "n_components": (n_components or None) if n_components is not None else "unset",
    }  # fmt: skip
    params = {k: v for k, v in overrides.items() if v is not None and v != "unset"}
    result = fit_map(
        map_file, group=group, timepoint=timepoint, region_column=region_column,
        value_column=value_column, atlas=atlas_obj, expression=expression, gene_panel=gene_panel,
        graph=graph_kind, model=DEFAULT_MODEL, preset=preset,
        params=params | {"random_state": seed, "device": device}, cv=schemes, protocol=protocol,
        baselines=baselines, nulls=nulls, n_perm=n_perm, null_cv=null_cv, scheduler=scheduler,
        batch_size=batch_size, interpret=interpret, interpret_n_perm=interpret_n_perm, seed=seed,
        echo=typer.echo,
    )  # fmt: skip
    typer.echo("Writing report ...")
    result.save(out, overwrite=overwrite, command="crossscale fit")
    _print_table(result.metrics)
    if result.nulls:
        _print_nulls(result.nulls)
    typer.echo(f"{out}/report.html written ({time.perf_counter() - t_start:.0f} s)")


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
    chk.one_of("--preset", preset, tuple(registry.get(DEFAULT_MODEL).presets))
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


def _print_table(metrics) -> None:  # noqa: ANN001
    from rich.console import Console
    from rich.table import Table

    from crossscale.evaluate.metrics import METRIC_COLUMNS, REFERENCE_METRICS

    cols = [c for c in METRIC_COLUMNS if not c.startswith("spatial_fold")]
    table = Table("model", *cols)
    for name, row in metrics.iterrows():
        table.add_row(str(name), *("–" if row[c] != row[c] else f"{row[c]:.3f}" for c in cols))
    ref = {k: f"{v:.3f}" for k, v in REFERENCE_METRICS.items()}
    table.add_row("Reference (in-sample)", *(ref.get(c, "–") for c in cols))
    Console().print(table)
