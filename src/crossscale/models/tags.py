"""What a model can do: one tags dataclass, as scikit-learn's ``__sklearn_tags__``.

A model declares its capabilities by returning :class:`ModelTags` from a
``__crossscale_tags__()`` method; evaluation, null refits, the fit pipeline, the report and
the registry read them with :func:`get_tags` and nothing else (no ``hasattr`` probing, no
reading of ``fit``'s signature). A model without the method gets the defaults: a plain
scikit-learn regressor ``fit(X, y)`` / ``predict(X)``.

Example::

    class MyModel(BaseEstimator):
        def __crossscale_tags__(self) -> ModelTags:
            return ModelTags(accepts_graph=True, stochastic=True)
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = ["ModelTags", "get_tags"]


@dataclass(frozen=True)
class ModelTags:
    """Capabilities of a regional model (every field False unless the model says so).

    Attributes
    ----------
    accepts_graph : bool
        ``fit(X, y, graph)`` takes the :class:`~crossscale.atlas.RegionGraph` as third argument
        (otherwise ``fit(X, y)`` is called).
    requires_graph : bool
        ``fit`` cannot run without the graph (implies `accepts_graph`).
    interpolation_only : bool
        No in-sample fit: the model only predicts held-out regions (the spatial baseline); no
        in-sample metrics are reported for it.
    fold_predictions : bool
        ``fit_predict_folds(X, y, graph, test_masks, protocol=...)`` returns the held-out
        predictions of every fold, shape (n_folds, n_regions), faster than one clone per fold.
    stacked_refits : bool
        ``fit_many(X, Y, graph)`` and a multi-map ``fit_predict_folds`` train many maps as one
        stacked program (null refits batch them).
    latent_programs : bool
        ``transform(X)`` returns latent programs (columns ``z0`` …), summarised for
        distinctness and stability (needs `stacked_refits` for the seed refits).
    interpretable : bool
        :func:`crossscale.interpret.interpret_model` can interpret the fitted model.
    saveable : bool
        ``save(path)`` writes the fitted model and the registry entry's loader reads it.
    stochastic : bool
        The fit draws random numbers: ``random_state`` fixes them (the same seed gives the same
        numbers).
    """

    accepts_graph: bool = False
    requires_graph: bool = False
    interpolation_only: bool = False
    fold_predictions: bool = False
    stacked_refits: bool = False
    latent_programs: bool = False
    interpretable: bool = False
    saveable: bool = False
    stochastic: bool = False

    def __post_init__(self) -> None:
        if self.requires_graph and not self.accepts_graph:
            object.__setattr__(self, "accepts_graph", True)

    def to_dict(self) -> dict[str, bool]:
        """The tags as a plain dict (run.json, listings)."""
        return {f.name: bool(getattr(self, f.name)) for f in fields(self)}

    def replace(self, **changes: bool) -> ModelTags:
        """A copy with `changes` (as :func:`dataclasses.replace`)."""
        return replace(self, **changes)


def get_tags(estimator: Any) -> ModelTags:
    """The :class:`ModelTags` of the estimator instance `estimator` (defaults if it declares none).

    Raises
    ------
    TypeError
        ``__crossscale_tags__()`` returned something other than :class:`ModelTags`.
    """
    method = getattr(estimator, "__crossscale_tags__", None)
    if method is None:
        return ModelTags()
    tags = method()
    if not isinstance(tags, ModelTags):
        raise TypeError(
            f"{type(estimator).__name__}.__crossscale_tags__() must return a ModelTags; got "
            f"{type(tags).__name__}."
        )
    return tags
