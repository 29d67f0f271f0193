"""Moran eigenvectors, Moran's I and Moran spectral randomisation against hand computations.

``_moran_eigen`` is called directly (``moran_eigenvectors`` caches it): its eigenpairs must be
those of ``H W_s H`` with ``W_s = (W + W') / 2`` and ``H = I - 11'/n`` computed here with dense
numpy, the constant map removed.
"""

import numpy as np
import pandas as pd
import pytest

from crossscale.nulls import moran_randomization, morans_i
from crossscale.nulls.moran import _moran_eigen


def _weights(n=9, seed=0, symmetric=False):
    rng = np.random.default_rng(seed)
    w = np.zeros((n, n))
    for i in range(n):  # a ring with extra chords; large weights so eigenvalues exceed 1
        for j in (i + 1, i + 3):
            w[i, j % n] = rng.uniform(1.0, 6.0)
    return w + w.T if symmetric else w + 0.5 * w.T


def test_eigenpairs_are_those_of_the_doubly_centred_symmetrised_weights():
    w = _weights()
    n = len(w)
    ev, vec = _moran_eigen(w)
    assert ev.shape == (n - 1,) and vec.shape == (n, n - 1)
    h = np.eye(n) - np.ones((n, n)) / n
    target = h @ ((w + w.T) / 2) @ h
    np.testing.assert_allclose(target @ vec, vec * ev, atol=1e-9)  # eigenpairs of H W_s H
    lam = np.linalg.eigvalsh(target)
    # the spectrum without the constant map's eigenvalue 0 (one zero removed), descending
    drop = int(np.argmin(np.abs(lam)))
    np.testing.assert_allclose(ev, np.sort(np.delete(lam, drop))[::-1], atol=1e-9)
    assert ev.max() > 2.0 and ev.min() < -2.0  # the test spectrum is wide
    np.testing.assert_allclose(vec.T @ vec, np.eye(n - 1), atol=1e-9)
    np.testing.assert_allclose(vec.sum(axis=0), 0.0, atol=1e-9)  # orthogonal to the constant
    assert not ev.flags.writeable and not vec.flags.writeable  # shared through a cache
    assert ev.flags.c_contiguous and vec.flags.c_contiguous


def test_a_second_zero_eigenvalue_is_kept_apart_from_the_constant_map():
    # two disconnected pairs plus an isolated region: H W H has zero eigenvalues besides the
    # constant map's; every eigenvector returned must still be orthogonal to the constant
    w = np.zeros((5, 5))
    w[0, 1] = w[1, 0] = 1.0
    w[2, 3] = w[3, 2] = 1.0
    ev, vec = _moran_eigen(w)
    assert ev.shape == (4,)
    np.testing.assert_allclose(vec.sum(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(vec.T @ vec, np.eye(4), atol=1e-9)


def _graph_like(w, regions):
    from types import SimpleNamespace

    from scipy import sparse

    return SimpleNamespace(adjacency=sparse.csr_matrix(w), regions=pd.Index(regions))


def test_morans_i_by_hand_for_one_map_and_a_stack():
    w = _weights(symmetric=True)
    n = len(w)
    regions = [f"R{i}" for i in range(n)]
    g = _graph_like(w, regions)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 3)) + np.array([0.0, 10.0, -4.0])  # maps with different means

    def hand(v):
        z = v - v.mean()
        return n / w.sum() * (z @ w @ z) / (z @ z)

    np.testing.assert_allclose(morans_i(x, g), [hand(x[:, k]) for k in range(3)], rtol=1e-12)
    assert morans_i(x[:, 1], g) == pytest.approx(hand(x[:, 1]), rel=1e-12)
    # a Series is aligned to the graph's regions, whatever its order
    s = pd.Series(x[:, 0], index=regions).iloc[::-1]
    assert morans_i(s, g) == pytest.approx(hand(x[:, 0]), rel=1e-12)


def test_singleton_surrogates_flip_the_signs_of_the_map_in_the_eigenbasis(surface_graph, ad_map):
    from crossscale.nulls import moran_eigenvectors

    _, vec = moran_eigenvectors(surface_graph)
    x = ad_map.to_numpy()
    coef = vec.T @ (x - x.mean())
    sur = moran_randomization(ad_map, surface_graph, n_perm=40, random_state=3)
    new = vec.T @ (sur - x.mean())
    # each surrogate has the same coefficients up to sign, and the signs vary
    np.testing.assert_allclose(np.abs(new), np.abs(coef)[:, None].repeat(40, 1), atol=1e-9)
    signs = np.sign(new * coef[:, None])
    assert 0.3 < (signs > 0).mean() < 0.7
    # the same draws as numpy's choice of signs with the same seed
    want = np.random.default_rng(3).choice(np.array([-1.0, 1.0]), size=(len(coef), 40))
    np.testing.assert_allclose(new, coef[:, None] * want, atol=1e-9)


