import numpy as np
import pandas as pd
import pytest

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas import RegionGraph
from crossscale.nulls import moran_eigenvectors, moran_randomization, morans_i


def test_eigenvectors_are_orthonormal_centred_and_sorted(surface_graph):
    ev, vec = moran_eigenvectors(surface_graph)
    n = surface_graph.n_regions
    assert vec.shape == (n, len(ev)) and len(ev) == n - 1  # only the constant map is dropped
    np.testing.assert_allclose(vec.T @ vec, np.eye(len(ev)), atol=1e-8)
    np.testing.assert_allclose(vec.sum(axis=0), 0.0, atol=1e-8)
    assert (np.diff(ev) <= 1e-12).all()
    # eigenvalue * n / sum(W) is the Moran's I of the eigenvector
    np.testing.assert_allclose(
        morans_i(vec[:, :5], surface_graph),
        ev[:5] * n / surface_graph.adjacency.sum(),
        rtol=1e-8,
    )


def test_singleton_keeps_mean_variance_and_morans_i(ad_map, surface_graph):
    sur = moran_randomization(ad_map, surface_graph, n_perm=300, random_state=0)
    assert sur.shape == (68, 300)
    np.testing.assert_allclose(sur.mean(axis=0), ad_map.mean())
    np.testing.assert_allclose(sur.std(axis=0), ad_map.std(ddof=0))
    observed = morans_i(ad_map, surface_graph)
    assert observed > 0.2  # the AD atrophy map is spatially autocorrelated
    np.testing.assert_allclose(morans_i(sur, surface_graph), observed, rtol=1e-8)
    # and the surrogates are different maps, not copies or sign flips of the map
    r = np.corrcoef(np.column_stack([ad_map.to_numpy(), sur]).T)[0, 1:]
    assert np.abs(r).max() < 0.9 and np.abs(r).mean() < 0.3


def test_pair_keeps_mean_variance_and_part_of_the_autocorrelation(ad_map, surface_graph):
    sur = moran_randomization(ad_map, surface_graph, n_perm=300, procedure="pair", random_state=0)
    np.testing.assert_allclose(sur.mean(axis=0), ad_map.mean())
    np.testing.assert_allclose(sur.std(axis=0), ad_map.std(ddof=0))
    rng = np.random.default_rng(0)
    shuffled = np.column_stack([rng.permutation(ad_map.to_numpy()) for _ in range(300)])
    i_pair = morans_i(sur, surface_graph).mean()
    i_shuffle = morans_i(shuffled, surface_graph).mean()
    assert i_pair > i_shuffle + 0.05
    assert abs(i_shuffle - (-1 / 67)) < 0.02  # E[I] under random permutation is -1/(n-1)


def test_seeds_reproduce_and_differ(ad_map, surface_graph):
    a = moran_randomization(ad_map, surface_graph, n_perm=20, random_state=5)
    np.testing.assert_array_equal(
        a, moran_randomization(ad_map, surface_graph, n_perm=20, random_state=5)
    )
    assert not np.allclose(a, moran_randomization(ad_map, surface_graph, n_perm=20, random_state=6))


def test_subset_and_other_graphs(ad_map):
    sub = ad_map.iloc[::-1].iloc[:40]  # reversed order, 40 regions
    sur = moran_randomization(sub, n_perm=10, random_state=0)  # default surface graph
    assert sur.shape == (40, 10)
    graph = RegionGraph.from_surface().subgraph(sub.index)
    np.testing.assert_allclose(morans_i(sur, graph), morans_i(sub.to_numpy(), graph), rtol=1e-6)
    con = RegionGraph.from_connectome()
    sur = moran_randomization(ad_map, con, n_perm=10, random_state=0)
    np.testing.assert_allclose(morans_i(sur, con), morans_i(ad_map, con), rtol=1e-6)


def test_errors(ad_map, surface_graph):
    with pytest.raises(ParameterError, match="procedure must be 'singleton' or 'pair'"):
        moran_randomization(ad_map, surface_graph, procedure="triple")
    bad = ad_map.copy()
    bad.iloc[3] = np.nan
    with pytest.raises(InputDataError, match="NaN"):
        moran_randomization(bad, surface_graph)
    with pytest.raises(InputDataError, match="constant"):
        moran_randomization(pd.Series(1.0, index=ad_map.index), surface_graph)
