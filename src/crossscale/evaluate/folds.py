"""Cross-validation folds of null refits: named schemes and contiguous spatial k-fold blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale.atlas.graph import RegionGraph
from crossscale.evaluate.cv import distance_blocked, leave_one_region_out

__all__ = ["cv_masks", "kmeans_blocks"]


def kmeans_blocks(graph: RegionGraph, n_folds: int, *, random_state: int = 0) -> np.ndarray:
    """Spatial k-fold CV: contiguous blocks of regions from k-means of centroids per hemisphere.

    The folds partition the regions: ``ceil(n_folds / 2)`` blocks in the left hemisphere and
    ``floor(n_folds / 2)`` in the right (k-means of the pial centroids in mm, within each
    hemisphere), so every region is held out exactly once.

    Parameters
    ----------
    graph : RegionGraph
        Supplies the region centroids (mm) that k-means clusters into blocks.
    n_folds : int
        Number of folds, ``2 <= n_folds <= n_regions``.
    random_state : int
        Seed of k-means.

    Returns
    -------
    test_masks : numpy.ndarray of bool, shape (n_folds, n_regions)
    """
    from sklearn.cluster import KMeans

    n = graph.n_regions
    if not (isinstance(n_folds, (int, np.integer)) and 2 <= n_folds <= n):
        raise ParameterError(f"cv as an int is a number of folds in [2, {n}]; got {n_folds!r}.")
    coords = np.asarray(graph.coords, dtype=float)
    hemi = np.asarray(graph.hemisphere)
    groups = [np.flatnonzero(hemi == h) for h in pd.unique(hemi)]
    if len(groups) == 1:
        counts = [n_folds]
    else:
        counts = [int(np.ceil(n_folds / 2)), n_folds // 2]
    masks = []
    for idx, k in zip(groups, counts, strict=False):
        k = min(k, len(idx))
        labels = KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(coords[idx])
        for c in range(k):
            m = np.zeros(n, dtype=bool)
            m[idx[labels == c]] = True
            masks.append(m)
    return np.array(masks)


def cv_masks(
    graph: RegionGraph, cv: str | int | None, spatial_fraction: float = 0.25
) -> tuple[str | None, np.ndarray | None]:
    """Test masks of a cross-validation scheme: None, ``"spatial"``, ``"loro"`` or an int k.

    Returns
    -------
    name : str or None
        ``"spatial"``, ``"loro"``, ``"kfold<k>"``, or None.
    test_masks : numpy.ndarray of bool, shape (n_folds, n_regions), or None
    """
    if cv is None:
        return None, None
    if isinstance(cv, str):
        if cv == "spatial":
            return "spatial", distance_blocked(graph, spatial_fraction)
        if cv == "loro":
            return "loro", leave_one_region_out(graph.n_regions)
        if cv.isdigit():
            cv = int(cv)
        else:
            raise ParameterError(
                f"cv must be None, 'spatial', 'loro' or a number of spatial folds; got {cv!r}."
            )
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return f"kfold{int(cv)}", kmeans_blocks(graph, int(cv))
    raise ParameterError(
        f"cv must be None, 'spatial', 'loro' or a number of spatial folds; got {cv!r}."
    )
