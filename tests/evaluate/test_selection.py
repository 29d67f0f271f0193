"""The nested-CV choice among baselines: honest (held-out values unseen) and it picks the right one."""

import numpy as np
import pandas as pd
import pytest

from crossscale._errors import ParameterError
from crossscale.evaluate import distance_blocked, out_of_fold, r2_score
from crossscale.evaluate.selection import SelectedBaseline, inner_blocks
from crossscale.models.baselines import PLSBaseline, SpatialBaseline


def test_inner_blocks_partition_only_the_given_regions(synthetic):
    g = synthetic.graph
    within = np.zeros(g.n_regions, dtype=bool)
    within[::2] = True
    m = inner_blocks(g, within, 4)
    assert m.shape == (4, g.n_regions)
    np.testing.assert_array_equal(m.sum(0), within.astype(int))  # each region of `within` once


def test_selection_picks_the_gene_model_for_a_gene_map_and_matches_it(synthetic):
    X, y, g = synthetic.X, synthetic.y, synthetic.graph
    cands = {"PLS-2": PLSBaseline(2), "Spatial": SpatialBaseline()}
    masks = distance_blocked(g, 0.25)
    sel = SelectedBaseline(candidates=cands, inner_folds=4)
    P = sel.fit_predict_folds(X, y, g, masks)
    assert P.shape == masks.shape and np.isfinite(P[masks]).all()
    # the map is made of expression programs: the gene model wins in (nearly) every fold ...
    assert sel.fold_choices_.count("PLS-2") >= 0.8 * len(masks)
    # ... and where it was chosen the held-out predictions are the gene model's own
    own = PLSBaseline(2).fit_predict_folds(X, y, g, masks)
    rows = [i for i, c in enumerate(sel.fold_choices_) if c == "PLS-2"]
    np.testing.assert_allclose(P[rows][masks[rows]], np.asarray(own)[rows][masks[rows]])
    yv = y.loc[list(g.regions)].to_numpy()
    assert r2_score(yv, out_of_fold(P, masks)) > 0.5


def test_selection_never_sees_held_out_values(synthetic):
    X, y, g = synthetic.X, synthetic.y, synthetic.graph
    cands = {"PLS-1": PLSBaseline(1), "PLS-3": PLSBaseline(3), "Spatial": SpatialBaseline()}
    for mask in distance_blocked(g, 0.25)[:3]:
        a = SelectedBaseline(candidates=cands, inner_folds=4).fit_predict_folds(X, y, g, mask[None])
        y2 = y.copy()
        y2[mask] = 1e6  # wreck the fold's held-out values
        sel = SelectedBaseline(candidates=cands, inner_folds=4)
        b = sel.fit_predict_folds(X, y2, g, mask[None])
        np.testing.assert_allclose(a[0, mask], b[0, mask])
        assert np.abs(b[0, mask]).max() < 100  # nothing of the wrecked values leaks in


def test_selection_fit_predict_and_errors(synthetic):
    X, y, g = synthetic.X, synthetic.y, synthetic.graph
    sel = SelectedBaseline(candidates={"PLS-2": PLSBaseline(2)}, inner_folds=4).fit(X, y, g)
    assert sel.chosen_ == "PLS-2"
    pd.testing.assert_series_equal(sel.predict(X), PLSBaseline(2).fit(X, y).predict(X))
    with pytest.raises(ParameterError, match="inner_folds"):
        SelectedBaseline(inner_folds=1).fit(X, y, g)
    with pytest.raises(ParameterError, match="at least one candidate"):
        SelectedBaseline(candidates={}).fit(X, y, g)
