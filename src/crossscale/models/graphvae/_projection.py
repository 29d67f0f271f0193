"""Gene standardisation, principal axes and their number per model (no user API; see ``_stack.py``).

Under the inductive protocol every fold standardises the genes and computes its principal axes
from its own training regions; held-out regions enter only through their own input row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Projection:
    """Gene standardisation and (whitened) principal axes learned from some regions.

    Attributes
    ----------
    mean, scale : numpy.ndarray, shape (n_genes,)
        Per-gene mean and standard deviation over the regions it was learned from.
    basis : numpy.ndarray, shape (n_genes, n_components)
        ``x = ((X - mean) / scale) @ basis``; whitened axes give the learning regions unit
        variance on every component.
    """

    mean: np.ndarray
    scale: np.ndarray
    basis: np.ndarray

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Project expression values of shape (n_regions, n_genes) to (n_regions, n_components)."""
        return ((values - self.mean) / self.scale) @ self.basis


@dataclass(frozen=True)
class Gram:
    """Genes standardised over some regions and the eigen-decomposition of their Gram matrix.

    The principal axes (:func:`fit_projection`) and the ridge of the blend
    (``_shrink.ridge_loo``) of one training set both start from it: computed once, used by both.

    Attributes
    ----------
    mean, scale : numpy.ndarray, shape (n_genes,)
        Per-gene mean and standard deviation (1 where it is 0) over the regions.
    Z : numpy.ndarray, shape (n_rows, n_genes)
        The regions' standardised expression.
    evals, U : numpy.ndarray, shapes (n_rows,) and (n_rows, n_rows)
        ``numpy.linalg.eigh(Z @ Z.T)`` (ascending eigenvalues).
    """

    mean: np.ndarray
    scale: np.ndarray
    Z: np.ndarray
    evals: np.ndarray
    U: np.ndarray


def standardised_gram(values: np.ndarray, rows: np.ndarray | None) -> Gram:
    """The :class:`Gram` of the rows `rows` (bool mask or None = all) of `values`."""
    sub = values if rows is None else values[rows]
    mean = sub.mean(0)
    scale = sub.std(0)
    scale = np.where(scale > 0, scale, 1.0)
    Z = (sub - mean) / scale
    # from the (n_regions x n_regions) Gram matrix: exact, and ~10x cheaper than the SVD of the
    # (n_regions x n_genes) matrix
    evals, U = np.linalg.eigh(Z @ Z.T)
    return Gram(mean=mean, scale=scale, Z=Z, evals=evals, U=U)


def fit_projection(
    values: np.ndarray, rows: np.ndarray | None, n_components: int | None, whiten: bool,
    gram: Gram | None = None,
) -> Projection:
    """Learn a :class:`Projection` from the rows `rows` (bool mask or None = all) of `values`.

    `gram`: their :func:`standardised_gram`, if already computed.
    """
    g = standardised_gram(values, rows) if gram is None else gram
    order = np.argsort(g.evals)[::-1]
    s = np.sqrt(np.clip(g.evals[order], 0.0, None))
    rank = int((s > s[0] * 1e-6).sum()) if s.size and s[0] > 0 else 1
    c = max(1, min(rank, n_components if n_components is not None else rank))
    basis = g.Z.T @ (g.U[:, order[:c]] / s[:c])  # right singular vectors, (n_genes, c)
    if whiten:
        basis = basis / s[:c] * np.sqrt(len(g.Z))
    return Projection(mean=g.mean, scale=g.scale, basis=basis)


