"""Map value checks of the maps layer, used by the readers and by every estimator."""

import logging

import numpy as np
import pandas as pd
import pytest

from crossscale import InputDataError
from crossscale.atlas import DK_REGIONS
from crossscale.maps.checks import check_map_values, robust_outliers


def _map(values):
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index(DK_REGIONS[: len(values)]))


@pytest.mark.parametrize(
    ("values", "match"),
    [
        ([0.3] * 68, r"is constant \(every region is 0.3"),
        (0.3 + np.r_[0.0, 5.6e-17 * np.ones(67)], "is constant"),  # float noise is not signal
        ([1e6] * 67 + [1e6 * (1 + 1e-12)], "is constant"),  # constant relative to its scale
        ([0.0] * 68, "is constant"),
        ([*range(67), np.inf], r"1 infinite value\(s\) in 'R_insula'"),
        ([*range(67), -np.inf], "infinite"),
        ([*range(67), np.nan], "missing or non-numeric"),
        ([*range(67), 1e308], r"beyond ±1e\+09"),
        ([*range(67), -2e9], r"'R_insula' = -2e\+09"),
    ],
)
def test_maps_that_cannot_be_fitted_are_rejected(values, match):
    with pytest.raises(InputDataError, match=match):
        check_map_values(_map(values))


def test_small_scale_maps_are_not_constant():
    y = _map(1e-6 * np.linspace(0, 1, 68))  # e.g. mm³ → m³: tiny but varying
    assert check_map_values(y) is y


def test_robust_outliers_warn_and_are_recorded(caplog):
    rng = np.random.default_rng(0)
    v = rng.normal(size=68)
    v[10] = 30.0
    y = _map(v)
    with caplog.at_level(logging.WARNING):
        check_map_values(y, what="The map 'd.csv'")
    assert "1 outlying region(s)" in caplog.text and "'L_lateralorbitofrontal' = 30" in caplog.text
    assert len(y.attrs["warnings"]) == 1
    assert list(robust_outliers(y).index) == ["L_lateralorbitofrontal"]
    quiet = _map(v)
    caplog.clear()
    check_map_values(quiet, warn=False)
    assert not caplog.text and "warnings" not in quiet.attrs


def test_real_maps_have_no_outlier_warning(ad_map):
    assert robust_outliers(ad_map).empty


def test_estimators_use_the_checks(landmark_expression, surface_graph):
    from crossscale.models.baselines import RidgeBaseline

    y = _map([*np.linspace(-1, 1, 67), np.inf])
    with pytest.raises(InputDataError, match=r"y \(map\) has 1 infinite value"):
        RidgeBaseline().fit(landmark_expression, y, surface_graph)
    with pytest.raises(InputDataError, match=r"y \(map\) is constant"):
        RidgeBaseline().fit(landmark_expression, _map([0.3] * 68), surface_graph)
