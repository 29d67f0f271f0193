"""The methods text describes the model that was fitted, not a fixed story."""

from crossscale.models.graphvae import GraphVAE
from crossscale.report._fit_methods import model_methods
from crossscale.report.methods import Bibliography


def _text(**params):
    p = GraphVAE(**params).get_params()
    return model_methods({"model_class": "GraphVAE", "model_params": p, "model": "graphvae"},
                         Bibliography())  # fmt: skip


def test_methods_text_changes_with_smoothness_and_encoder():
    default = _text()
    assert default.startswith("The graph-regularised VAE") and "λ = 0.1" in default
    no_graph = _text(smoothness=0.0)
    assert "graph-regularised" not in no_graph and "without any graph term" in no_graph
    assert "Σ<sub>edges</sub>" not in no_graph
    gcn = _text(smoothness=0.0, encoder="gcn")
    assert "graph convolutions" in gcn and "graph-regularised" not in gcn
    assert "without its smoothness penalty" in gcn
    assert "λ = 0.5" in _text(smoothness=0.5)


def test_methods_text_names_the_expression_decoder_only_when_on():
    assert "α = 3" in _text() and "standardised gene expression" in _text()
    off = _text(expression_weight=0.0)
    assert "α =" not in off and "standardised gene expression" not in off


def test_methods_text_states_the_blend_that_was_used():
    fixed = _text(shrinkage="fixed", blend_weights=(0.3, 0.6))
    assert "(a, b) = (0.3, 0.6)" in fixed and "ridge regression" in fixed and "s ∈" not in fixed
    scaled = _text(shrinkage="scaled", blend_weights=(0.4, 0.5))
    assert "s (0.4, 0.5)" in scaled and "training regions only" in scaled
    assert "a + b ≤ 1 chosen for every fold" in _text(shrinkage="auto")
    assert "ŷ<sub>ridge</sub>" not in _text(shrinkage="none")
    stack = _text(shrinkage="stack")
    assert "between (0.8, 0.2) and (0.3, 0.6) by a 10-fold cross-validation" in stack
    assert "(a, b) = (0.3, 0.6)" not in stack
    assert "mean of 3 independently initialised members" in _text(shrinkage="stack", n_ensemble=3)
    assert "where the network-led blend was chosen" in stack  # spatial_residual="auto"
    assert "kriging" not in _text(shrinkage="fixed") and "kriging" not in _text(spatial_residual=False)
    assert "added to each held-out region (regression kriging)" in _text(spatial_residual=True, shrinkage="none")
