"""The per-region linear model behind Cohen's d: design matrix, OLS, ComBat, bootstrap.

See :mod:`crossscale.maps.effects` for the model and its references.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError
from crossscale._stats import fdr_bh
from crossscale.maps._tables import _list

logger = logging.getLogger("crossscale.maps.effects")


#: Covariates that are numbers by nature (a text column of them is a formatting error).
_CONTINUOUS = ("age", "icv", "etiv", "tiv", "bmi", "education", "years")


def _check_text_covariate(name: object, col: pd.Series, what: str) -> None:
    """Refuse a text column that is a continuous covariate written as text (``70 years``)."""
    key = str(name).strip().lower()
    n_levels, n = col.astype(str).nunique(), len(col)
    continuous = any(key == k or key.startswith(k + "_") for k in _CONTINUOUS)
    if continuous or (n >= 10 and n_levels > 0.5 * n):
        examples = ", ".join(repr(v) for v in col.astype(str).unique()[:3])
        raise InputDataError(
            f"The {what} column '{name}' holds text ({examples} …: {n_levels} different values "
            f"in {n} subjects), so it would enter the model as {n_levels - 1} group indicators "
            f"and make it rank deficient. {'It is a number by nature: write' if continuous else 'If it is a number, write'} "
            "plain numbers only (e.g. 70, not '70 years'; a decimal point, not a comma), or leave "
            "it out of --adjust."
        )


def _design(
    cov: pd.DataFrame | None, subjects: pd.Index, what: str = "covariates"
) -> tuple[np.ndarray, list[str]]:
    """Numeric covariate columns; text columns one-hot (first level dropped)."""
    if cov is None or cov.shape[1] == 0:
        return np.empty((len(subjects), 0)), []
    cov = cov.loc[subjects]
    missing = cov.isna()
    if missing.to_numpy().any():
        bad = [
            f"'{s}' ({', '.join(str(c) for c in cov.columns[row])})"
            for s, row in zip(cov.index, missing.to_numpy(), strict=True)
            if row.any()
        ]
        raise InputDataError(
            f"The {what} are missing for {len(bad)} subject(s): {_list(bad, quote=False)}. Fill "
            "them in, or "
            "drop those subjects from both tables."
        )
    blocks, names = [], []
    for c in cov.columns:
        col = cov[c]
        num = pd.to_numeric(col, errors="coerce")
        if pd.api.types.is_numeric_dtype(col) or num.notna().mean() >= 0.5:
            if num.isna().any():
                bad = [f"'{s}': {v!r}" for s, v in col[num.isna()].items()]
                bad = _list(bad, quote=False)
                raise InputDataError(
                    f"The {what} column '{c}' is numeric but has non-numeric cell(s) for "
                    f"subject(s) {bad}. Fix those cells."
                )
            x = num.to_numpy(float)
            if np.ptp(x) == 0:
                logger.warning("Covariate '%s' is constant in the subjects analysed; dropped.", c)
                continue
            blocks.append(x[:, None])
            names.append(str(c))
        else:
            _check_text_covariate(c, col, what)
            levels = sorted(col.astype(str).unique())
            if len(levels) < 2:
                logger.warning("Covariate '%s' has one level in the subjects analysed; dropped.", c)
                continue
            for lev in levels[1:]:
                blocks.append((col.astype(str) == lev).to_numpy(float)[:, None])
                names.append(f"{c}[{lev}]")
    if not blocks:
        return np.empty((len(subjects), 0)), []
    return np.hstack(blocks), names


def _ols_group(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS of every column of Y on X; return beta and se of column 1 of X (the group) and df."""
    n, p = X.shape
    Q, R = np.linalg.qr(X)
    beta = np.linalg.solve(R, Q.T @ Y)
    resid = Y - X @ beta
    df = n - p
    sigma2 = np.einsum("ij,ij->j", resid, resid) / df
    Rinv = np.linalg.solve(R, np.eye(p))
    c = float(Rinv[1] @ Rinv[1])  # (X'X)^-1 [1, 1]
    return beta[1], np.sqrt(sigma2 * c), df


def _check_rank(X: np.ndarray, names: list[str]) -> None:
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        raise InputDataError(
            f"The model 1 + group + {' + '.join(names) or '(no covariates)'} is rank deficient "
            f"(rank {rank} < {X.shape[1]} columns): a covariate is collinear with the group or "
            "with another covariate (e.g. a site with only cases). Drop or merge that covariate."
        )


