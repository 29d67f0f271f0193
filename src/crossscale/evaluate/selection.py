"""The baseline a user could actually run: one of several, chosen by inner cross-validation.

"The best baseline" of a map, read off a results table, is chosen on the evaluation folds
themselves: an oracle no single model is offered, and biased upwards by the choice. The
:class:`SelectedBaseline` makes that choice honestly (nested cross-validation): for every outer
fold, each candidate is scored by spatial k-fold CV on that fold's training regions only
(contiguous k-means blocks), and the winner alone predicts the held-out regions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from crossscale._errors import ModelStateError, ParameterError
from crossscale.atlas.graph import RegionGraph
from crossscale.evaluate.cv import out_of_fold
from crossscale.evaluate.estimators import fit_model, fit_predict_folds
from crossscale.evaluate.metrics import SELECTED_BASELINE, r2_score
from crossscale.models.tags import ModelTags

__all__ = ["SELECTED_BASELINE", "SelectedBaseline", "comparison_models", "inner_blocks"]


def inner_blocks(graph: RegionGraph, within: np.ndarray, n_folds: int, *, random_state: int = 0) -> np.ndarray:
    """Contiguous blocks of the regions in `within` (k-means of their centroids), as test masks.

    Parameters
    ----------
    graph : RegionGraph
        Supplies the centroids (mm).
    within : numpy.ndarray of bool, shape (n_regions,)
        The regions to split (e.g. one outer fold's training regions).
    n_folds : int
        Number of blocks (at most the number of regions in `within`).
    random_state : int
        Seed of k-means.

    Returns
    -------
    test_masks : numpy.ndarray of bool, shape (n_folds, n_regions)
        A partition of `within`; regions outside it are in no block.
    """
    from sklearn.cluster import KMeans

    idx = np.flatnonzero(within)
    k = min(int(n_folds), len(idx))
    xyz = np.asarray(graph.coords, dtype=float)[idx]
    labels = KMeans(n_clusters=k, n_init=4, random_state=random_state).fit_predict(xyz)
    masks = np.zeros((k, len(within)), dtype=bool)
    for c in range(k):
        masks[c, idx[labels == c]] = True
    return masks


class SelectedBaseline(BaseEstimator):
    """Nested-CV choice among baselines: per outer fold, the one with the best inner spatial CV.

    For each outer fold, every candidate is cross-validated on that fold's training regions only
    (`inner_folds` contiguous k-means blocks; R² of its out-of-fold predictions there) and the
    candidate with the highest inner R² predicts the fold's held-out regions. The held-out
    regions' map values play no part in the choice. It reports no in-sample fit (it is a
    selection procedure, tagged ``interpolation_only``).

    Parameters
    ----------
    candidates : dict of str to estimator, optional
        Default: :func:`crossscale.models.baselines.default_baselines` (PLS 1-5, ridge,
        spatial-only).
    inner_folds : int, default 5
    random_state : int, default 0
        Seed of the k-means blocks.

    Attributes
    ----------
    chosen_ : str
        After :meth:`fit`: the candidate chosen on all regions.
    fold_choices_ : list of str
        After :meth:`fit_predict_folds`: the candidate chosen in each outer fold.

    References
    ----------
    .. [1] Varma S., Simon R. (2006). Bias in error estimation when using cross-validation for
       model selection. BMC Bioinformatics 7, 91.
    """

    def __crossscale_tags__(self) -> ModelTags:
        """Held-out predictions only (see :mod:`crossscale.models.tags`)."""
        return ModelTags(requires_graph=True, interpolation_only=True, fold_predictions=True)

    def __init__(self, candidates: dict[str, Any] | None = None, inner_folds: int = 5,
                 random_state: int = 0) -> None:  # fmt: skip
        self.candidates = candidates
        self.inner_folds = inner_folds
        self.random_state = random_state

    def _candidates(self) -> dict[str, Any]:
        if self.candidates is None:
            from crossscale.models.baselines import default_baselines

            return default_baselines()
        if not self.candidates:
            raise ParameterError("SelectedBaseline needs at least one candidate.")
        return dict(self.candidates)

    def _scores(self, X: pd.DataFrame, y: pd.Series, graph: RegionGraph, outer_train: np.ndarray
                ) -> tuple[list[str], np.ndarray]:  # fmt: skip
        """Inner-CV R² of every candidate (rows) in every outer training set (columns)."""
        if not (isinstance(self.inner_folds, (int, np.integer)) and self.inner_folds >= 2):
            raise ParameterError(f"inner_folds must be an integer >= 2; got {self.inner_folds!r}.")
        cands = self._candidates()
        inner = [inner_blocks(graph, t, self.inner_folds, random_state=self.random_state)
                 for t in outer_train]  # fmt: skip
        flat = np.concatenate(inner)
        owner = np.repeat(np.arange(len(outer_train)), [len(m) for m in inner])
        # an inner model trains on outer-train minus inner-test: held out = the union
        held_out = flat | ~outer_train[owner]
        yv = y.loc[list(graph.regions)].to_numpy(dtype=float)
        scores = np.full((len(cands), len(outer_train)), -np.inf)
        for c, est in enumerate(cands.values()):
            P = np.asarray(fit_predict_folds(clone(est), X, y, graph, held_out)).reshape(len(flat), -1)
            for f, tr in enumerate(outer_train):
                rows = owner == f
                score = r2_score(yv[tr], out_of_fold(P[rows], flat[rows])[tr])
                scores[c, f] = score if np.isfinite(score) else -np.inf
        return list(cands), scores

    def fit(self, X: pd.DataFrame, y: pd.Series, graph: RegionGraph) -> SelectedBaseline:
        """Choose a candidate by inner CV on all regions and fit it on all regions."""
        names, scores = self._scores(X, y, graph, np.ones((1, graph.n_regions), dtype=bool))
        self.chosen_ = names[int(np.argmax(scores[:, 0]))]
        self.model_ = fit_model(clone(self._candidates()[self.chosen_]), X, y, graph)
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """The chosen candidate's prediction."""
        if not hasattr(self, "model_"):
            raise ModelStateError("SelectedBaseline is not fitted yet; call fit first.")
        return self.model_.predict(X)

    def fit_predict_folds(self, X: pd.DataFrame, y: pd.Series, graph: RegionGraph,
                          test_masks: np.ndarray, *, protocol: str = "inductive") -> np.ndarray:  # fmt: skip
        """Held-out predictions of the candidate chosen per fold, shape (n_folds, n_regions).

        Each candidate's own ``fit_predict_folds`` (and `protocol`) is used for both the inner
        and the outer fits.
        """
        masks = np.asarray(test_masks, dtype=bool)
        names, scores = self._scores(X, y, graph, ~masks)
        choice = scores.argmax(0)
        cands = self._candidates()
        out = np.full(masks.shape, np.nan)
        for c in np.unique(choice):
            rows = np.flatnonzero(choice == c)
            P = np.asarray(fit_predict_folds(clone(cands[names[c]]), X, y, graph, masks[rows],
                                             protocol=protocol)).reshape(len(rows), -1)  # fmt: skip
            out[rows] = P
        self.fold_choices_ = [names[c] for c in choice]
        return out


def comparison_models() -> dict[str, Any]:
    """The baselines every evaluation reports, and the nested-CV choice among them (last)."""
    from crossscale.models.baselines import default_baselines

    return default_baselines() | {SELECTED_BASELINE: SelectedBaseline()}
