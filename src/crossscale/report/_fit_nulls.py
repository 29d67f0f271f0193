"""The null-refit section of the ``crossscale fit`` report: p-value table and null histograms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crossscale.report.html import Report, escape
from crossscale.report.methods import Bibliography

__all__ = ["add_null_section", "null_figure", "null_table"]


def null_table(nulls: dict[str, Any]) -> pd.DataFrame:
    """Observed statistics and their p-values against null refits, one row per model.

    Parameters
    ----------
    nulls : dict of str to NullResult
        Model name -> result of :func:`crossscale.evaluate.null_distribution`.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``<statistic>`` and ``p <statistic>`` for each statistic
        (``in_sample_r2``, ``in_sample_r``, ``cv_r2``, ``cv_r``).
    """
    rows = {}
    for name, res in nulls.items():
        row: dict[str, float] = {}
        for key, obs in res.observed.items():
            label = (
                key.replace("in_sample_", "in-sample ").replace("cv_", "CV ").replace("r2", "R²")
            )
            row[label] = obs
            row[f"p {label}"] = res.p_values[key]
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table


def null_figure(nulls: dict[str, Any], statistics: tuple[str, ...] = ("in_sample_r", "cv_r")):
    """Grid of null histograms (models x statistics) with the observed values marked."""
    from matplotlib.figure import Figure

    from crossscale.plotting import plot_null_distribution

    stats = [s for s in statistics if any(s in r.null for r in nulls.values())]
    fig = Figure(figsize=(4.2 * len(stats), 2.8 * len(nulls)), layout="constrained")
    axes = fig.subplots(len(nulls), len(stats), squeeze=False)
    for i, (name, res) in enumerate(nulls.items()):
        for j, key in enumerate(stats):
            ax = axes[i, j]
            null, obs = res.null.get(key), res.observed.get(key, np.nan)
            if null is None or not np.isfinite(obs) or not np.isfinite(null).any():
                ax.set_axis_off()
                ax.set_title(f"{name}: {key} not available", fontsize=9)
                continue
            label = key.replace("in_sample_", "in-sample ").replace("cv_", f"{res.cv} CV ")
            plot_null_distribution(
                null, obs, label=label, p_value=res.p_values[key], title=name, ax=ax
            )
    return fig


def add_null_section(rep: Report, nulls: dict[str, Any], bib: Bibliography) -> None:
    """Add the null-refit section (p-value table, histograms, methods) to a report."""
    first = next(iter(nulls.values()))
    method = {
        "hungarian": "spin permutations (Hungarian assignment)",
        "moran": "Moran spectral randomisation",
    }.get(first.method, first.method)
    rep.add_heading("Spatial null refits", 2)
    cite = bib.cite("spin_test" if first.method == "hungarian" else "markello2021_nulls")
    rep.add_paragraph(
        f"Each model was refitted on {first.n_perm} null maps made by {escape(method)} {cite}, which "
        "keep the map's spatial autocorrelation; the same statistics were computed on every refit. "
        "p = (1 + #{null ≥ observed}) / (1 + n) over the finite null values (one-sided). "
        f"Cross-validated statistics use {escape(str(first.cv))} cross-validation for the real map and "
        "every null map alike. A small in-sample p alone means little; the CV p-value is the test."
    )
    rep.add_table(
        null_table(nulls), caption="Observed statistic and its p-value against null refits"
    )
    rep.add_figure(
        null_figure(nulls), caption="Null distributions (grey) and the observed value (red)."
    )
