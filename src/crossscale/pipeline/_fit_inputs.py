"""The inputs of :func:`crossscale.pipeline.fit_map`: the map, the expression, the atlas facts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from crossscale._errors import ParameterError
from crossscale.atlas.validate import validate_regional_map
from crossscale.pipeline import _common as common

__all__: list[str] = []


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
