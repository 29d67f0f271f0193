"""Scores of one null refit: a constant prediction is 'no association' (r = 0), not a missing null."""

import numpy as np

from crossscale.evaluate._workers import _scores


def test_constant_prediction_scores_r_zero_and_r2_from_its_residuals():
    y = np.array([1.0, 2.0, 4.0, 7.0])
    pred = np.full(4, y.mean())
    r2, r = _scores(y, pred, ("r2", "r"))
    assert r == 0.0
    assert r2 == 0.0  # the mean itself: 1 - SS_res / SS_tot = 0
    r2, r = _scores(y, np.full(4, 10.0), ("r2", "r"))
    assert r == 0.0 and r2 < 0


def test_varying_prediction_keeps_pearson_r():
    y = np.array([1.0, 2.0, 4.0, 7.0])
    pred = np.array([0.0, 1.0, 0.0, 1.0])
    (r,) = _scores(y, pred, ("r",))
    assert r == np.corrcoef(y, pred)[0, 1]


def test_constant_prediction_whose_float_sd_is_not_zero_scores_r_zero():
    """Nine copies of 0.9470809631292422 have a float SD of ~1e-17 (the mean rounds): still a
    constant prediction, r exactly 0 (it scored -5e-17 before)."""
    y = np.arange(9.0) ** 1.5
    pred = np.full(9, 0.9470809631292422)
    assert np.std(pred) > 0
    (r,) = _scores(y, pred, ("r",))
    assert r == 0.0
