"""The measures of latent programs: active units, effective number, duplicates, stability.

Used by :func:`crossscale.evaluate.programs.summarize_programs`; each takes programs as a
(regions x programs) table. Definitions and references: :mod:`crossscale.evaluate.programs`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError

__all__ = [
    "ACTIVE_THRESHOLD",
    "DUPLICATE_THRESHOLD",
    "active_units",
    "distinct_programs",
    "matched_correlations",
    "participation_ratio",
    "program_stability",
]

#: variance across regions of a program's posterior mean above which it is active (Burda 2016)
ACTIVE_THRESHOLD = 0.01
#: |r| above which two programs are the same program
DUPLICATE_THRESHOLD = 0.5


def as_frame(Z: pd.DataFrame | np.ndarray, name: str = "Z") -> pd.DataFrame:
    """`Z` as a float table with string column names (checked: 2-D, finite)."""
    if isinstance(Z, pd.DataFrame):
        out = Z.astype(float)
    else:
        a = np.asarray(Z, dtype=float)
        if a.ndim != 2:
            raise InputDataError(f"{name} must be 2-D (regions x programs); got shape {a.shape}.")
        out = pd.DataFrame(a, columns=[f"z{i}" for i in range(a.shape[1])])
    if out.shape[0] < 3 or out.shape[1] < 1:
        raise InputDataError(
            f"{name} must have at least 3 regions and 1 program; got shape {out.shape}."
        )
    if not np.isfinite(out.to_numpy()).all():
        raise InputDataError(f"{name} has NaN or infinite values; programs must be finite.")
    return out


def abs_corr(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """|Pearson r| between the columns of A (n, p) and B (n, q); 0 for constant columns."""
    Ac, Bc = A - A.mean(0), B - B.mean(0)
    na, nb = np.linalg.norm(Ac, axis=0), np.linalg.norm(Bc, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (Ac.T @ Bc) / np.outer(na, nb)
    return np.nan_to_num(np.abs(r), nan=0.0)


def active_units(Z: pd.DataFrame | np.ndarray, *, threshold: float = ACTIVE_THRESHOLD) -> pd.Series:
    """Which programs are active: variance of the posterior mean across regions > `threshold`.

    Parameters
    ----------
    Z : pandas.DataFrame or numpy.ndarray, shape (n_regions, n_latent)
        Posterior means ``E[z | x]`` of each region (``model.transform(X)``), latent units.
    threshold : float, default 0.01
        In squared latent units (the prior is N(0, 1)).

    Returns
    -------
    active : pandas.Series of bool, shape (n_latent,)

    References
    ----------
    .. [1] Burda Y., Grosse R., Salakhutdinov R. (2016). Importance weighted autoencoders. ICLR.
    """
    Z = as_frame(Z)
    return pd.Series(Z.var(axis=0, ddof=0).to_numpy() > threshold, index=Z.columns, name="active")


def participation_ratio(Z: pd.DataFrame | np.ndarray) -> float:
    """Effective dimension of the programs: ``(Σ λ)² / Σ λ²`` of their covariance eigenvalues.

    Parameters
    ----------
    Z : pandas.DataFrame or numpy.ndarray, shape (n_regions, n_latent)
        Program values per region (posterior means).

    Returns
    -------
    pr : float
        In [1, n_latent]; 1 when one direction carries all variance (0 if Z is constant).

    References
    ----------
    .. [1] Gao P. et al. (2017). A theory of multineuronal dimensionality, dynamics and
       measurement. bioRxiv 214262.
    """
    a = as_frame(Z).to_numpy()
    lam = np.clip(np.linalg.eigvalsh(np.cov(a, rowvar=False).reshape(a.shape[1], a.shape[1])), 0, None)
    s2 = float((lam**2).sum())
    return float(lam.sum() ** 2 / s2) if s2 > 0 else 0.0


def distinct_programs(
    Z: pd.DataFrame | np.ndarray,
    *,
    threshold: float = DUPLICATE_THRESHOLD,
    active_threshold: float = ACTIVE_THRESHOLD,
) -> tuple[list[str], dict[str, str]]:
    """Distinct programs, and which duplicates were merged into which.

    Active programs (:func:`active_units`) are visited in order of decreasing variance; each is
    kept unless its |r| with a program already kept exceeds `threshold`, in which case it is a
    duplicate of the kept program it correlates with most. Inactive programs are dropped.

    Parameters
    ----------
    Z : pandas.DataFrame or numpy.ndarray, shape (n_regions, n_latent)
        Program values per region (posterior means).
    threshold : float, default 0.5
        Largest |r| two distinct programs may have, in (0, 1].
    active_threshold : float, default 0.01
        Variance across regions above which a program is active (Burda et al. 2016).

    Returns
    -------
    distinct : list of str
        Column names of the distinct programs, in order of decreasing variance.
    merged : dict of str to str
        Each duplicate program -> the distinct program it duplicates.

    Raises
    ------
    ParameterError
        `threshold` outside (0, 1].
    """
    if not (0 < threshold <= 1):
        raise ParameterError(f"threshold must be in (0, 1]; got {threshold!r}.")
    Z = as_frame(Z)
    var = Z.var(axis=0, ddof=0)
    order = [c for c in var.sort_values(ascending=False, kind="stable").index
             if var[c] > active_threshold]  # fmt: skip
    r = pd.DataFrame(abs_corr(Z.to_numpy(), Z.to_numpy()), index=Z.columns, columns=Z.columns)
    kept: list[str] = []
    merged: dict[str, str] = {}
    for c in order:
        if kept and r.loc[c, kept].max() > threshold:
            merged[c] = str(r.loc[c, kept].idxmax())
        else:
            kept.append(c)
    return kept, merged


def matched_correlations(ref: pd.DataFrame | np.ndarray, other: pd.DataFrame | np.ndarray) -> np.ndarray:
    """|r| of each reference program with its partner in `other` (Hungarian assignment on |r|).

    Parameters
    ----------
    ref : pandas.DataFrame or numpy.ndarray, shape (n_regions, p)
        Programs of the reference fit.
    other : pandas.DataFrame or numpy.ndarray, shape (n_regions, q)
        Programs of a refit on the same regions (rows in the same order).

    Returns
    -------
    r : numpy.ndarray, shape (p,)
        Matched |r| (0 for reference programs left unmatched when q < p).

    References
    ----------
    .. [1] Kuhn H.W. (1955). The Hungarian method for the assignment problem. Naval Res Logist Q
       2, 83-97.
    """
    from scipy.optimize import linear_sum_assignment

    A, B = as_frame(ref, "ref").to_numpy(), as_frame(other, "other").to_numpy()
    if A.shape[0] != B.shape[0]:
        raise InputDataError(
            f"ref and other must describe the same regions; got {A.shape[0]} and {B.shape[0]} rows."
        )
    C = abs_corr(A, B)
    rows, cols = linear_sum_assignment(C, maximize=True)
    out = np.zeros(A.shape[1])
    out[rows] = C[rows, cols]
    return out


def program_stability(ref: pd.DataFrame, refits: Sequence[pd.DataFrame]) -> pd.Series:
    """Median over refits of each reference program's matched |r| (:func:`matched_correlations`).

    Parameters
    ----------
    ref : pandas.DataFrame, shape (n_regions, p)
        The programs whose stability is measured (usually the distinct ones).
    refits : sequence of pandas.DataFrame, each (n_regions, q)
        Programs of refits, rows in the order of `ref`.

    Returns
    -------
    stability : pandas.Series, shape (p,)
        Index the columns of `ref`; NaN without refits.
    """
    if not refits:
        return pd.Series(np.nan, index=ref.columns, name="stability")
    m = np.stack([matched_correlations(ref, o) for o in refits])  # (n_refits, p)
    return pd.Series(np.median(m, axis=0), index=ref.columns, name="stability")


def median_matched(ref: pd.DataFrame, refits: Sequence[pd.DataFrame]) -> float:
    if not refits or ref.shape[1] == 0:
        return float("nan")
    return float(np.median(np.concatenate([matched_correlations(ref, o) for o in refits])))
