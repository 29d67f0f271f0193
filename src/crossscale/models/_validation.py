"""Input checks shared by every estimator: expression, map and graph must describe the same regions."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, RegionMismatchError
from crossscale._format import format_list
from crossscale.atlas.graph import RegionGraph
from crossscale.maps.checks import check_map_values

_names = format_list


def check_expression(X: pd.DataFrame, *, what: str = "X (expression)") -> pd.DataFrame:
    """Check an expression DataFrame (regions x genes): numeric, finite, unique names."""
    if not isinstance(X, pd.DataFrame):
        raise InputDataError(
            f"{what} must be a pandas DataFrame with regions as index and genes as columns; got "
            f"{type(X).__name__}. Use crossscale.transcriptomics.load_default_expression()."
        )
    if X.index.has_duplicates:
        raise RegionMismatchError(
            f"{what} has duplicated regions: {_names(list(X.index[X.index.duplicated()]))}."
        )
    if X.columns.has_duplicates:
        raise InputDataError(
            f"{what} has duplicated genes: {_names(list(X.columns[X.columns.duplicated()]))}."
        )
    values = X.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(values).all():
        bad = list(X.index[~np.isfinite(values).all(axis=1)])
        raise InputDataError(
            f"{what} has NaN or infinite values in region(s) {_names(bad)}. Impute or drop them."
        )
    return X


def align(
    X: pd.DataFrame, y: pd.Series | None, graph: RegionGraph
) -> tuple[pd.DataFrame, pd.Series | None]:
    """Reorder `X` (and `y`) to the graph's regions, or raise naming the mismatched regions.

    Returns
    -------
    X, y : aligned to ``graph.regions``.

    Raises
    ------
    RegionMismatchError
        If `X` or `y` lacks regions of the graph or has regions the graph lacks.
    """
    check_expression(X)
    regions = list(graph.regions)
    for obj, what in [(X, "X (expression)"), (y, "y (map)")]:
        if obj is None:
            continue
        idx = list(obj.index)
        have, want = set(idx), set(regions)
        missing = [r for r in regions if r not in have]
        extra = [r for r in idx if r not in want]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"lacks {len(missing)} region(s) of the graph: {_names(missing)}")
            if extra:
                parts.append(f"has {len(extra)} region(s) not in the graph: {_names(extra)}")
            raise RegionMismatchError(
                f"{what} {' and '.join(parts)}. Restrict the graph with graph.subgraph(regions) "
                "or provide values for the same regions."
            )
    Xa = X.loc[regions]
    ya = None
    if y is not None:
        ya = pd.to_numeric(y, errors="coerce").loc[regions].astype(float)
        if ya.isna().any():
            raise InputDataError(f"y (map) has NaN values in {_names(list(ya.index[ya.isna()]))}.")
        check_map_values(ya, what="y (map)", warn=False)  # non-finite, extreme, constant
    return Xa, ya
