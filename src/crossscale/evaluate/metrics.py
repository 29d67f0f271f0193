"""Metrics of a predicted regional map."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def r2_score(y: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination ``R² = 1 - SS_res / SS_tot`` (can be negative out of sample).

    The name is scikit-learn's (:func:`sklearn.metrics.r2_score`); its ``explained_variance_score``
    is another metric. NaN when `y` is constant.
    """
    y, y_pred = np.asarray(y, float), np.asarray(y_pred, float)
    ss_tot = ((y - y.mean()) ** 2).sum()
    return float(1.0 - ((y - y_pred) ** 2).sum() / ss_tot) if ss_tot > 0 else float("nan")


def pearson_r(y: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation (NaN if either input is constant).

    Constant means every value equal (``np.ptp == 0``), not a float SD of 0: the SD of a constant
    vector is often ~1e-17 (its mean rounds), which would give an r of ~1e-16 instead of NaN.
    """
    y, y_pred = np.asarray(y, float), np.asarray(y_pred, float)
    if np.ptp(y) == 0 or np.ptp(y_pred) == 0:
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
METRIC_FUNCS = {"r2": r2_score, "r": pearson_r}

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

#: Short labels of the metric columns for terminals and ``summary()`` text (≤ 10 characters).
SHORT_LABELS = {
    "in_sample_r2": "Train R²", "in_sample_r": "Train r", "loro_r2": "LORO R²", "loro_r": "LORO r",
    "spatial_r2": "Spatial R²", "spatial_r": "Spatial r", "spatial_fold_r_mean": "Fold r",
    "spatial_fold_r_sd": "Fold r SD", "fit_time_s": "Fit s", "cv_time_s": "CV s",
}  # fmt: skip


#: Short labels of the statistics of null refits (:class:`~crossscale.evaluate.NullResult` keys).
NULL_STAT_LABELS = {"in_sample_r2": "Train R²", "in_sample_r": "Train r", "cv_r2": "CV R²",
                    "cv_r": "CV r"}  # fmt: skip


def format_value(value: float, column: str) -> str:
    """A metric as text: 3 decimals, times with 1 (``"–"`` for NaN)."""
    if value != value:  # NaN
        return "–"
    return f"{value:.1f}" if column.endswith("_time_s") else f"{value:.3f}"


def split_columns(
    labels: list[str], widths: list[int], first_width: int, width: int, gap: int = 2,
    groups: list[str] | None = None,
) -> list[list[int]]:  # fmt: skip
    """Indices of `labels` in parts whose row (first column + the part) fits in `width`.

    Parameters
    ----------
    labels : list of str
        Column labels (only their count matters).
    widths : list of int
        Width of each column (its longest label or value).
    first_width : int
        Width of the first (row name) column, repeated in every part.
    width : int
        Characters available per line.
    gap : int
        Characters between two columns.
    groups : list of str, optional
        A group name per column (e.g. ``"loro"`` for LORO R² and r): a part ends between groups
        where possible, so the columns of one group stay together.

    Returns
    -------
    parts : list of list of int
        Consecutive column indices; one part when everything fits.
    """
    n = len(labels)
    groups = list(groups) if groups is not None else [str(i) for i in range(n)]
    blocks: list[list[int]] = []  # runs of consecutive columns of one group
    for i in range(n):
        if blocks and groups[blocks[-1][-1]] == groups[i]:
            blocks[-1].append(i)
        else:
            blocks.append([i])
    parts: list[list[int]] = [[]]
    used = first_width
    for block in blocks:
        need = sum(gap + widths[i] for i in block)
        if parts[-1] and used + need > width:
            parts.append([])
            used = first_width
        if used + need <= width or len(block) == 1:
            parts[-1] += block
            used += need
            continue
        for i in block:  # a group wider than a line: split it by column
            if parts[-1] and used + gap + widths[i] > width:
                parts.append([])
                used = first_width
            parts[-1].append(i)
            used += gap + widths[i]
    return parts


def format_metrics(metrics: pd.DataFrame, width: int | None = None) -> str:
    """The metrics table as text that fits in `width` characters (split into parts if needed).

    Parameters
    ----------
    metrics : pandas.DataFrame, shape (n_models, n_metrics)
        :attr:`Evaluation.metrics` (index ``model``; columns of :data:`METRIC_COLUMNS`).
    width : int, optional
        Characters per line (default: the terminal's width, else 80).

    Returns
    -------
    str
        Short column labels (:data:`SHORT_LABELS`), values with 3 decimals (times with 1), ``–``
        for NaN; columns that do not fit continue in a second block below, with the model names
        repeated.
    """
    import shutil

    if width is None:
        width = shutil.get_terminal_size((80, 24)).columns
    cols = [c for c in metrics.columns if metrics[c].notna().any()]
    labels = [SHORT_LABELS.get(c, c) for c in cols]
    names = [str(n) for n in metrics.index]
    cells = [[format_value(float(v), c) for v in metrics[c]] for c in cols]
    widths = [max(len(lab), *(len(v) for v in col)) for lab, col in zip(labels, cells, strict=True)]
    first = max([len("model"), *map(len, names)])
    blocks = []
    for group in split_columns(labels, widths, first, width):
        head = "model".ljust(first) + "".join("  " + labels[i].rjust(widths[i]) for i in group)
        rows = [
            names[r].ljust(first) + "".join("  " + cells[i][r].rjust(widths[i]) for i in group)
            for r in range(len(names))
        ]
        blocks.append("\n".join([head, *rows]))
    return "\n\n".join(blocks)
