"""The comparison of spreading models with the baselines and null graphs on group maps."""

import numpy as np
import pandas as pd
import pytest

from crossscale.atlas import RegionGraph
from crossscale.evaluate.spread_groups import (
    compare_group_fits,
    leave_one_map_out,
    leave_regions_out,
)
from crossscale.models.spread.groupfit import build_library


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


@pytest.fixture(scope="module")
def diffusion(connectome):
    return build_library("diffusion", connectome)


@pytest.mark.slow
def test_offset_only_baseline_on_maps_that_are_offsets(connectome):
    """Maps = very different offsets + noise: pooled r is high, every spreading R² is not."""
    rng = np.random.default_rng(0)
    offsets = np.array([0.0, 1.0, 2.0, 3.0])
    y = offsets[:, None] + rng.normal(0, 0.2, (4, 68))
    maps = pd.DataFrame(y, columns=connectome.regions, index=list("abcd"))
    comp = compare_group_fits(maps, connectome, models=("diffusion",), n_length=1, n_degree=1,
                              n_folds=4)  # fmt: skip
    t = comp.table.set_index(["model", "graph"])
    off = t.loc[("offset_only", "none")]
    means = np.repeat(y.mean(1, keepdims=True), 68, axis=1)
    assert off["r_pooled"] == pytest.approx(np.corrcoef(y.ravel(), means.ravel())[0, 1])
    assert off["r_pooled"] > 0.95
    assert off["r2"] == 0 and off["r2_lro"] == 0 and off["r2_lomo"] == 0
    model = t.loc[("diffusion", "connectome")]
    assert model["r_pooled"] > 0.95  # pooled r: as high as offsets alone
    assert model["r2"] < 0.25 and model["r2_lro"] < 0.05  # spreading R²: nothing to explain
    assert comp.verdict["beats"] is False


def test_planted_spread_beats_offsets_out_of_sample(connectome, diffusion):
    rng = np.random.default_rng(1)
    s = list(connectome.regions).index("L_precuneus")
    y = diffusion.x[0][s, [30, 40, 50]] * np.array([[5.0], [3.0], [8.0]])
    y = y + rng.normal(0, 0.01, y.shape) + 0.5
    scored = np.ones(68, dtype=bool)
    blocks = np.eye(68, dtype=bool)[:10].copy()
    lro = leave_regions_out(diffusion, y, scored, blocks)
    assert lro["r2"] > 0.5 and lro["r2_random_epicentre"] < lro["r2"]
    lomo = leave_one_map_out(diffusion, y, scored)
    assert lomo["r2"] > 0.9 and lomo["r2_random_epicentre"] < lomo["r2"]
    assert np.isnan(leave_one_map_out(diffusion, y[:1], scored)["r2"])


@pytest.mark.slow
def test_null_kinds_are_never_pooled(connectome, diffusion):
    rng = np.random.default_rng(2)
    s = list(connectome.regions).index("R_precuneus")
    y = diffusion.x[0][s, [30, 45]] * 4 + rng.normal(0, 0.02, (2, 68))
    maps = pd.DataFrame(y, columns=connectome.regions, index=["early", "late"])
    comp = compare_group_fits(maps, connectome, models=("diffusion",), n_length=2, n_degree=3,
                              n_folds=4, random_state=0)  # fmt: skip
    row = comp.nulls.iloc[0]
    assert row["n_length"] == 2 and row["n_degree"] == 3 and "p_null" not in comp.nulls
    for kind, short in (("length-preserving", "length"), ("degree-preserving", "degree")):
        v = comp.null_r2.loc[comp.null_r2.null == kind, "r2"].to_numpy()
        assert row[f"p_{short}"] == pytest.approx((1 + (v >= row["r2"]).sum()) / (1 + len(v)))
    # simulated on the connectome: it fits better than every degree-preserving rewiring
    assert row["p_degree"] == pytest.approx(1 / 4)
    assert comp.verdict["sentence"].startswith("The connectome ")
    assert "length-preserving" in comp.verdict["sentence"]
    assert set(comp.table["graph"]) >= {"connectome", "distance-only graph",
                                         "connectome, random epicentre", "none"}  # fmt: skip


def test_null_graphs_are_seeded(connectome, diffusion):
    y = diffusion.x[0][5, [30, 45]] * 4
    maps = {"m": pd.DataFrame(y, columns=connectome.regions)}
    from crossscale.evaluate.spread_groups import null_graph_r2

    a, b, c = (null_graph_r2(maps, connectome, models=("diffusion",), n_length=1, n_degree=1,
                             random_state=s) for s in (3, 3, 4))  # fmt: skip
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["r2"], c["r2"])
