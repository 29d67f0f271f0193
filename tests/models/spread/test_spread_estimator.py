import copy
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from crossscale import InputDataError, ModelStateError, ParameterError, RegionMismatchError
from crossscale.atlas import RegionGraph
from crossscale.models.spread import SpreadMixtureVAE, select_n_subtypes, simulate_cohort


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


@pytest.fixture(scope="module")
def cohort(connectome):
    # two well-separated subtypes (typical entorhinal vs visual occipital), 3 visits, noise 0.05
    return simulate_cohort(connectome, 60, noise=0.05, random_state=0)


@pytest.fixture(scope="module")
def fitted(cohort, connectome):
    return SpreadMixtureVAE(2, max_epochs=40, random_state=0).fit(cohort.maps, connectome)


@pytest.fixture(scope="module")
def tiny(connectome):
    # 10 subjects, 2 visits: enough to exercise the estimator contract in a second
    return simulate_cohort(connectome, 10, timepoints=(0.0, 2.0), noise=0.05, random_state=5)


FAST = {"max_epochs": 2, "n_em": 0, "lm_iter": 2, "n_importance": 0}


@pytest.mark.slow
def test_recovers_two_subtypes(fitted, cohort):
    pred = fitted.predict(cohort.maps)
    assert adjusted_rand_score(cohort.labels, pred.loc[cohort.labels.index]) >= 0.9
    assert sorted(fitted.epicentres_) == sorted(s.epicentre for s in cohort.subtypes)
    # subtype-level mechanism close to the truth (rho 0.1, alpha 0.5 per year)
    assert np.allclose(fitted.subtype_params_["rho"], 0.1, rtol=0.35)
    assert np.allclose(fitted.subtype_params_["alpha"], 0.5, rtol=0.35)


def test_parameters_have_intervals_and_track_truth(fitted, cohort):
    from scipy.stats import spearmanr

    tr = fitted.transform(cohort.maps)
    assert list(tr.columns[:3]) == ["subtype", "subtype_proba", "epicentre"]
    for name in ("rho", "alpha", "onset"):
        assert tr[f"{name}_identified"].all()  # three visits identify every parameter
        assert (tr[f"{name}_low"] <= tr[name]).all() and (tr[name] <= tr[f"{name}_high"]).all()
    assert spearmanr(tr["onset"], cohort.params.loc[tr.index, "onset"])[0] > 0.7
    # the EM rounds recover the simulation's noise level and population spread (0.2 on log rho)
    assert fitted.noise_ == pytest.approx(0.05, rel=0.1)
    assert 0.1 < fitted.module_.prior_scale[0].item() < 0.35


def test_intervals_cover_the_truth(fitted, cohort):
    # 95% intervals on 60 simulated subjects: coverage near nominal (loose bound, seeded cohort)
    tr = fitted.transform(cohort.maps)
    truth = cohort.params.loc[tr.index]
    for name in ("rho", "alpha", "onset"):
        inside = (tr[f"{name}_low"] <= truth[name]) & (truth[name] <= tr[f"{name}_high"])
        assert 0.8 <= inside.mean() <= 1.0, (name, inside.mean())
    # and the intervals are informative: much narrower than the prior's (sd 0.5 on log scale)
    width = np.log(tr["onset_high"] / tr["onset_low"])
    assert width.median() < 0.5 * 2 * 1.96 * 0.5


def test_estimator_contract(fitted, cohort):
    proba = fitted.predict_proba(cohort.maps)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert fitted.epicentre_proba_.shape == (2, 68)
    assert fitted.history_.n_epochs == 40 and fitted.history_.loss.shape == (40, 1)
    assert list(fitted.history_.to_frame().columns) == ["epoch", "loss", "reconstruction", "kl_z",
                                                        "kl_c"]  # fmt: skip
    assert list(fitted.em_history_.columns[:1]) == ["noise"] and len(fitted.em_history_) == 4
    assert np.isfinite(fitted.score(cohort.maps))
    sim = fitted.simulate(8, timepoints=(0.0, 1.0), random_state=1)
    assert sim.maps.shape == (16, 68)
    sim2 = fitted.simulate(8, timepoints=(0.0, 1.0), random_state=1)
    pd.testing.assert_frame_equal(sim.maps, sim2.maps)


