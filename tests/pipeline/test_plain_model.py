"""A plain class with only fit / predict (no scikit-learn base) through evaluation, nulls and fit_map.

This is the README's custom-estimator example: the adapter clones it by deep copy, every fold and
null refit starts from the unfitted object, and the numbers equal those of the same model written
as a scikit-learn estimator.
"""

import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from crossscale import ParameterError
from crossscale.evaluate import evaluate_models, null_distribution
from crossscale.evaluate.estimators import PlainEstimator, as_estimator
from crossscale.models import registry
from crossscale.pipeline import fit_map


class PlainRidge:
    """Ridge on standardised genes, by hand: only __init__, fit and predict."""

    def __init__(self, alpha=10.0):
        self.alpha = alpha
        self.n_fits = 0  # state a shared (not copied) object would leak between fits

    def fit(self, X, y):
        self.n_fits += 1
        self.mean_, self.sd_, self.y0_ = X.mean(), X.std(), y.mean()
        Z = ((X - self.mean_) / self.sd_).to_numpy()
        dual = np.linalg.solve(Z @ Z.T + self.alpha * np.eye(len(Z)), y.to_numpy() - self.y0_)
        self.coef_ = Z.T @ dual  # the dual form: regions < genes
        return self

    def predict(self, X):
        return ((X - self.mean_) / self.sd_).to_numpy() @ self.coef_ + self.y0_


class SkRidge(PlainRidge, BaseEstimator):
    """The same model as a scikit-learn estimator (the reference for the adapter)."""

    def __init__(self, alpha=10.0):
        super().__init__(alpha)


def test_plain_object_is_wrapped_and_cloned_by_deep_copy(synthetic):
    template = PlainRidge(alpha=3.0)
    wrapped = as_estimator(template)
    assert isinstance(wrapped, PlainEstimator) and repr(wrapped) == "PlainEstimator(PlainRidge)"
    assert as_estimator(SkRidge()) .__class__ is SkRidge  # scikit-learn estimators pass through
    from sklearn.base import clone

    a, b = clone(wrapped).fit(synthetic.X, synthetic.y), clone(wrapped).fit(synthetic.X, synthetic.y)
    assert a.estimator_ is not b.estimator_ and a.estimator_.n_fits == b.estimator_.n_fits == 1
    assert template.n_fits == 0 and not hasattr(template, "coef_")  # the user's object is untouched
    np.testing.assert_allclose(a.predict(synthetic.X), SkRidge(3.0).fit(synthetic.X, synthetic.y)
                               .predict(synthetic.X))  # fmt: skip


def test_as_estimator_errors_name_the_problem():
    with pytest.raises(ParameterError, match=r"got the class PlainRidge. Pass PlainRidge\(\)"):
        as_estimator(PlainRidge)

    class NoPredict:
        def fit(self, X, y):
            return self

    with pytest.raises(ParameterError, match="NoPredict lacks predict"):
        as_estimator(NoPredict())


def test_plain_object_gives_the_numbers_of_its_sklearn_twin(synthetic):
    X, y, g = synthetic.X, synthetic.y, synthetic.graph
    ev = evaluate_models(X, y, g, {"plain": PlainRidge(), "sk": SkRidge()}, cv=("loro", "spatial"))
    cols = ["in_sample_r2", "loro_r2", "spatial_r2", "spatial_r"]
    np.testing.assert_allclose(ev.metrics.loc["plain", cols], ev.metrics.loc["sk", cols], rtol=1e-12)
    plain = null_distribution(PlainRidge(), X, y, g, "moran", cv=4, n_perm=12, random_state=1)
    sk = null_distribution(SkRidge(), X, y, g, "moran", cv=4, n_perm=12, random_state=1)
    assert plain.model == "PlainRidge"
    for key in plain.null:
        np.testing.assert_allclose(plain.null[key], sk.null[key], rtol=1e-12)
    # the results print briefly: never the 12 (or 1,000) null values
    assert "PlainRidge: Train R² " in repr(plain) and len(repr(plain)) < 300
    assert "p = " in plain.summary() and "12 moran nulls, CV kfold4" in plain.summary()


