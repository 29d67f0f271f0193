"""Group-map fits: the rescaled dynamics, the spreading R², the epicentre search, identifiability."""

import numpy as np
import pandas as pd
import pytest

from crossscale import InputDataError
from crossscale.atlas import RegionGraph
from crossscale.atlas.names import RegionMismatchError
from crossscale.models.spread.dynamics import graph_laplacian, seed_vector, solve_scipy
from crossscale.models.spread.groupfit import (
    build_library,
    check_stage_order,
    fit_group_maps,
    fit_library,
    maps_frame,
)
from crossscale.models.spread.library import diffusion_library, kpp_library

KAPPAS = (2.0, 20.0, 200.0)


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


@pytest.fixture(scope="module")
def kpp(connectome):
    return build_library("fisher_kpp", connectome, kappas=KAPPAS)


def _maps(lib, seed: int, k: int, fractions, noise: float, graph, rng_seed: int = 0):
    """Maps planted from library patterns at fractions of the time grid, with offsets/amplitudes."""
    rng = np.random.default_rng(rng_seed)
    T = len(lib.times[k])
    idx = [int(T * f) for f in fractions]
    y = lib.x[k][seed, idx] * np.array([3.0, 0.5, 1.5, 2.0][: len(idx)])[:, None]
    y = y + np.array([0.2, -1.0, 2.0, 0.0][: len(idx)])[:, None] + rng.normal(0, noise, y.shape)
    return pd.DataFrame(y, columns=graph.regions, index=[f"m{i}" for i in range(len(idx))]), idx


def test_kpp_library_is_fisher_kpp_in_rescaled_time(connectome):
    """x(t; rho, alpha) of Fisher-KPP equals the library at kappa = alpha/rho and s = rho t."""
    lap = graph_laplacian(connectome)
    rho, alpha = 0.1, 2.0
    lib = kpp_library(lap, np.array([5]), kappas=(alpha / rho,), n_times=60)
    s = lib.times[0][[5, 30, 59]]
    ref = solve_scipy(lap, seed_vector(68, [5], 0.05), s / rho, rho=rho, alpha=alpha)
    np.testing.assert_allclose(lib.x[0][0, [5, 30, 59]], ref, atol=2e-4)
    assert lib.stationary[0] and lib.x[0][0, -1].min() > 0.99  # run to saturation
    dif = diffusion_library(lap, np.array([5]), n_times=20)
    ref = solve_scipy(lap, seed_vector(68, [5], 1.0), dif.times[0][[0, 10]], rho=1.0)
    np.testing.assert_allclose(dif.x[0][0, [0, 10]], ref, atol=1e-7)


def test_spreading_r2_is_within_map_variance_explained(connectome, kpp):
    maps, _ = _maps(kpp, 10, 1, (0.25, 0.4, 0.5), 0.02, connectome)
    fit = fit_library(maps_frame(maps, connectome.regions), kpp, connectome)
    y, pred = maps.to_numpy(), fit.predicted.to_numpy()
    sst = ((y - y.mean(1, keepdims=True)) ** 2).sum()
    assert fit.r2 == pytest.approx(1 - ((y - pred) ** 2).sum() / sst)
    assert fit.r2 > 0.9 and fit.epicentre == connectome.regions[10]
    # offsets and amplitudes: recovered per map
    np.testing.assert_allclose(fit.per_map["amplitude"], [3.0, 0.5, 1.5], rtol=0.1)
    assert fit.r_pooled == pytest.approx(np.corrcoef(y.ravel(), pred.ravel())[0, 1])


def test_full_search_finds_a_planted_epicentre_that_the_shortlist_misses(connectome, kpp):
    """Late Fisher-KPP maps: network diffusion ranks the true epicentre about 25th."""
    truth = "R_transversetemporal"
    s = list(connectome.regions).index(truth)
    maps, _ = _maps(kpp, s, 1, (0.6, 0.75), 0.01, connectome)
    full = fit_group_maps(maps, connectome, kappas=KAPPAS)
    assert full.epicentre == truth and truth in full.epicentre_set
    short = fit_group_maps(maps, connectome, kappas=KAPPAS, shortlist=8)
    assert np.isnan(short.epicentre_r2[truth])  # the shortlist never searched it
    assert short.epicentre != truth and short.r2 < full.r2


def test_a_parameter_at_the_grid_end_is_not_identified(connectome, kpp):
    # planted at alpha/rho = 200, the top of the grid: not identified, no point estimate
    maps, idx = _maps(kpp, 20, 2, (0.3, 0.45, 0.6), 0.005, connectome)
    top = fit_library(maps_frame(maps, connectome.regions), kpp, connectome)
    assert top.shape_best == 200.0 and not top.shape_identified and np.isnan(top.shape)
    assert top.shape_high == 200.0
    assert any("not identified" in n for n in top.notes)
    # planted inside the grid (20) with little noise: identified, the set holds the truth
    maps, idx = _maps(kpp, 20, 1, (0.3, 0.45, 0.6), 0.005, connectome)
    mid = fit_library(maps_frame(maps, connectome.regions), kpp, connectome)
    assert mid.shape_identified and mid.shape == 20.0
    assert mid.shape_low <= 20.0 <= mid.shape_high
    times = kpp.times[1][idx]
    assert mid.per_map["time_identified"].all()
    np.testing.assert_allclose(mid.per_map["time"], times, rtol=0.05)
    assert (mid.per_map["time_low"] <= times).all() and (times <= mid.per_map["time_high"]).all()
    # a map at the first time of the grid: its time is not identified
    early = maps.copy()
    early.iloc[0] = kpp.x[1][20, 0] * 3.0
    fit = fit_library(maps_frame(early, connectome.regions), kpp, connectome)
    assert not fit.per_map["time_identified"].iloc[0] and np.isnan(fit.per_map["time"].iloc[0])
    assert fit.per_map["time_identified"].iloc[1:].all()


