"""Baselines measured in the same run as every model: PLS, ridge, and a spatial-only predictor.

All follow the estimator contract ``fit(X, y, graph=None) -> self`` and ``predict(X) -> Series``;
``fit_predict_folds`` gives held-out predictions for many folds at once.

References
----------
.. [1] Wold S., Sjöström M., Eriksson L. (2001). PLS-regression: a basic tool of chemometrics.
   Chemometr Intell Lab Syst 58, 109-130.
.. [2] Martins D. et al. (2021). Imaging transcriptomics. Cell Reports 37, 110173 (PLS on AHBA).
.. [3] Hoerl A.E., Kennard R.W. (1970). Ridge regression. Technometrics 12, 55-67.
.. [4] Zhu X., Ghahramani Z., Lafferty J. (2003). Semi-supervised learning using Gaussian fields
   and harmonic functions. ICML (harmonic interpolation on a graph).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from crossscale._errors import ModelStateError, ParameterError
from crossscale.atlas.graph import RegionGraph
from crossscale.models._validation import align, check_expression
from crossscale.models.tags import ModelTags


class _GeneBaseline(BaseEstimator):
    """Shared plumbing of the expression-based baselines."""

    def __crossscale_tags__(self) -> ModelTags:
        """``fit(X, y, graph)`` aligns on the graph's regions (see :mod:`crossscale.models.tags`)."""
        return ModelTags(accepts_graph=True, fold_predictions=True)

    def _make(self, scale: bool = True):  # noqa: ANN202
        raise NotImplementedError

    def fit(self, X: pd.DataFrame, y: pd.Series, graph: RegionGraph | None = None) -> _GeneBaseline:
        """Fit on regional expression `X` (n_regions, n_genes) and map `y` (n_regions,)."""
        if graph is not None:
            X, y = align(X, y, graph)
        else:
            check_expression(X)
            y = y.loc[X.index]
        from crossscale._threads import single_thread

        t0 = time.perf_counter()
        with single_thread(torch_too=False):
            self.model_ = self._make().fit(X.to_numpy(dtype=float), y.to_numpy(dtype=float))
        self.genes_ = pd.Index(X.columns)
        self.regions_ = pd.Index(X.index, name="region")
        self.fit_time_s_ = time.perf_counter() - t0
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Predicted map, shape (n_regions,)."""
        if not hasattr(self, "model_"):
            raise ModelStateError(f"This {type(self).__name__} is not fitted yet; call fit first.")
        pred = np.ravel(self.model_.predict(X.loc[:, self.genes_].to_numpy(dtype=float)))
        return pd.Series(pred, index=X.index, name="predicted")

    def fit_predict_folds(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        graph: RegionGraph,
        test_masks: np.ndarray,
        *,
        protocol: str = "inductive",
    ) -> np.ndarray:
        """Refit on each fold's training regions; predict every region.

        Parameters
        ----------
        X, y, graph
            As in :meth:`fit`.
        test_masks : numpy.ndarray of bool, shape (n_folds, n_regions)
            Regions held out in each fold.
        protocol : {"inductive", "transductive"}, default "inductive"
            Inductive: gene standardisation is learned from each fold's training regions.
            Transductive: genes are standardised over all regions (targets stay hidden).

        Returns
        -------
        predictions : numpy.ndarray, shape (n_folds, n_regions)
        """
        if protocol not in ("inductive", "transductive"):
            raise ParameterError(f"protocol must be 'inductive' or 'transductive'; got {protocol!r}.")
        X, y = align(X, y, graph)
        Xv, yv = X.to_numpy(dtype=float), y.to_numpy(dtype=float)
        transductive = protocol == "transductive"
        if transductive:
            sd = Xv.std(0)
            Xv = (Xv - Xv.mean(0)) / np.where(sd > 0, sd, 1.0)
        from crossscale._threads import single_thread

        with single_thread(torch_too=False):  # small matrices: one BLAS thread is faster
            return self._fold_predictions(Xv, yv, np.asarray(test_masks, dtype=bool), not transductive)

    def _fold_predictions(self, Xv: np.ndarray, yv: np.ndarray, masks: np.ndarray, scale: bool) -> np.ndarray:
        """One model per row of `masks`, fitted on the other regions, predicting all of them."""
        out = np.empty(masks.shape, dtype=float)
        for i, test in enumerate(masks):
            out[i] = np.ravel(self._make(scale=scale).fit(Xv[~test], yv[~test]).predict(Xv))
        return out


#: Components fitted per fold by ``PLSBaseline.fit_predict_folds`` (at least n_components):
#: the first k components of a PLS fit with more are the k-component fit (NIPALS deflates one
#: component at a time), so PLS-1 to PLS-5 on the same folds share one fit per fold.
PLS_PATH_COMPONENTS = 5
_PLS_PATHS: OrderedDict[bytes, np.ndarray] = OrderedDict()  # the last few paths, by input digest
_PLS_PATHS_KEPT = 4
_PLS_PATHS_LOCK = threading.Lock()  # null refits may run in threads


def pls_path(Xv: np.ndarray, yv: np.ndarray, masks: np.ndarray, n_components: int, *, scale: bool = True
             ) -> np.ndarray:  # fmt: skip
    """Held-out predictions of PLS with 1..`n_components` components, one fit per fold.

    Parameters
    ----------
    Xv : numpy.ndarray, shape (n_regions, n_genes)
        Regional expression.
    yv : numpy.ndarray, shape (n_regions,)
        The map.
    masks : numpy.ndarray of bool, shape (n_folds, n_regions)
        Regions held out in each fold (the fit uses the others).
    n_components : int
        The most components (predictions for every smaller number come with them).
    scale : bool, default True
        Standardise genes and map on each fold's training regions (scikit-learn's ``scale``).

    Returns
    -------
    predictions : numpy.ndarray, shape (n_components, n_folds, n_regions)
        ``[k - 1]``: what ``PLSRegression(k, scale=scale)`` fitted on the training regions
        predicts for every region (equal to rounding error: the prediction is the training mean
        plus the cumulative sum of each component's score times its loading).
    """
    out = np.empty((n_components, len(masks), len(yv)))
    for i, test in enumerate(masks):
        out[:, i] = _pls1_nipals(Xv[~test], yv[~test], Xv, n_components, scale).T
    return out


def _pls1_nipals(Xt: np.ndarray, yt: np.ndarray, Xv: np.ndarray, n_components: int, scale: bool
                 ) -> np.ndarray:  # fmt: skip
    """Predictions for `Xv` of PLS with 1..n components fitted on (`Xt`, `yt`), shape (rows, n).

    scikit-learn's ``PLSRegression`` (NIPALS, regression deflation) for one target, where the
    power iteration ends after its first step: the weights are the deflated expression's
    covariance with the deflated map. Raises ValueError as scikit-learn does for more
    components than ``min(n_samples, n_genes)``; stops (with its warning) when the map's
    residual is constant, the later components then predicting nothing.
    """
    import warnings

    n, p = Xt.shape
    if n_components > min(n, p):
        raise ValueError(f"n_components={n_components} is larger than min(n_samples, n_features) = {min(n, p)}.")
    eps = np.finfo(float).eps
    x_mean, y_mean = Xt.mean(0), yt.mean()
    X, y = Xt - x_mean, yt - y_mean
    x_sd, y_sd = np.ones(p), 1.0
    if scale:  # SD with ddof 1, as scikit-learn's _center_scale_xy
        x_sd = X.std(0, ddof=1)
        x_sd[x_sd == 0.0] = 1.0
        y_sd = float(y.std(ddof=1)) or 1.0
        X, y = X / x_sd, y / y_sd
    W, P, q = np.zeros((p, n_components)), np.zeros((p, n_components)), np.zeros(n_components)
    for k in range(n_components):
        if np.all(np.abs(y) < 10 * eps):
            y = np.zeros_like(y)
        if not np.any(np.abs(y) > eps):
            warnings.warn(f"y residual is constant at iteration {k}", UserWarning, stacklevel=3)
            break
        w = X.T @ y / (y @ y)
        w /= np.sqrt(w @ w) + eps
        t = X @ w
        W[:, k], P[:, k], q[k] = w, t @ X / (t @ t), t @ y / (t @ t)
        X = X - np.outer(t, P[:, k])
        y = y - t * q[k]
    rotations = W @ np.linalg.pinv(P.T @ W)
    scores = ((Xv - x_mean) / x_sd) @ rotations
    return y_mean + np.cumsum(scores * (q * y_sd), axis=1)


class PLSBaseline(_GeneBaseline):
    """Partial least squares regression of the map on gene expression (imaging-transcriptomics).

    Parameters
    ----------
    n_components : int, default 1
        Number of PLS components (the reference baselines use 1-5).
    """

    def __init__(self, n_components: int = 1) -> None:
        self.n_components = n_components

    def _make(self, scale: bool = True):  # noqa: ANN202
        from sklearn.cross_decomposition import PLSRegression

        if not (isinstance(self.n_components, (int, np.integer)) and self.n_components >= 1):
            raise ParameterError(
                f"n_components must be an integer >= 1; got {self.n_components!r}."
            )
        return PLSRegression(n_components=self.n_components, scale=scale)

    def _fold_predictions(self, Xv: np.ndarray, yv: np.ndarray, masks: np.ndarray, scale: bool) -> np.ndarray:
        """As the base class, from :func:`pls_path`, one fit per fold shared by PLS-1 to PLS-5.

        Fits with :data:`PLS_PATH_COMPONENTS` components are kept for the next call on the same
        inputs, so PLS-1 to PLS-5 on the same folds (every evaluation's baselines, the nested-CV
        choice among them) fit once per fold, not five times.
        """
        from crossscale.models._ridge_folds import fold_key

        self._make()  # checks n_components
        k = int(self.n_components)
        key = fold_key(Xv, yv, masks, flag=scale)
        with _PLS_PATHS_LOCK:
            path = _PLS_PATHS.get(key)
            if path is not None:
                _PLS_PATHS.move_to_end(key)
        if path is None or len(path) < k:
            n, path = max(k, min(PLS_PATH_COMPONENTS, Xv.shape[1], len(yv) - 1)), None
            if n > k:  # more components than asked, where scikit-learn accepts them
                # (no warnings filter here: it is process-wide, and null refits may run in
                # threads; a map the first k' < n components fit exactly makes scikit-learn
                # warn "y residual is constant" and give components k' + 1 ... n no weight,
                # as a k'-or-more-component fit of its own would)
                try:
                    path = pls_path(Xv, yv, masks, n, scale=scale)
                except ValueError:
                    path = None
            if path is None:
                path = pls_path(Xv, yv, masks, k, scale=scale)
            with _PLS_PATHS_LOCK:
                _PLS_PATHS[key] = path
                while len(_PLS_PATHS) > _PLS_PATHS_KEPT:
                    _PLS_PATHS.popitem(last=False)
        return path[k - 1].copy()


class RidgeBaseline(_GeneBaseline):
    """Ridge regression on standardised expression, penalty chosen by efficient leave-one-out CV.

    Parameters
    ----------
    alphas : sequence of float
        Candidate penalties (default ``logspace(-1, 6, 29)``).
    """

    def __init__(self, alphas: tuple[float, ...] | None = None) -> None:
        self.alphas = alphas

    def _make(self, scale: bool = True):  # noqa: ANN202
        from sklearn.linear_model import RidgeCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(with_std=scale), RidgeCV(alphas=self._alphas()))

    def _alphas(self) -> np.ndarray:
        return np.logspace(-1, 6, 29) if self.alphas is None else np.asarray(self.alphas, dtype=float)

    def _fold_predictions(self, Xv: np.ndarray, yv: np.ndarray, masks: np.ndarray, scale: bool) -> np.ndarray:
        """As the base class, from one eigendecomposition per fold (:mod:`._ridge_folds`).

        The decomposition does not depend on the map and is kept for the next call on the same
        expression and folds (null maps, the nested-CV choice): equal to the scikit-learn
        pipeline's predictions to rounding, at a fraction of its cost.
        """
        from crossscale.models._ridge_folds import ridge_folds

        return ridge_folds(Xv, yv, masks, self._alphas(), scale=scale)


class SpatialBaseline(BaseEstimator):
    """Spatial-only predictor: graph Laplacian (harmonic) interpolation of the map, no genes.

    Held-out regions get the values minimising ``yᵀ L y`` given the known regions:
    ``y_U = -(L_UU + εI)⁻¹ L_UK (y_K - m) + m`` with ``m`` the training mean (ε keeps a component
    without known regions at the mean). It has no in-sample fit: it only interpolates.

    Parameters
    ----------
    epsilon : float, default 1e-3
        Ridge added to ``L_UU``.
    """

    def __crossscale_tags__(self) -> ModelTags:
        """Graph interpolation only (see :mod:`crossscale.models.tags`)."""
        return ModelTags(requires_graph=True, interpolation_only=True, fold_predictions=True)

    def __init__(self, epsilon: float = 1e-3) -> None:
        self.epsilon = epsilon

    def fit(self, X: pd.DataFrame | None, y: pd.Series, graph: RegionGraph) -> SpatialBaseline:
        """Store the map and graph (X is ignored)."""
        self.y_ = y.loc[list(graph.regions)].astype(float)
        self.graph_ = graph
        self.fit_time_s_ = 0.0
        return self

    def predict(self, X: pd.DataFrame | None = None) -> pd.Series:
        """The stored map itself (interpolation needs held-out regions; see fit_predict_folds)."""
        if not hasattr(self, "y_"):
            raise ModelStateError("SpatialBaseline is not fitted yet; call fit first.")
        return self.y_.rename("predicted")

    def fit_predict_folds(
        self,
        X: pd.DataFrame | None,
        y: pd.Series,
        graph: RegionGraph,
        test_masks: np.ndarray,
        *,
        protocol: str = "inductive",
    ) -> np.ndarray:
        """Interpolate each fold's held-out regions from the others, shape (n_folds, n_regions).

        It uses no expression, so both protocols give the same predictions.
        """
        from crossscale.models._spatial import harmonic_interpolation

        yv = y.loc[list(graph.regions)].to_numpy(dtype=float)
        masks = np.asarray(test_masks, dtype=bool)
        return harmonic_interpolation(
            graph.laplacian().toarray(), np.tile(yv, (len(masks), 1)), masks, epsilon=self.epsilon
        )


def default_baselines() -> dict[str, BaseEstimator]:
    """The baselines every evaluation reports: PLS with 1-5 components, ridge, spatial-only."""
    models: dict[str, BaseEstimator] = {f"PLS-{k}": PLSBaseline(k) for k in range(1, 6)}
    models["Ridge"] = RidgeBaseline()
    models["Spatial (Laplacian)"] = SpatialBaseline()
    return models
