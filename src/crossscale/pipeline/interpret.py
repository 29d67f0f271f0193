"""Interpret a saved ``crossscale fit`` run: genes with rank intervals, programs, clusters, cell types.

:func:`interpret_run` reads the run folder (run.json, model/, the copy of the input map), checks
that its parts belong together, and interprets the model; :meth:`InterpretResult.save` writes
the ``interpretation/`` folder of ``crossscale interpret``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crossscale._errors import InputDataError
from crossscale.pipeline import _common as common

__all__ = [
    "InterpretResult", "check_model_matches_run", "fit_run_files", "interpret_run", "load_run_map",
]  # fmt: skip


def fit_run_files(results_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``run.json`` and ``model/`` of a ``crossscale fit`` folder.

    Raises
    ------
    InputDataError
        Either is missing.
    """
    results_dir = Path(results_dir)
    run_file, model_dir = results_dir / "run.json", results_dir / "model"
    if run_file.exists() and not model_dir.exists():
        _check_interpretable(run_file)
    if not run_file.exists() or not model_dir.exists():
        raise InputDataError(
            f"'{results_dir}' is not a `crossscale fit` output folder: it needs run.json and model/. "
            "Run `crossscale fit --out DIR` first."
        )
    return run_file, model_dir


def _check_interpretable(run_file: Path) -> None:
    """Refuse a fit of a model not tagged interpretable, naming it (else return)."""
    from crossscale.models import registry

    try:
        name = json.loads(run_file.read_text(encoding="utf-8")).get("model")
    except (UnicodeDecodeError, ValueError, AttributeError):
        return
    entry = registry.entry_of(name) if isinstance(name, str) else None
    if entry is not None and not (entry.tags.interpretable and entry.tags.saveable):
        raise InputDataError(
            f"'{run_file.parent}' is a fit of model '{entry.name}', which is not tagged "
            "interpretable (ModelTags(interpretable=True, saveable=True)); `crossscale interpret` "
            f"interprets models that are ({', '.join(n for n in registry.available() if registry.get(n).tags.interpretable)})."
        )


@dataclass(frozen=True)
class InterpretResult:
    """The interpretation of a saved fit and how it was made.

    Attributes
    ----------
    interpretation : crossscale.interpret.Interpretation
    results_dir : pathlib.Path
        The ``crossscale fit`` folder.
    map_name : str
    parameters : dict
        The options of the run (recorded in run.json).
    inputs : dict of str to path
        The files read (hashed in run.json).
    total_time_s : float
    """

    interpretation: Any
    results_dir: Path
    map_name: str
    parameters: dict[str, Any]
    inputs: dict[str, Path] = field(default_factory=dict)
    total_time_s: float = float("nan")
    atlas: Any = None

    def save(
        self, folder: str | os.PathLike[str], *, overwrite: bool = False, figures: bool = True,
        command: str = "crossscale interpret",
    ) -> Path:  # fmt: skip
        """Write the interpretation tables, ``interpretation.html`` and ``run.json`` atomically."""
        from crossscale._files import write_json
        from crossscale._outdir import atomic_dir
        from crossscale._provenance import run_record
        from crossscale.atlas import use_atlas
        from crossscale.report import Report
        from crossscale.report.interpret import add_interpretation_section

        with use_atlas(self.atlas), atomic_dir(folder, overwrite=overwrite) as tmp:
            self.interpretation.save(tmp)
            rep = Report("crossscale interpret", subtitle=f"{self.results_dir} ({self.map_name})")
            add_interpretation_section(rep, self.interpretation, figures=figures)
            rep.save(tmp / "interpretation.html")
            write_json(tmp / "run.json", run_record(
                command, parameters=self.parameters, seed=self.parameters.get("random_state"),
                datasets=["ahba_expression", "lincs_landmark_genes"], inputs=self.inputs,
                total_time_s=self.total_time_s,
            ))  # fmt: skip
        return Path(folder)


def _in_run_atlas(func: Any) -> Any:
    """Run `func` with the atlas of the fit folder in use (refusing a different ``atlas=``)."""
    import functools

    @functools.wraps(func)
    def wrapper(results_dir: str | os.PathLike[str], *, atlas: Any = None, **kwargs: Any) -> Any:
        from crossscale._errors import ModelStateError
        from crossscale.atlas import get_atlas, use_atlas

        run_file, _ = fit_run_files(Path(results_dir))
        try:
            params = json.loads(run_file.read_text(encoding="utf-8")).get("parameters", {})
        except (UnicodeDecodeError, ValueError):
            params = {}  # reported by the function itself
        held = get_atlas(params.get("atlas") or "dk")
        if atlas is not None and get_atlas(atlas).name != held.name:
            raise ModelStateError(
                f"'{results_dir}' was fitted on the '{held.name}' atlas, not '{get_atlas(atlas).name}'."
                f" Drop --atlas (the run's atlas is used), or refit on '{get_atlas(atlas).name}'."
            )
        with use_atlas(held):
            return func(results_dir, **kwargs)

    return wrapper