def test_inverted_map_gets_zero_amplitude_and_a_note(connectome, kpp):
    maps, _ = _maps(kpp, 10, 1, (0.4, 0.6), 0.01, connectome)
    maps.iloc[1] = -maps.iloc[1]
    fit = fit_library(maps_frame(maps, connectome.regions), kpp, connectome)
    assert fit.per_map["amplitude"].iloc[1] == 0.0
    assert any("inverted" in n for n in fit.notes)


def test_maps_frame_takes_a_series_and_names_bad_columns(connectome):
    rng = np.random.default_rng(1)
    fs = [f"{'lh' if r[0] == 'L' else 'rh'}_{r[2:]}_thickness" for r in connectome.regions]
    s = pd.Series(rng.normal(size=68), index=fs, name="tau")
    frame = maps_frame(s, connectome.regions)
    assert frame.shape == (1, 68) and list(frame.index) == ["tau"]
    assert list(frame.columns) == list(connectome.regions)
    bad = pd.DataFrame([rng.normal(size=68)], columns=["L_banksts"] + list(connectome.regions[1:]))
    with pytest.raises(RegionMismatchError, match="did you mean 'L_bankssts'"):
        maps_frame(bad, connectome.regions)
    with pytest.raises(InputDataError, match="DataFrame"):
        maps_frame(rng.normal(size=68), connectome.regions)
    # a region missing from every map: kept as NaN (not scored); from some maps only: refused
    two = pd.DataFrame(rng.normal(size=(2, 67)), columns=connectome.regions[1:])
    assert maps_frame(two, connectome.regions).iloc[:, 0].isna().all()
    two.iloc[0, 0] = np.nan
    with pytest.raises(InputDataError, match="some maps but not in others"):
        maps_frame(two, connectome.regions)


def test_unscored_regions_are_predicted_not_fitted(connectome, kpp):
    maps, _ = _maps(kpp, 10, 1, (0.4, 0.6), 0.01, connectome)
    part = maps.drop(columns=["L_fusiform"])
    fit = fit_group_maps(part, connectome, kappas=KAPPAS)
    assert "L_fusiform" not in fit.scored_regions and fit.n_values == 2 * 67
    assert np.isfinite(fit.predicted["L_fusiform"]).all()
    # the region left out of the fit is predicted from the fitted pattern: its planted values
    # (offsets 0.2 and -1.0, noise sd 0.01) within 3 noise sd
    np.testing.assert_allclose(fit.predicted["L_fusiform"], maps["L_fusiform"], atol=0.03)


def test_stage_order_check():
    times = pd.Series([0.1, 0.2, 0.5, 0.4, 0.9], index=list("abcde"))
    stages = pd.Series(["CN", "CN", "MCI", "MCI", "AD"], index=list("abcde"))
    ok = check_stage_order(times, stages, ["CN", "MCI", "AD"])
    assert ok["ordered"] and not ok["inversions"] and ok["kendall_tau"] > 0.7
    bad = check_stage_order(times, stages, ["AD", "MCI", "CN"])
    assert not bad["ordered"] and bad["kendall_tau"] < 0
    assert bad["inversions"] == ["AD (0.9) > MCI (0.45)", "MCI (0.45) > CN (0.15)"]
    # times that are not identified (NaN) are left out; one stage left: cannot be checked
    part = check_stage_order(times.where(stages == "CN"), stages, ["CN", "MCI", "AD"])
    assert part["ordered"] is None and part["n_maps"] == 2 and part["n_excluded"] == 3


def test_duplicated_maps_do_not_narrow_the_profile_sets(connectome, kpp):
    """Correlated residuals: copies of one map carry the information of one map, not of three."""
    maps, _ = _maps(kpp, 30, 1, (0.4,), 0.05, connectome)
    one = fit_library(maps_frame(maps, connectome.regions), kpp, connectome)
    three = pd.concat([maps] * 3).set_axis(["a", "b", "c"])
    rep = fit_library(maps_frame(three, connectome.regions), kpp, connectome)
    assert rep.n_eff["map_correlation"] == pytest.approx(1.0)
    assert rep.n_eff["n_eff"] == pytest.approx(one.n_eff["n_eff"])
    assert rep.epicentre_set == one.epicentre_set
    assert (rep.shape_low, rep.shape_high) == (one.shape_low, one.shape_high)
    assert 0 < one.n_eff["morans_i"] and one.n_eff["n_eff"] < 68
