"""``RegionGraph``: which brain regions are neighbours, and where they are.

References
----------
.. [1] Lariviere S. et al. (2021). The ENIGMA Toolbox. Nat Methods 18, 698-700 (HCP connectome).
.. [2] Van Essen D.C. et al. (2013). The WU-Minn Human Connectome Project. NeuroImage 80, 62-79.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crossscale._errors import ParameterError, RegionMismatchError
from crossscale.atlas.names import DK_REGIONS, dk_regions
from crossscale.datasets import fetch

logger = logging.getLogger(__name__)


class RegionGraph:
    """A sparse, symmetric, weighted graph over brain regions, with region coordinates.

    Build it with :meth:`from_surface` (shared fsaverage5 mesh edges) or :meth:`from_connectome`
    (HCP structural connectivity); the constructor is for custom graphs.

    Parameters
    ----------
    regions : pandas.Index, shape (n_regions,)
        Canonical region names.
    adjacency : array-like or scipy.sparse matrix, shape (n_regions, n_regions)
        Non-negative symmetric weights; zero means no edge. The diagonal is ignored.
    coords : numpy.ndarray, shape (n_regions, 3)
        Region centroids in mm (fsaverage5 pial surface, approximately MNI305).
    sphere_coords : numpy.ndarray, shape (n_regions, 3)
        Region centroids on the fsaverage5 registration sphere (for spin tests).
    kind : str
        A short description of how the graph was built.

    Raises
    ------
    ParameterError
        Shapes disagree, weights are negative or not symmetric.
    """

    def __init__(
        self,
        regions: pd.Index,
        adjacency: np.ndarray | sp.spmatrix,
        coords: np.ndarray,
        sphere_coords: np.ndarray,
        *,
        kind: str = "custom",
    ) -> None:
        n = len(regions)
        adj = sp.csr_matrix(adjacency, dtype=float)
        if adj.shape != (n, n):
            raise ParameterError(
                f"adjacency has shape {adj.shape} but there are {n} regions; they must agree."
            )
        adj.setdiag(0.0)
        adj.eliminate_zeros()
        if adj.nnz and adj.data.min() < 0:
            raise ParameterError("adjacency has negative weights; edge weights must be >= 0.")
        if abs(adj - adj.T).max() > 1e-9:
            raise ParameterError("adjacency is not symmetric; pass (A + A.T) / 2 if intended.")
        coords = np.asarray(coords, dtype=float)
        sphere_coords = np.asarray(sphere_coords, dtype=float)
        if coords.shape != (n, 3) or sphere_coords.shape != (n, 3):
            raise ParameterError(f"coords and sphere_coords must have shape ({n}, 3).")
        self._regions = pd.Index(list(regions), name="region")
        self._adj = adj
        self._coords = coords
        self._sphere = sphere_coords
        self.kind = kind

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_surface(
        cls, regions: pd.Index | None = None, *, weighted: bool = False
    ) -> RegionGraph:
        """Adjacency of Desikan-Killiany regions that share an edge of the fsaverage5 mesh.

        Parameters
        ----------
        regions : pandas.Index or None
            Subset of canonical regions (default: all 68 cortical regions).
        weighted : bool
            If True, weight each edge by the log of 1 + the number of shared mesh edges (a proxy
            for border length); otherwise all edges weigh 1.

        Returns
        -------
        graph : RegionGraph
            On the 68 regions: 175 edges, one connected component per hemisphere.
        """
        from crossscale.atlas.surface import region_centroids, surface_adjacency

        counts = surface_adjacency().astype(float)
        adj = np.log1p(counts) if weighted else (counts > 0).astype(float)
        graph = cls(
            dk_regions(),
            adj,
            region_centroids("pial"),
            region_centroids("sphere"),
            kind="fsaverage5 surface adjacency" + (" (log border length)" if weighted else ""),
        )
        return graph if regions is None else graph.subgraph(regions)

    @classmethod
    def from_connectome(
        cls,
        regions: pd.Index | None = None,
        *,
        modality: Literal["structural", "functional"] = "structural",
        mode: Literal["replace", "weight"] = "replace",
        threshold: float = 0.0,
    ) -> RegionGraph:
        """Graph from the ENIGMA Toolbox HCP group connectome (68 cortical regions).

        Parameters
        ----------
        regions : pandas.Index or None
            Subset of canonical regions (default: all 68).
        modality : {"structural", "functional"}
            Structural (log streamline counts) or functional connectivity.
        mode : {"replace", "weight"}
            ``replace``: edges are the connectome's non-zero entries above `threshold`, weighted
            by strength scaled to a maximum of 1. ``weight``: keep the surface-adjacency edges and
            weight each by the connectome strength (scaled to max 1; surface edges without a
            connection keep a small weight of 0.05).
        threshold : float
            Connection strengths at or below this are dropped (``replace`` mode).

        Returns
        -------
        graph : RegionGraph
        """
        from crossscale.atlas.surface import region_centroids, surface_adjacency

        if modality not in ("structural", "functional"):
            raise ParameterError(
                f"modality must be 'structural' or 'functional', got {modality!r}."
            )
        if mode not in ("replace", "weight"):
            raise ParameterError(f"mode must be 'replace' or 'weight', got {mode!r}.")
        key = (
            "enigma_hcp_struc_matrix_ctx"
            if modality == "structural"
            else "enigma_hcp_func_matrix_ctx"
        )
        mat = np.loadtxt(fetch(key), delimiter=",")
        labels = pd.read_csv(fetch("enigma_hcp_struc_labels_ctx"), header=None).iloc[0].tolist()
        if list(labels) != list(DK_REGIONS):
            order = [labels.index(r) for r in DK_REGIONS]
            mat = mat[np.ix_(order, order)]
        mat = np.clip((mat + mat.T) / 2.0, 0.0, None)
        np.fill_diagonal(mat, 0.0)
        if mode == "replace":
            adj = np.where(mat > threshold, mat, 0.0)
        else:
            surf = surface_adjacency() > 0
            adj = np.where(surf, np.maximum(mat, 0.05 * mat.max()), 0.0)
        adj = adj / adj.max()
        graph = cls(
            dk_regions(),
            adj,
            region_centroids("pial"),
            region_centroids("sphere"),
            kind=f"HCP {modality} connectome ({mode})",
        )
        return graph if regions is None else graph.subgraph(regions)

    # -- views --------------------------------------------------------------------------------
    @property
    def regions(self) -> pd.Index:
        """Region names, shape (n_regions,)."""
        return self._regions

    @property
    def n_regions(self) -> int:
        """Number of regions."""
        return len(self._regions)

    @property
    def adjacency(self) -> sp.csr_matrix:
        """Symmetric weighted adjacency, shape (n_regions, n_regions) (a copy)."""
        return self._adj.copy()

    @property
    def coords(self) -> pd.DataFrame:
        """Centroids in mm, shape (n_regions, 3), columns x, y, z."""
        return pd.DataFrame(self._coords, index=self._regions, columns=["x", "y", "z"])

    @property
    def sphere_coords(self) -> pd.DataFrame:
        """Centroids on the fsaverage5 sphere, shape (n_regions, 3)."""
        return pd.DataFrame(self._sphere, index=self._regions, columns=["x", "y", "z"])

    @property
    def hemisphere(self) -> np.ndarray:
        """'L' or 'R' for each region, shape (n_regions,)."""
        return np.array([r.split("_", 1)[0] for r in self._regions])

    @property
    def edges(self) -> np.ndarray:
        """Edge list with i < j, shape (n_edges, 2), int."""
        upper = sp.triu(self._adj, k=1).tocoo()
        return np.column_stack([upper.row, upper.col]).astype(np.int64)

    @property
    def edge_weights(self) -> np.ndarray:
        """Weights of :attr:`edges`, shape (n_edges,)."""
        upper = sp.triu(self._adj, k=1).tocoo()
        return upper.data.copy()

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return int(sp.triu(self._adj, k=1).nnz)

    def n_components(self) -> int:
        """Number of connected components."""
        return int(sp.csgraph.connected_components(self._adj, directed=False)[0])

    def laplacian(self, normalized: bool = False) -> sp.csr_matrix:
        """Graph Laplacian ``L = D - A`` (or ``I - D^-1/2 A D^-1/2`` if `normalized`).

        Returns
        -------
        L : scipy.sparse.csr_matrix, shape (n_regions, n_regions)
        """
        return sp.csr_matrix(sp.csgraph.laplacian(self._adj, normed=normalized))

    def distances(self) -> np.ndarray:
        """Euclidean distances between centroids in mm, shape (n_regions, n_regions)."""
        diff = self._coords[:, None, :] - self._coords[None, :, :]
        return np.sqrt((diff**2).sum(-1))

    def subgraph(self, regions: pd.Index | list[str]) -> RegionGraph:
        """The graph restricted to `regions`, in that order.

        Raises
        ------
        RegionMismatchError
            If some regions are not in the graph.
        """
        regions = list(regions)
        missing = [r for r in regions if r not in self._regions]
        if missing:
            raise RegionMismatchError(
                f"{len(missing)} region(s) are not in this graph: {missing[:8]}. The graph has "
                f"{self.n_regions} regions ({self.kind})."
            )
        idx = self._regions.get_indexer(regions)
        return RegionGraph(
            pd.Index(regions, name="region"),
            self._adj[idx][:, idx],
            self._coords[idx],
            self._sphere[idx],
            kind=self.kind,
        )

    def hash(self) -> str:
        """sha256 of regions, edges and weights (recorded in checkpoints)."""
        h = hashlib.sha256()
        h.update("\n".join(self._regions).encode())
        h.update(self.edges.tobytes())
        h.update(np.round(self.edge_weights, 10).tobytes())
        return h.hexdigest()

    def to_dict(self) -> dict[str, object]:
        """Summary for run.json and reports."""
        return {
            "kind": self.kind,
            "n_regions": self.n_regions,
            "n_edges": self.n_edges,
            "n_components": self.n_components(),
            "hash": self.hash(),
        }

    def __repr__(self) -> str:
        return f"RegionGraph({self.n_regions} regions, {self.n_edges} edges, {self.kind})"
