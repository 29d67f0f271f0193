"""What evaluation needs from an estimator: capability tags and the fit / predict / fold calls.

Every evaluation (:func:`~crossscale.evaluate.evaluate_models`, null refits) goes through these
functions, so any scikit-learn style regressor works without an edit here:

- ``fit(X, y, graph)`` is called when the estimator is tagged ``accepts_graph``, else
  ``fit(X, y)``;
- ``predict(X)`` may return a ``pandas.Series`` (indexed by region) or an array;
- ``fit_predict_folds(X, y, graph, test_masks, protocol=...)`` is used when the estimator is
  tagged ``fold_predictions`` (GraphVAE and the baselines: faster, protocol-aware); otherwise each fold is a clone fitted on
  the fold's training regions (inductive by construction: the estimator sees no held-out row).

Capabilities are one tags dataclass, :class:`crossscale.models.tags.ModelTags` (as
scikit-learn's ``__sklearn_tags__``), returned by the estimator's ``__crossscale_tags__()`` and
read with :func:`~crossscale.models.tags.get_tags` (or :func:`get_tag` for one field).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from crossscale.atlas.graph import RegionGraph
from crossscale.models.tags import ModelTags, get_tags

__all__ = [
    "PlainEstimator",
    "as_estimator",
    "fit_model",
    "fit_predict_folds",
    "get_tag",
    "in_sample_prediction",
    "predict_map",
    "with_seed",
]


def get_tag(estimator: Any, name: str) -> bool:
    """The field `name` of the :class:`~crossscale.models.tags.ModelTags` of `estimator`."""
    return bool(getattr(get_tags(estimator), name))


def without_attrs(data: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """`data` without its metadata (``attrs``), as a shallow copy (the values are not copied).

    pandas deep-copies ``attrs`` into the result of every operation; the expression matrix
    carries its provenance there (dropped regions, the gene selection), so a model fitted
    thousands of times (null refits, cross-validation folds) spent ~10% of its time copying it.
    The fits never read it.
    """
    if not data.attrs:
        return data
    out = data.copy(deep=False)
    out.attrs = {}
    return out


def fit_model(estimator: Any, X: pd.DataFrame, y: pd.Series, graph: RegionGraph | None) -> Any:
    """``estimator.fit(X, y, graph)`` or ``estimator.fit(X, y)``; returns the fitted estimator."""
    if graph is not None and get_tags(estimator).accepts_graph:
        out = estimator.fit(X, y, graph)
    else:
        out = estimator.fit(X, y)
    return estimator if out is None else out


def predict_map(model: Any, X: pd.DataFrame) -> pd.Series:
    """``model.predict(X)`` as a Series indexed like `X`."""
    pred = model.predict(X)
    if isinstance(pred, pd.Series):
        return pred
    return pd.Series(np.ravel(np.asarray(pred, dtype=float)), index=X.index, name="predicted")


def in_sample_prediction(model: Any, X: pd.DataFrame, regions: list[str]) -> np.ndarray | None:
    """The fitted `model`'s prediction of `regions` (None for an interpolation-only model)."""
    if get_tag(model, "interpolation_only"):
        return None
    return predict_map(model, X).loc[regions].to_numpy(dtype=float)


def with_seed(estimator: Any, seed: int) -> Any:
    """A clone of `estimator` with ``random_state=seed`` (when it has that parameter)."""
    model = clone(estimator)
    if "random_state" in model.get_params():
        model.set_params(random_state=int(seed))
    return model


def fit_predict_folds(
    estimator: Any,
    X: pd.DataFrame,
    y: pd.Series,
    graph: RegionGraph,
    test_masks: np.ndarray,
    *,
    protocol: str | None = None,
) -> np.ndarray:
    """Held-out predictions of every fold, shape (n_folds, n_regions) in ``graph.regions`` order.

    Uses the estimator's own ``fit_predict_folds`` when tagged ``fold_predictions`` (with
    `protocol` when given);
    otherwise fits a clone on each fold's training regions and predicts every region.
    """
    masks = np.asarray(test_masks, dtype=bool)
    if get_tags(estimator).fold_predictions:
        kw = {} if protocol is None else {"protocol": protocol}
        P = np.asarray(estimator.fit_predict_folds(X, y, graph, masks, **kw), dtype=float)
        return P.reshape(len(masks), -1)  # estimators may return (1, n_folds, n_regions)
    regions = list(graph.regions)
    Xr, yr = X.loc[regions], y.loc[regions].astype(float)
    out = np.empty(masks.shape, dtype=float)
    for i, test in enumerate(masks):
        model = fit_model(clone(estimator), Xr.loc[~test], yr.loc[~test], None)
        out[i] = predict_map(model, Xr).to_numpy(dtype=float)
    return out


