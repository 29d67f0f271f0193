"""Checks of a regional map's values, shared by the readers, the estimators and the CLI.

A map is rejected when a fit on it would be meaningless: values that are not finite, a map that
is constant relative to its own scale (a float standard deviation of 5.6e-17 on a map of 0.3 is
a constant map), or values beyond :data:`MAX_ABS_VALUE`. Values far from the rest by a robust
criterion (median and median absolute deviation) are kept, with a warning in the log and in
``map.attrs['warnings']`` that the report shows.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError
from crossscale._format import format_list

logger = logging.getLogger(__name__)

#: Largest absolute value accepted; beyond it a map is not a measurement (effect sizes, t,
#: thickness in mm, volumes in mm^3 are all far below) and float32 training would overflow.
MAX_ABS_VALUE = 1e9
#: Relative range (max - min) / max |value| below which a map counts as constant.
CONSTANT_RTOL = 1e-9
#: Robust z-score, |value - median| / (1.4826 MAD), beyond which a region is an outlier.
OUTLIER_Z = 10.0


_names = format_list


def robust_outliers(values: pd.Series, *, z: float = OUTLIER_Z) -> pd.Series:
    """Robust z-scores of the regions beyond `z` (median / MAD), largest first.

    Parameters
    ----------
    values : pandas.Series, shape (n_regions,)
        Finite values.
    z : float
        Threshold in robust standard deviations (1.4826 x median absolute deviation).

    Returns
    -------
    outliers : pandas.Series
        Robust z of each outlying region (empty when none, or when the MAD is 0).
    """
    v = values.to_numpy(dtype=float)
    med = np.median(v)
    mad = 1.4826 * np.median(np.abs(v - med))
    if not mad > 0:
        mad = 1.2533 * np.mean(np.abs(v - med))  # mean absolute deviation (more than half tied)
    if not mad > 0:
        return pd.Series(dtype=float)
    rz = pd.Series(np.abs(v - med) / mad, index=values.index)
    return rz[rz > z].sort_values(ascending=False)


def check_map_values(values: pd.Series, *, what: str = "The map", warn: bool = True) -> pd.Series:
    """Reject a map that cannot be fitted; warn on robust outliers.

    Parameters
    ----------
    values : pandas.Series, shape (n_regions,)
        Numeric values indexed by region.
    what : str
        How messages refer to the map (e.g. ``"The map 'd.csv'"``).
    warn : bool
        Look for robust outliers and warn. The readers do; estimators, which see the same map
        once per fold and null refit, check only what makes a fit impossible.

    Returns
    -------
    values : pandas.Series
        The same Series; ``attrs['warnings']`` lists warnings (outliers), if any.

    Raises
    ------
    InputDataError
        Missing, infinite or non-numeric values; values beyond :data:`MAX_ABS_VALUE`; a map that
        is constant relative to its scale.
    """
    v = pd.to_numeric(pd.Series(values.to_numpy()), errors="coerce").to_numpy(dtype=float)
    nan = np.isnan(v)
    if nan.any():
        raise InputDataError(
            f"{what} has {int(nan.sum())} region(s) with a missing or non-numeric value: "
            f"{_names(values.index[nan])}. Fill them in, or remove those rows."
        )
    inf = ~np.isfinite(v)
    if inf.any():
        raise InputDataError(
            f"{what} has {int(inf.sum())} infinite value(s) in {_names(values.index[inf])}. "
            "Every value must be a finite number; check how the map was computed."
        )
    big = np.abs(v) > MAX_ABS_VALUE
    if big.any():
        shown = ", ".join(
            f"'{r}' = {x:.3g}" for r, x in zip(values.index[big][:6], v[big][:6], strict=True)
        )
        raise InputDataError(
            f"{what} has {int(big.sum())} value(s) beyond ±{MAX_ABS_VALUE:.0e} ({shown}); a fit "
            "on such values is meaningless. Check the units and the value column (rescale, e.g. "
            "mm³ to cm³, or fix the outlying rows)."
        )
    scale = float(np.max(np.abs(v))) if len(v) else 0.0
    if len(v) and float(np.ptp(v)) <= CONSTANT_RTOL * scale:
        raise InputDataError(
            f"{what} is constant (every region is {float(v[0])!r} to within "
            f"{CONSTANT_RTOL:g} of its scale); there is nothing to predict. Check that the value "
            "column is the effect size, not a count or label."
        )
    out = robust_outliers(pd.Series(v, index=values.index)) if warn else ()
    if len(out):
        text = (
            f"{what} has {len(out)} outlying region(s) (more than {OUTLIER_Z:g} robust SD from "
            "the median): "
            + ", ".join(f"'{r}' = {values[r]:.4g} (z = {z:.0f})" for r, z in out.head(6).items())
            + ". They are kept; check them, since they can dominate the fit."
        )
        logger.warning(text)
        values.attrs["warnings"] = [*values.attrs.get("warnings", []), text]
    return values
