"""Shrinkage of GraphVAE's prediction by nested cross-validation on the training regions only.

A map that carries no expression signal must not be predicted worse than by its training mean.
For every model (fold, map), the prediction is a convex blend of three predictors,

    ŷ = ȳ + a (ŷ_VAE − ȳ) + b (ŷ_ridge − ȳ),   a, b ≥ 0, a + b ≤ 1,

with ȳ the training mean and ŷ_ridge ridge regression on the standardised genes (penalty by
efficient leave-one-out CV). (a, b) = (1, 0) is the network alone, (0, 0) the training mean.

- ``shrinkage="fixed"`` (the default): (a, b) = ``blend_weights``, the same for every map and
  fold, chosen once on the 36 tuning maps (``benchmarks/bench_graphvae_fixed_blend.py``), never on
  a map being evaluated. No inner fits.
- ``shrinkage="auto"``: both weights on a grid of step 0.1, chosen by minimising the squared error
  of out-of-fold predictions of an inner spatial cross-validation (k-means blocks of the model's
  *training* regions, as the nested-selected baseline does): the held-out regions of an outer
  fold play no part (:func:`blend_weights`). Stacked generalisation with non-negative weights
  (Wolpert 1992; Breiman 1996). With ~68 regions the inner CV is noisy: on the tuning maps it
  lost to the fixed weights (mean R² 0.276 / 0.282 vs 0.287 / 0.306, spatial / LORO).
- ``shrinkage="scaled"``: the fixed weights times one factor s ∈ {0, 0.1, …, 1} chosen by the same
  inner CV (:func:`scale_factor`): a fall-back towards the mean for maps without signal (it also
  lost on the tuning maps: 0.270 / 0.292).

References
----------
.. [1] Breiman L. (1996). Stacked regressions. Machine Learning 24, 49-64.
.. [2] Wolpert D.H. (1992). Stacked generalization. Neural Networks 5, 241-259.
.. [3] Hoerl A.E., Kennard R.W. (1970). Ridge regression. Technometrics 12, 55-67.
.. [4] Varma S., Simon R. (2006). Bias in error estimation when using cross-validation for model
   selection. BMC Bioinformatics 7, 91 (nested CV).
"""

from __future__ import annotations

import numpy as np

from crossscale.models.graphvae._projection import Gram, standardised_gram

#: ridge penalties considered (as the ridge baseline)
RIDGE_ALPHAS = np.logspace(-1, 6, 29)
#: blocks of the inner spatial cross-validation ("auto", "scaled")
INNER_FOLDS = 5
#: random folds of the inner cross-validation of ``shrinkage="stack"``
STACK_FOLDS = 10
#: the blends (a, b) ``shrinkage="stack"`` chooses between: network-led and ridge-led
STACK_CANDIDATES = ((0.8, 0.2), (0.3, 0.6))
#: the network-led blend is chosen only when its inner-CV R² reaches this: on maps with weaker
#: signal the inner CV cannot tell the blends apart and the ridge-led one is safer (chosen on the
#: 36 tuning maps, ``benchmarks/results/graphvae_stack.md``)
STACK_MIN_R2 = 0.5
_STEPS = np.round(np.arange(0, 1.01, 0.1), 2)
_GRID = np.array([(a, b) for a in np.round(np.arange(0, 1.01, 0.1), 2)
                  for b in np.round(np.arange(0, 1.01, 0.1), 2) if a + b <= 1.0 + 1e-9])  # fmt: skip


