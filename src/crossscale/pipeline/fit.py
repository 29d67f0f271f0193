"""Fit a model from regional expression to one regional map, evaluated honestly.

:func:`fit_map` loads the data, fits the model (any registered model), cross-validates it with
the baselines on the same folds, refits it on spatial null maps and interprets it;
:meth:`FitResult.save` writes the outputs of ``crossscale fit`` (atomically).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas.validate import validate_regional_map
from crossscale.pipeline import _common as common

logger = logging.getLogger(__name__)

__all__ = ["FitResult", "fit_map"]


@dataclass(frozen=True)
class FitResult:
    """Everything one ``fit_map`` run produced.

    Attributes
    ----------
    observed : pandas.Series, shape (n_regions,)
        The map, on the regions fitted.
    model : estimator
        The model fitted in-sample.
    model_name, model_label : str
        Registry key and display name (``"graphvae"``, ``"GraphVAE"``).
    evaluation : crossscale.evaluate.Evaluation
        Metrics and predictions of the model and the baselines.
    nulls : dict of str to NullResult
        Null refits per model (empty without nulls).
    interpretation : Interpretation or None
    latent : pandas.DataFrame or None
        Latent programs of the regions (models with ``transform``).
    programs : crossscale.evaluate.programs.ProgramSummary or None
        Distinct, stable programs of the fit and their stability across refits (latent models).
    history : pandas.DataFrame or None
        Training curve (models with ``history_``).
    graph : RegionGraph
    summary : dict
        Run facts for the report (map, genes, graph, parameters, times, warnings).
    parameters : dict
        The options of the run (recorded in run.json).
    gene_selection : dict
    datasets : list of str
        Registry keys of the data read.
    map_file : str or None
        The user's map file (None: a registry map).
    region_column, value_column : str or None
    call : str
        How the run was started (the Python call, or the command line); run.json's ``command``.
    """

    observed: pd.Series
    model: Any
    model_name: str
    model_label: str
    evaluation: Any
    graph: Any
    summary: dict[str, Any]
    parameters: dict[str, Any]
    nulls: dict[str, Any] = field(default_factory=dict)
    interpretation: Any = None
    latent: pd.DataFrame | None = None
    programs: Any = None
    history: pd.DataFrame | None = None
    gene_selection: dict[str, Any] = field(default_factory=dict)
    datasets: list[str] = field(default_factory=list)
    map_file: str | None = None
    region_column: str | None = None
    value_column: str | None = None
    call: str = ""

    def __repr__(self) -> str:
        return f"<FitResult {self.model_label} on {self.summary.get('map_name')!r}: " + (
            self.headline() + ">"
        )

    def headline(self) -> str:
        """One line: the model's spatial-CV (else LORO, else in-sample) R² and its best rival."""
        m = self.metrics
        col = next((c for c in ("spatial_r2", "loro_r2", "in_sample_r2")
                    if c in m and m[c].notna().any()), None)  # fmt: skip
        if col is None or self.model_label not in m.index:
            return f"{len(m)} models"
        own = m.loc[self.model_label, col]
        others = m[col].drop(self.model_label).dropna()
        from crossscale.evaluate.metrics import SHORT_LABELS

        text = f"{SHORT_LABELS[col]} {own:.3f}"
        if len(others):
            text += f" (best other: {others.idxmax()} {others.max():.3f})"
        res = self.nulls.get(self.model_label)
        if res is not None:
            key = "cv_r" if "cv_r" in res.p_values else next(iter(res.p_values))
            text += f", p_{res.method} ({key}) = {res.p_values[key]:.3g}"
        return text

    def describe(self) -> str:
        """A short text summary: the map, the metrics table with short labels, the nulls.

        ``print(res)`` prints it too. (``summary`` is the dict of run facts.)

        Returns
        -------
        str
            About 20 lines; the full numbers are in :attr:`metrics`, :meth:`to_dict` and the
            saved folder.
        """
        from crossscale.evaluate.metrics import NULL_STAT_LABELS, format_metrics

        s = self.summary
        lines = [
            f"{self.model_label} on {s.get('map_name')} ({s.get('n_regions')} regions x "
            f"{s.get('n_genes')} genes, {s.get('protocol')} CV)",
            format_metrics(self.metrics),
        ]
        import shutil
        import textwrap

        width = shutil.get_terminal_size((80, 24)).columns
        for name, res in self.nulls.items():
            stats = ", ".join(f"{NULL_STAT_LABELS.get(k, k)} {v:.3f} (p = {res.p_values[k]:.2g})"
                              for k, v in res.observed.items())  # fmt: skip
            lines.append(textwrap.fill(
                f"Null refits of {name} ({res.n_perm} {res.method}, CV {res.cv}): {stats}",
                width, subsequent_indent="  ",
            ))  # fmt: skip
        if self.interpretation is None and self.parameters.get("interpret_skipped"):
            lines.append(f"Interpretation: {self.parameters['interpret_skipped']}")
        return "\n".join(lines)

    __str__ = describe

    @property
    def metrics(self) -> pd.DataFrame:
        """Metrics table (one row per model)."""
        return self.evaluation.metrics

    def to_frame(self) -> pd.DataFrame:
        """The metrics table (one row per model)."""
        return self.evaluation.metrics

    def to_dict(self) -> dict[str, Any]:
        """The content of ``metrics.json``."""
        from crossscale.evaluate.metrics import REFERENCE_METRICS

        s = self.summary
        out = {
            "map": s["map_name"], "units": s["map_units"], "n_regions": s["n_regions"],
            "n_genes": s["n_genes"], "protocol": s["protocol"], "preset": s["preset"],
            "model": self.model_name,
            "reference_in_sample": {k.removeprefix("in_sample_"): v for k, v in REFERENCE_METRICS.items()},
            "models": self.evaluation.to_dict(),
            "spatial_fold_r": {k: v.tolist() for k, v in self.evaluation.fold_r.items()},
            "gene_selection": self.gene_selection,
            "atlas": s.get("atlas"), "expression": s.get("expression"),
        }  # fmt: skip
        if self.nulls:
            out["nulls"] = {k: v.to_dict() for k, v in self.nulls.items()}
        if self.programs is not None:
            out["programs"] = self.programs.to_dict()
        return out

    def save(
        self, folder: str | os.PathLike[str], *, overwrite: bool = False, command: str | None = None
    ) -> Path:
        """Write the run to `folder` atomically (a failed write leaves nothing).

        Writes ``input_map.*``, ``predictions.csv``, ``latent_programs.csv`` and
        ``training_history.csv`` (when the model has them), ``model/`` (models with ``save``),
        ``metrics.json``, ``run.json``, ``report.html`` and ``interpretation/``. run.json's
        ``command`` is `command` (the CLI passes its command line), else :attr:`call` (the
        Python call that made this result).

        Raises
        ------
        ParameterError
            `folder` may not be written (see :func:`crossscale._utils.check_output_dir`).
        """
        from crossscale._provenance import run_record
        from crossscale._utils import atomic_dir, write_json
        from crossscale.atlas import use_atlas
        from crossscale.report.fit import build_fit_report

        inputs = [self.map_file]
        with (
            use_atlas(self.graph.atlas),
            atomic_dir(folder, overwrite=overwrite, inputs=inputs) as tmp,
        ):
            input_map = common.copy_input_map(
                tmp, self.map_file, self.observed,
                self.region_column or self.observed.attrs.get("region_column"),
                self.value_column or self.observed.attrs.get("value_column"),
            )  # fmt: skip
            preds = self.evaluation.predictions
            preds.to_csv(tmp / "predictions.csv", float_format="%.6g")
            if self.latent is not None:
                self.latent.to_csv(tmp / "latent_programs.csv", float_format="%.6g")
            if self.history is not None:
                self.history.to_csv(tmp / "training_history.csv", index=False, float_format="%.6g")
            if hasattr(self.model, "save"):
                self.model.save(tmp / "model")
            write_json(tmp / "metrics.json", self.to_dict())
            report = build_fit_report(
                observed=self.observed, predictions=preds, latent=self.latent,
                metrics=self.metrics, history=self.history, best_epoch=self.summary["best_epoch"],
                summary=self.summary, model_name=self.model_label, nulls=self.nulls or None,
                interpretation=self.interpretation, programs=self.programs,
            )  # fmt: skip
            if self.interpretation is not None:
                (tmp / "interpretation").mkdir()
                self.interpretation.save(tmp / "interpretation")
            report.save(tmp / "report.html")
            X_regions, genes = self.summary["regions"], self.summary["genes"]
            write_json(tmp / "run.json", run_record(
                command or self.call or "crossscale.pipeline.fit_map(...)",
                parameters=self.parameters, seed=self.parameters["seed"],
                datasets=self.datasets, inputs={"map_file": self.map_file},
                model=self.model_name, model_params=self.summary["model_params"],
                graph=self.graph.to_dict(), input_map=input_map,
                missing_regions=self.summary["missing_regions"],
                input_warnings=self.summary["input_warnings"],
                model_check={"regions": X_regions, "n_genes": len(genes),
                             "genes_sha256": common.genes_sha256(genes),
                             "graph_hash": self.graph.hash()},
                total_time_s=self.summary["total_time_s"],
            ))  # fmt: skip
        return Path(folder)


