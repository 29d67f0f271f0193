import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crossscale import InputDataError, ParameterError, RegionMismatchError
from crossscale.atlas import DK_REGIONS
from crossscale.datasets import fetch
from crossscale.maps import (
    load_adni_map,
    read_covariates,
    read_enigma_table,
    regional_effect_sizes,
    simulate_case_control,
)
from crossscale.maps.effects import EFFECT_COLUMNS

Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def site():
    """The real ENIGMA example site: 10 patients (Dx 1), 10 controls (Dx 0)."""
    table = read_enigma_table(fetch("enigma_xdata_metr2_cortthick"))
    cov = read_covariates(fetch("enigma_xdata_cov"))
    return table, cov


@pytest.fixture(scope="module")
def truth():
    ad = load_adni_map("AD", "baseline")
    # AD-like pattern, d from -0.1 (spared) to -1.3 (entorhinal), the range of AD thinning
    return -(0.1 + 1.2 * (ad - ad.min()) / (ad.max() - ad.min()))


@pytest.fixture(scope="module")
def cohort(truth):
    return simulate_case_control(truth, n_case=426, n_control=926, random_state=0)


def test_hand_computation_without_covariates(site):
    table, cov = site
    e = regional_effect_sizes(table, cov["Dx"], case="1", control="0")
    assert list(e.index) == list(DK_REGIONS) and tuple(e.columns) == EFFECT_COLUMNS
    case, ctrl = table[cov["Dx"] == 1], table[cov["Dx"] == 0]
    n1, n2 = len(case), len(ctrl)
    ss = ((case - case.mean()) ** 2).sum() + ((ctrl - ctrl.mean()) ** 2).sum()
    d = (case.mean() - ctrl.mean()) / np.sqrt(ss / (n1 + n2))  # ENIGMA: SD with denominator N
    se = np.sqrt((n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2 - 2)))
    np.testing.assert_allclose(e["d"], d, rtol=1e-10)
    np.testing.assert_allclose(e["se"], se, rtol=1e-10)
    np.testing.assert_allclose(e["ci_low"], d - Z * se, rtol=1e-10)
    np.testing.assert_allclose(e["ci_high"], d + Z * se, rtol=1e-10)
    tt = stats.ttest_ind(case, ctrl)
    np.testing.assert_allclose(e["t"], tt.statistic, rtol=1e-10)
    np.testing.assert_allclose(e["p"], tt.pvalue, rtol=1e-8)
    np.testing.assert_allclose(e["beta"], case.mean() - ctrl.mean(), rtol=1e-10)
    np.testing.assert_allclose(e["g"], d * (1 - 3 / (4 * 20 - 9)), rtol=1e-10)
    assert (e["n_case"] == 10).all() and (e["n_control"] == 10).all() and (e["df"] == 18).all()
    # the ENIGMA d is the pooled-SD (n - 2) Cohen's d times sqrt(N / df)
    pooled = (case.mean() - ctrl.mean()) / np.sqrt(ss / (n1 + n2 - 2))
    np.testing.assert_allclose(e["d"], pooled * np.sqrt(20 / 18), rtol=1e-10)


def test_matches_statsmodels_ols_with_covariates(site):
    sm = pytest.importorskip("statsmodels.api")
    from statsmodels.stats.multitest import multipletests

    table, cov = site
    e = regional_effect_sizes(
        table, cov["Dx"], case=1, control=0, covariates=cov[["Age", "Sex", "ICV"]]
    )
    X = sm.add_constant(cov[["Age", "Sex", "ICV"]].assign(group=(cov["Dx"] == 1).astype(float)))
    for region in ["L_bankssts", "L_entorhinal", "R_superiorfrontal", "R_insula"]:
        fit = sm.OLS(table.loc[cov.index, region], X).fit()
        t, df = fit.tvalues["group"], fit.df_resid
        assert e.loc[region, "t"] == pytest.approx(t, rel=1e-8)
        assert e.loc[region, "p"] == pytest.approx(fit.pvalues["group"], rel=1e-6)
        assert e.loc[region, "beta"] == pytest.approx(fit.params["group"], rel=1e-8)
        assert e.loc[region, "df"] == df == 15
        d = t * 20 / (np.sqrt(100) * np.sqrt(df))
        se = np.sqrt(20 / 100 + d**2 / (2 * 18))
        assert e.loc[region, "d"] == pytest.approx(d, rel=1e-8)
        assert e.loc[region, "se"] == pytest.approx(se, rel=1e-8)
        assert e.loc[region, "ci_low"] == pytest.approx(d - Z * se, rel=1e-8)
    np.testing.assert_allclose(e["fdr_p"], multipletests(e["p"], method="fdr_bh")[1], rtol=1e-10)
    assert e.attrs["model"] == "value ~ 1 + group + Age + Sex + ICV"


