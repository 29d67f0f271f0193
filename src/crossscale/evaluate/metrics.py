"""Metrics of a predicted regional map."""

from __future__ import annotations

import numpy as np


def explained_variance(y: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination ``R² = 1 - SS_res / SS_tot`` (can be negative out of sample)."""
    y, y_pred = np.asarray(y, float), np.asarray(y_pred, float)
    ss_tot = ((y - y.mean()) ** 2).sum()
    return float(1.0 - ((y - y_pred) ** 2).sum() / ss_tot) if ss_tot > 0 else float("nan")


def pearson_r(y: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation (NaN if either input is constant)."""
    y, y_pred = np.asarray(y, float), np.asarray(y_pred, float)
    if y.std() == 0 or y_pred.std() == 0:
        return float("nan")
    return float(np.corrcoef(y, y_pred)[0, 1])


def foldwise_r(y: np.ndarray, predictions: np.ndarray, test_masks: np.ndarray) -> np.ndarray:
    """Pearson r between observed and predicted within each fold's held-out regions (Hansen 2021)."""
    return np.array(
        [
            pearson_r(y[m], p[m])
            for p, m in zip(predictions, np.asarray(test_masks, bool), strict=True)
        ]
    )
