"""The estimator contract over every registered model and baseline (as scikit-learn's check_estimator).

Clone, get/set_params round trip, the same seed gives the same numbers, save/load gives the same
predictions, and the tags (:class:`crossscale.models.tags.ModelTags`) say what the model does.
"""

import numpy as np
import pytest
from sklearn.base import clone

from crossscale import ParameterError
from crossscale.evaluate.estimators import fit_model, fit_predict_folds, predict_map, with_seed
from crossscale.evaluate.selection import comparison_models
from crossscale.models import registry
from crossscale.models.tags import ModelTags, get_tags
from crossscale.pipeline import model_params

#: Small settings per parameter name, so the contract runs in seconds on every model.
TINY = {"max_epochs": 3, "n_latent": 2, "n_hidden": 4, "n_ensemble": 1, "n_components": 3,
        "early_stopping": False, "device": "cpu", "shrinkage": "none"}  # fmt: skip


def _tiny(est):
    params = est.get_params()
    return est.set_params(**{k: v for k, v in TINY.items() if k in params})


def _estimators():
    """Every registered regional model (each preset) and every baseline, with tiny settings."""
    for name in registry.available():
        entry = registry.get(name)
        for preset in entry.presets:
            yield f"{name}:{preset}", _tiny(entry.create(preset))
    for name, est in comparison_models().items():
        yield name, est


ESTIMATORS = list(_estimators())
IDS = [name for name, _ in ESTIMATORS]
#: Fits over ~1 s (GraphVAE's default preset, the nested-CV selection) are marked slow.
SLOW = {"graphvae:default", "Best baseline (nested CV)"}
FITS = [pytest.param(n, e, id=n, marks=[pytest.mark.slow] if n in SLOW else []) for n, e in ESTIMATORS]


def _fit(est, data):
    return fit_model(est, data.X, data.y, data.graph)


def _predict(est, data):
    """In-sample prediction, or held-out predictions of 3 folds for an interpolation-only model."""
    if get_tags(est).interpolation_only:
        masks = np.zeros((3, len(data.y)), dtype=bool)
        for i in range(3):
            masks[i, i::3] = True
        return fit_predict_folds(est, data.X, data.y, data.graph, masks)
    return predict_map(est, data.X).to_numpy()


@pytest.mark.parametrize(("name", "est"), ESTIMATORS, ids=IDS)
def test_clone_and_params_round_trip(name, est):
    params = est.get_params()
    twin = clone(est)
    assert type(twin) is type(est) and twin is not est
    assert twin.get_params() == params
    assert est.set_params(**params) is est and est.get_params() == params
    # __init__ stores parameters only: a constructor call with the parameters is the same
    assert type(est)(**params).get_params() == params


@pytest.mark.parametrize(("name", "est"), FITS)
def test_same_seed_same_numbers_and_tags_honoured(name, est, synthetic, tmp_path):
    tags = get_tags(est)
    assert isinstance(tags, ModelTags)
    seeded = "random_state" in est.get_params()
    assert seeded or not tags.stochastic, "a stochastic model must take random_state"
    a = _predict(_fit(with_seed(est, 3), synthetic), synthetic)
    b = _predict(_fit(with_seed(est, 3), synthetic), synthetic)
    np.testing.assert_array_equal(a, b)  # same seed, same numbers
    assert np.isfinite(a).all()
    if tags.stochastic:  # the seed is used: another seed gives other numbers
        c = _predict(_fit(with_seed(est, 4), synthetic), synthetic)
        assert not np.allclose(a, c)
    fitted = _fit(with_seed(est, 3), synthetic)
    if tags.requires_graph:  # fit needs the graph: refused without it
        with pytest.raises((TypeError, ParameterError, ValueError, AttributeError)):
            clone(est).fit(synthetic.X, synthetic.y)
    if tags.latent_programs:
        Z = fitted.transform(synthetic.X)
        assert Z.shape[0] == len(synthetic.X) and list(Z.columns)[0] == "z0"
    if tags.stacked_refits:  # fit_many of one map equals fit
        assert callable(fitted.fit_many)
    if tags.saveable:  # save / load through the registry entry: the same predictions
        fitted.save(tmp_path / "m")
        loaded = registry.entry_of(fitted).load(tmp_path / "m")
        np.testing.assert_allclose(predict_map(loaded, synthetic.X), a, rtol=1e-6, atol=1e-9)
    else:
        assert not callable(getattr(fitted, "save", None)), "has save but is not tagged saveable"


