"""The statistics helpers every layer shares: permutation p-values and Benjamini-Hochberg q-values.

One implementation each, used by null refits (``evaluate/``), enrichment and clustering
(``interpret/``) and case-control maps (``maps/``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["fdr_bh", "p_value_upper"]


def p_value_upper(
    null: Sequence[float] | np.ndarray, observed: float, *, atol: float = 0.0,
    nonfinite: str = "drop",
) -> float:  # fmt: skip
    """One-sided permutation p-value ``(1 + #{null >= observed - atol}) / (1 + n)``.

    Non-finite null values are dropped (``n`` counts the finite ones), or, with
    ``nonfinite="count"``, counted in ``n`` as not exceeding (e.g. constant null maps whose
    correlation is undefined). A two-sided p-value is this function of ``|null|`` and
    ``|observed|``.

    Parameters
    ----------
    null : array-like, shape (n_perm,)
        The statistic under the null; non-finite values are dropped.
    observed : float
        The statistic on the real data.
    atol : float
        Null values within `atol` below `observed` count as ties (as large as observed), so
        that rounding does not decide a tie (default 0).
    nonfinite : {"drop", "count"}
        What a non-finite null value is (see above).

    Returns
    -------
    p : float
        In ``(0, 1]``; NaN if `observed` is not finite or no null value is.

    Raises
    ------
    ParameterError
        `nonfinite` other than ``"drop"`` or ``"count"``.

    References
    ----------
    .. [1] Phipson B., Smyth G.K. (2010). Permutation p-values should never be zero. Stat Appl
       Genet Mol Biol 9, 39.
    """
    if nonfinite not in ("drop", "count"):
        from crossscale._errors import ParameterError

        raise ParameterError(f"nonfinite must be 'drop' or 'count'; got {nonfinite!r}.")
    null = np.asarray(null, dtype=float).ravel()
    finite = null[np.isfinite(null)]
    if not np.isfinite(observed) or finite.size == 0:
        return float("nan")
    n = finite.size if nonfinite == "drop" else null.size
    return float((1 + np.count_nonzero(finite >= observed - atol)) / (1 + n))


def fdr_bh(p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values (false discovery rate adjusted p-values); NaN kept as NaN.

    Parameters
    ----------
    p : array-like, shape (n_tests,)
        p-values in [0, 1]; non-finite ones are left out of the adjustment and returned as NaN.

    Returns
    -------
    q : numpy.ndarray, shape (n_tests,)
        ``min(1, min_{j >= i} p_(j) n / j)`` for the i-th smallest p-value, over the finite ones
        (:func:`scipy.stats.false_discovery_control` with ``method="bh"``).

    References
    ----------
    .. [1] Benjamini Y., Hochberg Y. (1995). Controlling the false discovery rate: a practical and
       powerful approach to multiple testing. J R Stat Soc B 57, 289-300.
    """
    from scipy import stats

    p = np.asarray(p, dtype=float)
    q = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q
