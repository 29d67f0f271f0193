"""``crossscale fit``: a registered model (default GraphVAE) from AHBA expression to a regional map.

The model is evaluated against baselines with leave-one-region-out and spatial cross-validation,
and written with a report.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer

from crossscale.models.registry import DEFAULT_MODEL

__all__ = ["check_fit_options", "fit"]

logger = logging.getLogger(__name__)


_DATA, _MODEL, _EVAL, _NULLS, _OUT = "Map and data", "Model", "Evaluation", "Null refits", "Output"


def fit(
    map_file: Path = typer.Option(
        None, "--map", rich_help_panel=_DATA,
        help="CSV: a region column (names of --atlas) and a value column; or 'bigbrain'. Default: ADNI2 AD atrophy.",
    ),
    atlas: str = typer.Option(
        "dk", "--atlas", rich_help_panel=_DATA,
        help="dk, dk-subcortex, schaefer100-400, glasser360, or 'lh.x.annot,rh.x.annot' (with --expression). See 'crossscale data atlases'.",
    ),
    expression: Path = typer.Option(
        None, "--expression", rich_help_panel=_DATA,
        help="Your region x gene CSV (e.g. abagen's get_expression_data). Default: the atlas's built-in AHBA matrix.",
    ),
    gene_panel: str = typer.Option(
        "auto", "--gene-panel", rich_help_panel=_DATA,
        help="Built-in genes: 'auto' (L1000 on dk, differential stability >= 0.6 elsewhere), 'l1000' or 'stable'.",
    ),
    group: str = typer.Option("AD", help="ADNI2 group of the default map (AD, LMCI, EMCI).", rich_help_panel=_DATA),
    timepoint: str = typer.Option(
        "baseline", help="ADNI2 timepoint of the default map (baseline, 2-6).", rich_help_panel=_DATA
    ),
    value_column: str = typer.Option(
        None, help="Column of --map holding the values (default: guessed).", rich_help_panel=_DATA
    ),
    region_column: str = typer.Option(
        None, help="Column of --map holding region names (default: guessed).", rich_help_panel=_DATA
    ),
    out: Path = typer.Option(
        Path("results/fit"), "--out", "-o", help="Output folder (written atomically).", rich_help_panel=_OUT
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out if it exists.", rich_help_panel=_OUT),
    graph_kind: str = typer.Option(
        "surface", "--graph", rich_help_panel=_MODEL,
        help="Region graph: 'surface' (fsaverage5 adjacency) or 'connectome' (HCP structural weights).",
    ),
    model: str = typer.Option(
        DEFAULT_MODEL, "--model", rich_help_panel=_MODEL,
        help="Registered regional model (crossscale.models.registry; default graphvae).",
    ),
    param: list[str] = typer.Option(
        None, "--param", rich_help_panel=_MODEL, metavar="KEY=VALUE",
        help="A model parameter (repeatable), e.g. --param n_latent=4 --param smoothness=0.5.",
    ),
    preset: str = typer.Option(
        "default", rich_help_panel=_MODEL,
        help="Parameter preset of --model (GraphVAE: 'default', chosen out of sample, or 'reference'); --param overrides it.",
    ),
    max_epochs: int = typer.Option(None, help="Same as --param max_epochs=N.", rich_help_panel=_MODEL),
    ensemble: int = typer.Option(
        None, "--ensemble", help="Same as --param n_ensemble=N (GraphVAE seed-ensemble members, trained as one stack).", rich_help_panel=_MODEL
    ),
    protocol: str = typer.Option(
        "inductive", rich_help_panel=_EVAL,
        help="'inductive' (preprocessing learned on each fold's training regions) or 'transductive'.",
    ),
    cv: str = typer.Option(
        "loro,spatial", help="Cross-validation schemes: loro, spatial, or both.", rich_help_panel=_EVAL
    ),
    baselines: bool = typer.Option(True, help="Fit the PLS, ridge and spatial-only baselines.", rich_help_panel=_EVAL),
    seed: int = typer.Option(0, help="Random seed of every stochastic step.", rich_help_panel=_MODEL),
    device: str = typer.Option("auto", help="'auto' (CUDA when present), 'cpu' or 'cuda'.", rich_help_panel=_MODEL),
    nulls: str = typer.Option(
        "none", "--nulls", rich_help_panel=_NULLS,
        help="Refit the model, PLS-1 and ridge on null maps: 'spin' (Hungarian), 'moran' or 'none'.",
    ),
    n_perm: int = typer.Option(1000, "--n-perm", help="Number of null maps (with --nulls).", rich_help_panel=_NULLS),
    null_cv: str = typer.Option(
        "10", "--null-cv", rich_help_panel=_NULLS,
        help="CV of each null refit: k spatial blocks, 'spatial' (slow), 'loro' or 'none'.",
    ),
    scheduler: str = typer.Option(
        None, "--scheduler", rich_help_panel=_NULLS,
        help="Dask: 'local' or tcp://host:port (needs crossscale\\[dask]).",
    ),
    batch_size: int = typer.Option(
        250, "--batch-size", help="Null maps per stacked GraphVAE program / Dask task.", rich_help_panel=_NULLS
    ),
    interpret: bool = typer.Option(
        True, rich_help_panel=_EVAL,
        help="Gene attributions, programs, region clusters, cell-type enrichment (spatial nulls).",
    ),
    interpret_n_perm: int = typer.Option(
        100, rich_help_panel=_EVAL,
        help="Spin refits of the enrichment null (with --interpret).",
    ),
) -> None:
    """Fit a model (default GraphVAE) on AHBA expression, evaluate it honestly, write a report."""
    t_start = time.perf_counter()
    schemes = check_fit_options(
        nulls=nulls, cv=cv, graph_kind=graph_kind, max_epochs=max_epochs, n_perm=n_perm,
        null_cv=null_cv, scheduler=scheduler, batch_size=batch_size, interpret=interpret,
        interpret_n_perm=interpret_n_perm, device=device, protocol=protocol, ensemble=ensemble,
    )  # fmt: skip
    from crossscale.cli import _checks as chk
    from crossscale.pipeline import model_params

    chk.seed("--seed", seed)
    params = model_params(model, preset, param, seed=seed, device=device,
                          aliases={"max_epochs": max_epochs, "n_ensemble": ensemble})  # fmt: skip
    from crossscale._utils import check_output_dir
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
    result = fit_map(
        map_file, group=group, timepoint=timepoint, region_column=region_column,
        value_column=value_column, atlas=atlas_obj, expression=expression, gene_panel=gene_panel,
        graph=graph_kind, model=model, preset=preset, params=params, cv=schemes, protocol=protocol,
        baselines=baselines, nulls=nulls, n_perm=n_perm, null_cv=null_cv, scheduler=scheduler,
        batch_size=batch_size, interpret=interpret, interpret_n_perm=interpret_n_perm, seed=seed,
        echo=typer.echo,
    )  # fmt: skip
    typer.echo("Writing report ...")
    result.save(out, overwrite=overwrite, command="crossscale fit")
    print_results(result.metrics, result.model_label, result.nulls,
                  reference=bool(result.summary.get("is_reference_map")))  # fmt: skip
    typer.echo(f"{out}/report.html written ({time.perf_counter() - t_start:.0f} s)")


def print_results(metrics, model_label, nulls=None, *, reference=True, out=None) -> None:  # noqa: ANN001
    """The results of a fit on the terminal: metrics, null refits, then the verdict sentence.

    Tables use short labels and split into a second table when the terminal is narrow (no
    header or value is cut); the report's verdict sentence comes last.
    """
    from crossscale.cli import _render
    from crossscale.evaluate.metrics import REFERENCE_METRICS
    from crossscale.report.fit import verdict_sentences

    out = out or _render.console()
    labels, rows, groups = _render.metrics_rows(metrics, REFERENCE_METRICS if reference else None)
    _render.print_split_table(rows, labels, out=out, groups=groups)
    if nulls:
        labels, rows = _render.null_rows(nulls)
        _render.print_split_table(rows, labels, title="Null refits (p: one-sided)", out=out)
    headline, _ = verdict_sentences(metrics, model_label, nulls)
    if headline:
        _render.print_verdict(headline, out=out)


def check_fit_options(
    *, nulls, cv, graph_kind, max_epochs, n_perm, null_cv, scheduler, batch_size, interpret,
    interpret_n_perm, device, protocol="inductive", ensemble=None,
) -> tuple[str, ...]:  # fmt: skip  # noqa: ANN001
    """Check every option of ``crossscale fit`` (before any work); return the CV schemes."""
    from crossscale._device import check_device
    from crossscale._validate import MAX_EPOCHS, MAX_PERM
    from crossscale.cli import _checks as chk
    from crossscale.pipeline import parse_null_cv

    chk.one_of("--nulls", nulls, ("spin", "moran", "none"))
    schemes = chk.cv_schemes("--cv", cv)
    chk.one_of("--graph", graph_kind, ("surface", "connectome"))
    chk.one_of("--protocol", protocol, ("inductive", "transductive"))
    for option, value in (("--max-epochs", max_epochs), ("--ensemble", ensemble)):
        if value is not None:
            chk.at_least(option, value, 1)
    chk.at_least("--n-perm", n_perm, 1, hint="Give the number of null maps, e.g. --n-perm 1000.")
    parse_null_cv(null_cv)
    chk.scheduler("--scheduler", scheduler)
    chk.at_least("--batch-size", batch_size, 1)
    if interpret:
        chk.at_least("--interpret-n-perm", interpret_n_perm, 1, hint="Or pass --no-interpret.")
    chk.count("--max-epochs", max_epochs, 1, MAX_EPOCHS)
    chk.count("--n-perm", n_perm, 1, MAX_PERM)
    chk.count("--ensemble", ensemble, 1, 10_000)
    chk.count("--batch-size", batch_size, 1, MAX_PERM)
    if interpret:
        chk.count("--interpret-n-perm", interpret_n_perm, 1, MAX_PERM)
    check_device(device)
    return schemes