def ridge_loo(values: np.ndarray, y: np.ndarray, rows: np.ndarray,
              gram: Gram | None = None) -> dict[str, np.ndarray | float]:  # fmt: skip
    """Closed-form leave-one-out errors of ridge on the standardised columns of `values` over `rows`.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_regions, n_genes)
        Expression (predictors) of every region; standardised over `rows`.
    y : numpy.ndarray, shape (n_regions,)
        Map values.
    rows : numpy.ndarray of bool, shape (n_regions,)
        The regions used (the others play no part).
    gram : Gram, optional
        ``_projection.standardised_gram(values, rows)`` if already computed (the same numbers).

    Returns
    -------
    dict
        ``loo``: shape (len(RIDGE_ALPHAS),), the leave-one-out sum of squared errors of every
        penalty; ``loo_mean``: that of the training mean (α = ∞), ``(n / (n − 1))² Σ (y − ȳ)²``;
        and the pieces :func:`ridge_fit` reuses (``mu``, ``sd``, ``Z``, ``U``, ``d``, ``uty``).
    """
    g = standardised_gram(values, rows) if gram is None else gram
    mu, sd, Z, U = g.mean, g.scale, g.Z, g.U
    yt = y[rows]
    yc = yt - yt.mean()
    n = len(yt)
    d = np.clip(g.evals, 0.0, None)
    uty = U.T @ yc
    shrink = d[None, :] / (d[None, :] + RIDGE_ALPHAS[:, None])  # (n_alpha, n)
    fitted = (shrink * uty) @ U.T  # (n_alpha, n)
    lev = shrink @ (U.T**2) + 1.0 / n  # diagonal of the hat matrix, intercept included
    loo = (((yc - fitted) / np.clip(1 - lev, 1e-9, None)) ** 2).sum(1)
    loo_mean = float(((yc / (1.0 - 1.0 / n)) ** 2).sum())
    return {"loo": loo, "loo_mean": loo_mean, "mu": mu, "sd": sd, "Z": Z, "U": U, "d": d,
            "uty": uty, "y_mean": float(yt.mean())}  # fmt: skip


def ridge_fit(values: np.ndarray, y: np.ndarray, rows: np.ndarray,
              gram: Gram | None = None) -> tuple[np.ndarray, float]:  # fmt: skip
    """Ridge regression of `y` on the standardised columns of `values`, fitted on `rows`.

    The penalty minimises the closed-form leave-one-out error over :data:`RIDGE_ALPHAS`
    (:func:`ridge_loo`).

    Parameters
    ----------
    values : numpy.ndarray, shape (n_regions, n_genes)
        Expression (predictors) of every region.
    y : numpy.ndarray, shape (n_regions,)
        Map values (only `rows` are used).
    rows : numpy.ndarray of bool, shape (n_regions,)
        The training regions.
    gram : Gram, optional
        As :func:`ridge_loo`.

    Returns
    -------
    coef : numpy.ndarray, shape (n_genes,)
        In the units of `values` (predict with ``values @ coef + intercept``).
    intercept : float
    """
    p = ridge_loo(values, y, rows, gram)
    alpha = RIDGE_ALPHAS[int(np.argmin(p["loo"]))]
    dual = p["U"] @ (p["uty"] / (p["d"] + alpha))
    coef = (p["Z"].T @ dual) / p["sd"]
    return coef, float(p["y_mean"] - p["mu"] @ coef)


