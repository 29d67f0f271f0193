"""Harmonic (graph Laplacian) interpolation of values at held-out regions.

References
----------
.. [1] Zhu X., Ghahramani Z., Lafferty J. (2003). Semi-supervised learning using Gaussian fields
   and harmonic functions. ICML.
"""

from __future__ import annotations

import numpy as np


def harmonic_interpolation(
    laplacian: np.ndarray, values: np.ndarray, test_masks: np.ndarray, *, epsilon: float = 1e-3
) -> np.ndarray:
    """Fill each row's held-out regions with the values minimising ``vᵀ L v`` given the others.

    ``v_U = m − (L_UU + εI)⁻¹ L_UK (v_K − m)``, with ``m`` the mean of the known values (ε keeps a
    component without known regions at the mean).

    Parameters
    ----------
    laplacian : numpy.ndarray, shape (n_regions, n_regions)
        Graph Laplacian (dense).
    values : numpy.ndarray, shape (n_rows, n_regions)
        Values at every region (those at held-out regions are ignored).
    test_masks : numpy.ndarray of bool, shape (n_rows, n_regions)
        Held-out regions of each row.
    epsilon : float, default 1e-3
        Ridge added to the held-out block of the Laplacian, so that a held-out component without a
        known neighbour gets the known mean.

    Returns
    -------
    filled : numpy.ndarray, shape (n_rows, n_regions)
        `values` with each row's held-out regions interpolated.
    """
    values = np.asarray(values, dtype=float)
    out = values.copy()
    for i, test in enumerate(np.asarray(test_masks, dtype=bool)):
        if not test.any():
            continue
        known = ~test
        m = values[i, known].mean() if known.any() else 0.0
        luu = laplacian[np.ix_(test, test)] + epsilon * np.eye(int(test.sum()))
        out[i, test] = m - np.linalg.solve(luu, laplacian[np.ix_(test, known)] @ (values[i, known] - m))
    return out