def test_text_covariate_equals_indicator(site):
    table, cov = site
    num = regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=cov[["Age", "Sex"]])
    text = cov[["Age"]].assign(Sex=cov["Sex"].map({1: "M", 2: "F"}))
    cat = regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=text)
    np.testing.assert_allclose(num["d"], cat["d"], rtol=1e-10)


def test_missing_value_drops_subject_for_that_region_only(site):
    table, cov = site
    t2 = table.copy()
    t2.loc["sub-PX003", "L_cuneus"] = np.nan
    e = regional_effect_sizes(t2, cov["Dx"], case=1, control=0, covariates=cov[["Age"]])
    keep = table.index != "sub-PX003"
    ref = regional_effect_sizes(
        table[keep], cov["Dx"][keep], case=1, control=0, covariates=cov[["Age"]][keep]
    )
    assert e.loc["L_cuneus", "d"] == pytest.approx(ref.loc["L_cuneus", "d"], rel=1e-10)
    assert e.loc["L_cuneus", "n_case"] == 9 and e.loc["L_bankssts", "n_case"] == 10
    full = regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=cov[["Age"]])
    assert e.loc["L_bankssts", "d"] == pytest.approx(full.loc["L_bankssts", "d"], rel=1e-12)


def test_recovers_known_map_on_adni_sized_cohort(cohort, truth):
    table, cov = cohort
    e = regional_effect_sizes(
        table, cov["Dx"], case="AD", control="CN", covariates=cov[["Age", "Sex", "ICV"]]
    )
    assert (e["n_case"] == 426).all() and (e["n_control"] == 926).all()
    assert np.corrcoef(e["d"], truth)[0, 1] > 0.95
    covered = ((e["ci_low"] <= truth) & (truth <= e["ci_high"])).mean()
    assert covered > 0.85  # nominal 95 %
    assert abs((e["d"] - truth).mean()) < 0.05  # no scale bias despite 926 vs 426 and age gap


def test_stratified_bootstrap(cohort):
    table, cov = cohort
    table = table.iloc[:, :10]
    kw = {"case": "AD", "control": "CN", "covariates": cov[["Age", "Sex"]], "n_boot": 200}
    a = regional_effect_sizes(table, cov["Dx"], random_state=1, **kw)
    b = regional_effect_sizes(table, cov["Dx"], random_state=1, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert ((a["boot_ci_low"] < a["d"]) & (a["d"] < a["boot_ci_high"])).all()
    np.testing.assert_allclose(a["boot_se"], a["se"], rtol=0.25)


def test_site_as_covariate_equals_manual_indicators(site):
    table, cov = site
    s = pd.Series(np.tile(["A", "B"], 10), index=cov.index)
    e = regional_effect_sizes(
        table, cov["Dx"], case=1, control=0, covariates=cov[["Age"]], site=s, harmonize="covariate"
    )
    manual = cov[["Age"]].assign(siteB=(s == "B").astype(float))
    ref = regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=manual)
    np.testing.assert_allclose(e["d"], ref["d"], rtol=1e-10)


def test_combat_without_neuroharmonize_is_a_clear_error(site, monkeypatch):
    table, cov = site
    monkeypatch.setitem(sys.modules, "neuroHarmonize", None)  # import fails
    s = pd.Series(np.tile(["A", "B"], 10), index=cov.index)
    with pytest.raises(ParameterError, match=r"pip install 'crossscale\[harmonize\]'"):
        regional_effect_sizes(table, cov["Dx"], case=1, control=0, site=s)