def _load_map(
    map: str | os.PathLike[str] | pd.Series | None, group: str, timepoint: str,
    region_column: str | None, value_column: str | None, atlas: Any,
) -> tuple[pd.Series, dict[str, str], list[str], str | None]:  # fmt: skip
    """The map, its name / units / source, the registry keys read, and the map file."""
    from crossscale.maps import load_adni_map, load_bigbrain_map, read_regional_map

    if isinstance(map, pd.Series):
        y = map.astype(float)
        if atlas.name != "dk" or not all(r in atlas.regions for r in y.index):
            y = validate_regional_map(y, atlas=atlas, what="The 'map'")
        meta = {"map_name": str(map.name or "map"), "map_units": str(y.attrs.get("units", "value")),
                "map_source": str(y.attrs.get("source", "pandas.Series"))}  # fmt: skip
        return y, meta, [], None
    if isinstance(map, str) and map.strip().lower() == "bigbrain":
        y = load_bigbrain_map(atlas)
        meta = {
            "map_name": str(y.name),
            "map_units": y.attrs["units"],
            "map_source": y.attrs["source"],
        }
        return y, meta, [y.attrs["source"]], None
    if map is not None:
        y = read_regional_map(
            map, region_column=region_column, value_column=value_column, atlas=atlas
        )
        meta = {"map_name": Path(map).stem, "map_source": str(map),
                "map_units": str(y.attrs.get("units", y.attrs.get("value_column", "value"))),
                "map_columns": f"regions from column '{y.attrs.get('region_column')}', values "
                               f"from column '{y.attrs.get('value_column')}'"}  # fmt: skip
        return y, meta, [], str(map)
    if atlas.name not in ("dk", "dk-subcortex"):
        raise ParameterError(
            f"The default map (ADNI2 AD atrophy) is in the Desikan-Killiany atlas, not "
            f"{atlas.title}. Pass a map in that atlas with --map FILE (map=...), or --map bigbrain "
            "for the BigBrain histological gradient in it."
        )
    y = load_adni_map(group, timepoint, subcortex=atlas.has_subcortex)
    meta = {"map_name": str(y.name), "map_units": y.attrs["units"], "map_source": y.attrs["source"]}
    return y, meta, [y.attrs["source"]], None


