"""The blend of GraphVAE's prediction with ridge and the training mean (no user API).

:func:`fit_stack` trains the networks (``_stack.fit_network_stack``) and blends every model's
prediction as ``est.shrinkage`` says; the weights are chosen in ``_shrink``.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from crossscale.models.graphvae._projection import Gram, Projection, standardised_gram
from crossscale.models.graphvae._stack import fit_network_stack


def fit_stack(
    est: Any,
    values: np.ndarray,
    targets: np.ndarray,
    train_masks: np.ndarray,
    graph: Any,
    *,
    protocol: str,
    seed: int,
    description: str,
    device: str,
) -> tuple[dict[str, np.ndarray], Any, np.ndarray, np.ndarray, np.ndarray, list[Projection], np.ndarray]:
    """:func:`fit_network_stack`, then (``est.shrinkage`` other than ``"none"``) the blend.

    Every row's prediction becomes ``ȳ + a (ŷ_VAE − ȳ) + b (ŷ_ridge − ȳ)`` with (a, b) =
    ``est.blend_weights`` (``"fixed"``), those times a factor chosen by an inner spatial CV on that
    row's training regions (``"scaled"``) or both chosen by it (``"auto"``); see ``_shrink``.
    ``est._last_blend`` receives ``{"weights": (n_rows, 2), "ridge_coef": (n_rows, n_genes),
    "ridge_intercept": (n_rows,), "y_mean": (n_rows,)}`` (else None). Returns as
    :func:`fit_network_stack`.
    """
    from crossscale.models.graphvae._shrink import (
        INNER_FOLDS,
        STACK_FOLDS,
        blend_weights,
        choose_blend,
        inner_blocks,
        inner_folds,
        ridge_fit,
        scale_factor,
    )

    out = fit_network_stack(est, values, targets, train_masks, graph, protocol=protocol, seed=seed,
                            description=description, device=device)  # fmt: skip
    est._last_blend = None
    mode = getattr(est, "shrinkage", "none")
    if mode == "none":
        return out
    fixed = np.asarray(est.blend_weights, dtype=float)
    chosen = getattr(est, "n_components_chosen_", None)
    params, hist, ym, ys, pred, projs, index = out
    T = np.asarray(targets, float)
    train_masks = np.asarray(train_masks, bool)
    n_rows, n = T.shape
    if mode in ("auto", "scaled", "stack"):  # inner CV of the network and ridge on the training regions
        coords = np.asarray(graph.coords, dtype=float)
        if mode == "stack":  # random folds; one network per inner model (not the ensemble)
            inner = [inner_folds(coords, m, STACK_FOLDS, seed + r, "random") for r, m in enumerate(train_masks)]
            inner_est = copy.copy(est)
            inner_est.n_ensemble = 1
        else:
            inner = [inner_blocks(coords, m, INNER_FOLDS, seed + r) for r, m in enumerate(train_masks)]
            inner_est = est
        itest = np.concatenate(inner)
        itrain = np.concatenate([m[None] & ~b for m, b in zip(train_masks, inner, strict=True)])
        owner = np.repeat(np.arange(len(T)), [len(b) for b in inner])
        # each inner model's ridge, from the decomposition its network's principal axes computed
        inner_lin: dict[int, np.ndarray] = {}
        by_mask: dict[bytes, list[int]] = {}
        for j, tr in enumerate(itrain):
            by_mask.setdefault(tr.tobytes(), []).append(j)

        def visit(mask: np.ndarray, gram: Gram) -> None:
            for j in by_mask.get(mask.tobytes(), ()):
                c, b0 = ridge_fit(values, T[owner[j]], itrain[j], gram)
                inner_lin[j] = values[itest[j]] @ c + b0

        ipred = fit_network_stack(inner_est, values, T[owner], itrain, graph, protocol=protocol,
                                  seed=seed + 1, description=description + " (inner CV)",
                                  device=device, visit=visit)[4]  # fmt: skip
        est.n_components_chosen_ = chosen
    weights = np.zeros((n_rows, 2))
    coefs = np.zeros((n_rows, values.shape[1]))
    icpts, means = np.zeros(n_rows), np.zeros(n_rows)
    # the ridge of every row on its training regions: one decomposition per distinct training set
    uniq, which = np.unique(train_masks, axis=0, return_inverse=True)
    for u, m in enumerate(uniq):
        gram = standardised_gram(values, m)
        for r in np.flatnonzero(np.ravel(which) == u):
            coefs[r], icpts[r] = ridge_fit(values, T[r], m, gram)
    final = np.empty_like(pred)
    for r in range(n_rows):
        m = train_masks[r]
        if mode == "fixed":
            weights[r] = fixed
        else:
            v, lin, mean = np.zeros(n), np.zeros(n), np.zeros(n)
            for j in np.flatnonzero(owner == r):
                te, tr = itest[j], itrain[j]
                v[te] = ipred[j][te]
                if j in inner_lin:
                    lin[te] = inner_lin[j]
                else:  # the transductive protocol's inputs share no decomposition with it
                    c, b0 = ridge_fit(values, T[r], tr)
                    lin[te] = values[te] @ c + b0
                mean[te] = T[r][tr].mean()
            if mode == "auto":
                weights[r] = blend_weights(T[r][m], v[m], lin[m], mean[m])
            elif mode == "stack":
                weights[r] = choose_blend(T[r][m], v[m], lin[m], mean[m])
            else:
                inner_blend = mean + fixed[0] * (v - mean) + fixed[1] * (lin - mean)
                weights[r] = scale_factor(T[r][m], inner_blend[m], mean[m]) * fixed
        means[r] = T[r][m].mean()
        a, b = weights[r]
        final[r] = means[r] + a * (pred[r] - means[r]) + b * (values @ coefs[r] + icpts[r] - means[r])
    est._last_blend = {"weights": weights, "ridge_coef": coefs, "ridge_intercept": icpts,
                       "y_mean": means}  # fmt: skip
    return params, hist, ym, ys, final, projs, index