# -- plain objects with only fit / predict ------------------------------------------------------
class PlainEstimator(BaseEstimator):
    """Adapter giving a plain object with only ``fit`` / ``predict`` scikit-learn semantics.

    Evaluation clones an estimator for every fold and null refit (``sklearn.base.clone``, which
    needs ``get_params``). An object without ``get_params`` is wrapped in this adapter by
    :func:`as_estimator`: cloning the adapter deep-copies the *unfitted* object given
    (``copy.deepcopy``), so every fit starts from the same state, whatever the object's
    ``__init__`` takes. Its ``fit`` takes ``(X, y)``, or ``(X, y, graph)`` when it declares
    ``ModelTags(accepts_graph=True)`` (:mod:`crossscale.models.tags`), and may return
    ``self`` or None; ``predict(X)`` may return an array or a Series.

    Parameters
    ----------
    estimator : object
        Unfitted; ``fit(X, y[, graph])`` and ``predict(X)``. Not modified: fits use a copy.

    Attributes
    ----------
    estimator_ : object
        The fitted copy.

    Notes
    -----
    The adapter cannot seed the object (it has no ``random_state`` parameter to set): a
    stochastic plain estimator gives the same null maps and folds but its own randomness per
    refit. Give it ``get_params`` / ``set_params`` (e.g. subclass
    ``sklearn.base.BaseEstimator``) for seeded refits.
    """

    def __init__(self, estimator: Any = None) -> None:
        self.estimator = estimator

    def fit(self, X: pd.DataFrame, y: pd.Series, graph: RegionGraph | None = None) -> PlainEstimator:
        """Fit a deep copy of `estimator`; returns self.

        Raises
        ------
        ParameterError
            `estimator` has no ``fit`` or ``predict`` method.
        """
        import copy

        as_estimator(self.estimator)  # the same checks and messages
        self.estimator_ = fit_model(copy.deepcopy(self.estimator), X, y, graph)
        return self

    def predict(self, X: pd.DataFrame) -> Any:
        """``predict`` of the fitted copy."""
        return self.estimator_.predict(X)

    def __sklearn_clone__(self) -> PlainEstimator:
        import copy

        return PlainEstimator(copy.deepcopy(self.estimator))

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:  # noqa: N803 - scikit-learn's signature
        return f"PlainEstimator({type(self.estimator).__name__})"

    def __crossscale_tags__(self) -> ModelTags:
        """The tags of the wrapped object; not stochastic (the adapter cannot seed it)."""
        return get_tags(self.estimator).replace(stacked_refits=False, stochastic=False,
                                                saveable=False, fold_predictions=False)  # fmt: skip


def as_estimator(model: Any) -> Any:
    """`model` itself if it has scikit-learn's ``get_params``, else :class:`PlainEstimator` of it.

    Raises
    ------
    ParameterError
        `model` has no ``fit`` or no ``predict`` method.
    """
    from crossscale._errors import ParameterError

    if isinstance(model, type):
        raise ParameterError(
            f"A model must be an estimator instance; got the class {model.__name__}. Pass "
            f"{model.__name__}() instead."
        )
    if not (callable(getattr(model, "fit", None)) and callable(getattr(model, "predict", None))):
        raise ParameterError(
            f"A model needs fit(X, y) and predict(X) methods; {type(model).__name__} lacks "
            f"{'fit' if not callable(getattr(model, 'fit', None)) else 'predict'}."
        )
    if callable(getattr(model, "get_params", None)) and callable(getattr(model, "set_params", None)):
        return model
    return PlainEstimator(model)


def model_name(model: Any) -> str:
    """The class name of a model (of the wrapped object for a :class:`PlainEstimator`)."""
    inner = model.estimator if isinstance(model, PlainEstimator) else model
    return type(inner).__name__


def json_params(model: Any) -> dict[str, Any]:
    """``get_params(deep=False)`` with values JSON cannot hold written as their ``repr``."""
    import json

    out = {}
    for k, v in model.get_params(deep=False).items():
        try:
            json.dumps(v, allow_nan=True)
            out[k] = v
        except (TypeError, ValueError):
            out[k] = repr(v) if not isinstance(model, PlainEstimator) else type(v).__name__
    return out
