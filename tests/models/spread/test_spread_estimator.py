import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from crossscale import InputDataError, ModelStateError, RegionMismatchError
from crossscale.atlas import RegionGraph
from crossscale.models.spread import SpreadMixtureVAE, simulate_cohort


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


@pytest.fixture(scope="module")
def cohort(connectome):
    # two well-separated subtypes (typical entorhinal vs visual occipital), 3 visits, noise 0.05
    return simulate_cohort(connectome, 60, noise=0.05, random_state=0)


@pytest.fixture(scope="module")
def fitted(cohort, connectome):
    return SpreadMixtureVAE(2, max_epochs=250, random_state=0).fit(cohort.maps, connectome)


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
    assert list(tr.columns[:2]) == ["subtype", "epicentre"]
    for name in ("rho", "alpha", "onset"):
        assert (tr[f"{name}_low"] <= tr[name]).all() and (tr[name] <= tr[f"{name}_high"]).all()
    assert spearmanr(tr["onset"], cohort.params.loc[tr.index, "onset"])[0] > 0.4


def test_estimator_contract(fitted, cohort):
    proba = fitted.predict_proba(cohort.maps)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert fitted.epicentre_proba_.shape == (2, 68)
    assert fitted.history_.shape[0] == 250
    assert np.isfinite(fitted.score(cohort.maps))
    sim = fitted.simulate(8, timepoints=(0.0, 1.0), random_state=1)
    assert sim.maps.shape == (16, 68)
    sim2 = fitted.simulate(8, timepoints=(0.0, 1.0), random_state=1)
    pd.testing.assert_frame_equal(sim.maps, sim2.maps)


def test_same_seed_same_numbers(cohort, connectome):
    small = cohort.maps.iloc[: 3 * 20]
    a = SpreadMixtureVAE(2, max_epochs=5, random_state=7).fit(small, connectome)
    b = SpreadMixtureVAE(2, max_epochs=5, random_state=7).fit(small, connectome)
    pd.testing.assert_frame_equal(a.predict_proba(small), b.predict_proba(small))
    pd.testing.assert_frame_equal(a.history_, b.history_)


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
    with pytest.raises(ModelStateError, match="no config.json"):
        SpreadMixtureVAE.load(tmp_path / "nothing")


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


def test_refinement_is_seeded_and_tightens_fit(fitted, cohort):
    from scipy.stats import spearmanr

    a = fitted.transform(cohort.maps, refine_steps=30)
    b = fitted.transform(cohort.maps, refine_steps=30)
    pd.testing.assert_frame_equal(a, b)
    base = fitted.transform(cohort.maps)
    truth = cohort.params.loc[a.index, "rho"]
    assert spearmanr(a["rho"], truth)[0] > spearmanr(base["rho"], truth)[0]


def test_single_visit_input(fitted, cohort):
    last = cohort.maps.xs(4.0, level="time")  # plain subject index: one visit each
    pred = fitted.predict(last)
    assert pred.index.equals(last.index)
    assert adjusted_rand_score(cohort.labels.loc[last.index], pred) >= 0.8


def test_refined_score_is_seeded(fitted, cohort):
    sub = cohort.maps.iloc[: 3 * 10]
    plain = fitted.score(sub)
    refined = fitted.score(sub, refine_steps=20)
    assert np.isfinite(refined) and refined == fitted.score(sub, refine_steps=20)
    assert abs(refined - plain) < 0.05 * abs(plain)  # same bound, different posterior fit