def test_tags_are_one_dataclass():
    from crossscale.models.baselines import SpatialBaseline

    assert get_tags(object()) == ModelTags()  # a plain regressor: every tag off
    spatial = get_tags(SpatialBaseline())
    assert spatial.requires_graph and spatial.accepts_graph and spatial.interpolation_only
    assert ModelTags(requires_graph=True).accepts_graph  # requiring implies accepting
    assert get_tags(registry.get("graphvae").create()).to_dict() == {
        "accepts_graph": True, "requires_graph": True, "interpolation_only": False,
        "fold_predictions": True, "stacked_refits": True, "latent_programs": True, "interpretable": True, "saveable": True,
        "stochastic": True,
    }  # fmt: skip

    class Bad:
        def __crossscale_tags__(self):
            return {"requires_graph": True}

    with pytest.raises(TypeError, match="must return a ModelTags; got dict"):
        get_tags(Bad())


def test_spread_estimator_follows_the_contract():
    from crossscale.models.spread import SpreadMixtureVAE

    est = SpreadMixtureVAE(2, max_epochs=3, random_state=1)
    params = est.get_params()
    assert clone(est).get_params() == params and type(est)(**params).get_params() == params
    tags = get_tags(est)
    assert tags.stochastic and tags.saveable and tags.accepts_graph and not tags.interpretable


def test_graphvae_is_registered_and_lazy():
    entry = registry.get("GraphVAE")  # case-insensitive
    assert entry.name == registry.DEFAULT_MODEL == "graphvae" and entry.label == "GraphVAE"
    assert set(entry.presets) == {"default", "reference"} and entry.tags.interpretable
    ref = entry.create("reference", random_state=1)
    assert ref.encoder == "gcn" and ref.early_stopping and ref.random_state == 1


def test_param_values_are_parsed_by_type():
    got = registry.parse_params(["a=4", "b=0.5", "c=true", "d=False", "e=none", "f=gcn", "g=1e-3",
                                 "h= relu "])  # fmt: skip
    assert got == {"a": 4, "b": 0.5, "c": True, "d": False, "e": None, "f": "gcn", "g": 0.001,
                   "h": "relu"}  # fmt: skip
    assert type(got["a"]) is int and type(got["c"]) is bool and registry.parse_params(None) == {}
    with pytest.raises(ParameterError, match="--param must be KEY=VALUE.*got 'n_latent'"):
        registry.parse_params(["n_latent"])
    with pytest.raises(ParameterError, match="--param a is given twice"):
        registry.parse_params(["a=1", "a=2"])


def test_unknown_parameter_lists_the_valid_ones():
    with pytest.raises(ParameterError, match=r"no parameter\(s\) 'n_latnet'; valid .*n_latent"):
        registry.get("graphvae").create(n_latnet=4)
    params = model_params("graphvae", "default", ["n_latent=3"], seed=7, device="cpu",
                          aliases={"max_epochs": 5, "n_ensemble": None})  # fmt: skip
    assert params == {"n_latent": 3, "max_epochs": 5, "random_state": 7, "device": "cpu"}
    with pytest.raises(ParameterError, match="'n_latent' must be an integer >= 1; got 0"):
        model_params("graphvae", "default", ["n_latent=0"], seed=0, device="cpu")
