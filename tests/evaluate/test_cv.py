import numpy as np
import pandas as pd

from crossscale.atlas import DK_REGIONS
from crossscale.evaluate import (
    distance_blocked,
    evaluate_models,
    out_of_fold,
    pearson_r,
    r2_score,
)
from crossscale.models.baselines import RidgeBaseline, SpatialBaseline


def test_distance_blocked_folds(surface_graph):
    masks = distance_blocked(surface_graph, 0.25)
    assert masks.shape == (68, 68)
    assert (masks.sum(1) == 9).all()  # ceil(0.25 * 34)
    hemi = surface_graph.hemisphere
    for seed, m in enumerate(masks):
        assert m[seed] and (hemi[m] == hemi[seed]).all()
    d = surface_graph.distances()
    # held-out regions are the nearest ones: every held-out region is closer than every kept one
    for seed, m in enumerate(masks):
        same = hemi == hemi[seed]
        assert d[seed, m].max() <= d[seed, same & ~m].min()


def test_metrics_and_out_of_fold():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(4, y.mean())) == 0.0
    assert pearson_r(y, 2 * y + 1) == 1.0
    P = np.array([[10, 2, 0, 0], [0, 4, 0, 0]], float)
    masks = np.array([[True, True, False, False], [False, True, False, False]])
    oof = out_of_fold(P, masks)
    assert oof[0] == 10 and oof[1] == 3 and np.isnan(oof[2])


def test_evaluate_models_table(surface_graph):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.normal(size=(68, 20)),
        index=pd.Index(DK_REGIONS, name="region"),
        columns=[f"G{i}" for i in range(20)],
    )
    y = X["G0"] + 0.1 * pd.Series(rng.normal(size=68), index=X.index)
    ev = evaluate_models(
        X, y, surface_graph, {"Ridge": RidgeBaseline(), "Spatial": SpatialBaseline()}
    )
    assert ev.metrics.loc["Ridge", "loro_r2"] > 0.8
    assert np.isnan(ev.metrics.loc["Spatial", "in_sample_r2"])
    assert {"observed", "Ridge|in_sample", "Ridge|loro", "Ridge|spatial", "Spatial|loro"} <= set(
        ev.predictions.columns
    )
    assert set(ev.to_dict()["Ridge"]) >= {"loro_r", "spatial_r", "fit_time_s"}
