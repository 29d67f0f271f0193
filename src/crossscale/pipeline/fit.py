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
from typing import Any

import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale.models.tags import get_tags
from crossscale.pipeline import _common as common
from crossscale.pipeline._fit_inputs import _atlas_summary, _load_expression, _load_map
from crossscale.pipeline.fit_result import FitResult

logger = logging.getLogger(__name__)

__all__ = ["FitResult", "check_model", "fit_map", "model_params"]


def check_model(model: str | Any, preset: str = "default",
                params: Mapping[str, Any] | None = None) -> Any:  # fmt: skip
    """The unfitted estimator `model` with `preset` and `params`, every parameter checked.

    Raises
    ------
    ParameterError
        Unknown model, preset or parameter (the message lists the valid ones), or a value the
        model refuses (its ``check_params``).
    """
    return common.resolve_model(model, preset, params)[0]


def model_params(
    model: str, preset: str, items: Sequence[str] | None, *, seed: int, device: str,
    aliases: Mapping[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Model parameters from ``--param KEY=VALUE`` items and alias options, checked against `model`.

    Parameters
    ----------
    model : str
        Registry key.
    preset : str
        Preset of the model (the items override it).
    items : sequence of str
        ``"key=value"`` (values parsed by :func:`crossscale.models.registry.parse_value`).
    seed, device : int, str
        Added as ``random_state`` / ``device`` when the model takes them and `items` do not.
    aliases : mapping, optional
        Parameters given by their own options (e.g. ``--max-epochs``: ``{"max_epochs": 5}``);
        None values are left out, `items` win.

    Returns
    -------
    dict

    Raises
    ------
    ParameterError
        A malformed item, an unknown parameter (the message lists the valid ones) or a value
        the model refuses.
    """
    from crossscale.models import registry

    params = registry.parse_params(items)
    for key, value in (aliases or {}).items():
        if value is not None:
            params.setdefault(key, value)
    defaults = registry.get(model).parameters()
    params |= {k: v for k, v in (("random_state", seed), ("device", device))
               if k in defaults and k not in params}  # fmt: skip
    check_model(model, preset, params)
    return params


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
        Interpret the model (models tagged ``interpretable``; skipped with a note for others).
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
    tags = get_tags(est)
    if tags.latent_programs and tags.stacked_refits:
        from crossscale.evaluate.programs import model_programs

        echo("Programs: distinct and stable latent programs (seed and subsampling refits) ...")
        programs = model_programs(est, X, y, random_state=seed)
        echo(f"  {programs.sentence()}")
        if programs.warning:
            echo(f"  Warning: {programs.warning}")
    interp = None
    interpret_skipped = None
    if interpret and tags.interpretable:
        from crossscale._progress import progress
        from crossscale.interpret import interpret_model

        echo("Interpreting: genes, programs, clusters, cell types (spatial nulls) ...")
        with progress("Interpreting", total=1) as bar:  # one bar; the steps' bars nest in it
            interp = interpret_model(est, X, y, n_perm=interpret_n_perm, random_state=seed,
                                     programs=programs.distinct if programs is not None else None)
            bar.advance()
    elif interpret:
        interpret_skipped = (f"not run: model {model_name!r} is not tagged interpretable "
                             "(its __crossscale_tags__() returns ModelTags(interpretable=False))")  # fmt: skip
        echo(f"Interpretation {interpret_skipped}.")
    latent = est.transform(X) if tags.latent_programs else None
    hist = getattr(est, "history_", None)
    history = hist.to_frame() if hist is not None else None
    from crossscale.evaluate.estimators import json_params

    mp = json_params(est)
    summary = meta | {
        "n_regions": len(regions), "n_genes": X.shape[1], "n_genes_requested": n_requested,
        "n_genes_missing": n_missing, "graph_kind": g.kind, "n_edges": g.n_edges,
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