def inner_blocks(coords: np.ndarray, within: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """k-means blocks of the regions in `within` (a partition of them), shape (k, n_regions)."""
    from sklearn.cluster import KMeans

    idx = np.flatnonzero(within)
    k = min(int(n_folds), len(idx))
    labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(coords[idx])
    masks = np.zeros((k, len(within)), dtype=bool)
    for c in range(k):
        masks[c, idx[labels == c]] = True
    return masks


def inner_folds(coords: np.ndarray, within: np.ndarray, n_folds: int, seed: int,
                kind: str = "random") -> np.ndarray:
    """A partition of the regions in `within` into inner folds, shape (k, n_regions).

    ``kind="blocks"``: k-means blocks of the coordinates (:func:`inner_blocks`); ``"random"``:
    regions dealt at random into folds of near-equal size (seeded by `seed`).
    """
    if kind == "blocks":
        return inner_blocks(coords, within, n_folds, seed)
    idx = np.flatnonzero(within)
    k = min(int(n_folds), len(idx))
    order = np.random.default_rng(seed).permutation(idx)
    masks = np.zeros((k, len(within)), dtype=bool)
    for c in range(k):
        masks[c, order[c::k]] = True
    return masks


def scale_factor(y: np.ndarray, blend: np.ndarray, mean: np.ndarray) -> float:
    """The grid s ∈ {0, 0.1, …, 1} minimising ``Σ (y − m − s (p − m))²`` (out-of-fold inputs).

    Parameters
    ----------
    y, blend, mean : numpy.ndarray, shape (n,)
        Targets, out-of-fold predictions of the fixed blend and of the training mean.

    Returns
    -------
    s : float
        1 keeps the blend, 0 replaces it by the training mean.
    """
    d, dy = blend - mean, y - mean
    sse = ((dy[None] - _STEPS[:, None] * d[None]) ** 2).sum(1)
    return float(_STEPS[int(np.argmin(sse))])


def blend_weights(y: np.ndarray, vae: np.ndarray, ridge: np.ndarray, mean: np.ndarray) -> tuple[float, float]:
    """The grid (a, b) minimising ``Σ (y − m − a (v − m) − b (r − m))²`` (out-of-fold inputs).

    Parameters
    ----------
    y, vae, ridge, mean : numpy.ndarray, shape (n,)
        Targets and out-of-fold predictions of the network, ridge and the training mean.

    Returns
    -------
    a, b : float
    """
    dv, dr, dy = vae - mean, ridge - mean, y - mean
    sse = ((dy[None] - _GRID[:, :1] * dv[None] - _GRID[:, 1:] * dr[None]) ** 2).sum(1)
    a, b = _GRID[int(np.argmin(sse))]
    return float(a), float(b)


def choose_blend(y: np.ndarray, vae: np.ndarray, ridge: np.ndarray, mean: np.ndarray,
                 candidates: np.ndarray | tuple = STACK_CANDIDATES,
                 min_r2: float = STACK_MIN_R2) -> tuple[float, float]:
    """The candidate (a, b) minimising ``Σ (y − m − a (v − m) − b (r − m))²`` (out-of-fold inputs).

    The first candidate (the network-led blend) is eligible only when its R² over these inputs,
    ``1 − SSE / Σ (y − m)²``, is at least `min_r2`; otherwise the best of the others is chosen.

    Parameters
    ----------
    y, vae, ridge, mean : numpy.ndarray, shape (n,)
        Targets and out-of-fold predictions of the network, ridge and the training mean.
    candidates : array-like, shape (n_candidates, 2)
        The blends to choose from (first one wins ties).
    min_r2 : float, default :data:`STACK_MIN_R2`
        The R² the first candidate needs (``-numpy.inf``: plain least squared error).

    Returns
    -------
    a, b : float
    """
    cands = np.asarray(candidates, dtype=float)
    dv, dr, dy = vae - mean, ridge - mean, y - mean
    sse = ((dy[None] - cands[:, :1] * dv[None] - cands[:, 1:] * dr[None]) ** 2).sum(1)
    best = int(np.argmin(sse))
    if best == 0 and len(cands) > 1 and 1.0 - sse[0] / max(float((dy**2).sum()), 1e-300) < min_r2:
        best = 1 + int(np.argmin(sse[1:]))
    a, b = cands[best]
    return float(a), float(b)


def kriged_rows(est: object, n_rows: int) -> np.ndarray:
    """Which models of the last stacked fit of `est` get the spatial residual, shape (n_rows,).

    ``spatial_residual=True``: all; ``"auto"``: those whose ``shrinkage="stack"`` chose the
    network-led blend :data:`STACK_CANDIDATES[0] <STACK_CANDIDATES>`; otherwise none.
    """
    mode = getattr(est, "spatial_residual", False)
    if mode != "auto" and bool(mode):
        return np.ones(n_rows, dtype=bool)
    blend = getattr(est, "_last_blend", None)
    if mode != "auto" or getattr(est, "shrinkage", None) != "stack" or blend is None:
        return np.zeros(n_rows, dtype=bool)
    return np.all(np.isclose(blend["weights"], STACK_CANDIDATES[0]), axis=1)
