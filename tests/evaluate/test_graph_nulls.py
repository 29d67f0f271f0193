import numpy as np
import pytest

from crossscale.atlas import RegionGraph
from crossscale.evaluate.graph_nulls import compare_with_null_graphs
from crossscale.models.spread import simulate_cohort
from crossscale.models.spread.groupfit import fit_group_maps


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


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