def _run_expression(run: dict, expression: Any) -> pd.DataFrame:
    """The expression matrix a fit used: its file (again), or the built-in one of its atlas."""
    from crossscale.atlas import get_atlas
    from crossscale.transcriptomics import load_expression, read_expression

    params = run.get("parameters", {})
    path = expression or params.get("expression")
    if path:
        if not Path(path).is_file():
            raise InputDataError(
                f"The fit used your expression matrix '{path}', which is gone; pass it again with "
                "--expression FILE."
            )
        return read_expression(path, get_atlas())[0]
    return load_expression(get_atlas(), params.get("gene_panel") or "auto")[0]


@_in_run_atlas
def interpret_run(
    results_dir: str | os.PathLike[str],
    *,
    gmt: Sequence[str | os.PathLike[str]] = (),
    n_perm: int = 100,
    n_replicates: int = 10,
    holdout: float = 0.1,
    n_steps: int = 32,
    n_random: int = 10000,
    n_map_spins: int = 1000,
    n_clusters: int | None = None,
    seed: int = 0,
    expression: str | os.PathLike[str] | None = None,
    echo: common.Echo = common.log_echo,
) -> InterpretResult:
    """Interpret the model of a ``crossscale fit`` folder on the map it was fitted on.

    Parameters
    ----------
    results_dir : path-like
        Folder written by ``crossscale fit`` (or :meth:`crossscale.pipeline.FitResult.save`).
    gmt : sequence of path-like
        Extra GMT gene-set files (Lake 2018 cell types and pooled classes are always used).
    n_perm, n_replicates, holdout, n_steps, n_random, n_map_spins, n_clusters, seed
        As in :func:`crossscale.interpret.interpret_model`.
    expression : path-like or None
        Your expression matrix, when the fit used one (default: the path run.json records).
    atlas : str, Atlas or None
        The atlas of the fit (default: the one run.json records; another one is refused).
    echo : callable
        Receives progress messages.

    Returns
    -------
    InterpretResult

    Raises
    ------
    InputDataError, ModelStateError
        The folder is incomplete, or its model, map and run.json do not belong together.
    """
    t0 = time.perf_counter()
    results_dir = Path(results_dir)
    run_file, model_dir = fit_run_files(results_dir)
    try:
        run = json.loads(run_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise InputDataError(
            f"'{run_file}' is not valid JSON ({err}); rerun `crossscale fit`."
        ) from err
    check_model_matches_run(model_dir, run)
    y = load_run_map(results_dir, run)
    from crossscale.atlas import current_atlas
    from crossscale.interpret import interpret_model, load_cell_type_sets, read_gmt
    from crossscale.models import registry
    from crossscale.train.checkpoint import check_checkpoint_atlas

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    check_checkpoint_atlas(config, current_atlas(), path=model_dir)  # refuses another atlas
    model = registry.get(run.get("model") or registry.DEFAULT_MODEL).load(model_dir)
    if getattr(model, "graph_", None) is not None and model.graph_.atlas is None:
        model.graph_.atlas = current_atlas()
    X = _run_expression(run, expression)
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
    for path in gmt:
        gene_sets[Path(path).stem] = read_gmt(path)
    echo(
        f"Interpreting {results_dir} ({len(X)} regions x {X.shape[1]} genes; {n_replicates} "
        f"replicates, {n_perm} spin-null refits) ..."
    )
    interp = interpret_model(
        model, X, y, gene_sets=gene_sets, n_replicates=n_replicates, holdout=holdout,
        n_perm=n_perm, n_steps=n_steps, n_random=n_random, n_clusters=n_clusters,
        n_map_spins=n_map_spins, random_state=seed,
    )  # fmt: skip
    inputs = {"run_json": run_file, "model_config": model_dir / "config.json",
              "model_weights": model_dir / "model.safetensors",
              **{f"gmt:{Path(p).name}": Path(p) for p in gmt}}  # fmt: skip
    return InterpretResult(
        interpretation=interp, results_dir=results_dir, map_name=str(y.name),
        parameters=interp.params | {"results_dir": str(results_dir), "gmt": [str(p) for p in gmt]},
        inputs=inputs, total_time_s=time.perf_counter() - t0, atlas=current_atlas(),
    )  # fmt: skip


def load_run_map(results_dir: Path, run: dict) -> pd.Series:
    """The map of a `crossscale fit` run, read from the run folder's copy (``input_map.*``).

    Raises
    ------
    InputDataError
        run.json records no copy, the copy is missing, or its checksum differs from run.json.
    """
    from crossscale._errors import InputDataError
    from crossscale._files import sha256_file
    from crossscale.maps import read_regional_map

    entry = run.get("input_map")
    if not (isinstance(entry, dict) and entry.get("file")):
        raise InputDataError(
            f"'{results_dir}/run.json' records no copy of the input map ('input_map'); the "
            "folder was not written by `crossscale fit` of this version. Rerun `crossscale fit`."
        )
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
    if expected is None:
        raise ModelStateError(
            f"The run.json next to '{model_dir}' records no 'model_check' (regions, genes, graph "
            "of the model); the folder was not written by `crossscale fit` of this version. "
            "Rerun `crossscale fit`."
        )
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
