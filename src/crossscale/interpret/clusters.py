"""Region clusters in latent space, their stability, and tests against lobes and a map."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError
from crossscale._stats import p_value_upper

logger = logging.getLogger(__name__)


def region_lobes(regions: Sequence[str]) -> pd.Series:
    """Lobe of each canonical region of the atlas in use (:meth:`crossscale.atlas.Atlas.lobes`)."""
    from crossscale.atlas import resolve_atlas

    regions = pd.Index(regions, name="region")
    return resolve_atlas(None, regions).lobes().loc[regions]


def _kmeans(values: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(values)


def _standardize(frame: pd.DataFrame) -> np.ndarray:
    v = frame.to_numpy(dtype=float)
    sd = v.std(0)
    return (v - v.mean(0)) / np.where(sd > 0, sd, 1.0)


def _anova_f(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One-way ANOVA F of each column of `values` (n, m) across `labels` (n,)."""
    values = values.reshape(len(labels), -1)
    groups = np.unique(labels)
    grand = values.mean(0)
    ssb = sum((labels == g).sum() * (values[labels == g].mean(0) - grand) ** 2 for g in groups)
    ssw = sum(((values[labels == g] - values[labels == g].mean(0)) ** 2).sum(0) for g in groups)
    k, n = len(groups), len(labels)
    return (ssb / (k - 1)) / np.maximum(ssw / (n - k), 1e-300)


@dataclass(frozen=True)
class RegionClusters:
    """k-means clusters of regions in latent space.

    Attributes
    ----------
    labels : pandas.Series, shape (n_regions,)
        Cluster of each region (0 … k-1, ordered by decreasing mean of `y` when given).
    n_clusters : int
    silhouette : float
        Mean silhouette of the chosen clustering.
    silhouette_by_k : pandas.Series
        Mean silhouette for each candidate k.
    stability_ari : float
        Mean adjusted Rand index between this clustering and the same k-means on each replicate
        model's latent programs (NaN without replicates).
    lobe_ari, lobe_p : float
        Adjusted Rand index with the lobes and its spin-test p-value.
    map_f, map_p : float
        ANOVA F of `y` across clusters and its spin-test p-value (NaN without `y`).
    summary : pandas.DataFrame
        Per cluster: number of regions, mean `y`, most frequent lobe.
    """

    labels: pd.Series
    n_clusters: int
    silhouette: float
    silhouette_by_k: pd.Series
    stability_ari: float
    lobe_ari: float
    lobe_p: float
    map_f: float
    map_p: float
    n_perm: int
    summary: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Regions x (cluster, lobe)."""
        return pd.DataFrame({"cluster": self.labels, "lobe": region_lobes(self.labels.index)})

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary."""
        return {
            "n_clusters": self.n_clusters, "silhouette": self.silhouette,
            "stability_ari": self.stability_ari, "lobe_ari": self.lobe_ari,
            "lobe_p": self.lobe_p, "map_f": self.map_f, "map_p": self.map_p, "n_perm": self.n_perm,
        }  # fmt: skip


