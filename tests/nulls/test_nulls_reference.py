"""Spin nulls and null correlations against independent computations.

The rotated sphere centroids are computed here with scipy's ``Rotation`` (not the library's
matrices), the optimal assignment with scipy's ``linear_sum_assignment`` on ``cdist`` distances,
and Vasa's greedy rule as the plain loop of the published code.
"""

import re

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from scipy.spatial.transform import Rotation

from crossscale._errors import ParameterError
from crossscale.atlas import dk_regions
from crossscale.nulls import compare_maps, sphere_centroids, spin_hungarian, spin_vasa
from crossscale.nulls.rotations import _centroid_distances, identity_columns, reflect_rotations


def _rotations(n, seed):
    return Rotation.random(n, random_state=seed)


def _moved(coords, rot: Rotation, left: bool):
    """Rotated centroids: R c on the left; on the right the mirror image F R F c."""
    if left:
        return rot.apply(coords)
    flip = np.array([-1.0, 1.0, 1.0])
    return rot.apply(coords * flip) * flip


def _hemis(regions):
    return {h: np.flatnonzero([r.startswith(h + "_") for r in regions]) for h in ("L", "R")}


def test_hungarian_spins_match_an_independent_assignment():
    regions = dk_regions()
    c = sphere_centroids(regions).to_numpy().copy()
    rots = _rotations(6, 11)
    perm = spin_hungarian(rotations=rots.as_matrix())
    for k in range(6):
        want = np.empty(68, dtype=int)
        for h, idx in _hemis(regions).items():
            dist = cdist(c[idx], _moved(c[idx], rots[k], h == "L"))
            rows, cols = linear_sum_assignment(dist)
            want[idx[rows]] = idx[cols]
        np.testing.assert_array_equal(perm[:, k], want)


def _vasa_reference(dist):
    """Vasa et al. (2018): repeatedly place the region whose nearest free rotated centroid is
    farthest away, on that nearest free centroid."""
    dist = dist.copy()
    n = len(dist)
    out, free_rows = np.full(n, -1), set(range(n))
    for _ in range(n):
        rows = sorted(free_rows)
        nearest = dist[rows].min(axis=1)
        i = rows[int(np.argmax(nearest))]
        j = int(np.argmin(dist[i]))
        out[i] = j
        free_rows.remove(i)
        dist[:, j] = np.inf
    return out


def test_vasa_spins_match_the_published_greedy_rule():
    regions = dk_regions()
    c = sphere_centroids(regions).to_numpy().copy()
    rots = _rotations(5, 3)
    perm = spin_vasa(rotations=rots.as_matrix())
    for k in range(5):
        want = np.empty(68, dtype=int)
        for h, idx in _hemis(regions).items():
            local = _vasa_reference(cdist(c[idx], _moved(c[idx], rots[k], h == "L")))
            want[idx] = idx[local]
        np.testing.assert_array_equal(perm[:, k], want)


def test_vasa_random_order_is_a_greedy_matching_in_some_order():
    regions = dk_regions()[:34]
    c = sphere_centroids(regions).to_numpy().copy()
    rots = _rotations(4, 8)
    perm = spin_vasa(regions, rotations=rots.as_matrix(), order="random", random_state=0)
    again = spin_vasa(regions, rotations=rots.as_matrix(), order="random", random_state=0)
    np.testing.assert_array_equal(perm, again)
    for k in range(4):
        dist = cdist(c, _moved(c, rots[k], True))
        p = perm[:, k]
        assert sorted(p) == list(range(34))
        # greedy in some order: region i took the nearest centroid still free, so every nearer
        # centroid's owner came before i; that "came before" relation has no cycle
        owner = np.argsort(p)
        before = {i: {int(owner[j]) for j in np.flatnonzero(dist[i] < dist[i, p[i]])}
                  for i in range(34)}  # fmt: skip
        placed: set[int] = set()
        while len(placed) < 34:
            ready = [i for i in range(34) if i not in placed and before[i] <= placed]
            assert ready, "no greedy order gives this matching"
            placed.update(ready)
    farthest = spin_vasa(regions, rotations=rots.as_matrix())
    assert (perm != farthest).any()  # the order matters


