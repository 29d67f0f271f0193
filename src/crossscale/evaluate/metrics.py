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


# -- names: the one source of truth for metric columns and the reference numbers ----------------
#: Metrics of a predicted map, by name (``r2``: explained variance, ``r``: Pearson r).
METRIC_FUNCS = {"r2": explained_variance, "r": pearson_r}

#: Metric names of null refits (:func:`crossscale.evaluate.null_distribution`).
NULL_METRICS = tuple(METRIC_FUNCS)

#: Columns of :attr:`crossscale.evaluate.Evaluation.metrics`, in order.
METRIC_COLUMNS = [
    "in_sample_r2", "in_sample_r", "loro_r2", "loro_r", "spatial_r2", "spatial_r",
    "spatial_fold_r_mean", "spatial_fold_r_sd", "fit_time_s", "cv_time_s",
]  # fmt: skip

#: Readable names of the metric columns (report tables).
METRIC_LABELS = {
    "in_sample_r2": "R² in-sample", "in_sample_r": "r in-sample",
    "loro_r2": "R² LORO", "loro_r": "r LORO",
    "spatial_r2": "R² spatial CV", "spatial_r": "r spatial CV",
    "spatial_fold_r_mean": "fold r spatial CV (mean)", "fit_time_s": "fit (s)", "cv_time_s": "CV (s)",
}  # fmt: skip

#: Columns of the ``crossscale benchmark`` table (one row per map and model).
BENCHMARK_COLUMNS = [
    "map", "model", *METRIC_COLUMNS[:6], "null_cv_r", "p_spin", "fit_time_s", "cv_time_s",
    "null_time_s",
]  # fmt: skip

#: The reference's published in-sample metrics on its own map (Vaithianathan 2026, arXiv
#: 2606.05870: GraphVAE on the ADNI2 AD baseline atrophy map).
REFERENCE_METRICS = {"in_sample_r2": 0.8604, "in_sample_r": 0.9439}

#: The registry key of the reference's map (the reference row belongs only beside it).
REFERENCE_MAP = "adni2_ad_vol_baseline"


def reference_text() -> str:
    """``"R² 0.8604, r 0.9439"``: the reference's in-sample numbers as text."""
    return f"R² {REFERENCE_METRICS['in_sample_r2']}, r {REFERENCE_METRICS['in_sample_r']}"

#: Name of the nested-CV choice among the baselines (:class:`~crossscale.evaluate.selection.SelectedBaseline`)
#: in every results table.
SELECTED_BASELINE = "Best baseline (nested CV)"
