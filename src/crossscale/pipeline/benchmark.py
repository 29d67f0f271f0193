"""A model and the baselines side by side on many regional maps: one table.

:func:`benchmark_maps` runs, per map and model, in-sample, leave-one-region-out and spatial-CV
metrics and (optionally) the spin-test p-value of the cross-validated r from refits on spun maps;
:meth:`BenchmarkResult.save` writes the outputs of ``crossscale benchmark``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.pipeline import _common as common

__all__ = ["BenchmarkResult", "benchmark_maps", "resolve_null_models"]


@dataclass(frozen=True)
class BenchmarkResult:
    """The benchmark table and how it was made.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per map and model; columns :data:`crossscale.evaluate.metrics.BENCHMARK_COLUMNS`.
    parameters : dict
        The options of the run (recorded in run.json).
    model_params : dict
        Parameters of the benchmarked model.
    model_label : str
    n_genes : int
    datasets : list of str
        Registry keys of the data read.
    total_time_s : float
    call : str
        How the run was started (the Python call); run.json's ``command`` unless ``save`` is
        given one.
    """

    table: pd.DataFrame
    parameters: dict[str, Any]
    model_params: dict[str, Any]
    model_label: str
    n_genes: int
    datasets: list[str] = field(default_factory=list)
    total_time_s: float = float("nan")
    call: str = ""

    def __repr__(self) -> str:
        maps = self.table["map"].unique() if "map" in self.table else []
        return (f"<BenchmarkResult {self.model_label} and {self.table['model'].nunique() - 1} "
                f"baselines on {len(maps)} map(s); .table, .save(folder)>")  # fmt: skip

    def to_frame(self) -> pd.DataFrame:
        """The table."""
        return self.table

    def to_dict(self) -> dict[str, Any]:
        """Parameters and the table's rows (JSON-ready after ``_files.write_json``)."""
        return {"parameters": self.parameters, "model": self.model_label,
                "rows": self.table.to_dict(orient="records")}  # fmt: skip

    def save(
        self, folder: str | os.PathLike[str], *, overwrite: bool = False,
        command: str | None = None,
    ) -> Path:  # fmt: skip
        """Write ``benchmark.csv``, ``benchmark.md``, ``run.json`` and ``report.html`` atomically."""
        from crossscale._files import write_json
        from crossscale._outdir import atomic_dir
        from crossscale._provenance import run_record
        from crossscale.report.benchmark import build_benchmark_report, markdown_table

        p = self.parameters
        with atomic_dir(folder, overwrite=overwrite) as tmp:
            self.table.to_csv(tmp / "benchmark.csv", index=False, float_format="%.6g")
            (tmp / "benchmark.md").write_text(markdown_table(self.table))
            build_benchmark_report(
                self.table, n_perm=p["n_perm"], null_cv=p["null_cv"], n_genes=self.n_genes,
                seed=p["seed"], model=self.model_label, data_text=_data_text(p, self.n_genes),
            ).save(tmp / "report.html")  # fmt: skip
            write_json(tmp / "run.json", run_record(
                command or self.call or "crossscale.pipeline.benchmark_maps(...)",
                parameters=p, seed=p["seed"], datasets=self.datasets,
                model_params=self.model_params, n_genes=self.n_genes,
                total_time_s=self.total_time_s,
            ))  # fmt: skip
        return Path(folder)


def resolve_null_models(spec: str | Sequence[str], known: Sequence[str]) -> set[str]:
    """``"all"`` or a comma list of model names -> the set of models refitted on spins.

    Raises
    ------
    ParameterError
        An unknown name, or an empty list.
    """
    if isinstance(spec, str):
        items = list(known) if spec.strip().lower() == "all" else spec.split(",")
    else:
        items = list(spec)
    chosen = {m.strip() for m in items if m.strip()}
    unknown = sorted(chosen - set(known))
    if unknown or not chosen:
        raise ParameterError(
            f"--null-models must be 'all' or a comma list of {', '.join(known)}; got {spec!r}."
        )
    return chosen


