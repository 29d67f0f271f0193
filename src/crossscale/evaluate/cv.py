"""Cross-validation schemes over regions: leave-one-region-out and distance-blocked spatial CV.

References
----------
.. [1] Hansen J.Y. et al. (2021). Mapping gene transcription and neurocognition across human
   neocortex. Nat Hum Behav 5, 1240-1250 (distance-dependent cross-validation).
"""

from __future__ import annotations

import numpy as np

from crossscale._errors import ParameterError
from crossscale.atlas.graph import RegionGraph


def leave_one_region_out(n_regions: int) -> np.ndarray:
    """Test masks of leave-one-region-out CV, shape (n_regions, n_regions) (the identity)."""
    return np.eye(n_regions, dtype=bool)


def distance_blocked(graph: RegionGraph, fraction: float = 0.25) -> np.ndarray:
    """Distance-blocked spatial CV (Hansen et al. 2021).

    For each seed region, hold out the ``ceil(fraction * n_hemisphere)`` regions of the same
    hemisphere closest to it (Euclidean distance between centroids, the seed included).

    Parameters
    ----------
    graph : RegionGraph
        Supplies centroids and hemispheres.
    fraction : float, default 0.25
        Fraction of the hemisphere held out per fold.

    Returns
    -------
    test_masks : numpy.ndarray of bool, shape (n_regions, n_regions)
        One fold per seed region.
    """
    if not 0 < fraction < 1:
        raise ParameterError(f"fraction must be in (0, 1); got {fraction!r}.")
    dist = graph.distances()
    hemi = graph.hemisphere
    masks = np.zeros((graph.n_regions, graph.n_regions), dtype=bool)
    for seed in range(graph.n_regions):
        same = np.flatnonzero(hemi == hemi[seed])
        k = int(np.ceil(fraction * len(same)))
        nearest = same[np.argsort(dist[seed, same], kind="stable")[:k]]
        masks[seed, nearest] = True
    return masks


def out_of_fold(predictions: np.ndarray, test_masks: np.ndarray) -> np.ndarray:
    """Average each region's held-out predictions over the folds that held it out.

    Returns
    -------
    oof : numpy.ndarray, shape (n_regions,)
        NaN for regions never held out.
    """
    m = np.asarray(test_masks, dtype=float)
    counts = m.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, (predictions * m).sum(0) / counts, np.nan)