@pytest.mark.slow
def test_null_refits_in_worker_processes_equal_in_process(synthetic):
    X, y, g = synthetic.X, synthetic.y, synthetic.graph
    serial = null_distribution(PlainRidge(), X, y, g, "moran", cv=4, n_perm=20, random_state=2)
    parallel = null_distribution(PlainRidge(), X, y, g, "moran", cv=4, n_perm=20, random_state=2,
                                 n_jobs=2)  # fmt: skip
    for key in serial.null:
        np.testing.assert_array_equal(serial.null[key], parallel.null[key])
    with pytest.raises(ParameterError, match="n_jobs must be None, a positive number"):
        null_distribution(PlainRidge(), X, y, g, "moran", n_perm=2, n_jobs=0)


class AttrsSeen(PlainRidge):
    """Records the metadata of every X and y it is fitted on (class-level: survives deep copies)."""

    seen: list = []

    def fit(self, X, y):
        AttrsSeen.seen.append((dict(X.attrs), dict(y.attrs)))
        return super().fit(X, y)


def test_models_are_fitted_on_the_data_without_its_metadata(synthetic):
    # pandas deep-copies attrs into every operation's result (the expression matrix carries its
    # provenance there): the evaluation hands models the values only, the caller's data unchanged
    from crossscale.evaluate.estimators import without_attrs

    X, y, g = synthetic.X.copy(), synthetic.y.copy(), synthetic.graph
    X.attrs = {"gene_selection": {"missing": ["G"] * 50}}
    y.attrs = {"units": "mm"}
    bare = without_attrs(X)
    assert bare.attrs == {} and np.shares_memory(bare.to_numpy(), X.to_numpy())
    AttrsSeen.seen = []
    ev = evaluate_models(X, y, g, {"r": AttrsSeen()}, cv=("spatial",))
    null_distribution(AttrsSeen(), X, y, g, "moran", cv=4, n_perm=3, random_state=0)
    assert len(AttrsSeen.seen) > 10 and all(a == ({}, {}) for a in AttrsSeen.seen)
    assert X.attrs["gene_selection"]["missing"] == ["G"] * 50 and y.attrs == {"units": "mm"}
    plain = evaluate_models(synthetic.X, synthetic.y, g, {"r": PlainRidge()}, cv=("spatial",))
    np.testing.assert_array_equal(ev.predictions.to_numpy(), plain.predictions.to_numpy())


@pytest.mark.slow
def test_registered_plain_class_through_fit_map_records_the_call(landmark_expression, ad_map,
                                                                 tmp_path):  # fmt: skip
    registry.register("plain-ridge", PlainRidge, label="PlainRidge")
    try:
        res = fit_map(ad_map, expression=landmark_expression, model="plain-ridge", cv=("loro",),
                      baselines=False, nulls="spin", n_perm=4, null_cv="4", seed=1)  # fmt: skip
    finally:
        registry.unregister("plain-ridge")
    assert res.interpretation is None and "not tagged interpretable" in str(res)
    assert repr(res).startswith("<FitResult PlainRidge on ") and "LORO R²" in repr(res)
    out = res.save(tmp_path / "run")
    run = json.loads((out / "run.json").read_text())
    assert run["command"] == (
        "crossscale.pipeline.fit_map(<Series 'ADNI2 AD atrophy', 68 regions>, "
        "expression=<DataFrame 68 x 889>, model='plain-ridge', cv=('loro',), baselines=False, "
        "nulls='spin', n_perm=4, null_cv='4', seed=1)"
    )
    assert run["parameters"]["interpret"] is False and run["parameters"]["interpret_n_perm"] is None
    assert run["model_params"] == {"estimator": "PlainRidge"}
