import numpy as np
import pytest

from crossscale import ParameterError
from crossscale.atlas import RegionGraph
from crossscale.nulls.graphs import degree_table, distance_graph, rewire_degree_preserving


@pytest.fixture(scope="module")
def connectome():
    return RegionGraph.from_connectome()


def test_rewiring_preserves_degrees_and_weights(connectome):
    null = rewire_degree_preserving(connectome, random_state=0)
    again = rewire_degree_preserving(connectome, random_state=0)
    assert null.hash() == again.hash() and null.hash() != connectome.hash()
    assert degree_table(null).equals(degree_table(connectome))
    np.testing.assert_allclose(np.sort(null.edge_weights), np.sort(connectome.edge_weights))
    shared = {tuple(e) for e in null.edges} & {tuple(e) for e in connectome.edges}
    assert len(shared) < 0.7 * connectome.n_edges
    with pytest.raises(ParameterError, match="swaps_per_edge"):
        rewire_degree_preserving(connectome, swaps_per_edge=0)


def test_distance_graph_joins_nearest_regions(connectome):
    from scipy.spatial import cKDTree

    g = distance_graph(connectome, n_neighbours=4)
    adj = g.adjacency.toarray()
    # reference: the 4 nearest centroids of each region by a k-d tree, the union made
    # symmetric, Gaussian weights with s = the median edge length, scaled to a maximum of 1
    xyz = connectome.coords.to_numpy()
    dist, idx = cKDTree(xyz).query(xyz, k=5)
    mask = np.zeros((68, 68), dtype=bool)
    mask[np.repeat(np.arange(68), 4), idx[:, 1:].ravel()] = True
    mask |= mask.T
    d = np.linalg.norm(xyz[:, None] - xyz[None], axis=-1)
    s = np.median(d[mask])
    ref = np.where(mask, np.exp(-(d**2) / (2 * s**2)), 0.0)
    np.testing.assert_allclose(adj, ref / ref.max(), rtol=1e-10, atol=1e-12)
    assert np.array_equal(dist[:, 1], np.sort(np.where(mask, d, np.inf), axis=1)[:, 0])


def test_length_preserving_rewiring_keeps_degrees_and_lengths(connectome):
    null = rewire_degree_preserving(connectome, random_state=3, length_bins=5)
    assert "length-preserving" in null.kind
    np.testing.assert_array_equal(degree_table(null), degree_table(connectome))
    d = connectome.distances()
    before = d[connectome.edges[:, 0], connectome.edges[:, 1]]
    after = d[null.edges[:, 0], null.edges[:, 1]]
    cuts = np.quantile(before, np.linspace(0, 1, 6)[1:-1])
    np.testing.assert_array_equal(
        np.bincount(np.searchsorted(cuts, before), minlength=5),
        np.bincount(np.searchsorted(cuts, after), minlength=5),
    )
    free = rewire_degree_preserving(connectome, random_state=3)
    moved = {tuple(e) for e in null.edges} ^ {tuple(e) for e in connectome.edges}
    assert moved  # it does rewire
    # the unconstrained null makes edges longer on average; the length-preserving one does not
    assert d[free.edges[:, 0], free.edges[:, 1]].mean() > 1.1 * before.mean()
    assert after.mean() == pytest.approx(before.mean(), rel=0.1)
    with pytest.raises(ParameterError, match="length_bins"):
        rewire_degree_preserving(connectome, length_bins=0)