@common.records_call
@common.in_atlas
def fit_map(
    map: str | os.PathLike[str] | pd.Series | None = None,
    *,
    group: str = "AD",
    timepoint: str = "baseline",
    region_column: str | None = None,
    value_column: str | None = None,
    expression: pd.DataFrame | str | os.PathLike[str] | None = None,
    atlas: Any = None,
    gene_panel: str = "auto",
    graph: str = "surface",
    model: str | Any = "graphvae",
    preset: str = "default",
    params: Mapping[str, Any] | None = None,
    cv: Sequence[str] = ("loro", "spatial"),
    protocol: str = "inductive",
    baselines: bool = True,
    nulls: str = "none",
    n_perm: int = 1000,
    null_cv: str | int | None = "10",
    scheduler: Any = None,
    batch_size: int = 250,
    n_jobs: int | None = None,
    interpret: bool = True,
    interpret_n_perm: int = 100,
    seed: int = 0,
    echo: common.Echo = common.log_echo,
) -> FitResult:
    """Fit a model from regional expression to a regional map and evaluate it honestly.

    Parameters
    ----------
    map : path-like, pandas.Series, "bigbrain" or None
        A CSV with a region and a value column, a Series indexed by region, ``"bigbrain"`` (the
        BigBrain histological gradient in the atlas), or None for the ADNI2 map of `group` and
        `timepoint` (default: AD baseline, the reference's map; DK atlases only).
    group, timepoint : str
        The ADNI2 map when `map` is None.
    region_column, value_column : str or None
        Columns of the CSV (default: guessed).
    expression : pandas.DataFrame, path-like or None, shape (n_regions, n_genes)
        Regional expression: a region x gene table, or a CSV of one (e.g. abagen's
        ``get_expression_data`` output), checked against the atlas (unknown regions refused,
        empty parcels and NaN genes dropped and listed; see
        :func:`crossscale.transcriptomics.check_expression`). Default: the built-in AHBA
        matrix of the atlas (:func:`crossscale.transcriptomics.load_expression`; DK: the
        landmark genes, 68 x 889).
    atlas : str, Atlas or None
        The parcellation of the map and the expression (:func:`crossscale.atlas.get_atlas`:
        ``dk`` (default), ``dk-subcortex``, ``schaefer100`` … ``schaefer400``, ``glasser360``,
        ``"lh.x.annot,rh.x.annot"``).
    gene_panel : {"auto", "l1000", "stable"}
        The built-in expression's genes (``auto``: L1000 landmark genes on DK, genes with
        differential stability >= 0.6 elsewhere).
    graph : {"surface", "connectome"}
        Region graph: fsaverage5 adjacency, or HCP structural weights on surface edges.
    model : str or estimator
        A registered model name (:func:`crossscale.models.registry.available`) or an estimator
        instance: an object with ``fit(X, y)`` (or ``fit(X, y, graph)``) and ``predict(X)``
        (objects without ``get_params`` are cloned by deep copy:
        :class:`~crossscale.evaluate.estimators.PlainEstimator`).
    preset : str
        Parameter preset of the registered model (GraphVAE: ``"default"`` or ``"reference"``).
    params : mapping, optional
        Model parameters overriding the preset (e.g. ``{"max_epochs": 40}``).
    cv : sequence of {"loro", "spatial"}
        Cross-validation schemes of the model and baselines.
    protocol : {"inductive", "transductive"}
        Cross-validation protocol for every model: ``inductive`` learns every preprocessing step on
        each fold's training regions; ``transductive`` knows every region's expression (held-out map
        values stay hidden).
    baselines : bool
        Also fit PLS 1-5, ridge and the spatial-only baseline.
    nulls : str
        ``"none"``, or the null model of the null refits (``"spin"``, ``"moran"``, or any method
        of :func:`crossscale.nulls.generate_nulls`).
    n_perm : int
        Number of null maps.
    null_cv : str, int or None
        CV of every null refit: k spatial blocks, ``"spatial"``, ``"loro"`` or ``"none"``.
    scheduler : None, "local" or str
        Dask scheduler of the null refits.
    batch_size : int
        Null maps per stacked program / Dask task.
    n_jobs : int or None
        Worker processes of the null refits without `scheduler` (joblib: None or 1 in this
        process, -1 every core; :func:`crossscale.evaluate.null_distribution`).
    interpret : bool
        Interpret the model (models registered as interpretable; skipped for others).
    interpret_n_perm : int
        Spin-null refits of the enrichment null.
    seed : int
        Seed of every stochastic step.
    echo : callable
        Receives progress messages (default: the logger).

    Returns
    -------
    FitResult

    Raises
    ------
    ParameterError, InputDataError, RegionMismatchError
        Bad options or data, before any model is fitted.
    """
    t_start = time.perf_counter()
    if nulls != "none":  # (importing crossscale.evaluate takes a second: only when needed)
        from crossscale.evaluate.nullmethods import NULL_CHOICES

        if nulls not in NULL_CHOICES:
            raise ParameterError(f"nulls must be 'none' or one of {NULL_CHOICES}; got {nulls!r}.")
    cv_nulls = common.parse_null_cv(null_cv)
    y, meta, datasets, map_file = _load_map(
        map, group, timepoint, region_column, value_column, atlas
    )
    # Missing regions: fit on the regions present and list the missing ones.
    missing_regions = [r for r in atlas.regions if r not in y.index]
    input_warnings = list(y.attrs.get("warnings", []))
    if missing_regions:
        text = (
            f"The map lacks {len(missing_regions)} of the {atlas.n_regions} {atlas.title} "
            f"regions ({', '.join(missing_regions[:8])}{' …' if len(missing_regions) > 8 else ''});"
            f" fitting on the {len(y)} regions present."
        )
        echo(text)
        input_warnings.append(text)
    est, model_name, label = common.resolve_model(model, preset, params, seed=seed)
    from crossscale.evaluate import evaluate_models
    from crossscale.models.baselines import PLSBaseline, RidgeBaseline

    selection: dict[str, Any] = {}
    n_requested = n_missing = None
    X, expr, expr_datasets = _load_expression(expression, atlas, gene_panel, echo)
    datasets = expr_datasets + datasets
    if expr.get("panel") == "l1000":
        selection = X.attrs.get("gene_selection", {})
        n_requested, n_missing = selection.get("n_requested"), selection.get("n_missing")
    no_expression = [r for r in y.index if r not in X.index]
    if no_expression:
        text = (f"{len(no_expression)} region(s) of the map have no expression (empty parcels "
                f"or rows the matrix lacks): {', '.join(no_expression[:8])}"
                f"{' …' if len(no_expression) > 8 else ''}; fitting on the regions that have both.")  # fmt: skip
        echo(text)
        input_warnings.append(text)
    X, y, regions = common.align_to_map(X, y)
    if len(regions) < 10:
        raise InputDataError(
            f"The map and the expression share {len(regions)} regions of the {atlas.title} atlas; "
            "at least 10 are needed. Check that both are in the same atlas (--atlas)."
        )
    g, graph_data = common.region_graph(graph, regions, atlas)
    datasets += graph_data
    if meta.get("map_columns"):
        echo(f"Map '{meta['map_source']}': {meta['map_columns']}.")
    echo(f"Atlas: {atlas.title}. Map: {meta['map_name']} ({len(regions)} regions); expression: "
         f"{X.shape[0]} regions x {X.shape[1]} genes; graph: {g}")  # fmt: skip
    echo(f"Fitting {label} ({preset} configuration) ...")
    t0 = time.perf_counter()
    from crossscale.evaluate.estimators import fit_model

    est = fit_model(est, X, y, g)
    fit_time = getattr(est, "fit_time_s_", time.perf_counter() - t0)
    if not hasattr(est, "fit_time_s_"):  # the metrics table reads it (fitted attribute)
        try:
            est.fit_time_s_ = fit_time
        except AttributeError:  # pragma: no cover - an estimator with __slots__
            pass
    n_epochs = getattr(est, "n_epochs_", None)
    echo(f"  done in {fit_time:.1f} s" + (f" ({n_epochs} epochs)" if n_epochs is not None else ""))
    from crossscale.evaluate.selection import comparison_models

    models = {label: est} | (comparison_models() if baselines else {})
    echo(f"Cross-validating ({', '.join(cv)}) {label}{' and baselines' if baselines else ''} ...")
    ev = evaluate_models(X, y, g, models, cv=tuple(cv), fitted={label: est}, protocol=protocol)
    null_results = {}
    if nulls != "none":
        null_models = {label: est} | (
            {"PLS-1": PLSBaseline(1), "Ridge": RidgeBaseline()} if baselines else {}
        )
        null_results = common.null_refits(
            X, y, g, null_models, nulls=nulls, cv=cv_nulls, n_perm=n_perm, seed=seed,
            scheduler=scheduler, batch_size=batch_size, echo=echo, n_jobs=n_jobs,
        )  # fmt: skip
    programs = None
    if hasattr(est, "transform") and hasattr(est, "fit_many"):
        from crossscale.evaluate.programs import model_programs

        echo("Programs: distinct and stable latent programs (seed and subsampling refits) ...")
        programs = model_programs(est, X, y, random_state=seed)
        echo(f"  {programs.sentence()}")
        if programs.warning:
            echo(f"  Warning: {programs.warning}")
    interp = None
    interpret_skipped = None
    from crossscale.models import registry

    interpretable = model_name in registry.available() and registry.get(model_name).interpretable
    if interpret and interpretable:
        from crossscale._progress import progress
        from crossscale.interpret import interpret_model

        echo("Interpreting: genes, programs, clusters, cell types (spatial nulls) ...")
        with progress("Interpreting", total=1) as bar:  # one bar; the steps' bars nest in it
            interp = interpret_model(est, X, y, n_perm=interpret_n_perm, random_state=seed,
                                     programs=programs.distinct if programs is not None else None)
            bar.advance()
    elif interpret:
        interpret_skipped = (f"not run: model {model_name!r} is not registered as interpretable "
                             "(registry.register(name, factory, interpretable=True))")  # fmt: skip
        echo(f"Interpretation {interpret_skipped}.")
    latent = est.transform(X) if hasattr(est, "transform") else None
    hist = getattr(est, "history_", None)
    history = hist.to_frame() if hist is not None else None
    from crossscale.evaluate.estimators import json_params

    mp = json_params(est)
    summary = meta | {
        "n_regions": len(regions), "n_genes": X.shape[1], "n_genes_requested": n_requested,
        "n_genes_missing": n_missing, "graph_kind": g.kind, "n_edges": g.n_edges,
        "smoothness": mp.get("smoothness"), "beta": mp.get("beta"), "lr": mp.get("lr"),
        "val_fraction": mp.get("val_fraction") if mp.get("early_stopping") else None,
        "preset": preset, "protocol": protocol, "model": model_name,
        "model_class": type(est).__name__, "model_params": mp,
        "is_reference_map": map is None and group == "AD" and timepoint == "baseline",
        "seed": seed, "missing_regions": missing_regions, "input_warnings": input_warnings,
        "best_epoch": n_epochs if mp.get("early_stopping") else None,
        "regions": list(regions), "genes": list(X.columns),
        "total_time_s": round(time.perf_counter() - t_start, 1),
    }  # fmt: skip
    summary |= _atlas_summary(atlas, expr, regions, nulls, no_expression)
    parameters = {
        "map": map_file, "group": group, "timepoint": timepoint, "graph": graph, "cv": list(cv),
        "protocol": protocol, "preset": preset, "model": model_name, "baselines": baselines,
        "seed": seed, "nulls": nulls, "n_perm": n_perm if nulls != "none" else None,
        "null_cv": null_cv if nulls != "none" else None, "scheduler": scheduler,
        "interpret": interp is not None,
        "interpret_n_perm": interpret_n_perm if interp is not None else None,
        "interpret_skipped": interpret_skipped, "n_jobs": n_jobs,
        "atlas": atlas.name if atlas.info is not None else ",".join(atlas.sources),
        "expression": str(expression) if isinstance(expression, (str, os.PathLike)) else None,
        "gene_panel": expr.get("panel"),
    }  # fmt: skip
    return FitResult(
        observed=y, model=est, model_name=model_name, model_label=label, evaluation=ev, graph=g,
        summary=summary, parameters=parameters, nulls=null_results, interpretation=interp,
        latent=latent, programs=programs, history=history, gene_selection=selection, datasets=datasets,
        map_file=map_file, region_column=region_column, value_column=value_column,
    )  # fmt: skip


