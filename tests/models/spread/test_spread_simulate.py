import numpy as np
import pandas as pd
import pytest

from crossscale import ParameterError, RegionMismatchError
from crossscale.atlas import RegionGraph
from crossscale.models.spread import simulate_cohort


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


def test_simulator_is_seeded(connectome):
    a = simulate_cohort(connectome, 12, random_state=3)
    b = simulate_cohort(connectome, 12, random_state=3)
    c = simulate_cohort(connectome, 12, random_state=4)
    pd.testing.assert_frame_equal(a.maps, b.maps)
    pd.testing.assert_frame_equal(a.params, b.params)
    assert not np.allclose(a.maps.to_numpy(), c.maps.to_numpy())


def test_simulator_shapes_and_truth(connectome):
    cohort = simulate_cohort(
        connectome, 10, subtypes=[("L_precuneus", 0.1, 0.5), ("R_entorhinal", 0.1, 0.5)],
        timepoints=(0.0, 1.5), noise=0.0, random_state=0,
    )  # fmt: skip
    assert cohort.maps.shape == (20, 68)
    assert list(cohort.maps.index.names) == ["subject", "time"]
    assert cohort.labels.value_counts().tolist() == [5, 5]
    np.testing.assert_allclose(cohort.maps.to_numpy(), cohort.clean.to_numpy())
    # pathology grows between visits and peaks at (or next to) the epicentre early on
    first = cohort.maps.xs(0.0, level="time")
    second = cohort.maps.xs(1.5, level="time")
    assert (second.sum(axis=1) > first.sum(axis=1)).all()
    early = cohort.params["onset"].idxmin()
    epi = cohort.subtypes[cohort.labels[early]].epicentre
    assert first.loc[early].idxmax() == epi
    assert cohort.to_dict()["subtypes"][0]["epicentre"] == ["L_precuneus"]


def test_simulator_validates(connectome):
    with pytest.raises(RegionMismatchError, match="not regions of the graph"):
        simulate_cohort(connectome, 4, subtypes=[("L_hippocampus", 0.1, 0.5)])
    with pytest.raises(ParameterError, match="timepoints must be increasing"):
        simulate_cohort(connectome, 4, timepoints=(2.0, 1.0))
    with pytest.raises(ParameterError, match="at least the number of subtypes"):
        simulate_cohort(connectome, 1)
