"""Metrics of spreading-subtype recovery against a simulated truth, and a markdown table writer."""

from __future__ import annotations

import numpy as np
import pandas as pd


def markdown_table(df: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-markdown table of `df` (no index), floats to `digits` significant digits."""
    from crossscale._format import markdown_table as _table

    return _table(df, float_format=f"{{:.{digits}g}}")


def parameter_recovery(estimate: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Spearman r and median relative error of rho, alpha, onset (subjects aligned by index)."""
    from scipy.stats import spearmanr

    out = {}
    for name in ("rho", "alpha", "onset"):
        t, e = truth.loc[estimate.index, name].to_numpy(), estimate[name].to_numpy()
        out[f"{name}_spearman"] = float(spearmanr(t, e)[0])
        out[f"{name}_relerr"] = float(np.median(np.abs(e - t) / t))
    return out


def interval_coverage(estimate: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Fraction of subjects whose printed interval contains the truth, per parameter.

    A parameter flagged not identified (NaN bounds) counts as not covered; the fraction flagged
    is returned as ``{name}_unidentified``.
    """
    out = {}
    for name in ("rho", "alpha", "onset"):
        t = truth.loc[estimate.index, name].to_numpy()
        lo, hi = estimate[f"{name}_low"].to_numpy(), estimate[f"{name}_high"].to_numpy()
        out[f"{name}_cov95"] = float(np.mean((lo <= t) & (t <= hi)))
        out[f"{name}_unidentified"] = float(np.mean(np.isnan(lo)))
    return out


def match_subtypes(true: np.ndarray, pred: np.ndarray, k_pred: int) -> dict[int, int]:
    """Map each predicted subtype to a true one (Hungarian on the contingency table)."""
    from scipy.optimize import linear_sum_assignment

    k_true = int(true.max()) + 1
    cont = np.zeros((k_pred, max(k_true, k_pred)))
    for p, t in zip(pred, true, strict=True):
        cont[p, t] += 1
    rows, cols = linear_sum_assignment(-cont)
    return {int(r): int(c) for r, c in zip(rows, cols, strict=True)}


def epicentre_coverage(est, cohort, pred: np.ndarray) -> dict[str, float]:
    """Coverage of each subtype's 95% epicentre credible set and its size.

    The set is the smallest group of regions whose posterior probability sums to >= 0.95.
    """
    true = cohort.labels.to_numpy()
    mapping = match_subtypes(true, pred, est.n_subtypes)
    hits, sizes = [], []
    for k in range(est.n_subtypes):
        t = mapping.get(k)
        if t is None or t >= len(cohort.subtypes):
            continue
        p = est.epicentre_proba_.iloc[k].sort_values(ascending=False)
        size = int(np.searchsorted(np.cumsum(p.to_numpy()), 0.95) + 1)
        hits.append(cohort.subtypes[t].epicentre in set(p.index[:size]))
        sizes.append(size)
    return {"epicentre_set_cov95": float(np.mean(hits)) if hits else np.nan,
            "epicentre_set_size": float(np.mean(sizes)) if sizes else np.nan}  # fmt: skip


def confusion_table(runs: pd.DataFrame) -> pd.DataFrame:
    """True K (rows, per noise) x chosen K (columns): counts of cohorts."""
    tab = pd.crosstab([runs["noise"], runs["true K"]], runs["chosen K"])
    tab.columns = [f"chosen {c}" for c in tab.columns]
    out = tab.reset_index()
    correct = []
    for _, r in out.iterrows():
        col = f"chosen {int(r['true K'])}"
        hit = int(r[col]) if col in tab.columns else 0
        correct.append(f"{hit}/{int(tab.loc[(r['noise'], r['true K'])].sum())}")
    out["correct"] = correct
    return out
