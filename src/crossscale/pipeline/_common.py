"""Steps shared by the workflows: options, data, graph, model resolution and null refits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from crossscale._errors import ParameterError

logger = logging.getLogger(__name__)

#: Registry keys of the default expression data (AHBA matrix, LINCS landmark genes, atlas).
EXPRESSION_DATASETS = (
    "ahba_expression", "lincs_landmark_genes", "dk_annot_fsaverage5_lh", "dk_annot_fsaverage5_rh",
)  # fmt: skip
CONNECTOME_DATASETS = ("enigma_hcp_struc_matrix_ctx", "enigma_hcp_struc_labels_ctx")
GRAPH_KINDS = ("surface", "connectome")

Echo = Callable[[str], None]


def in_atlas(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a workflow with its ``atlas=`` keyword resolved and set as the atlas in use.

    Everything the workflow calls with ``atlas=None`` (name matching, nulls, interpretation,
    figures) then works on that atlas (:func:`crossscale.atlas.use_atlas`).
    """
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, atlas: Any = None, **kwargs: Any) -> Any:
        from crossscale.atlas import get_atlas, use_atlas

        with use_atlas(get_atlas(atlas)) as resolved:
            return func(*args, atlas=resolved, **kwargs)

    return wrapper


def log_echo(text: str) -> None:
    """Default progress messages of the workflows: the module's logger at INFO."""
    logger.info("%s", text)


def parse_null_cv(null_cv: str | int | None) -> str | int | None:
    """``"10"`` / ``"spatial"`` / ``"loro"`` / ``"none"`` -> the `cv` of null refits.

    Raises
    ------
    ParameterError
        Anything else.
    """
    if isinstance(null_cv, int) and not isinstance(null_cv, bool):
        null_cv = str(null_cv)
    value = str(null_cv).strip().lower() if null_cv is not None else "none"
    if value in ("none", ""):
        return None
    if value in ("spatial", "loro"):
        return value
    if value.isdigit() and int(value) >= 2:
        return int(value)
    raise ParameterError(
        f"--null-cv must be a number of spatial folds >= 2, 'spatial', 'loro' or 'none'; got {null_cv!r}."
    )


def null_cv_name(cv: str | int | None) -> str | None:
    """The name null refits give a CV scheme (``10`` -> ``"kfold10"``)."""
    return f"kfold{cv}" if isinstance(cv, int) else cv


def resolve_model(
    model: str | Any, preset: str, params: Mapping[str, Any] | None, *, seed: int | None = None
) -> tuple[Any, str, str]:
    """An unfitted estimator, its registry key and its display label.

    `model` is a registry key (see :func:`crossscale.models.registry.available`) or an
    estimator instance (used as given, with `params` set on a clone; label: its class name).
    An object with only ``fit`` / ``predict`` is wrapped in
    :class:`~crossscale.evaluate.estimators.PlainEstimator` (deep-copy cloning).
    An estimator with a ``random_state`` parameter that `params` leaves out gets `seed`.
    """
    from sklearn.base import clone

    from crossscale.evaluate.estimators import PlainEstimator, as_estimator, model_name
    from crossscale.models import registry

    if isinstance(model, str):
        entry = registry.get(model)
        est = as_estimator(entry.create(preset, **dict(params or {})))
        name, label = entry.name, entry.label
    else:
        if preset != "default":
            raise ParameterError("preset applies to a registered model name, not an estimator.")
        est = clone(as_estimator(model))
        if params and isinstance(est, PlainEstimator):
            raise ParameterError(
                f"params={dict(params)!r} cannot be set on {model_name(est)}: it has no "
                "set_params. Pass the estimator with its parameters set instead."
            )
        est = est.set_params(**dict(params or {}))
        name = label = model_name(est)
    if seed is not None and "random_state" in est.get_params() and "random_state" not in (params or {}):
        est.set_params(random_state=seed)
    if hasattr(est, "check_params"):
        est.check_params()
    return est, name, label


def align_to_map(X: pd.DataFrame, y: pd.Series) -> tuple[pd.DataFrame, pd.Series, pd.Index]:
    """Expression and map on the regions they share (in the order of `X`)."""
    regions = pd.Index([r for r in X.index if r in y.index], name="region")
    if len(regions) < len(X.index):
        logger.info("the map covers %d of %d regions; fitting on those", len(regions), len(X.index))
    return X.loc[regions], y.loc[regions].astype(float), regions