@pytest.mark.slow
def test_same_seed_same_numbers(cohort, connectome):
    small = cohort.maps.iloc[: 3 * 20]
    a = SpreadMixtureVAE(2, max_epochs=5, random_state=7).fit(small, connectome)
    b = SpreadMixtureVAE(2, max_epochs=5, random_state=7).fit(small, connectome)
    pd.testing.assert_frame_equal(a.predict_proba(small), b.predict_proba(small))
    pd.testing.assert_frame_equal(a.history_.to_frame(), b.history_.to_frame())


@pytest.mark.slow
def test_save_load_roundtrip(fitted, cohort, connectome, tmp_path):
    fitted.save(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} == {"model.safetensors", "config.json"}
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["graph_hash"] == connectome.hash() and len(cfg["regions"]) == 68
    loaded = SpreadMixtureVAE.load(tmp_path / "m", graph=connectome)
    pd.testing.assert_frame_equal(
        loaded.predict_proba(cohort.maps), fitted.predict_proba(cohort.maps)
    )
    assert loaded.epicentres_ == fitted.epicentres_
    sub = connectome.subgraph(list(connectome.regions[:60]))
    with pytest.raises(RegionMismatchError, match="fitted on 68 regions"):
        SpreadMixtureVAE.load(tmp_path / "m", graph=sub)
    with pytest.raises(ModelStateError, match="not a crossscale checkpoint: missing"):
        SpreadMixtureVAE.load(tmp_path / "nothing")
    assert cfg["model"] == "SpreadMixtureVAE" and "class" not in cfg
    assert cfg["fit_time_s"] == pytest.approx(fitted.fit_time_s_)


