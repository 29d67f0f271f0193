"""Effect sizes, their standard errors, p-values and ComBat against independent references.

statsmodels (OLS with covariates, Benjamini-Hochberg) and neuroHarmonize (ComBat) are run on
the same data and compared number for number; Cohen's d, Hedges' g and their standard errors
follow Nakagawa & Cuthill (2007) and Hedges (1981) written out here.
"""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests

from crossscale.datasets import fetch
from crossscale.maps import read_covariates, read_enigma_table, regional_effect_sizes


@pytest.fixture(scope="module")
def site():
    """The real ENIGMA example site: 10 patients (Dx 1), 10 controls (Dx 0)."""
    table = read_enigma_table(fetch("enigma_xdata_metr2_cortthick"))
    cov = read_covariates(fetch("enigma_xdata_cov"))
    return table, cov


def _reference(y: np.ndarray, X: np.ndarray, n1: int, n2: int) -> dict[str, float]:
    fit = sm.OLS(y, X).fit()
    t, df = fit.tvalues[1], fit.df_resid
    d = t * (n1 + n2) / (np.sqrt(n1 * n2) * np.sqrt(df))  # Nakagawa & Cuthill 2007, eq. 10
    se = np.sqrt((n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2 - 2)))
    J = 1 - 3 / (4 * (n1 + n2) - 9)  # Hedges 1981
    return {"beta": fit.params[1], "t": t, "p": fit.pvalues[1], "df": df, "d": d, "se": se,
            "g": J * d, "g_se": J * se}  # fmt: skip


def test_effect_sizes_match_statsmodels_with_covariates(site):
    table, cov = site
    covars = cov[["Age", "Sex", "ICV"]].astype(float)
    e = regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=covars, alpha=0.1)
    is_case = (cov["Dx"] == 1).to_numpy()
    X = np.column_stack([np.ones(20), is_case.astype(float), covars.to_numpy()])
    ref = pd.DataFrame({r: _reference(table[r].to_numpy(), X, 10, 10) for r in e.index}).T
    for col in ("beta", "t", "p", "df", "d", "se", "g", "g_se"):
        np.testing.assert_allclose(e[col], ref[col].astype(float), rtol=1e-8, err_msg=col)
    z = stats.norm.ppf(0.95)  # alpha = 0.1
    np.testing.assert_allclose(e["ci_low"], ref["d"] - z * ref["se"], rtol=1e-8)
    np.testing.assert_allclose(e["ci_high"], ref["d"] + z * ref["se"], rtol=1e-8)
    np.testing.assert_allclose(e["fdr_p"], multipletests(e["p"], method="fdr_bh")[1], rtol=1e-10)
    assert (e["n_case"] == 10).all() and (e["n_control"] == 10).all() and (e["df"] == 15).all()
    assert e.attrs["model"] == "value ~ 1 + group + Age + Sex + ICV"
    assert e.attrs["n_case"] == 10 and e.attrs["n_control"] == 10 and e.attrs["alpha"] == 0.1


def test_hedges_g_and_its_standard_error_use_the_small_sample_factor(site):
    table, cov = site
    e = regional_effect_sizes(table, cov["Dx"], case=1, control=0)
    J = 1 - 3 / (4 * 20 - 9)
    np.testing.assert_allclose(e["g"], J * e["d"], rtol=1e-12)
    np.testing.assert_allclose(e["g_se"], J * e["se"], rtol=1e-12)
    assert (e["g_se"] < e["se"]).all()