def test_combat_removes_site_effects(cohort, truth):
    pytest.importorskip("neuroHarmonize")
    table, cov = cohort
    rng = np.random.default_rng(3)
    s = pd.Series(rng.choice(["A", "B", "C"], len(table)), index=table.index)
    shift = s.map({"A": 0.0, "B": 0.15, "C": -0.2}).to_numpy()[:, None]
    scale = s.map({"A": 1.0, "B": 1.3, "C": 0.8}).to_numpy()[:, None]
    biased = (table + shift) * scale
    kw = {"case": "AD", "control": "CN", "covariates": cov[["Age", "Sex"]], "site": s}
    raw = regional_effect_sizes(biased, cov["Dx"], harmonize="none", **kw)
    cb = regional_effect_sizes(biased, cov["Dx"], harmonize="combat", random_state=0, **kw)
    assert np.abs(cb["d"] - truth).mean() < 0.5 * np.abs(raw["d"] - truth).mean()
    assert cb.attrs["site"] == "3 sites, ComBat (neuroHarmonize)"


# --- bad input: each a clear error naming the rows or labels -------------------------------


def test_subjects_in_one_table_only(site):
    table, cov = site
    with pytest.raises(InputDataError, match=r"1 subject\(s\) in the diagnosis .*'sub-HC060'"):
        regional_effect_sizes(table.iloc[:-1], cov["Dx"], case=1, control=0)
    with pytest.raises(
        InputDataError, match=r"in the regional table but not in the covariates.*'sub-PX003'"
    ):
        regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=cov[["Age"]].iloc[1:])


def test_missing_covariates(site):
    table, cov = site
    c = cov[["Age", "Sex"]].astype(float)
    c.loc["sub-HC012", "Age"] = np.nan
    with pytest.raises(InputDataError, match=r"missing for 1 subject\(s\): 'sub-HC012' \(Age\)"):
        regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=c)
    # AO (age of onset) is empty for every control
    with pytest.raises(InputDataError, match=r"missing for 10 subject\(s\): 'sub-HC002' \(AO\)"):
        regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=cov[["AO"]])


def test_unknown_group_label(site):
    table, cov = site
    with pytest.raises(
        ParameterError, match=r"case label 'AD' does not occur.*'1' \(10\), '0' \(10\)"
    ):
        regional_effect_sizes(table, cov["Dx"], case="AD", control=0)
    with pytest.raises(ParameterError, match="both '1'"):
        regional_effect_sizes(table, cov["Dx"], case=1, control=1)


def test_group_with_fewer_than_two_subjects(site):
    table, cov = site
    dx = cov["Dx"].copy()
    dx.iloc[1:10] = 2  # one patient left with Dx 1
    with pytest.raises(InputDataError, match=r"case group '1' has 1 subject\(s\); at least 2"):
        regional_effect_sizes(table, dx, case=1, control=0)


def test_non_numeric_cells(site):
    table, cov = site
    t = table.astype(object)
    t.loc["sub-HC019", "R_lingual"] = "n/a?"
    with pytest.raises(InputDataError, match=r"subject 'sub-HC019', column 'R_lingual': 'n/a\?'"):
        regional_effect_sizes(t, cov["Dx"], case=1, control=0)
    c = cov[["Age"]].astype(object)
    c.loc["sub-PX005", "Age"] = "twenty-six"
    with pytest.raises(
        InputDataError, match=r"column 'Age' is numeric but .*'sub-PX005': 'twenty-six'"
    ):
        regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=c)


def test_duplicated_subjects(site):
    table, cov = site
    with pytest.raises(
        InputDataError, match=r"regional table lists 1 subject\(s\) more than once: 'sub-PX008'"
    ):
        regional_effect_sizes(pd.concat([table, table.iloc[[2]]]), cov["Dx"], case=1, control=0)
    dup = pd.concat([cov, cov.iloc[[12]]])
    with pytest.raises(InputDataError, match=r"covariates table lists .*'sub-HC012'"):
        regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=dup[["Age"]])


def test_non_region_column(site):
    table, cov = site
    with pytest.raises(RegionMismatchError, match="'Age'"):
        regional_effect_sizes(table.assign(Age=cov["Age"]), cov["Dx"], case=1, control=0)


def test_covariate_collinear_with_group(site):
    table, cov = site
    with pytest.raises(InputDataError, match="rank deficient"):
        regional_effect_sizes(table, cov["Dx"], case=1, control=0, covariates=cov[["Dx"]] * 2)