def _load_expression(
    expression: pd.DataFrame | str | os.PathLike[str] | None, atlas: Any, panel: str,
    echo: common.Echo,
) -> tuple[pd.DataFrame, dict[str, Any], list[str]]:  # fmt: skip
    """The expression matrix of `atlas`, its report (dict) and the registry keys it read."""
    from crossscale.transcriptomics import check_expression, load_expression, read_expression

    if expression is None:
        echo(f"Loading AHBA expression for the {atlas.title} atlas ...")
        X, report = load_expression(atlas, panel)
        if report.panel == "l1000" and atlas.name == "dk":
            keys = list(common.EXPRESSION_DATASETS)
        else:
            keys = (
                [report.source, "lincs_landmark_genes"]
                if report.panel == "l1000"
                else [report.source]
            )
            keys += [k for k in atlas.sources if k not in keys]
    elif isinstance(expression, pd.DataFrame):
        X, report = check_expression(expression, atlas, source="expression DataFrame",
                                     min_genes=1, drop_constant=False)  # fmt: skip
        keys = []
    else:
        X, report = read_expression(expression, atlas)
        keys = []
    for line in report.lines():
        echo(line)
    if report.panel == "stable" and atlas.name not in ("dk", "dk-subcortex"):
        echo(f"  (L1000 landmark genes are not available for {atlas.title}; using the "
             "differential-stability gene panel)")  # fmt: skip
    return X, report.to_dict(), keys


def _atlas_summary(
    atlas: Any, expr: dict[str, Any], regions: pd.Index, nulls: str, no_expression: list[str]
) -> dict[str, Any]:
    """The atlas, expression and null-model facts of a fit (summary, metrics.json, methods)."""
    out: dict[str, Any] = {"atlas": atlas.to_dict(), "expression": expr,
                           "regions_without_expression": no_expression}  # fmt: skip
    if nulls != "none":
        from crossscale.evaluate.nullmethods import resolve_null_method
        from crossscale.nulls import describe_nulls

        out["null_models"] = describe_nulls(regions, resolve_null_method(nulls), atlas)
    return out
