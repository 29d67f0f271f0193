"""The 20-region synthetic data set of the model tests (fixture ``synthetic`` in conftest.py)."""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Synthetic:
    """20 regions on a small graph, expression with known latent programs, a map made of them.

    ``latent`` (20 x 3) holds three smooth programs (a cosine and a sine around each
    hemisphere's ring, and the hemisphere); ``loadings`` (3 x 40) puts genes G00-G09 on program
    0, G10-G19 on program 1, G20-G29 on program 2 and leaves G30-G39 as noise; expression is
    ``latent @ loadings`` plus noise of SD 0.3. The map is ``1.5 z0 - z1`` plus noise of SD 0.05,
    so it depends on programs 0 and 1 (genes G00-G19) and not on program 2 or the noise genes.
    """

    X: pd.DataFrame
    y: pd.Series
    graph: Any
    latent: pd.DataFrame
    loadings: pd.DataFrame

    @property
    def n_regions(self) -> int:
        return len(self.y)


def make_synthetic(seed: int = 0, noise: float = 0.3) -> Synthetic:
    """The :class:`Synthetic` data set (a new draw of the noise for each `seed`)."""
    from crossscale.atlas import DK_REGIONS, RegionGraph

    rng = np.random.default_rng(seed)
    regions = pd.Index([*DK_REGIONS[:10], *DK_REGIONS[34:44]], name="region")
    n, per = len(regions), 10
    angle = 2 * np.pi * (np.arange(n) % per) / per
    hemi = np.where(np.arange(n) < per, 1.0, -1.0)
    adj = np.zeros((n, n))
    for h in (0, per):  # a ring in each hemisphere
        for i in range(per):
            a, b = h + i, h + (i + 1) % per
            adj[a, b] = adj[b, a] = 1.0
    ring = np.c_[hemi * 40.0, 30 * np.cos(angle), 30 * np.sin(angle)]
    sphere = 100 * ring / np.linalg.norm(ring, axis=1, keepdims=True)
    graph = RegionGraph(regions, adj, ring, sphere, kind="synthetic rings")
    Z = np.c_[np.cos(angle), np.sin(angle), hemi]
    Z = (Z - Z.mean(0)) / Z.std(0)
    latent = pd.DataFrame(Z, index=regions, columns=["z0", "z1", "z2"])
    genes = [f"G{i:02d}" for i in range(40)]
    W = np.zeros((3, 40))
    for k in range(3):
        W[k, 10 * k : 10 * (k + 1)] = rng.uniform(0.7, 1.3, 10) * rng.choice([-1, 1], 10)
    loadings = pd.DataFrame(W, index=latent.columns, columns=genes)
    X = pd.DataFrame(Z @ W + noise * rng.normal(size=(n, 40)), index=regions, columns=genes)
    y = pd.Series(1.5 * Z[:, 0] - Z[:, 1] + 0.05 * rng.normal(size=n), index=regions,
                  name="synthetic")  # fmt: skip
    return Synthetic(X, y, graph, latent, loadings)
