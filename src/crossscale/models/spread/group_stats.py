"""Statistics of the group fit: effective sample size of correlated residuals, stage order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["check_stage_order", "effective_n"]


def effective_n(residuals: np.ndarray, distances: np.ndarray, *, n_neighbours: int = 4) -> dict:
    """Effective number of independent values among correlated residuals (for profile sets).

    Residuals of group maps are correlated between maps (follow-ups of the same subjects, nested
    groups) and between neighbouring regions, so treating the ``M x N`` values as independent
    makes profile-likelihood sets far too narrow. Two design effects correct for it:
    ``M_eff = M / (1 + (M - 1) r)`` with ``r`` the mean correlation between the maps' residuals
    (Kish's design effect for equicorrelated units), and ``N_eff = N (1 - I) / (1 + I)`` with
    ``I`` Moran's I of the residuals over the `n_neighbours` nearest regions (the lag-one
    autocorrelation correction of Bretherton et al. 1999). The parameters all maps share
    (epicentre, ``alpha/rho``) use ``n_eff = M_eff N_eff``; a map's own time, whose
    information comes from that map alone, uses ``n_eff_per_map = M N_eff``. Both corrections
    are approximations; they make identical maps count once (``r = 1``), not ``M`` times.

    Parameters
    ----------
    residuals : numpy.ndarray, shape (n_maps, n_regions)
        Residuals of the fit of each map.
    distances : numpy.ndarray, shape (n_regions, n_regions)
        Euclidean distances between the regions' centroids.
    n_neighbours : int
        Nearest regions that count as neighbours for Moran's I.

    Returns
    -------
    n_eff : dict
        ``n_eff``, ``n_eff_per_map``, ``n``, ``map_correlation`` (r), ``morans_i`` (I).

    References
    ----------
    .. [1] Kish L. (1965). Survey Sampling. Wiley (design effect).
    .. [2] Bretherton C.S. et al. (1999). The effective number of spatial degrees of freedom of
       a time-varying field. J Climate 12, 1990-2009.
    """
    e = residuals - residuals.mean(1, keepdims=True)
    m, n = e.shape
    r = 0.0
    if m > 1:
        sd = np.sqrt((e**2).sum(1))
        ok = sd > 0
        if ok.sum() > 1:
            c = (e[ok] @ e[ok].T) / np.outer(sd[ok], sd[ok])
            k = int(ok.sum())
            r = float(np.clip((c.sum() - k) / (k * (k - 1)), 0.0, 1.0))
    m_eff = m / (1 + (m - 1) * r)
    k = min(n_neighbours, n - 1)
    idx = np.argsort(distances, axis=1)[:, 1 : k + 1]
    w = np.zeros((n, n))
    w[np.repeat(np.arange(n), k), idx.ravel()] = 1.0
    w = np.maximum(w, w.T)
    den = float((e**2).sum())
    moran = float(n / w.sum() * np.einsum("mi,ij,mj->", e, w, e) / den) if den > 0 else 0.0
    moran = float(np.clip(moran, 0.0, 0.95))
    n_r = n * (1 - moran) / (1 + moran)
    return {"n_eff": float(m_eff * n_r), "n_eff_per_map": float(m * n_r), "n": int(m * n),
            "map_correlation": r,
            "morans_i": moran}  # fmt: skip


#: An epicentre farther than this from the maps' peak (mm between centroids) gets a note.


def check_stage_order(times: pd.Series, stages: pd.Series, order: Sequence[str]) -> dict:
    """Check whether the fitted times order the clinical stages.

    Parameters
    ----------
    times : pandas.Series, shape (n_maps,)
        Fitted time of each map; NaN (not identified) is left out.
    stages : pandas.Series, shape (n_maps,)
        Stage of each map, same index.
    order : sequence of str
        Stages from earliest to latest.

    Returns
    -------
    check : dict
        ``kendall_tau`` and its ``p`` (stage rank vs time), ``stage_median_time`` (stage ->
        median time), ``ordered`` (the stage medians increase; None with fewer than two
        stages left), ``inversions`` (pairs of consecutive stages whose median times decrease),
        ``n_maps`` (maps used) and ``n_excluded`` (NaN times or stages outside `order`).
    """
    from scipy.stats import kendalltau

    rank = {s: i for i, s in enumerate(order)}
    st = stages.astype(str)
    keep = st.isin(list(rank)) & times.notna()
    r = st[keep].map(rank).to_numpy(float)
    t = times[keep].to_numpy(float)
    med = {s: float(np.median(t[r == rank[s]])) for s in order if (r == rank[s]).any()}
    stages_present = [s for s in order if s in med]
    inv = [f"{a} ({med[a]:.3g}) > {b} ({med[b]:.3g})"
           for a, b in zip(stages_present, stages_present[1:], strict=False) if med[a] > med[b]]  # fmt: skip
    if len(set(r)) > 1 and len(set(t)) > 1:
        tau, p = kendalltau(r, t)
    else:
        tau, p = np.nan, np.nan
    return {"order": list(order), "kendall_tau": float(tau), "p": float(p),
            "stage_median_time": med,
            "ordered": (not inv) if len(stages_present) > 1 else None,
            "inversions": inv, "n_maps": int(keep.sum()),
            "n_excluded": int(len(times) - keep.sum())}  # fmt: skip
