"""Correlation between two regional maps with a spatial-null p-value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from crossscale._errors import InputDataError, ParameterError, RegionMismatchError
from crossscale.atlas import RegionGraph
from crossscale.atlas.atlases import Atlas
from crossscale.atlas.lookup import resolve_atlas
from crossscale.nulls._common import RandomState
from crossscale.nulls.generate import NULL_METHODS, check_map, generate_nulls

_ALIASES = {"spin": "hungarian"}


@dataclass(frozen=True)
class MapComparison:
    """Result of :func:`compare_maps`.

    Attributes
    ----------
    statistic : float
        Observed correlation between the two maps.
    p_value : float
        Two-sided permutation p-value ``(1 + #{|null| >= |statistic|}) / (1 + n_perm)``.
    null : numpy.ndarray, shape (n_perm,)
        Correlation of each null map of `x` with `y`.
    method : str
        ``pearson`` or ``spearman``.
    nulls : str
        Null model used (``hungarian``, ``moran``, ..., or ``custom``).
    n_perm : int
        Number of null maps.
    n_regions : int
        Regions both maps share (the comparison uses only those).
    """

    statistic: float
    p_value: float
    null: np.ndarray = field(repr=False)
    method: str
    nulls: str
    n_perm: int
    n_regions: int

    def summary(self) -> str:
        """One line: the correlation, its p-value and the null model."""
        name = "Pearson r" if self.method == "pearson" else "Spearman ρ"
        return (f"{name} = {self.statistic:.3f}, p = {self.p_value:.3g} ({self.n_perm} "
                f"{self.nulls} nulls, {self.n_regions} regions)")  # fmt: skip

    __str__ = summary

    def to_dict(self, *, include_null: bool = True) -> dict[str, Any]:
        """Summary for reports and run.json; the null values as a list unless `include_null` is False."""
        out = {
            "statistic": self.statistic,
            "p_value": self.p_value,
            "method": self.method,
            "nulls": self.nulls,
            "n_perm": self.n_perm,
            "n_regions": self.n_regions,
            "null_mean": float(np.mean(self.null)),
            "null_std": float(np.std(self.null)),
        }
        if include_null:
            out["null"] = [float(v) for v in self.null]
        return out

    def to_frame(self) -> pd.DataFrame:
        """One-row table: statistic, p_value, method, nulls, n_perm, n_regions."""
        row = {k: v for k, v in self.to_dict().items() if k != "null"}
        return pd.DataFrame([row])


def _corr_with_columns(y: np.ndarray, nulls: np.ndarray) -> np.ndarray:
    """Pearson correlation of `y` (n,) with each column of `nulls` (n, k)."""
    yc = y - y.mean()
    nc = nulls - nulls.mean(axis=0, keepdims=True)
    denom = np.linalg.norm(yc) * np.linalg.norm(nc, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (yc @ nc) / denom


def permutation_p_value(statistic: float, null: np.ndarray) -> float:
    """Two-sided p-value ``(1 + #{|null| >= |statistic|}) / (1 + n_perm)``.

    Parameters
    ----------
    statistic : float
        The observed statistic.
    null : numpy.ndarray, shape (n_perm,)
        NaN entries (constant null maps) count as not exceeding.

    Returns
    -------
    p : float
        In ``(0, 1]``.

    References
    ----------
    .. [1] Phipson B. & Smyth G.K. (2010). Permutation p-values should never be zero. Stat Appl
       Genet Mol Biol 9, 39.
    """
    from crossscale._stats import p_value_upper

    return p_value_upper(np.abs(np.asarray(null, dtype=float)), abs(statistic), atol=1e-12,
                         nonfinite="count")  # fmt: skip


def compare_maps(
    x: pd.Series,
    y: pd.Series,
    *,
    nulls: str | np.ndarray = "spin",
    n_perm: int = 1000,
    random_state: RandomState = None,
    method: Literal["pearson", "spearman"] = "pearson",
    graph: RegionGraph | None = None,
    atlas: str | Atlas | None = None,
) -> MapComparison:
    """Correlate two regional maps and test it against spatial-autocorrelation-preserving nulls.

    Null maps of `x` are correlated with `y` (kept fixed).

    Parameters
    ----------
    x, y : pandas.Series, shape (n_regions,)
        Regional maps indexed by regions of the atlas; only the regions both have are used, in
        the order of `x`.
    nulls : str or numpy.ndarray
        ``"spin"`` (= ``"hungarian"``), ``"vasa"``, ``"alexander_bloch"``, ``"vertex"``,
        ``"moran"``, ``"moran_pair"`` (see :func:`generate_nulls`); or an array of shape
        (n_regions, n_perm) in the order of the shared regions: integer dtype = permutation
        indices into `x` (as from :func:`spin_permutations`), float = ready null maps of `x`.
    n_perm : int
        Number of null maps (ignored when `nulls` is an array).
    random_state : int, numpy.random.Generator or None
        Seed of the nulls.
    method : {"pearson", "spearman"}
        Correlation. Spearman ranks each null map anew.
    graph : RegionGraph or None
        Weights for Moran nulls (default: surface adjacency).
    atlas : str, Atlas or None
        The parcellation of both maps (default: the graph's, the atlas in use, else inferred from
        the names: DK); see :func:`crossscale.atlas.get_atlas`.

    Returns
    -------
    result : MapComparison

    Examples
    --------
    >>> from crossscale.maps import load_adni_map
    >>> ad, lmci = load_adni_map("AD", "baseline"), load_adni_map("LMCI", "baseline")
    >>> res = compare_maps(ad, lmci, nulls="spin", n_perm=1000, random_state=0)
    >>> round(res.statistic, 2), res.p_value < 0.01
    (0.83, True)

    Raises
    ------
    ParameterError
        Unknown `nulls` or `method`; an array of the wrong shape.
    RegionMismatchError
        Fewer than 3 shared regions.
    InputDataError
        NaN or constant maps.

    References
    ----------
    .. [1] Alexander-Bloch A.F. et al. (2018). NeuroImage 178, 540-551.
    .. [2] Markello R.D. & Misic B. (2021). Comparing spatial null models for brain maps.
       NeuroImage 236, 118052.
    """
    if method not in ("pearson", "spearman"):
        raise ParameterError(f"method must be 'pearson' or 'spearman', got {method!r}.")
    if atlas is None and graph is not None:
        atlas = graph.atlas
    atlas = resolve_atlas(atlas, x.index if isinstance(x, pd.Series) else None)
    xs, ys = check_map(x, "x", atlas), check_map(y, "y", atlas)
    shared = xs.index.intersection(ys.index, sort=False)
    if len(shared) < 3:
        raise RegionMismatchError(
            f"x and y share {len(shared)} region(s); at least 3 are needed to correlate them. "
            "Check that both maps use the same atlas."
        )
    xs, ys = xs.loc[shared], ys.loc[shared]
    n = len(shared)
    if isinstance(nulls, str):
        name = _ALIASES.get(nulls, nulls)
        if name not in NULL_METHODS:
            raise ParameterError(
                f"nulls must be 'spin' or one of {', '.join(repr(m) for m in NULL_METHODS)}, or "
                f"an array of shape (n_regions, n_perm); got {nulls!r}."
            )
        null_maps = generate_nulls(
            xs, name, n_perm=n_perm, random_state=random_state, graph=graph, atlas=atlas
        )
    else:
        arr = np.asarray(nulls)
        if arr.ndim != 2 or arr.shape[0] != n:
            raise ParameterError(
                f"nulls array must have shape (n_regions={n}, n_perm), got {arr.shape}. Rows follow "
                "the regions shared by x and y, in the order of x."
            )
        name = "custom"
        if np.issubdtype(arr.dtype, np.integer):
            if arr.min() < 0 or arr.max() >= n:
                raise ParameterError(
                    f"nulls index array has entries outside 0..{n - 1}; it must index the {n} "
                    "shared regions."
                )
            null_maps = xs.to_numpy()[arr]
        else:
            null_maps = arr.astype(float)
            if not np.isfinite(null_maps).all():
                raise InputDataError("nulls array has NaN or infinite values.")
    xv, yv = xs.to_numpy(), ys.to_numpy()
    if method == "spearman":
        xv, yv = rankdata(xv), rankdata(yv)
        null_maps = rankdata(null_maps, axis=0)
    stat = float(np.corrcoef(xv, yv)[0, 1])
    null = _corr_with_columns(yv, null_maps)
    return MapComparison(
        statistic=stat,
        p_value=permutation_p_value(stat, null),
        null=null,
        method=method,
        nulls=name,
        n_perm=int(null_maps.shape[1]),
        n_regions=n,
    )
