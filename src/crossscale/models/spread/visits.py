"""Visits tables: validation and padding into (subject, visit, region) arrays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, RegionMismatchError


@dataclass(frozen=True)
class VisitArrays:
    """Padded visit arrays: ``y`` (S, T, N), ``dt`` (S, T), ``mask`` (S, T), ``subjects`` (S,)."""

    y: np.ndarray
    dt: np.ndarray
    mask: np.ndarray
    subjects: pd.Index


def to_visit_arrays(X: pd.DataFrame, regions: Sequence[str]) -> VisitArrays:
    """Validate a visits table and pad it into arrays in the order of `regions`.

    Raises
    ------
    InputDataError
        `X` is not a DataFrame, has NaN or non-numeric values, or duplicate visits.
    RegionMismatchError
        Its columns are not exactly the model's regions.
    """
    if not isinstance(X, pd.DataFrame):
        raise InputDataError(
            f"X must be a pandas DataFrame (rows = visits, columns = regions); got {type(X).__name__}."
        )
    regions = list(regions)
    cols = [str(c) for c in X.columns]
    missing = [r for r in regions if r not in cols]
    extra = [c for c in cols if c not in regions]
    if missing or extra:
        raise RegionMismatchError(
            f"The columns of X must be the model's {len(regions)} regions. Missing: {missing[:5]}"
            f"{' ...' if len(missing) > 5 else ''}; unexpected: {extra[:5]}"
            f"{' ...' if len(extra) > 5 else ''}. Fit the model on the same region set, or map "
            "names with crossscale.atlas.to_canonical."
        )
    X = X.copy()
    X.columns = cols
    values = X[regions].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise InputDataError("X has NaN or infinite values; drop or impute those visits first.")
    if isinstance(X.index, pd.MultiIndex):
        if X.index.nlevels != 2:
            raise InputDataError("X.index must be (subject, time) or a single subject level.")
        subj = X.index.get_level_values(0).astype(str)
        times = np.asarray(X.index.get_level_values(1), dtype=float)
    else:
        subj = X.index.astype(str)
        times = np.zeros(len(X))
    frame = pd.DataFrame({"subject": subj, "time": times, "row": np.arange(len(X))})
    if frame.duplicated(["subject", "time"]).any():
        raise InputDataError("X has duplicate (subject, time) visits; each visit must be unique.")
    subjects = pd.Index(pd.unique(frame["subject"]), name="subject")
    groups = frame.groupby("subject", sort=False)
    t_max = int(groups.size().max())
    s, n = len(subjects), len(regions)
    y, dt, mask = np.zeros((s, t_max, n)), np.zeros((s, t_max)), np.zeros((s, t_max))
    for i, (_, g) in enumerate(groups):
        g = g.sort_values("time")
        m = len(g)
        y[i, :m] = values[g["row"].to_numpy()]
        dt[i, :m] = g["time"].to_numpy() - g["time"].min()
        mask[i, :m] = 1.0
    return VisitArrays(y=y, dt=dt, mask=mask, subjects=subjects)


def last_visits(y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each subject's last observed map, shape (S, N)."""
    return np.array([yi[int(mi.sum()) - 1] for yi, mi in zip(y, mask, strict=True)])