def region_graph(kind: str, regions: pd.Index, atlas: Any = None) -> tuple[Any, list[str]]:
    """The region graph of `kind` over `regions` of `atlas` (default DK), and the datasets it reads."""
    from crossscale.atlas import RegionGraph, get_atlas

    if kind not in GRAPH_KINDS:
        raise ParameterError(f"graph must be one of {GRAPH_KINDS}; got {kind!r}.")
    atlas = get_atlas(atlas)
    if kind == "surface":
        return RegionGraph.from_surface(regions, atlas=atlas), []
    keys = list(atlas.info.connectome) if atlas.info and atlas.info.connectome else []
    graph = RegionGraph.from_connectome(regions, mode="weight", atlas=atlas)
    return graph, (list(CONNECTOME_DATASETS) if atlas.name == "dk" else [keys[0], keys[2]])


def null_refits(
    X: pd.DataFrame,
    y: pd.Series,
    graph: Any,
    models: Mapping[str, Any],
    *,
    nulls: str,
    cv: str | int | None,
    n_perm: int,
    seed: int,
    scheduler: Any,
    batch_size: int,
    echo: Echo,
    n_jobs: int | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """:func:`~crossscale.evaluate.null_distribution` of every model on the same null maps."""
    from sklearn.base import clone

    from crossscale.evaluate import null_distribution

    out = {}
    for name, est in models.items():
        echo(f"Null refits of {name} ({n_perm} {nulls} null maps, CV {cv}) ...")
        out[name] = null_distribution(
            clone(est), X, y, graph, nulls, cv=cv, n_perm=n_perm, random_state=seed,
            scheduler=scheduler, batch_size=batch_size, n_jobs=n_jobs, label=name, **kw,
        )  # fmt: skip
        echo(f"  done in {out[name].time_s:.1f} s")
    return out


def copy_input_map(
    folder: Path, map_file: str | Path | None, y: pd.Series, region_column: str | None,
    value_column: str | None,
) -> dict[str, Any]:  # fmt: skip
    """Copy the input map into `folder` (``input_map.*``); return its run.json entry."""
    import shutil

    from crossscale._provenance import file_sha256

    if map_file is not None:
        dest = folder / f"input_map{Path(map_file).suffix.lower() or '.csv'}"
        shutil.copyfile(map_file, dest)
        entry = {"original": str(map_file), "region_column": region_column,
                 "value_column": value_column}  # fmt: skip
    else:  # a registry map: its values, as read
        dest = folder / "input_map.csv"
        y.rename("value").rename_axis("region").to_csv(dest, float_format="%.17g")
        entry = {"original": str(y.attrs.get("source")), "region_column": "region",
                 "value_column": "value"}  # fmt: skip
    return {"file": dest.name, "sha256": file_sha256(dest)} | entry


def genes_sha256(genes: Any) -> str:
    """sha256 of a gene list (one symbol a line), as run.json's ``model_check`` records it."""
    import hashlib

    return hashlib.sha256("\n".join(map(str, genes)).encode()).hexdigest()


def _arg_text(value: Any) -> str:
    """A short, readable form of one argument of a recorded call."""
    if isinstance(value, pd.Series):
        return f"<Series {value.name!r}, {len(value)} regions>"
    if isinstance(value, pd.DataFrame):
        return f"<DataFrame {value.shape[0]} x {value.shape[1]}>"
    if type(value).__name__ == "Atlas" and hasattr(value, "name"):
        return repr(value.name)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def records_call(func: Callable[..., Any]) -> Callable[..., Any]:
    """Record the Python call of a workflow in its result's ``call`` (run.json's ``command``).

    ``fit_map(model="my-ridge", nulls="spin", n_perm=100)`` gives a result whose ``call`` is
    ``"crossscale.pipeline.fit_map(model='my-ridge', nulls='spin', n_perm=100)"``: the arguments
    as given (progress callbacks left out), so ``save`` records what was really run.
    """
    import dataclasses
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        parts = [_arg_text(a) for a in args]
        parts += [f"{k}={_arg_text(v)}" for k, v in kwargs.items() if k != "echo"]
        result = func(*args, **kwargs)
        call = f"crossscale.pipeline.{func.__name__}({', '.join(parts)})"
        return dataclasses.replace(result, call=call)

    return wrapper