def test_regions_with_missing_values_use_their_complete_subjects(site):
    table, cov = site
    table = table.copy()
    table.iloc[[0, 11, 12], 0] = np.nan  # one case and two controls of the first region missing
    table.iloc[:9, 1] = np.nan  # second region: one case left -> no effect size
    e = regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=cov[["Age"]])
    keep = table.iloc[:, 0].notna().to_numpy()
    is_case = (cov["Dx"] == 1).to_numpy()
    X = np.column_stack([np.ones(20), is_case, cov["Age"].to_numpy(float)])[keep]
    ref = _reference(table.iloc[:, 0].to_numpy()[keep], X, 9, 8)
    first = e.iloc[0]
    assert (first["n_case"], first["n_control"], first["df"]) == (9, 8, 14)
    for col in ("beta", "t", "p", "d", "se", "g", "g_se"):
        assert first[col] == pytest.approx(ref[col], rel=1e-8), col
    second = e.iloc[1]
    assert (second["n_case"], second["n_control"]) == (1, 10) and np.isnan(second["d"])
    # the other regions use all 20 subjects
    full = regional_effect_sizes(table.iloc[:, 2:], cov["Dx"], case=1, control=0,
                                 covariates=cov[["Age"]])  # fmt: skip
    pd.testing.assert_frame_equal(e.iloc[2:].drop(columns="fdr_p"), full.drop(columns="fdr_p"))


def test_bootstrap_resamples_cases_and_controls_separately(site):
    table, cov = site
    e = regional_effect_sizes(table, cov["Dx"], case=1, control=0, n_boot=30, random_state=7)
    rng = np.random.default_rng(7)
    y = table.to_numpy(float)
    cases, controls = np.flatnonzero(cov["Dx"] == 1), np.flatnonzero(cov["Dx"] == 0)
    boot = []
    for _ in range(30):
        idx = np.concatenate([rng.choice(cases, 10), rng.choice(controls, 10)])
        a, b = y[idx[:10]], y[idx[10:]]
        ss = ((a - a.mean(0)) ** 2).sum(0) + ((b - b.mean(0)) ** 2).sum(0)
        boot.append((a.mean(0) - b.mean(0)) / np.sqrt(ss / 20))  # ENIGMA d without covariates
    boot = np.array(boot)
    np.testing.assert_allclose(e["boot_se"], boot.std(0, ddof=1), rtol=1e-8)
    np.testing.assert_allclose(e["boot_ci_low"], np.quantile(boot, 0.025, axis=0), rtol=1e-8)
    np.testing.assert_allclose(e["boot_ci_high"], np.quantile(boot, 0.975, axis=0), rtol=1e-8)
    assert e.attrs["n_boot"] == 30


def test_combat_matches_neuroharmonize_run_directly(site):
    from neuroHarmonize import harmonizationLearn

    table, cov = site
    s = pd.Series(np.tile(["A", "B", "C", "D"], 5), index=cov.index)
    y = table.to_numpy(float) + s.map({"A": 0.0, "B": 0.2, "C": -0.1, "D": 0.05}).to_numpy()[:, None]
    biased = pd.DataFrame(y, index=table.index, columns=table.columns)
    e = regional_effect_sizes(biased, cov["Dx"], case=1, control=0, covariates=cov[["Age"]],
                              site=s, harmonize="combat", random_state=0)  # fmt: skip
    covars = pd.DataFrame({"SITE": s.to_numpy(), "group": (cov["Dx"] == 1).to_numpy(float),
                           "Age": cov["Age"].to_numpy(float)})  # fmt: skip
    _model, adjusted = harmonizationLearn(y, covars, seed=0)
    X = np.column_stack([np.ones(20), covars["group"], covars["Age"]])
    ref = pd.DataFrame({r: _reference(adjusted[:, j], X, 10, 10)
                        for j, r in enumerate(e.index)}).T  # fmt: skip
    for col in ("beta", "t", "d", "se"):
        np.testing.assert_allclose(e[col], ref[col].astype(float), rtol=1e-8, err_msg=col)
    assert e.attrs["site"] == "4 sites, ComBat (neuroHarmonize)"
    # the adjustment did something: without it, the estimates differ
    raw = regional_effect_sizes(biased, cov["Dx"], case=1, control=0, covariates=cov[["Age"]],
                                site=s, harmonize="none")  # fmt: skip
    assert np.abs(raw["d"] - e["d"]).max() > 0.01