def test_centroid_distances_and_reflection_by_hand():
    rots = _rotations(3, 5)
    c = sphere_centroids(dk_regions()[:10]).to_numpy().copy()
    d = _centroid_distances(c, rots.as_matrix())
    for k in range(3):
        np.testing.assert_allclose(d[k], cdist(c, rots[k].apply(c)), atol=1e-9)
    flip = np.diag([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(reflect_rotations(rots.as_matrix()),
                               flip @ rots.as_matrix() @ flip)  # fmt: skip
    perm = np.array([[0, 1, 0], [1, 0, 1], [2, 2, 2]])
    np.testing.assert_array_equal(identity_columns(perm), [0, 2])


def test_null_correlations_centre_each_null_map_on_its_own_mean(ad_map):
    rng = np.random.default_rng(0)
    y = ad_map + pd.Series(rng.normal(scale=ad_map.std(), size=68), index=ad_map.index)
    # float null maps whose means differ from map to map (as vertex-average spins do)
    nulls = rng.normal(size=(68, 30)) + np.arange(30) * 5.0
    res = compare_maps(ad_map, y, nulls=nulls)
    want = np.array([np.corrcoef(nulls[:, k], y)[0, 1] for k in range(30)])
    np.testing.assert_allclose(res.null, want, atol=1e-12)
    assert res.p_value == pytest.approx((1 + np.sum(np.abs(want) >= abs(res.statistic))) / 31)


def test_vertex_spins_of_many_rotations_equal_those_of_their_batches():
    from crossscale.nulls.vertex_spins import _vertex_spins  # no identity refusal: any rotation

    regions = pd.Index(["L_frontalpole", "L_temporalpole", "L_insula", "R_cuneus", "R_insula"],
                       name="region")  # fmt: skip
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    rots = _rotations(70, 4).as_matrix()  # more than one batch of 64 rotations
    perm, avg = _vertex_spins(regions, rots, None, x)
    for part in (slice(0, 64), slice(64, 70)):
        p, a = _vertex_spins(regions, rots[part], None, x)
        np.testing.assert_array_equal(perm[:, part], p)
        np.testing.assert_allclose(avg[:, part], a)


def test_regions_with_no_landing_take_the_nearest_rotated_centroid():
    from crossscale.nulls.vertex_spins import _vertex_counts, _vertex_spins

    # three small left regions listed in reverse atlas order: most rotated vertices land outside
    regions = pd.Index(["L_transversetemporal", "L_frontalpole", "L_entorhinal"], name="region")
    rots = _rotations(40, 9).as_matrix()
    perm = _vertex_spins(regions, rots, None, None)[0]
    c = sphere_centroids(regions).to_numpy().copy()
    fallback_used = 0
    for _hemi, idx, start, r, counts in _vertex_counts(regions, rots):
        total = counts.sum(axis=2)
        for k in range(len(r)):
            for i in range(len(idx)):
                if total[k, i] == 0:  # the nearest rotated centroid, computed here
                    want = np.argmin(np.linalg.norm(c[idx[i]] - c[idx] @ r[k].T, axis=1))
                    fallback_used += 1
                else:
                    want = np.argmax(counts[k, i])
                assert perm[idx[i], start + k] == idx[want]
    assert fallback_used > 5


@pytest.mark.parametrize("spin", [spin_hungarian, spin_vasa], ids=["hungarian", "vasa"])
def test_centroid_spins_of_a_shuffled_subset_match_the_independent_assignment(spin):
    rng = np.random.default_rng(0)
    regions = dk_regions()[rng.permutation(68)[:30]]  # 30 regions of both hemispheres, any order
    c = sphere_centroids(regions).to_numpy().copy()
    rots = _rotations(3, 21)
    perm = spin(regions, rotations=rots.as_matrix())
    for k in range(3):
        want = np.empty(30, dtype=int)
        for h, idx in _hemis(regions).items():
            dist = cdist(c[idx], _moved(c[idx], rots[k], h == "L"))
            if spin is spin_hungarian:
                rows, cols = linear_sum_assignment(dist)
                want[idx[rows]] = idx[cols]
            else:
                want[idx] = idx[_vasa_reference(dist)]
        np.testing.assert_array_equal(perm[:, k], want)


def test_two_regions_without_landings_each_take_their_nearest_rotated_centroid():
    from crossscale.nulls.vertex_spins import _vertex_counts, _vertex_spins

    regions = pd.Index(["L_frontalpole", "L_entorhinal"], name="region")  # small, far apart
    rots = _rotations(150, 2).as_matrix()
    perm = _vertex_spins(regions, rots, None, None)[0]
    c = sphere_centroids(regions).to_numpy().copy()
    both_empty = []
    for _hemi, idx, start, r, counts in _vertex_counts(regions, rots):
        total = counts.sum(axis=2)
        for k in range(len(r)):
            if (total[k] == 0).all():
                both_empty.append(start + k)
            for i in range(2):
                if total[k, i] == 0:
                    want = np.argmin(np.linalg.norm(c[idx[i]] - c[idx] @ r[k].T, axis=1))
                else:
                    want = np.argmax(counts[k, i])
                assert perm[idx[i], start + k] == idx[want]
    assert both_empty
    # a batch in which no region receives any vertex: every region falls back
    for k in both_empty:
        np.testing.assert_array_equal(_vertex_spins(regions, rots[k : k + 1], None, None)[0][:, 0],
                                      perm[:, k])  # fmt: skip


def test_random_rotations_default_count_and_refused_identities_listed():
    from crossscale.nulls import random_rotations

    assert random_rotations(random_state=0).shape == (1000, 3, 3)
    rots = np.concatenate([np.tile(np.eye(3), (9, 1, 1)), random_rotations(1, random_state=1)])
    with pytest.raises(ParameterError, match="^" + re.escape(
            "9 of the given rotations (positions [0, 1, 2, 3, 4, 5, 6, 7]) map every region to "
            "itself, so the null map would equal the observed map. Drop them, or let crossscale "
            "draw the rotations (pass random_state instead of rotations).") + "$"):
        spin_hungarian(dk_regions()[:34], rotations=rots)


def test_identity_spins_are_redrawn_from_the_seeded_generator():
    from crossscale.nulls import spin_vertex_average
    from crossscale.nulls.rotations import refuse_identity

    two = pd.Index(["L_superiorfrontal", "L_precuneus"], name="region")  # identity half the time
    a = spin_hungarian(two, n_perm=40, random_state=3)
    np.testing.assert_array_equal(a, spin_hungarian(two, n_perm=40, random_state=3))
    assert (a[0] == 1).all() and (a[1] == 0).all()  # every column swaps the two regions
    values = pd.Series([1.0, 5.0], index=two)
    v = spin_vertex_average(values, n_perm=40, random_state=3)
    assert np.isfinite(v).all()  # redrawn columns carry values
    np.testing.assert_array_equal(v, spin_vertex_average(values, n_perm=40, random_state=3))

    def always_identity(rot):
        return np.tile(np.arange(3)[:, None], (1, len(rot))), None

    with pytest.raises(ParameterError, match="^" + re.escape(
            "Could not draw spins that move the regions; are there only a few, very large "
            "regions?") + "$"):
        refuse_identity(always_identity, np.tile(np.eye(3), (2, 1, 1)), np.random.default_rng(0),
                        max_rounds=3)  # fmt: skip
