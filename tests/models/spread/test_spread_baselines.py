import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from crossscale import InputDataError, ParameterError
from crossscale.atlas import RegionGraph
from crossscale.models.spread import simulate_cohort
from crossscale.models.spread.baselines import (
    fit_subjects_least_squares,
    gmm_subtypes,
    kmeans_subtypes,
)
from crossscale.models.spread.graph_nulls import (
    degree_table,
    distance_graph,
    rewire_degree_preserving,
)
from crossscale.models.spread.groupfit import (
    compare_with_null_graphs,
    fit_group_maps,
    load_adni_trajectory,
)


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


@pytest.fixture(scope="module")
def small_cohort(connectome):
    return simulate_cohort(connectome, 8, noise=0.02, random_state=5)


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


def test_rewiring_preserves_degrees_and_weights(connectome):
    null = rewire_degree_preserving(connectome, random_state=0)
    again = rewire_degree_preserving(connectome, random_state=0)
    assert null.hash() == again.hash() and null.hash() != connectome.hash()
    assert degree_table(null).equals(degree_table(connectome))
    np.testing.assert_allclose(np.sort(null.edge_weights), np.sort(connectome.edge_weights))
    shared = {tuple(e) for e in null.edges} & {tuple(e) for e in connectome.edges}
    assert len(shared) < 0.7 * connectome.n_edges
    with pytest.raises(ParameterError, match="swaps_per_edge"):
        rewire_degree_preserving(connectome, swaps_per_edge=0)


def test_distance_graph_joins_nearest_regions(connectome):
    g = distance_graph(connectome, n_neighbours=4)
    d = connectome.distances()
    adj = g.adjacency.toarray()
    for i in range(0, 68, 17):
        nearest = np.argsort(d[i])[1:5]
        assert (adj[i, nearest] > 0).all()


def test_group_fit_recovers_simulated_epicentre(connectome):
    cohort = simulate_cohort(
        connectome, 3, subtypes=[("R_precuneus", 0.1, 0.5)], timepoints=(0.0, 3.0), noise=0.01,
        random_state=2,
    )  # fmt: skip
    maps = cohort.maps * 7.0 + 0.3  # amplitude and offset are free in the group fit
    fit = fit_group_maps(
        maps, connectome, rho_grid=np.array([0.05, 0.1, 0.2]), alpha_grid=np.array([0.5]),
        t_max=25.0,
    )  # fmt: skip
    assert fit.epicentre == "R_precuneus"
    assert fit.r2 > 0.9 and fit.r > 0.9
    assert fit.epicentre_sse.idxmin() == "R_precuneus"
    with pytest.raises(InputDataError, match="columns of maps"):
        fit_group_maps(maps.iloc[:, :10], connectome)


def test_adni_trajectory_is_scaled():
    maps = load_adni_trajectory(groups=("AD",), timepoints=("baseline", 2))
    assert maps.shape == (2, 68)
    assert maps.to_numpy().max() == pytest.approx(1.0)
    assert (
        maps.loc[("AD", "baseline")].idxmax().endswith("entorhinal")
        or maps.loc[("AD", "baseline")]
        .nlargest(5)
        .index.str.contains("temporal|entorhinal|hippocampal")
        .any()
    )


def test_adni_trajectory_has_every_timepoint():
    maps = load_adni_trajectory()
    # baseline + 2-5 for AD and LMCI, baseline + 2-6 for EMCI (no sixth AD/LMCI file)
    assert maps.shape == (16, 68)
    assert ("EMCI", "6") in maps.index and ("AD", "6") not in maps.index
    assert maps.index.get_level_values("group").value_counts().to_dict() == {
        "EMCI": 6, "LMCI": 5, "AD": 5
    }  # fmt: skip


def test_length_preserving_rewiring_keeps_degrees_and_lengths(connectome):
    null = rewire_degree_preserving(connectome, random_state=3, length_bins=5)
    assert "length-preserving" in null.kind
    np.testing.assert_array_equal(degree_table(null), degree_table(connectome))
    d = connectome.distances()
    before = d[connectome.edges[:, 0], connectome.edges[:, 1]]
    after = d[null.edges[:, 0], null.edges[:, 1]]
    cuts = np.quantile(before, np.linspace(0, 1, 6)[1:-1])
    np.testing.assert_array_equal(
        np.bincount(np.searchsorted(cuts, before), minlength=5),
        np.bincount(np.searchsorted(cuts, after), minlength=5),
    )
    free = rewire_degree_preserving(connectome, random_state=3)
    moved = {tuple(e) for e in null.edges} ^ {tuple(e) for e in connectome.edges}
    assert moved  # it does rewire
    # the unconstrained null makes edges longer on average; the length-preserving one does not
    assert d[free.edges[:, 0], free.edges[:, 1]].mean() > 1.1 * before.mean()
    assert after.mean() == pytest.approx(before.mean(), rel=0.1)
    with pytest.raises(ParameterError, match="length_bins"):
        rewire_degree_preserving(connectome, length_bins=0)


def test_compare_with_null_graphs_names_a_winner(connectome):
    cohort = simulate_cohort(
        connectome, 2, subtypes=[("R_precuneus", 0.1, 0.5)], timepoints=(0.0, 3.0),
        noise=0.0, random_state=2,
    )  # fmt: skip
    maps = cohort.maps
    comp = compare_with_null_graphs(maps, connectome, models=("diffusion",), n_rewired=3,
                                    n_length=3, random_state=0)  # fmt: skip
    pv = comp.p_values
    assert list(pv["graph"]) == ["connectome", "distance-only", "combined"]
    assert (pv["n_null"] == 6).all() and pv["p_null"].between(1 / 7, 1).all()
    assert comp.winner["graph"] in set(pv["graph"])
    assert comp.winner["r"] == pytest.approx(pv["r"].max())
    # data simulated on the connectome: it fits better than every rewired null
    assert pv.set_index("graph").loc["connectome", "p_null"] == pytest.approx(1 / 7)
    fit = fit_group_maps(maps, connectome, model="fisher_kpp", shortlist=3,
                         rho_grid=np.array([0.05, 0.1, 0.2]), alpha_grid=np.array([0.5]),
                         t_max=25.0)  # fmt: skip
    assert fit.epicentre == "R_precuneus" and "R_precuneus" in fit.intervals["epicentre_set"]
    assert np.isfinite(fit.epicentre_sse).sum() == 3  # only the shortlist was searched