def test_combat_errors_name_the_problem_and_the_fix(site, monkeypatch):
    import re
    import sys

    from crossscale import InputDataError, ParameterError

    table, cov = site
    kw = {"case": 1, "control": 0, "harmonize": "combat"}
    lone = pd.Series(["A"] * 9 + ["B"] + ["A"] * 10, index=cov.index)  # site B: 1 subject
    with pytest.raises(InputDataError, match=re.escape(
            "ComBat needs at least 2 subjects per site; site(s) 'B' (1) have fewer. Merge or drop "
            "those sites.")):  # fmt: skip
        regional_effect_sizes(table, cov["Dx"], site=lone, **kw)
    lone2 = pd.Series(["A"] * 9 + ["B"] + ["A"] * 9 + ["C"], index=cov.index)
    with pytest.raises(InputDataError, match=re.escape("site(s) 'B' (1), 'C' (1) have fewer")):
        regional_effect_sizes(table, cov["Dx"], site=lone2, **kw)
    two = pd.Series(["A"] * 9 + ["B", "B"] + ["A"] * 9, index=cov.index)  # 2 subjects: enough
    assert regional_effect_sizes(table, cov["Dx"], site=two, **kw).attrs["site"].startswith("2 sites")
    gappy = table.copy()
    gappy.iloc[3, 5] = np.nan
    with pytest.raises(InputDataError, match=re.escape(
            "ComBat needs complete data, but the table has missing values. Remove or impute them, "
            "or use harmonize='covariate'.")):  # fmt: skip
        regional_effect_sizes(gappy, cov["Dx"], site=two, **kw)
    monkeypatch.setitem(sys.modules, "neuroHarmonize", None)  # as if the extra were missing
    with pytest.raises(ParameterError, match=re.escape(
            "Site harmonisation with ComBat needs the optional package neuroHarmonize, which is "
            "not installed. Install it with `pip install 'crossscale[harmonize]'`, or model site "
            "as a fixed effect instead (harmonize='covariate', CLI --harmonize covariate).")):  # fmt: skip
        regional_effect_sizes(table, cov["Dx"], site=two, **kw)


def test_incomplete_regions_at_the_limits_of_estimability(site):
    table, cov = site
    t = table.iloc[:, :5].copy()
    is_case = (cov["Dx"] == 1).to_numpy()
    age = cov["Age"].to_numpy(float)
    cases, controls = np.flatnonzero(is_case), np.flatnonzero(~is_case)

    def keep_only(col, rows):
        drop = np.setdiff1d(np.arange(20), rows)
        t.iloc[drop, col] = np.nan

    # model 1 + group + Age: 3 columns. Region 0: 4 complete subjects (df 1) -> no estimate;
    # region 1: 5 complete subjects (df 2), 2 of them cases -> estimated; region 2: 2 cases and
    # 4 controls of the same age (Age collinear with the intercept) -> no estimate; region 3: 2
    # cases and 8 controls -> estimated; region 4 complete. Each skipped region comes before an
    # estimated one.
    keep_only(0, np.r_[cases[:2], controls[:2]])
    keep_only(1, np.r_[cases[:2], controls[:3]])
    same_age = t.index[np.r_[cases[2:4], controls[4:8]]]
    keep_only(2, np.r_[cases[2:4], controls[4:8]])
    covars = cov[["Age"]].astype(float).copy()
    covars.loc[same_age, "Age"] = 40.0
    keep_only(3, np.r_[cases[:2], controls[:8]])
    e = regional_effect_sizes(t, cov["Dx"], case=1, control=0, covariates=covars)
    assert np.isnan(e["d"].iloc[0]) and (e["n_case"].iloc[0], e["n_control"].iloc[0]) == (2, 2)
    assert np.isnan(e["d"].iloc[2])
    age = covars["Age"].to_numpy()
    for col, rows in ((1, np.r_[cases[:2], controls[:3]]), (3, np.r_[cases[:2], controls[:8]])):
        X = np.column_stack([np.ones(len(rows)), is_case[rows], age[rows]])
        ref = _reference(t.iloc[rows, col].to_numpy(), X, 2, len(rows) - 2)
        assert e["df"].iloc[col] == len(rows) - 3
        for key in ("beta", "t", "d", "se"):
            assert e[key].iloc[col] == pytest.approx(ref[key], rel=1e-8), (col, key)
    assert np.isfinite(e["d"].iloc[4])
