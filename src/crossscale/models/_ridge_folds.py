"""Ridge regression with the penalty chosen by efficient leave-one-out CV, for many folds at once.

What ``make_pipeline(StandardScaler(), RidgeCV(alphas))`` of scikit-learn fits on each fold's
training regions and predicts for every region, computed from one eigendecomposition of the
training regions' Gram matrix per fold (scikit-learn's ``gcv_mode="gram"``). The decomposition
does not depend on the map, so it is kept for the next call on the same expression, folds and
penalties: the null refits of a map (hundreds of maps on the same folds) and the nested-CV
baseline reuse it, and each further map costs a few matrix products per fold instead of an
eigendecomposition and a scikit-learn fit.

References
----------
.. [1] Golub G.H., Heath M., Wahba G. (1979). Generalized cross-validation as a method for
   choosing a good ridge parameter. Technometrics 21, 215-223 (the leave-one-out residuals
   ``c / diag(G^-1)``).
.. [2] Rifkin R.M., Lippert R.A. (2007). Notes on regularized least squares. MIT-CSAIL-TR-2007-025
   (the same residuals from one eigendecomposition for every penalty).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

#: Decompositions kept for reuse (most recent first out last); larger ones are not kept.
_KEPT = 4
_KEPT_BYTES = 256 * 2**20
_CACHE: OrderedDict[bytes, list[_Fold]] = OrderedDict()
_LOCK = threading.Lock()  # null refits may run in threads


@dataclass(frozen=True)
class _Fold:
    """One fold's map-independent part: rows of the training regions, eigenvectors, LOO terms."""

    train: np.ndarray  # (n_train,) indices of the training regions
    Q: np.ndarray  # (n_train, n_train) eigenvectors of the centred Gram matrix
    D: np.ndarray  # (n_alphas, n_train) 1 / (eigenvalue + alpha)
    d: np.ndarray  # (n_alphas, n_train) diagonal of G^-1 less the intercept's share
    A: np.ndarray  # (n_regions, n_train) centred standardised expression of all x training

    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.train, self.Q, self.D, self.d, self.A))


def _decompose(Xv: np.ndarray, test: np.ndarray, alphas: np.ndarray, scale: bool) -> _Fold:
    train = np.flatnonzero(~test)
    Xt = Xv[train]
    mu = Xt.mean(0)
    if scale:  # StandardScaler: SD with ddof 0, constant genes kept unscaled
        sd = Xt.std(0)
        sd = np.where(sd < 10 * np.finfo(float).eps, 1.0, sd)
    else:
        sd = np.ones(Xt.shape[1])
    Z = (Xt - mu) / sd
    offset = Z.mean(0)  # RidgeCV centres again (zero up to rounding)
    Z = Z - offset
    lam, Q = np.linalg.eigh(Z @ Z.T)
    D = 1.0 / (lam[None, :] + alphas[:, None])
    n = len(train)
    # diag of G^-1 = Q diag(D) Q', less the unpenalised intercept's part (G^-1 1)(1 / n)
    d = D @ (Q**2).T - (D * Q.sum(0)) @ Q.T / n
    A = ((Xv - mu) / sd - offset) @ Z.T
    return _Fold(train, Q, D, d, A)


def fold_key(*arrays: np.ndarray, flag: bool) -> bytes:
    """Digest of `arrays` (shapes, dtypes, bytes) and `flag`: the key of a fold cache."""
    h = hashlib.blake2b(digest_size=20)
    for a in arrays:
        h.update(repr((a.shape, a.dtype.str)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.digest() + bytes([flag])


def ridge_folds(Xv: np.ndarray, yv: np.ndarray, masks: np.ndarray, alphas: np.ndarray, *,
                scale: bool = True) -> np.ndarray:  # fmt: skip
    """Held-out predictions of ridge regression with the penalty chosen by leave-one-out CV.

    Parameters
    ----------
    Xv : numpy.ndarray, shape (n_regions, n_genes)
        Regional expression.
    yv : numpy.ndarray, shape (n_regions,)
        The map.
    masks : numpy.ndarray of bool, shape (n_folds, n_regions)
        Regions held out in each fold (the fit uses the others).
    alphas : numpy.ndarray, shape (n_alphas,)
        Candidate penalties; per fold, the one with the smallest mean squared leave-one-out
        residual over the training regions is used (the first of equals, as ``RidgeCV``).
    scale : bool, default True
        Standardise genes on each fold's training regions (SD with ddof 0), else only centre.

    Returns
    -------
    predictions : numpy.ndarray, shape (n_folds, n_regions)
        Equal, to rounding, to ``make_pipeline(StandardScaler(with_std=scale),
        RidgeCV(alphas=alphas)).fit(Xv[~m], yv[~m]).predict(Xv)`` for every fold ``m``.
    """
    alphas = np.asarray(alphas, dtype=float)
    masks = np.asarray(masks, dtype=bool)
    key = fold_key(Xv, masks, alphas, flag=scale)
    with _LOCK:
        folds = _CACHE.get(key)
        if folds is not None:
            _CACHE.move_to_end(key)
    out = np.empty(masks.shape, dtype=float)
    if folds is None:
        n_train = (~masks).sum(1).astype(float)  # bytes of every fold's decomposition, kept or not
        size = float((8 * (n_train**2 + (masks.shape[1] + 2 * len(alphas) + 1) * n_train)).sum())
        if size > _KEPT_BYTES:  # too large to keep: one fold at a time, nothing held
            for i, m in enumerate(masks):
                out[i] = _predict(_decompose(Xv, m, alphas, scale), yv)
            return out
        folds = [_decompose(Xv, m, alphas, scale) for m in masks]
        with _LOCK:
            _CACHE[key] = folds
            while len(_CACHE) > _KEPT or sum(f.nbytes() for v in _CACHE.values() for f in v) > _KEPT_BYTES:
                _CACHE.popitem(last=False)
    for i, f in enumerate(folds):
        out[i] = _predict(f, yv)
    return out


def _predict(f: _Fold, yv: np.ndarray) -> np.ndarray:
    """The fold's prediction of every region with the penalty of least leave-one-out error."""
    yt = yv[f.train]
    y0 = yt.mean()
    c = (f.D * (f.Q.T @ (yt - y0))) @ f.Q.T  # (n_alphas, n_train): G^-1 y for each penalty
    loo = ((c / f.d) ** 2).mean(1)
    return f.A @ c[int(np.argmin(loo))] + y0
