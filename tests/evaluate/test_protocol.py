"""The inductive protocol: a held-out region's expression reaches no other region's prediction."""

import numpy as np
import pytest

from crossscale.evaluate import evaluate_models
from crossscale.models.baselines import PLSBaseline, RidgeBaseline, SpatialBaseline
from crossscale.models.graphvae import GraphVAE

FAST = dict(n_latent=4, n_hidden=16, max_epochs=30, random_state=0)
MODELS = {
    "GraphVAE": lambda: GraphVAE(**FAST, shrinkage="none"),
    "GraphVAE (fixed blend with ridge and the mean)": lambda: GraphVAE(**FAST),
    "GraphVAE (nested blend with ridge and the mean)": lambda: GraphVAE(**FAST, shrinkage="auto"),
    "GraphVAE (reference: GCN encoder)": lambda: GraphVAE.reference(
        **FAST, min_epochs=10, patience=10
    ),
    "GraphVAE (graphconv, smoothness)": lambda: GraphVAE(**FAST, encoder="graphconv", smoothness=0.1),
    "PLS-2": lambda: PLSBaseline(2),
    "Ridge": lambda: RidgeBaseline(),
    "Spatial": lambda: SpatialBaseline(),
}


@pytest.fixture(scope="module")
def data(landmark_expression, ad_map, surface_graph):
    X = landmark_expression.iloc[:, :150]
    g = surface_graph
    a, b = int(g.edges[5, 0]), int(g.edges[5, 1])  # two neighbouring regions, held out together
    masks = np.zeros((2, g.n_regions), dtype=bool)
    masks[0, [a, b]] = True
    masks[1, 30:36] = True
    X2 = X.copy()
    X2.iloc[a] = X2.iloc[a] * 3.0 + 1.0  # alter one held-out region's expression
    return X, X2, ad_map, g, masks, a


@pytest.mark.parametrize("name", list(MODELS))
def test_inductive_predictions_ignore_other_held_out_expression(data, name):
    X, X2, y, g, masks, a = data
    p1 = np.asarray(MODELS[name]().fit_predict_folds(X, y, g, masks)).reshape(2, -1)
    p2 = np.asarray(MODELS[name]().fit_predict_folds(X2, y, g, masks)).reshape(2, -1)
    others = np.arange(g.n_regions) != a
    # fold 0 holds region a out: every other region's prediction is unchanged
    np.testing.assert_allclose(p1[0, others], p2[0, others], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["GraphVAE", "GraphVAE (reference: GCN encoder)", "Ridge"])
@pytest.mark.slow
def test_transductive_protocol_does_use_held_out_expression(data, name):
    """The check above can fail: under the transductive protocol the same change moves them."""
    X, X2, y, g, masks, a = data
    kw = {"protocol": "transductive"}
    p1 = np.asarray(MODELS[name]().fit_predict_folds(X, y, g, masks, **kw)).reshape(2, -1)
    p2 = np.asarray(MODELS[name]().fit_predict_folds(X2, y, g, masks, **kw)).reshape(2, -1)
    others = np.arange(g.n_regions) != a
    assert np.abs(p1[0, others] - p2[0, others]).max() > 1e-3


def test_evaluation_records_its_protocol(data):
    X, _, y, g, _, _ = data
    ev = evaluate_models(X, y, g, {"Ridge": RidgeBaseline()}, cv=("loro",), protocol="transductive")
    assert ev.protocol == "transductive"
    with pytest.raises(Exception, match="protocol must be one of"):
        evaluate_models(X, y, g, {"Ridge": RidgeBaseline()}, cv=("loro",), protocol="both")
