"""``RegionGraph``: which brain regions are neighbours, and where they are.

References
----------
.. [1] Lariviere S. et al. (2021). The ENIGMA Toolbox. Nat Methods 18, 698-700 (HCP connectome).
.. [2] Van Essen D.C. et al. (2013). The WU-Minn Human Connectome Project. NeuroImage 80, 62-79.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crossscale._errors import ParameterError, RegionMismatchError
from crossscale.atlas.names import hemisphere_of

if TYPE_CHECKING:
    from crossscale.atlas.atlases import Atlas

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
    atlas : Atlas or None
        The parcellation the regions belong to (set by :meth:`from_surface` and
        :meth:`from_connectome`; spins, figures and checkpoints read it).

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
        atlas: Atlas | None = None,
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
        self.atlas = atlas

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_surface(
        cls,
        regions: pd.Index | None = None,
        *,
        weighted: bool = False,
        atlas: str | Atlas | None = None,
        n_subcortex_neighbours: int = 3,
    ) -> RegionGraph:
        """Adjacency of regions that share an edge of the fsaverage5 mesh.

        Parameters
        ----------
        regions : pandas.Index or None
            Subset of canonical regions (default: all regions of the atlas).
        weighted : bool
            If True, weight each edge by the log of 1 + the number of shared mesh edges (a proxy
            for border length); otherwise all edges weigh 1.
        atlas : str, Atlas or None
            The parcellation (default: the atlas in use, else Desikan-Killiany).
        n_subcortex_neighbours : int
            Subcortical regions have no surface: each is joined (weight 1) to this many nearest
            regions of its hemisphere by centroid distance (MNI mm).

        Returns
        -------
        graph : RegionGraph
            On the 68 Desikan-Killiany regions: 175 edges, one connected component per
            hemisphere.
        """
        from crossscale.atlas.lookup import get_atlas

        atlas = get_atlas(atlas)
        counts = atlas.surface_adjacency().astype(float)
        adj = np.log1p(counts) if weighted else (counts > 0).astype(float)
        kind = "fsaverage5 surface adjacency" + (" (log border length)" if weighted else "")
        if atlas.has_subcortex:
            adj = np.maximum(adj, _subcortex_knn(atlas, n_subcortex_neighbours))
            kind += f" + {n_subcortex_neighbours} nearest regions of each subcortical region"
        return cls._of_atlas(atlas, adj, kind, regions)

    @classmethod
    def from_connectome(
        cls,
        regions: pd.Index | None = None,
        *,
        modality: Literal["structural", "functional"] = "structural",
        mode: Literal["replace", "weight"] = "replace",
        threshold: float = 0.0,
        atlas: str | Atlas | None = None,
    ) -> RegionGraph:
        """Graph from the ENIGMA Toolbox HCP group connectome of the atlas.

        Available for ``dk`` (68 cortical), ``dk-subcortex`` (82), ``schaefer100`` …
        ``schaefer400`` and ``glasser360``.

        Parameters
        ----------
        regions : pandas.Index or None
            Subset of canonical regions (default: all regions of the atlas).
        modality : {"structural", "functional"}
            Structural (log streamline counts) or functional connectivity.
        mode : {"replace", "weight"}
            ``replace``: edges are the connectome's non-zero entries above `threshold`, weighted
            by strength scaled to a maximum of 1. ``weight``: keep the surface-adjacency edges and
            weight each by the connectome strength (scaled to max 1; surface edges without a
            connection keep a small weight of 0.05).
        threshold : float
            Connection strengths at or below this are dropped (``replace`` mode).
        atlas : str, Atlas or None
            The parcellation (default: the atlas in use, else Desikan-Killiany).

        Returns
        -------
        graph : RegionGraph

        Raises
        ------
        ParameterError
            Unknown modality or mode, or an atlas without a connectome.
        """
        from crossscale.atlas.lookup import get_atlas

        if mode not in ("replace", "weight"):
            raise ParameterError(f"mode must be 'replace' or 'weight', got {mode!r}.")
        atlas = get_atlas(atlas)
        mat = atlas.connectome(modality).to_numpy(dtype=float)
        mat = np.clip((mat + mat.T) / 2.0, 0.0, None)
        np.fill_diagonal(mat, 0.0)
        if mode == "replace":
            adj = np.where(mat > threshold, mat, 0.0)
        else:
            surf = atlas.surface_adjacency() > 0
            if atlas.has_subcortex:
                surf = surf | (_subcortex_knn(atlas, 3) > 0)
            adj = np.where(surf, np.maximum(mat, 0.05 * mat.max()), 0.0)
        adj = adj / adj.max()
        return cls._of_atlas(atlas, adj, f"HCP {modality} connectome ({mode})", regions)

    @classmethod
    def from_distances(
        cls,
        regions: pd.Index | None = None,
        *,
        atlas: str | Atlas | None = None,
        exponent: float = 1.0,
    ) -> RegionGraph:
        """Complete graph weighted by inverse Euclidean distance between region centroids.

        The spatial weights of Moran spectral randomisation "from distances" (``W_ij =
        d_ij^-exponent``, as in BrainSpace and neuromaps), defined for any mix of cortical and
        subcortical regions.

        Parameters
        ----------
        regions : pandas.Index or None
            Subset of canonical regions (default: all regions of the atlas).
        atlas : str, Atlas or None
            The parcellation (default: the atlas in use, else Desikan-Killiany).
        exponent : float
            Power of the inverse distance (> 0).

        Returns
        -------
        graph : RegionGraph

        References
        ----------
        .. [1] Vos de Wael R. et al. (2020). BrainSpace. Commun Biol 3, 103.
        .. [2] Markello R.D. & Misic B. (2021). NeuroImage 236, 118052.
        """
        from crossscale.atlas.lookup import get_atlas

        if not exponent > 0:
            raise ParameterError(f"exponent must be > 0; got {exponent!r}.")
        atlas = get_atlas(atlas)
        dist = atlas.distances()
        with np.errstate(divide="ignore"):
            adj = np.where(dist > 0, dist ** (-float(exponent)), 0.0)
        return cls._of_atlas(atlas, adj, f"inverse centroid distance (power {exponent:g})", regions)

    @classmethod
    def _of_atlas(
        cls, atlas: Atlas, adj: np.ndarray | sp.spmatrix, kind: str, regions: pd.Index | None
    ) -> RegionGraph:
        """The graph of every region of `atlas` with `adj`, then restricted to `regions`."""
        graph = cls(atlas.regions, adj, atlas.centroids("pial"), atlas.centroids("sphere"),
                    kind=kind, atlas=atlas)  # fmt: skip
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
        if self.atlas is not None:
            return self.atlas.hemisphere[self.atlas.index(self._regions)]
        return np.array([hemisphere_of(r) for r in self._regions])

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
            atlas=self.atlas,
        )

    def hash(self) -> str:
        """sha256 of regions, edges and weights (recorded in checkpoints)."""
        h = hashlib.sha256()
        h.update("\n".join(self._regions).encode())
        h.update(self.edges.tobytes())
        h.update(np.round(self.edge_weights, 10).tobytes())
        if self.atlas is not None and self.atlas.name not in ("dk", "dk-subcortex"):
            h.update(f"atlas:{self.atlas.hash()}".encode())  # Schaefer resolutions share names
        return h.hexdigest()

    def to_dict(self) -> dict[str, object]:
        """Summary for run.json and reports."""
        return {
            "kind": self.kind,
            "atlas": None if self.atlas is None else self.atlas.name,
            "n_regions": self.n_regions,
            "n_edges": self.n_edges,
            "n_components": self.n_components(),
            "hash": self.hash(),
        }

    def __repr__(self) -> str:
        return f"RegionGraph({self.n_regions} regions, {self.n_edges} edges, {self.kind})"


def _subcortex_knn(atlas: Atlas, k: int) -> np.ndarray:
    """Binary edges joining each subcortical region to its `k` nearest same-hemisphere regions."""
    n = atlas.n_regions
    adj = np.zeros((n, n))
    dist = atlas.distances()
    hemi = atlas.hemisphere
    for i in np.flatnonzero(~atlas.is_cortex):
        same = np.flatnonzero((hemi == hemi[i]) & (np.arange(n) != i))
        near = same[np.argsort(dist[i, same], kind="stable")[:k]]
        adj[i, near] = adj[near, i] = 1.0
    return adj