def fold_inputs(
    values: np.ndarray,
    train_masks: np.ndarray,
    *,
    protocol: str,
    n_components: int | None,
    whiten: bool,
    visit: Callable[[np.ndarray, Gram], None] | None = None,
) -> tuple[np.ndarray, list[Projection], np.ndarray]:
    """Inputs of every model: one projection per distinct training set.

    `visit` (inductive protocol only): called as ``visit(mask, gram)`` with each distinct
    training set and its :class:`Gram`, so that other fits on the same regions can reuse the
    decomposition while it is at hand (none is kept).

    Returns
    -------
    x : numpy.ndarray, shape (n_distinct, n_regions, n_components_max)
        Zero-padded when folds keep different numbers of components.
    projections : list of Projection, length n_distinct
    index : numpy.ndarray of int, shape (n_models,)
        Row of `x` used by each model.
    """
    from crossscale._threads import single_thread

    if protocol == "transductive":
        with single_thread(torch_too=False):
            proj = fit_projection(values, None, n_components, whiten)
        return proj(values)[None], [proj], np.zeros(len(train_masks), dtype=int)
    uniq, index = np.unique(np.asarray(train_masks, bool), axis=0, return_inverse=True)
    projs = []
    with single_thread(torch_too=False):
        for m in uniq:
            g = standardised_gram(values, m)
            projs.append(fit_projection(values, m, n_components, whiten, gram=g))
            if visit is not None:
                visit(m, g)
    width = max(p.basis.shape[1] for p in projs)
    x = np.zeros((len(uniq), values.shape[0], width))
    for i, p in enumerate(projs):
        x[i, :, : p.basis.shape[1]] = p(values)
    return x, projs, np.ravel(index)


def expression_target(values: np.ndarray, projs: list[Projection]) -> np.ndarray:
    """What the expression decoder reconstructs: standardised genes on orthonormal principal axes.

    For projection ``p`` with axes ``V`` (unit columns), the target of region ``i`` is
    ``((X_i − mean) / scale) V / √n_genes``: its squared distance to a reconstruction in those axes
    is the mean squared error per standardised gene, minus the (constant) variance outside them.

    Returns
    -------
    target : numpy.ndarray, shape (n_distinct, n_regions, n_axes_max)
        Zero-padded like the inputs.
    """
    width = max(p.basis.shape[1] for p in projs)
    out = np.zeros((len(projs), values.shape[0], width))
    for i, p in enumerate(projs):
        norm = np.linalg.norm(p.basis, axis=0)
        unit = p.basis / np.where(norm > 0, norm, 1.0)
        out[i, :, : unit.shape[1]] = ((values - p.mean) / p.scale) @ unit / np.sqrt(values.shape[1])
    return out


def select_components(
    x: np.ndarray, index: np.ndarray, y: np.ndarray, train_masks: np.ndarray, *, extra: int = 0
) -> np.ndarray:
    """Number of leading whitened axes per model, by leave-one-out error of a linear proxy.

    For each model, principal-component regression of its training targets on the first ``c``
    whitened axes is scored by its closed-form leave-one-region-out error (PRESS,
    ``Σ (e_i / (1 − h_ii))²``) on the training regions alone; the ``c`` with the smallest PRESS is
    kept. Held-out regions play no part.

    Parameters
    ----------
    x : numpy.ndarray, shape (n_distinct, n_regions, n_max)
        Principal-axis scores (orthogonal, centred over each projection's training regions;
        whitened or not).
    index : numpy.ndarray of int, shape (n_models,)
        Row of `x` (the projection) each model uses.
    y : numpy.ndarray, shape (n_models, n_regions)
        Target map of each model.
    train_masks : numpy.ndarray of bool, shape (n_models, n_regions)
        Regions each model is trained on; only these enter its PRESS.
    extra : int, default 0
        Axes added to each model's choice (capped at the usable axes).

    Returns
    -------
    n_components : numpy.ndarray of int, shape (n_models,)

    References
    ----------
    .. [1] Allen D.M. (1974). The relationship between variable selection and data augmentation
       and a method for prediction. Technometrics 16, 125-127 (PRESS).
    """
    out = np.empty(len(y), dtype=int)
    for i, (row, m) in enumerate(zip(y, train_masks, strict=True)):
        xt = x[index[i]][m]  # (n_t, n_max), orthogonal centred columns (whitened or not)
        n_t = len(xt)
        yc = row[m] - row[m].mean()
        norm = np.where((xt**2).sum(0) > 0, (xt**2).sum(0), np.inf)
        beta = xt.T @ yc / norm  # orthogonal columns: separate coefficients
        fitted = np.cumsum(xt * beta, axis=1)  # (n_t, n_max): fit with the first c axes
        lev = 1.0 / n_t + np.cumsum(xt**2 / norm, axis=1)
        press = (((yc[:, None] - fitted) / np.clip(1 - lev, 1e-6, None)) ** 2).sum(0)
        usable = np.flatnonzero((xt**2).sum(0) > 0)
        top = usable[-1] + 1 if usable.size else 1
        out[i] = min(top, int(np.argmin(press[:top])) + 1 + extra)
    return out
