import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from crossscale import InputDataError
from crossscale.atlas import RegionGraph
from crossscale.models.spread import simulate_cohort
from crossscale.models.spread.baselines import (
    fit_subjects_least_squares,
    gmm_subtypes,
    kmeans_subtypes,
)
from crossscale.models.spread.groupfit import fit_group_maps


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


@pytest.fixture(scope="module")
def small_cohort(connectome):
    return simulate_cohort(connectome, 8, noise=0.02, random_state=5)


@pytest.mark.slow
def test_per_subject_least_squares_finds_epicentres(small_cohort, connectome):
    fits = fit_subjects_least_squares(
        small_cohort.maps, connectome, n_subtypes=2, rho_grid=np.array([0.05, 0.1, 0.2]),
        alpha_grid=np.array([0.3, 0.5, 0.8]), t_max=25.0, refine_steps=20,
    )  # fmt: skip
    p = fits.params.loc[small_cohort.labels.index]
    truth = [small_cohort.subtypes[k].epicentre for k in small_cohort.labels]
    assert np.mean(p["epicentre"].to_numpy() == np.array(truth)) >= 0.75
    assert adjusted_rand_score(small_cohort.labels, p["subtype"]) >= 0.5
    assert set(p.columns) == {"epicentre", "rho", "alpha", "onset", "sse", "subtype"}


def test_clustering_baselines_are_seeded(small_cohort):
    a = kmeans_subtypes(small_cohort.maps, 2, random_state=0)
    b = kmeans_subtypes(small_cohort.maps, 2, random_state=0)
    assert a.equals(b) and len(a) == 8
    assert len(gmm_subtypes(small_cohort.maps, 2, random_state=0)) == 8


def test_group_fit_recovers_simulated_epicentre(connectome):
    cohort = simulate_cohort(
        connectome, 3, subtypes=[("R_precuneus", 0.1, 0.5)], timepoints=(0.0, 3.0), noise=0.01,
        random_state=2,
    )  # fmt: skip
    maps = cohort.maps * 7.0 + 0.3  # amplitude and offset are free in the group fit
    fit = fit_group_maps(maps, connectome, kappas=(2.0, 5.0, 20.0))
    assert fit.epicentre == "R_precuneus"
    assert fit.r2 > 0.9 and fit.r_pooled > 0.9
    assert fit.epicentre_r2.idxmax() == "R_precuneus"
    with pytest.raises(InputDataError, match="fewer than 3"):
        fit_group_maps(maps.iloc[:, :2], connectome)