@common.records_call
@common.in_atlas
def benchmark_maps(
    maps: str | Sequence[str] = "ad",
    *,
    model: str | Any = "graphvae",
    preset: str = "default",
    params: Mapping[str, Any] | None = None,
    n_perm: int = 100,
    null_cv: str | int | None = "10",
    null_models: str | Sequence[str] = "all",
    scheduler: Any = None,
    batch_size: int = 250,
    n_jobs: int | None = None,
    seed: int = 0,
    atlas: Any = None,
    gene_panel: str = "auto",
    echo: common.Echo = common.log_echo,
) -> BenchmarkResult:
    """Run a model and the baselines (PLS 1-5, ridge, spatial-only) on many maps; one table.

    Parameters
    ----------
    maps : str or sequence of str
        A comma list (``ad``, ``lmci``, ``emci``, ``enigma-thickness``, registry keys) or keys.
    model, preset, params
        The model, as in :func:`crossscale.pipeline.fit_map`.
    n_perm : int
        Spin null maps per map for ``p_spin`` (0: no null refits).
    null_cv : str, int or None
        CV of ``p_spin``: k contiguous spatial blocks, ``"spatial"`` or ``"loro"``.
    null_models : str or sequence of str
        Models refitted on the spins: ``"all"`` or names (``"GraphVAE,PLS-4"``).
    scheduler, batch_size, n_jobs
        As in :func:`crossscale.evaluate.null_distribution`.
    seed : int
        Seed of every stochastic step.
    atlas : str, Atlas or None
        The parcellation (default ``dk``); with another atlas, ``maps`` is ``bigbrain``.
    gene_panel : {"auto", "l1000", "stable"}
        Genes of the atlas's built-in expression (see :func:`crossscale.pipeline.fit_map`).
    echo : callable
        Receives progress messages.

    Returns
    -------
    BenchmarkResult

    Raises
    ------
    ParameterError
        Bad options (before any work).
    """
    from crossscale.maps.catalog import load_map, resolve_maps
    from crossscale.models.baselines import default_baselines

    t_start = time.perf_counter()
    keys = resolve_maps(maps if isinstance(maps, str) else ",".join(maps), atlas)
    if not (isinstance(n_perm, (int, np.integer)) and n_perm >= 0):
        raise ParameterError(f"n_perm must be an integer >= 0; got {n_perm!r}.")
    cv = common.parse_null_cv(null_cv)
    if n_perm and cv is None:
        raise ParameterError("--null-cv must name a CV scheme when --n-perm > 0.")
    template, _, label = common.resolve_model(model, preset, params, seed=seed)
    null_set = resolve_null_models(null_models, [label, *default_baselines()])
    from sklearn.base import clone

    from crossscale.evaluate import evaluate_models
    from crossscale.evaluate.estimators import json_params
    from crossscale.evaluate.metrics import BENCHMARK_COLUMNS
    from crossscale.evaluate.selection import comparison_models
    from crossscale.transcriptomics import load_expression

    echo(f"Loading AHBA expression for the {atlas.title} atlas ...")
    X_all, expr = load_expression(atlas, gene_panel)
    rows = []
    for i, key in enumerate(keys, 1):
        X, y, regions = common.align_to_map(X_all, load_map(key))
        graph, _ = common.region_graph("surface", regions, atlas)
        echo(f"[{i}/{len(keys)}] {key}: {len(regions)} regions")
        models = {label: clone(template)} | comparison_models()
        ev = evaluate_models(X, y, graph, models, cv=("loro", "spatial"))
        nulls = common.null_refits(
            X, y, graph, {m: e for m, e in models.items() if m in null_set and n_perm},
            nulls="spin", cv=cv, n_perm=n_perm, seed=seed, scheduler=scheduler,
            batch_size=batch_size, echo=lambda _: None, metric="r", in_sample=False,
            n_jobs=n_jobs,
        )  # fmt: skip
        for name in models:
            row = {"map": key, "model": name} | ev.metrics.loc[name].to_dict()
            res = nulls.get(name)
            row["null_cv_r"] = res.observed["cv_r"] if res else np.nan
            row["p_spin"] = res.p_values["cv_r"] if res else np.nan
            row["null_time_s"] = res.time_s if res else np.nan
            rows.append(row)
        best = ev.metrics["spatial_r"].idxmax()
        echo(
            f"  {label} spatial-CV r = {ev.metrics.loc[label, 'spatial_r']:.3f}; best: {best} "
            f"({ev.metrics.loc[best, 'spatial_r']:.3f})"
        )
    parameters = {
        "maps": keys, "n_perm": n_perm, "null_cv": common.null_cv_name(cv) if n_perm else None,
        "scheduler": scheduler, "batch_size": batch_size, "preset": preset, "seed": seed,
        "null_models": sorted(null_set), "protocol": "inductive", "atlas": atlas.name,
        "gene_panel": expr.panel,
    }  # fmt: skip
    return BenchmarkResult(
        table=pd.DataFrame(rows)[BENCHMARK_COLUMNS], parameters=parameters,
        model_params=json_params(template), model_label=label, n_genes=int(X_all.shape[1]),
        datasets=([*common.EXPRESSION_DATASETS[:2]] if expr.panel == "l1000" else [expr.source])
        + list(atlas.sources) + keys,
        total_time_s=time.perf_counter() - t_start,
    )  # fmt: skip


def _data_text(p: dict[str, Any], n_genes: int) -> str | None:
    """The expression/maps sentence of the report for an atlas other than DK (else None)."""
    atlas, panel = p.get("atlas", "dk"), p.get("gene_panel", "l1000")
    if atlas == "dk" and panel == "l1000":
        return None
    genes = ("LINCS landmark genes" if panel == "l1000"
             else "genes with differential stability >= 0.6 (ENIGMA Toolbox matrices)")  # fmt: skip
    return (f"Expression: {n_genes} {genes} of the Allen Human Brain Atlas in the {atlas} atlas "
            f"(parcels without samples left out). Maps: {', '.join(p['maps'])}.")  # fmt: skip
