"""``crossscale fit``: the doorway to :mod:`crossscale.pipeline.fit_config`.

A registered model (default GraphVAE) from AHBA expression to a regional map, evaluated against
baselines with leave-one-region-out and spatial cross-validation, and written with a report.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from crossscale.cli import _options_fit as o
from crossscale.models.registry import DEFAULT_MODEL

__all__ = ["fit", "print_results"]


def fit(
    map_file: o.MapFile = None, atlas: o.Atlas = "dk", expression: o.Expression = None,
    gene_panel: o.GenePanel = "auto", group: o.Group = "AD", timepoint: o.Timepoint = "baseline",
    value_column: o.ValueColumn = None, region_column: o.RegionColumn = None,
    out: o.Out = Path("results/fit"), overwrite: o.Overwrite = False,
    graph_kind: o.Graph = "surface", model: o.Model = DEFAULT_MODEL, param: o.Param = None,
    preset: o.Preset = "default", max_epochs: o.MaxEpochs = None, ensemble: o.Ensemble = None,
    protocol: o.Protocol = "inductive", cv: o.Cv = "loro,spatial", baselines: o.Baselines = True,
    seed: o.Seed = 0, device: o.Device = "auto", nulls: o.Nulls = "none", n_perm: o.NPerm = 1000,
    null_cv: o.NullCv = "10", scheduler: o.Scheduler = None, batch_size: o.BatchSize = 250,
    interpret: o.Interpret = True, interpret_n_perm: o.InterpretNPerm = 100,
) -> None:  # fmt: skip
    """Fit a model (default GraphVAE) on AHBA expression, evaluate it honestly, write a report."""
    from crossscale.pipeline.fit_config import FitConfig, check_output, run

    t_start = time.perf_counter()
    config = FitConfig(
        map=map_file, group=group, timepoint=timepoint, region_column=region_column,
        value_column=value_column, atlas=atlas, expression=expression, gene_panel=gene_panel,
        graph=graph_kind, model=model, params=tuple(param or ()), preset=preset,
        max_epochs=max_epochs, ensemble=ensemble, protocol=protocol, cv=cv, baselines=baselines,
        seed=seed, device=device, nulls=nulls, n_perm=n_perm, null_cv=null_cv,
        scheduler=scheduler, batch_size=batch_size, interpret=interpret,
        interpret_n_perm=interpret_n_perm,
    )  # fmt: skip
    config.check_inputs()  # every check before any work: options and map, the output folder,
    out = check_output(config, out, overwrite=overwrite)
    result = run(config, echo=typer.echo)  # then the model (its libraries take seconds to load)
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