def test_pair_surrogates_rotate_pairs_of_coefficients(surface_graph, ad_map):
    from crossscale.nulls import moran_eigenvectors

    _, vec = moran_eigenvectors(surface_graph)
    x = ad_map.to_numpy()
    coef = vec.T @ (x - x.mean())
    n_comp = len(coef)  # 67: 33 pairs and one left over
    sur = moran_randomization(ad_map, surface_graph, n_perm=5, procedure="pair", random_state=4)
    new = vec.T @ (sur - x.mean())
    rng = np.random.default_rng(4)
    for k in range(5):  # the published procedure, written out
        p = rng.permutation(n_comp)
        a, b = p[: n_comp // 2], p[n_comp // 2 : 2 * (n_comp // 2)]
        radius = np.hypot(coef[a], coef[b])
        phi = rng.uniform(0.0, 2.0 * np.pi, size=n_comp // 2)
        np.testing.assert_allclose(new[a, k], radius * np.cos(phi), atol=1e-9)
        np.testing.assert_allclose(new[b, k], radius * np.sin(phi), atol=1e-9)
        last = coef[p[-1]] * rng.choice(np.array([-1.0, 1.0]))
        assert new[p[-1], k] == pytest.approx(last, abs=1e-9)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 50.0])
def test_eigenvectors_leave_out_the_constant_map_at_any_weight_scale(scale):
    w = _weights(seed=2) * scale  # connectome strengths can be far below or above 1
    n = len(w)
    ev, vec = _moran_eigen(w)
    np.testing.assert_allclose(vec.sum(axis=0), 0.0, atol=1e-9)
    h = np.eye(n) - np.ones((n, n)) / n
    target = h @ ((w + w.T) / 2) @ h
    np.testing.assert_allclose(target @ vec, vec * ev, atol=1e-9 * scale)


@pytest.mark.parametrize("n_regions", [10, 67])  # 9 components (odd, divisible by 3) and 66
def test_pair_surrogates_with_an_odd_or_even_number_of_components(surface_graph, ad_map, n_regions):
    from crossscale.nulls import moran_eigenvectors

    sub = ad_map.iloc[:n_regions]
    _, vec = moran_eigenvectors(surface_graph, sub.index)
    x = sub.to_numpy()
    coef = vec.T @ (x - x.mean())
    n_comp = len(coef)
    sur = moran_randomization(sub, surface_graph, n_perm=3, procedure="pair", random_state=6)
    new = vec.T @ (sur - x.mean())
    rng = np.random.default_rng(6)
    for k in range(3):
        p = rng.permutation(n_comp)
        a, b = p[: n_comp // 2], p[n_comp // 2 : 2 * (n_comp // 2)]
        radius = np.hypot(coef[a], coef[b])
        phi = rng.uniform(0.0, 2.0 * np.pi, size=n_comp // 2)
        np.testing.assert_allclose(new[a, k], radius * np.cos(phi), atol=1e-9)
        np.testing.assert_allclose(new[b, k], radius * np.sin(phi), atol=1e-9)
        if n_comp % 2:
            assert abs(new[p[-1], k]) == pytest.approx(abs(coef[p[-1]]), abs=1e-9)
            rng.choice(np.array([-1.0, 1.0]))


def test_moran_defaults_and_error_texts(surface_graph, ad_map):
    import re

    from crossscale._errors import InputDataError

    assert moran_randomization(ad_map, surface_graph, random_state=0).shape == (68, 1000)
    bad = ad_map.copy()
    bad.iloc[2] = np.nan
    with pytest.raises(InputDataError, match="^" + re.escape(
            "values has NaN or infinite entries; Moran surrogates need a complete map.") + "$"):
        moran_randomization(bad, surface_graph)
    with pytest.raises(InputDataError, match="^" + re.escape(
            "values is constant; there is no spatial pattern to randomise.") + "$"):
        moran_randomization(ad_map * 0 + 1.0, surface_graph)