def _fit_all(
    X: np.ndarray, Y: np.ndarray, is_case: np.ndarray, names: list[str]
) -> dict[str, np.ndarray]:
    """Group t, df and group sizes per region; regions with NaN use their complete subjects."""
    n_reg = Y.shape[1]
    out = {k: np.full(n_reg, np.nan) for k in ("beta", "se_beta", "df", "n_case", "n_control")}
    nan = np.isnan(Y)
    complete = ~nan.any(axis=0)
    if complete.any():
        b, s, df = _ols_group(X, Y[:, complete])
        out["beta"][complete], out["se_beta"][complete], out["df"][complete] = b, s, df
        out["n_case"][complete] = is_case.sum()
        out["n_control"][complete] = (~is_case).sum()
    for j in np.flatnonzero(~complete):
        keep = ~nan[:, j]
        n1, n2 = int(is_case[keep].sum()), int((~is_case[keep]).sum())
        out["n_case"][j], out["n_control"][j] = n1, n2
        if min(n1, n2) < 2 or keep.sum() <= X.shape[1] + 1:
            continue
        Xk = X[keep]
        if np.linalg.matrix_rank(Xk) < X.shape[1]:
            continue
        b, s, df = _ols_group(Xk, Y[keep, j : j + 1])
        out["beta"][j], out["se_beta"][j], out["df"][j] = b[0], s[0], df
    return out


def _d_from_t(t, n1, n2, df):
    return t * (n1 + n2) / (np.sqrt(n1 * n2) * np.sqrt(df))


def _effect_columns(fit: dict[str, np.ndarray], alpha: float) -> dict[str, np.ndarray]:
    """The output columns from the group fits of :func:`_fit_all`, in ``EFFECT_COLUMNS`` order.

    d and se(d) as Nakagawa & Cuthill (2007, eq. 10 and Table 3), Hedges' g and its standard
    error with ``J = 1 - 3 / (4 (n1 + n2) - 9)`` (Hedges 1981), two-sided t p-values and
    Benjamini-Hochberg ``fdr_p`` over the regions that have one.
    """
    from scipy import stats

    n1, n2, df = fit["n_case"], fit["n_control"], fit["df"]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = fit["beta"] / fit["se_beta"]
        d = _d_from_t(t, n1, n2, df)
        se = np.sqrt((n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2 - 2)))
        p = 2 * stats.t.sf(np.abs(t), df)
        J = 1 - 3 / (4 * (n1 + n2) - 9)
    z = stats.norm.ppf(1 - alpha / 2)
    fdr = fdr_bh(p)
    return {
        "d": d, "se": se, "ci_low": d - z * se, "ci_high": d + z * se, "t": t, "p": p,
        "fdr_p": fdr, "n_case": n1, "n_control": n2, "g": J * d, "g_se": J * se,
        "beta": fit["beta"], "df": df,
    }  # fmt: skip


def _combat(
    Y: np.ndarray, site: np.ndarray, X: np.ndarray, names: list[str], random_state
) -> np.ndarray:
    """ComBat (neuroHarmonize) of Y across sites, preserving group and covariate effects."""
    try:
        from neuroHarmonize import harmonizationLearn
    except ImportError as err:
        raise ParameterError(
            "Site harmonisation with ComBat needs the optional package neuroHarmonize, which "
            "is not installed. Install it with `pip install 'crossscale[harmonize]'`, or model "
            "site as a fixed effect instead (harmonize='covariate', CLI --harmonize covariate)."
        ) from err
    if np.isnan(Y).any():
        raise InputDataError(
            "ComBat needs complete data, but the table has missing values. Remove or impute "
            "them, or use harmonize='covariate'."
        )
    sites, counts = np.unique(site, return_counts=True)
    small = [f"'{s}' ({c})" for s, c in zip(sites, counts, strict=True) if c < 2]
    if small:
        raise InputDataError(
            f"ComBat needs at least 2 subjects per site; site(s) {', '.join(small)} have fewer. "
            "Merge or drop those sites."
        )
    covars = pd.DataFrame(X[:, 1:], columns=["group", *names])
    covars.insert(0, "SITE", site.astype(str))
    _model, adjusted = harmonizationLearn(Y, covars, seed=random_state)
    return np.asarray(adjusted, dtype=float)


def _bootstrap(
    X: np.ndarray,
    Y: np.ndarray,
    is_case: np.ndarray,
    names: list[str],
    n_boot: int,
    random_state: int | None,
) -> np.ndarray:
    """Stratified bootstrap of d: resample cases and controls separately, refit all regions."""
    from crossscale._progress import progress

    rng = np.random.default_rng(random_state)
    cases, controls = np.flatnonzero(is_case), np.flatnonzero(~is_case)
    out = np.full((n_boot, Y.shape[1]), np.nan)
    with progress("Bootstrap", total=n_boot) as bar:
        for b in range(n_boot):
            idx = np.concatenate(
                [rng.choice(cases, len(cases)), rng.choice(controls, len(controls))]
            )
            Xb = X[idx]
            if np.linalg.matrix_rank(Xb) == X.shape[1]:
                f = _fit_all(Xb, Y[idx], is_case[idx], names)
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[b] = _d_from_t(
                        f["beta"] / f["se_beta"], f["n_case"], f["n_control"], f["df"]
                    )
            bar.advance()
    return out
