"""Initial epicentres and clusters: network-diffusion seed scores, facility location, k-means."""

from __future__ import annotations

from typing import Any

import numpy as np

from crossscale.models.spread.visits import last_visits


def diffusion_seed_scores(laplacian: np.ndarray, maps: np.ndarray) -> np.ndarray:
    """Best correlation of each map with a network-diffusion pattern seeded at each region.

    Parameters
    ----------
    laplacian : numpy.ndarray, shape (N, N)
        Graph Laplacian of the N regions.
    maps : numpy.ndarray, shape (M, N)
        Observed maps (rows).

    Returns
    -------
    scores : numpy.ndarray, shape (M, N)
        ``max over rho*t`` of the Pearson r between map ``m`` and ``exp(-rho t L) e_r``.
    """
    grid = np.geomspace(0.05, 20.0, 40)
    evals, evecs = np.linalg.eigh(laplacian)
    pat = np.einsum("gk,rk,nk->rgn", np.exp(-np.outer(grid, evals)), evecs, evecs)
    pat = pat - pat.mean(-1, keepdims=True)
    pat /= np.linalg.norm(pat, axis=-1, keepdims=True) + 1e-12
    m = maps - maps.mean(-1, keepdims=True)
    m = m / (np.linalg.norm(m, axis=-1, keepdims=True) + 1e-12)
    return np.einsum("rgn,mn->mrg", pat, m).max(-1)


def _facility_swap(
    prof: np.ndarray, seeds: list[int], max_pass: int = 10
) -> tuple[list[int], float]:
    """Improve a seed set by single swaps for ``F = sum_s max_k prof[s, seed_k]``."""

    def value(ss: list[int]) -> float:
        return float(prof[:, ss].max(1).sum())

    best = value(seeds)
    for _ in range(max_pass):
        improved = False
        for i in range(len(seeds)):
            for r in range(prof.shape[1]):
                if r in seeds:
                    continue
                trial = seeds[:i] + [r] + seeds[i + 1 :]
                v = value(trial)
                if v > best + 1e-12:
                    seeds, best, improved = trial, v, True
        if not improved:
            break
    return seeds, best


def init_epicentres(
    y: np.ndarray, mask: np.ndarray, laplacian: np.ndarray, n_subtypes: int, random_state: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Initial subtype epicentres and cluster labels.

    Every visit is scored against the network-diffusion pattern seeded at every region (best
    Pearson r over a grid of ``rho t``; :func:`diffusion_seed_scores`), and a subject's profile
    ``P[s, r]`` is the sum over its visits. The K epicentres maximise
    ``sum_s max_k P[s, e_k]`` (a facility-location objective: every subject is explained by its
    best epicentre), found by single swaps starting from (a) the greedy choice and (b) the seeds
    of k-means clusters of last-visit patterns (centred, unit norm, so that subjects cluster by
    where, not how much); the better set wins. Each subject is labelled by its best epicentre.
    A k-means-only start merged neighbouring true subtypes into one compromise epicentre (e.g.
    entorhinal + lateral occipital -> fusiform) in simulated cohorts with four subtypes.

    Returns
    -------
    epicentres : numpy.ndarray, shape (K,)
    labels : numpy.ndarray, shape (S,)
    """
    from sklearn.cluster import KMeans

    s_, t_, n = y.shape
    obs = mask.reshape(-1) > 0
    sc = np.zeros((s_ * t_, n))
    sc[obs] = diffusion_seed_scores(laplacian, y.reshape(-1, n)[obs])
    prof = sc.reshape(s_, t_, n).sum(1)
    # (a) greedy
    greedy: list[int] = []
    for _ in range(n_subtypes):
        cur = prof[:, greedy].max(1) if greedy else np.full(s_, -np.inf)
        gain = np.maximum(prof, cur[:, None]).sum(0)
        gain[greedy] = -np.inf
        greedy.append(int(np.argmax(gain)))
    # (b) k-means on last-visit patterns, then the best-matching region per cluster mean
    last = last_visits(y, mask)
    pattern = last - last.mean(1, keepdims=True)
    pattern /= np.linalg.norm(pattern, axis=1, keepdims=True) + 1e-12
    if n_subtypes > 1:
        labels = KMeans(n_subtypes, n_init=10, random_state=random_state).fit_predict(pattern)
    else:
        labels = np.zeros(len(last), dtype=int)
    means = np.array(
        [last[labels == k].mean(0) if np.any(labels == k) else last.mean(0)
         for k in range(n_subtypes)]
    )  # fmt: skip
    scores = diffusion_seed_scores(laplacian, means)
    km: list[int] = []
    for k in range(n_subtypes):
        row = scores[k].copy()
        row[km] = -np.inf
        km.append(int(np.argmax(row)))
    cands = [_facility_swap(prof, start) for start in (greedy, km)]
    seeds = max(cands, key=lambda c: c[1])[0]
    labels = prof[:, seeds].argmax(1)
    return np.array(seeds), labels