@pytest.mark.slow
def test_checkpoint_of_another_model_or_none_is_refused(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    path = tmp_path / "m" / "config.json"
    cfg = json.loads(path.read_text())
    del cfg["integrity"]  # hand edits below: the checksum would refuse them first
    cfg["model"] = "GraphVAE"
    path.write_text(json.dumps(cfg))
    with pytest.raises(ModelStateError, match="holds a 'GraphVAE' checkpoint, not a SpreadMixtureVAE"):
        SpreadMixtureVAE.load(tmp_path / "m")
    cfg["class"] = cfg.pop("model")  # the pre-0.1 key is not read
    path.write_text(json.dumps(cfg))
    with pytest.raises(ModelStateError, match="names no model"):
        SpreadMixtureVAE.load(tmp_path / "m")


def test_input_validation(fitted, cohort):
    with pytest.raises(ModelStateError, match="not fitted"):
        SpreadMixtureVAE().predict(cohort.maps)
    with pytest.raises(RegionMismatchError, match="Missing"):
        fitted.predict(cohort.maps.drop(columns="L_insula"))
    bad = cohort.maps.copy()
    bad.iloc[0, 0] = np.nan
    with pytest.raises(InputDataError, match="NaN"):
        fitted.predict(bad)
    with pytest.raises(InputDataError, match="DataFrame"):
        fitted.predict(cohort.maps.to_numpy())


def test_refined_posterior_beats_the_encoder(fitted, cohort):
    from scipy.stats import spearmanr

    a = fitted.transform(cohort.maps)
    pd.testing.assert_frame_equal(a, fitted.transform(cohort.maps.copy()))  # deterministic
    base = copy.deepcopy(fitted).set_params(posterior="amortised").transform(cohort.maps)
    truth = cohort.params.loc[a.index, "rho"]
    assert spearmanr(a["rho"], truth)[0] > spearmanr(base["rho"], truth)[0] + 0.1


def test_refined_log_predictive_is_above_the_amortised_elbo(fitted, cohort):
    # the amortised score is an ELBO (a lower bound, lowered by the amortisation gap); the refined
    # Laplace + importance-sampled evidence must be higher for almost every subject
    sub = cohort.maps.iloc[: 3 * 20]
    refined = fitted.score_samples(sub)
    elbo = copy.deepcopy(fitted).set_params(posterior="amortised").score_samples(sub)
    assert fitted.posterior == "laplace"  # the shared fixture is left as it was
    assert (refined > elbo).mean() >= 0.9
    assert refined.mean() > elbo.mean()


def test_single_visit_input(fitted, cohort):
    last = cohort.maps.xs(4.0, level="time")  # plain subject index: one visit each
    pred = fitted.predict(last)
    assert pred.index.equals(last.index)
    assert adjusted_rand_score(cohort.labels.loc[last.index], pred) >= 0.8


def test_single_visit_parameters_are_not_identified(fitted, cohort):
    # one visit constrains only rho * t and alpha * t: the onset interval must not be printed
    last = cohort.maps.xs(4.0, level="time")
    tr = fitted.transform(last)
    assert (~tr["onset_identified"]).mean() > 0.8
    assert tr.loc[~tr["onset_identified"], "onset_low"].isna().all()


def test_score_is_a_seeded_log_predictive_density(fitted, cohort):
    sub = cohort.maps.iloc[: 3 * 10]
    a = fitted.score_samples(sub)
    assert a.name == "log_predictive" and np.isfinite(a).all()
    pd.testing.assert_series_equal(a, fitted.score_samples(sub))
    laplace = fitted.score_samples(sub, n_importance=0)
    assert np.allclose(a, laplace, atol=2.0)  # importance sampling corrects Laplace only a little


def test_clone_and_params(tiny, connectome):
    est = SpreadMixtureVAE(3, n_hidden=8, batch_size=4, random_state=1)
    c = clone(est)
    assert c is not est and c.get_params() == est.get_params()
    assert not hasattr(c, "module_")
    assert clone(est.set_params(n_hidden=16)).n_hidden == 16
    priors = SpreadMixtureVAE(prior_loc=[-2.0, -0.5, 2.0], prior_scale=(0.4, 0.4, 0.4))
    assert clone(priors).get_params()["prior_loc"] == [-2.0, -0.5, 2.0]  # stored as given
    fitted = SpreadMixtureVAE(2, random_state=3, **FAST).fit(tiny.maps, connectome)
    again = clone(fitted)
    assert again.get_params() == fitted.get_params() and not hasattr(again, "module_")


def test_random_state_none_draws_fresh_entropy(tiny, connectome):
    a = SpreadMixtureVAE(2, random_state=None, **FAST).fit(tiny.maps, connectome)
    b = SpreadMixtureVAE(2, random_state=None, **FAST).fit(tiny.maps, connectome)
    assert a.seed_ != b.seed_
    assert not a.history_.to_frame().equals(b.history_.to_frame())
    c = SpreadMixtureVAE(2, random_state=a.seed_, **FAST).fit(tiny.maps, connectome)
    pd.testing.assert_frame_equal(a.history_.to_frame(), c.history_.to_frame())  # the stored seed
    gen = np.random.default_rng(4)
    d = SpreadMixtureVAE(2, random_state=gen, **FAST).fit(tiny.maps, connectome)
    assert d.seed_ == int(np.random.default_rng(4).integers(0, 2**31 - 1))


@pytest.mark.parametrize(
    ("param", "value", "match"),
    [
        ("n_subtypes", 0, "n_subtypes must be an integer >= 1"),
        ("n_subtypes", 1.5, "n_subtypes must be an integer >= 1"),
        ("model", "sir", "model must be one of"),
        ("laplacian", "random_walk", "laplacian must be 'combinatorial' or 'normalized'"),
        ("n_hidden", 0, "n_hidden must be an integer >= 1"),
        ("max_epochs", 0, "max_epochs must be an integer >= 1"),
        ("lr", 0.0, "lr must be a finite number > 0"),
        ("lr", float("nan"), "lr must be a finite number > 0"),
        ("batch_size", 0, "batch_size must be None or an integer >= 1"),
        ("batch_size", 2.5, "batch_size must be None or an integer >= 1"),
        ("epicentre_updates", -1, "epicentre_updates must be an integer >= 0"),
        ("n_candidates", 0, "n_candidates must be an integer >= 1"),
        ("prior_loc", [0.0, 1.0], "prior_loc must have 3 values"),
        ("prior_loc", "abc", "prior_loc must be None or 3 numbers"),
        ("prior_scale", [0.5, 0.0, 0.5], "prior_scale must be 3 finite numbers > 0"),
        ("seed_mass", 0.0, "seed_mass must be a finite number > 0"),
        ("kl_warmup", 1.5, "kl_warmup must be a number in"),
        ("assign_warmup", 1.0, "assign_warmup must be a number in"),
        ("posterior", "exact", "posterior must be 'laplace' or 'amortised'"),
        ("n_em", -1, "n_em must be an integer >= 0"),
        ("lm_iter", 0, "lm_iter must be an integer >= 1"),
        ("n_importance", -2, "n_importance must be an integer >= 0"),
        ("n_threads", 0, "n_threads must be None or an integer >= 1"),
        ("random_state", "seed", "random_state must be None, an int"),
        ("random_state", -3, "random_state must be a non-negative int"),
    ],
)
def test_every_parameter_is_validated(tiny, connectome, param, value, match):
    est = SpreadMixtureVAE(2, max_epochs=1).set_params(**{param: value})
    with pytest.raises(ParameterError, match=match):
        est.fit(tiny.maps, connectome)


@pytest.mark.slow
def test_select_n_subtypes_on_a_small_cohort(connectome):
    # two well-separated subtypes, 16 subjects each: K = 2 by the one-SE rule, K = 1 far worse
    c = simulate_cohort(connectome, 32, noise=0.05, random_state=2)
    sel = select_n_subtypes(c.maps, connectome, candidates=(1, 2, 3), patience=1,
                            random_state=0, max_epochs=30)  # fmt: skip
    assert sel.best == 2 and sel.repeats == [2] and sel.stability == 1.0
    t = sel.table
    assert {"heldout_loglik", "heldout_se", "within_1se", "noise"} <= set(t.columns)
    assert not t.loc[1, "within_1se"]
    assert t.loc[2, "heldout_loglik"] - t.loc[1, "heldout_loglik"] > 10 * t.loc[2, "heldout_se"]
    assert sel.scores.shape[0] == round(0.3 * 32)
    with pytest.raises(ParameterError, match="test_size"):
        select_n_subtypes(c.maps, connectome, test_size=1.0)
    with pytest.raises(ParameterError, match="fewer than the largest candidate"):
        select_n_subtypes(c.maps.iloc[: 3 * 4], connectome, candidates=(1, 4))


def test_diffusion_model_has_two_latents(connectome):
    c = simulate_cohort(connectome, 8, timepoints=(0.0, 2.0), model="diffusion", noise=0.01,
                        random_state=1)  # fmt: skip
    est = SpreadMixtureVAE(1, model="diffusion", max_epochs=3, n_em=1, lm_iter=4,
                           random_state=0).fit(c.maps, connectome)  # fmt: skip
    tr = est.transform(c.maps)
    assert "alpha" not in tr.columns and {"rho_low", "onset_high"} <= set(tr.columns)
    assert list(est.em_history_.columns[1:3]) == ["prior_sd_rho", "prior_sd_onset"]
    with pytest.raises(InputDataError, match="lower n_subtypes"):
        SpreadMixtureVAE(9, max_epochs=1).fit(c.maps, connectome)


def test_a_rate_at_the_bound_of_the_range_is_not_identified():
    """One subject's rho at the model's upper bound (2 / year) used to be reported as identified."""
    import math
    from types import SimpleNamespace

    import torch

    from crossscale.models.spread.refine import parameter_table

    lo, hi = np.array([-7.0, -7.0, -3.0]), np.array([math.log(2.0), math.log(2.0), 4.0])
    module = SimpleNamespace(names=["rho", "alpha", "onset"], z_low=torch.tensor(lo),
                             z_high=torch.tensor(hi), prior_scale=torch.ones(3))  # fmt: skip
    z = torch.tensor([[[math.log(2.0), math.log(0.5), 1.0]], [[math.log(0.1), math.log(0.5), 1.0]]])
    post = {"resp": torch.ones(2, 1), "z": z, "cov": 1e-4 * torch.eye(3).expand(2, 1, 3, 3),
            "info": 1e4 * torch.eye(3).expand(2, 1, 3, 3)}  # fmt: skip
    tab = parameter_table(post, module, ["L_entorhinal"], ["at_bound", "inside"], 0.95)
    assert not tab.loc["at_bound", "rho_identified"] and np.isnan(tab.loc["at_bound", "rho"])
    assert np.isnan(tab.loc["at_bound", "rho_low"])
    assert tab.loc["inside", "rho_identified"] and tab.loc["inside", "rho"] == pytest.approx(0.1)
    assert tab.loc["at_bound", "alpha_identified"]  # only the parameter at the bound