def cluster_regions(
    latent: pd.DataFrame,
    *,
    y: pd.Series | None = None,
    n_clusters: int | None = None,
    k_range: Sequence[int] = range(2, 9),
    replicates: Sequence[pd.DataFrame] = (),
    n_perm: int = 1000,
    random_state: int = 0,
) -> RegionClusters:
    """Cluster regions by their latent programs; test the clusters against lobes and a map.

    Programs are z-scored, then clustered with k-means (10 initialisations). Without
    `n_clusters`, k maximises the mean silhouette over `k_range`. Stability: adjusted Rand index
    against the same procedure on replicate models (other seeds / region subsamples). Lobes:
    adjusted Rand index with :data:`~crossscale.atlas.names.DK_LOBES`; map: one-way ANOVA F of
    `y` across clusters. Both p-values come from the same spin permutations of the cluster
    labels (Hungarian spins), which keep the clusters' spatial contiguity.

    Parameters
    ----------
    latent : pandas.DataFrame, shape (n_regions, n_latent)
        Latent programs (posterior means), index canonical region names.
    y : pandas.Series, shape (n_regions,), optional
        Vulnerability map.
    n_clusters : int or None
        Number of clusters; None chooses it by the silhouette over `k_range`.
    k_range : sequence of int, default 2..8
        Cluster counts tried when `n_clusters` is None.
    replicates : sequence of pandas.DataFrame
        Latent programs of replicate models, same regions.
    n_perm : int, default 1000
        Spin permutations.
    random_state : int
        Seed of k-means and of the spin permutations.

    Returns
    -------
    RegionClusters

    Raises
    ------
    ParameterError
        `n_clusters` outside [2, n_regions - 1].

    References
    ----------
    .. [1] Rousseeuw P.J. (1987). Silhouettes. J Comput Appl Math 20, 53-65.
    .. [2] Hubert L., Arabie P. (1985). Comparing partitions. J Classif 2, 193-218.
    .. [3] Alexander-Bloch A.F. et al. (2018). On testing for spatial correspondence between maps
       of human brain structure and function. NeuroImage 178, 540-551.
    """
    from sklearn.metrics import adjusted_rand_score, silhouette_score

    from crossscale.nulls import spin_permutations

    V = _standardize(latent)
    n = len(V)
    if n_clusters is not None and not (2 <= n_clusters < n):
        raise ParameterError(f"n_clusters must be in [2, {n - 1}]; got {n_clusters!r}.")
    ks = [n_clusters] if n_clusters is not None else [k for k in k_range if 2 <= k < n]
    sil = {}
    fits = {}
    for k in ks:
        fits[k] = _kmeans(V, k, random_state)
        sil[k] = float(silhouette_score(V, fits[k]))
    k = max(sil, key=sil.get)
    labels = fits[k]
    if y is not None:
        yv = y.loc[latent.index].to_numpy(dtype=float)
        order = np.argsort([-yv[labels == c].mean() for c in range(k)])
        labels = np.argsort(order)[labels]
    aris = [adjusted_rand_score(labels, _kmeans(_standardize(r.loc[latent.index]), k, random_state))
            for r in replicates]  # fmt: skip
    lobes = region_lobes(latent.index).to_numpy()
    perms = spin_permutations(latent.index, method="hungarian", n_perm=n_perm,
                              random_state=random_state)  # fmt: skip
    lobe_ari = float(adjusted_rand_score(lobes, labels))
    null_ari = np.array([adjusted_rand_score(lobes, labels[perms[:, j]]) for j in range(n_perm)])
    lobe_p = p_value_upper(null_ari, lobe_ari)
    map_f = map_p = float("nan")
    if y is not None:
        map_f = float(_anova_f(yv, labels)[0])
        null_f = _anova_f(yv[perms], labels)
        map_p = p_value_upper(null_f, map_f)
    lab = pd.Series(labels, index=latent.index, name="cluster")
    summary = pd.DataFrame(
        {
            "n_regions": lab.value_counts().sort_index(),
            "main_lobe": pd.Series(lobes, index=latent.index)
            .groupby(lab)
            .agg(lambda s: s.value_counts().index[0]),
        }
    )
    if y is not None:
        summary["mean_map"] = pd.Series(yv, index=latent.index).groupby(lab).mean()
    summary.index.name = "cluster"
    return RegionClusters(
        labels=lab, n_clusters=int(k), silhouette=sil[k],
        silhouette_by_k=pd.Series(sil, name="silhouette").rename_axis("k"),
        stability_ari=float(np.mean(aris)) if aris else float("nan"),
        lobe_ari=lobe_ari, lobe_p=lobe_p, map_f=map_f, map_p=map_p, n_perm=int(n_perm),
        summary=summary,
    )  # fmt: skip
