"""Null graphs for spreading models: degree-preserving rewiring and a distance-only graph.

References
----------
.. [1] Maslov S., Sneppen K. (2002). Specificity and stability in topology of protein networks.
   Science 296, 910-913.
.. [2] Raj A. et al. (2012). Neuron 73, 1204-1215 (Euclidean-distance control graph).
.. [3] Betzel R.F., Bassett D.S. (2018). Specificity and robustness of long-distance connections
   in weighted, interareal connectomes. PNAS 115, E4880-E4889 (length-preserving rewiring).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crossscale._errors import ParameterError


def rewire_degree_preserving(
    graph, *, swaps_per_edge: int = 10, random_state=None, length_bins: int | None = None
):
    """Randomise a graph with double-edge swaps that keep every region's degree.

    Each swap takes edges (a, b), (c, d) and replaces them with (a, d), (c, b) when neither exists
    and no self-loop forms; edge weights travel with the swapped edges, so the weight distribution
    and the binary degree sequence are preserved exactly.

    Parameters
    ----------
    graph : RegionGraph
        The graph to rewire (weights travel with their edges).
    swaps_per_edge : int
        Attempted swaps per edge.
    random_state : int or None
        Seed.
    length_bins : int or None
        If set, a swap is accepted only when each new edge's Euclidean length falls in the same
        length bin (quantiles of the original edge lengths) as the edge it replaces, so the
        edge-length distribution and the length attached to each weight are kept too (a
        distance-preserving null; Betzel & Bassett 2018).

    Returns
    -------
    null : RegionGraph
        Same regions and coordinates, ``kind`` ending in "(degree-preserving rewired)" or
        "(degree- and length-preserving rewired)".

    References
    ----------
    .. [1] Maslov S., Sneppen K. (2002). Science 296, 910-913.
    """
    from crossscale.atlas import RegionGraph

    if swaps_per_edge < 1:
        raise ParameterError(f"swaps_per_edge must be >= 1; got {swaps_per_edge}.")
    if length_bins is not None and length_bins < 1:
        raise ParameterError(f"length_bins must be None or >= 1; got {length_bins}.")
    rng = np.random.default_rng(random_state)
    edges = graph.edges.copy()
    weights = graph.edge_weights.copy()
    m = len(edges)
    present = {(int(a), int(b)) for a, b in edges}
    if length_bins is not None:
        dist = graph.distances()
        lengths = dist[edges[:, 0], edges[:, 1]]
        cuts = np.quantile(lengths, np.linspace(0, 1, length_bins + 1)[1:-1])

        def lbin(i: int, j: int) -> int:
            return int(np.searchsorted(cuts, dist[i, j]))
    for _ in range(swaps_per_edge * m):
        i, j = rng.integers(m, size=2)
        if i == j:
            continue
        a, b = edges[i]
        c, d = edges[j]
        if rng.random() < 0.5:
            c, d = d, c
        if len({a, b, c, d}) < 4:
            continue
        e1, e2 = (min(a, d), max(a, d)), (min(c, b), max(c, b))
        if e1 in present or e2 in present:
            continue
        if length_bins is not None and (lbin(*e1) != lbin(a, b) or lbin(*e2) != lbin(c, d)):
            continue
        present -= {(min(a, b), max(a, b)), (min(c, d), max(c, d))}
        present |= {e1, e2}
        edges[i], edges[j] = e1, e2
    n = graph.n_regions
    adj = np.zeros((n, n))
    adj[edges[:, 0], edges[:, 1]] = weights
    adj = adj + adj.T
    return RegionGraph(
        graph.regions, adj, graph.coords.to_numpy(), graph.sphere_coords.to_numpy(),
        kind=f"{graph.kind} (degree-{'and length-' if length_bins else ''}preserving rewired)",
    )  # fmt: skip


def distance_graph(graph, *, n_neighbours: int | None = None):
    """Distance-only graph: each region joined to its nearest regions by Euclidean distance.

    Parameters
    ----------
    graph : RegionGraph
        Supplies regions and centroids (and the mean degree when `n_neighbours` is None).
    n_neighbours : int or None
        Neighbours per region (default: the mean binary degree of `graph`, so both graphs have
        about the same number of edges). Weights ``exp(-d^2 / (2 s^2))`` with ``s`` the median
        neighbour distance, scaled to a maximum of 1.

    Returns
    -------
    null : RegionGraph
    """
    from crossscale.atlas import RegionGraph

    n = graph.n_regions
    k = n_neighbours or max(1, int(round(2 * graph.n_edges / n)))
    if not 1 <= k < n:
        raise ParameterError(f"n_neighbours must be in [1, {n - 1}]; got {k}.")
    d = graph.distances()
    order = np.argsort(d, axis=1)[:, 1 : k + 1]
    mask = np.zeros((n, n), dtype=bool)
    mask[np.repeat(np.arange(n), k), order.ravel()] = True
    mask |= mask.T
    s = np.median(d[mask])
    adj = np.where(mask, np.exp(-(d**2) / (2 * s**2)), 0.0)
    adj /= adj.max()
    return RegionGraph(
        graph.regions, adj, graph.coords.to_numpy(), graph.sphere_coords.to_numpy(),
        kind=f"Euclidean {k}-nearest-neighbour graph",
    )  # fmt: skip


def combined_graph(graph, other):
    """Union of two graphs on the same regions, each scaled to a maximum weight of 1 and summed.

    Parameters
    ----------
    graph, other : RegionGraph
        E.g. the connectome and :func:`distance_graph` of it.

    Returns
    -------
    combined : RegionGraph
    """
    from crossscale.atlas import RegionGraph

    if list(graph.regions) != list(other.regions):
        raise ParameterError("combined_graph needs two graphs on the same regions in one order.")
    a = graph.adjacency.toarray()
    b = other.adjacency.toarray()
    adj = a / a.max() + b / b.max()
    return RegionGraph(
        graph.regions, adj, graph.coords.to_numpy(), graph.sphere_coords.to_numpy(),
        kind=f"{graph.kind} + {other.kind}",
    )  # fmt: skip


def degree_table(graph) -> pd.Series:
    """Binary degree of each region (for checking rewiring), shape (n_regions,)."""
    adj = graph.adjacency
    return pd.Series(np.asarray((adj > 0).sum(1)).ravel(), index=graph.regions, name="degree")
