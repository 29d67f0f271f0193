import numpy as np
import pandas as pd
import pytest

from crossscale._errors import ParameterError, RegionMismatchError
from crossscale.atlas import dk_regions
from crossscale.nulls import (
    random_rotations,
    reflect_rotations,
    sphere_centroids,
    spin_alexander_bloch,
    spin_hungarian,
    spin_permutations,
    spin_vasa,
    spin_vertex_average,
)
from crossscale.nulls.rotations import REFLECT_X
from crossscale.nulls.vertex_spins import _vertex_counts

CENTROID_SPINS = [
    spin_hungarian,
    spin_vasa,
    lambda r=None, **kw: spin_vasa(r, order="random", **kw),
]


def _hemi(regions):
    return np.array([r[0] for r in regions])


def test_rotations_are_proper_and_uniform():
    rot = random_rotations(4000, random_state=0)
    assert rot.shape == (4000, 3, 3)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-10)
    np.testing.assert_allclose(
        rot @ rot.transpose(0, 2, 1), np.broadcast_to(np.eye(3), rot.shape), atol=1e-10
    )
    # Haar measure: every fixed unit vector is sent uniformly over the sphere, so its mean image
    # is ~0 (standard error 1/sqrt(3 * 4000) ~ 0.009 per coordinate) and E[x^2] = 1/3.
    for v in np.eye(3):
        images = rot @ v
        assert np.abs(images.mean(axis=0)).max() < 0.05
        np.testing.assert_allclose((images**2).mean(axis=0), 1 / 3, atol=0.03)
    # the rotation angle has density (1 - cos a) / pi on [0, pi]: mean angle pi/2 + 2/pi
    angles = np.arccos(np.clip((np.trace(rot, axis1=1, axis2=2) - 1) / 2, -1, 1))
    assert abs(angles.mean() - (np.pi / 2 + 2 / np.pi)) < 0.03


def test_right_rotation_mirrors_left():
    rot = random_rotations(5, random_state=1)
    right = reflect_rotations(rot)
    np.testing.assert_allclose(np.linalg.det(right), 1.0, atol=1e-10)
    p = np.array([30.0, -40.0, 50.0])
    # rotating the mirror image of a point = mirroring the rotated point
    np.testing.assert_allclose(right @ (REFLECT_X @ p), (REFLECT_X @ (rot @ p[:, None]))[..., 0])


@pytest.mark.parametrize("spin", CENTROID_SPINS)
def test_centroid_spins_are_permutations_within_hemisphere(spin):
    perm = spin(n_perm=300, random_state=0)
    assert perm.shape == (68, 300)
    assert perm.dtype == np.int64
    np.testing.assert_array_equal(np.sort(perm, axis=0), np.tile(np.arange(68)[:, None], 300))
    hemi = _hemi(dk_regions())
    assert (hemi[perm] == hemi[:, None]).all()
    assert (perm != np.arange(68)[:, None]).mean() > 0.8  # they do move regions


@pytest.mark.parametrize(
    "spin", [spin_hungarian, spin_vasa, spin_alexander_bloch], ids=["hungarian", "vasa", "ab"]
)
def test_identity_rotation_is_refused(spin):
    # the identity rotation maps every region to itself: a "null" equal to the observed map
    with pytest.raises(ParameterError, match=r"1 of the given rotations \(positions \[1\]\) map every"):
        spin(rotations=np.stack([random_rotations(1, random_state=5)[0], np.eye(3)]))


def _total_distance(perm, rotations, regions):
    c = sphere_centroids(regions).to_numpy()
    hemi = _hemi(regions)
    total = np.zeros(perm.shape[1])
    for k in range(perm.shape[1]):
        rot = np.where(hemi[:, None, None] == "L", rotations[k], reflect_rotations(rotations[k]))
        moved = np.einsum("iab,ib->ia", rot[perm[:, k]], c[perm[:, k]])
        total[k] = np.linalg.norm(c - moved, axis=1).sum()
    return total


def test_hungarian_is_an_optimal_assignment_no_worse_than_vasa():
    regions = dk_regions()
    rotations = random_rotations(100, random_state=7)
    hung = spin_hungarian(rotations=rotations)
    vasa = spin_vasa(rotations=rotations)
    d_h = _total_distance(hung, rotations, regions)
    d_v = _total_distance(vasa, rotations, regions)
    assert (d_h <= d_v + 1e-9).all()
    assert (d_h < d_v - 1e-6).any()  # and strictly better somewhere
    # no single swap of two assignments within a hemisphere lowers the total (optimality check)
    c = sphere_centroids(regions).to_numpy()
    for k in range(3):
        rot = rotations[k]
        moved = c[34:] @ reflect_rotations(rot).T
        moved = np.vstack([c[:34] @ rot.T, moved])
        dist = np.linalg.norm(c[:, None] - moved[None], axis=-1)
        p = hung[:, k]
        base = dist[np.arange(68), p]
        for i in range(34):
            for j in range(i + 1, 34):
                assert base[i] + base[j] <= dist[i, p[j]] + dist[j, p[i]] + 1e-9


def test_seeds_reproduce_and_differ():
    for spin in (spin_hungarian, spin_vasa):
        a = spin(n_perm=50, random_state=3)
        np.testing.assert_array_equal(a, spin(n_perm=50, random_state=3))
        assert (a != spin(n_perm=50, random_state=4)).any()
    a = spin_alexander_bloch(n_perm=8, random_state=3)
    np.testing.assert_array_equal(a, spin_alexander_bloch(n_perm=8, random_state=3))
    assert (a != spin_alexander_bloch(n_perm=8, random_state=4)).any()
    # the same seed gives the same rotations to every method
    np.testing.assert_array_equal(random_rotations(8, 3), random_rotations(8, 3))


def test_subset_of_regions_in_any_order():
    rng = np.random.default_rng(0)
    regions = pd.Index(rng.permutation(dk_regions())[:25], name="region")
    hemi = _hemi(regions)
    for perm in (
        spin_hungarian(regions, n_perm=100, random_state=0),
        spin_vasa(regions, n_perm=100, random_state=0),
    ):
        assert perm.shape == (25, 100)
        np.testing.assert_array_equal(np.sort(perm, axis=0), np.tile(np.arange(25)[:, None], 100))
        assert (hemi[perm] == hemi[:, None]).all()
    ab = spin_alexander_bloch(regions, n_perm=10, random_state=0)
    assert ab.shape == (25, 10) and ab.min() >= 0 and ab.max() < 25
    assert (hemi[ab] == hemi[:, None]).all()


def test_alexander_bloch_is_not_always_a_permutation_but_vertex_average_matches_it():
    regions = dk_regions()
    rotations = random_rotations(10, random_state=2)
    ab = spin_alexander_bloch(rotations=rotations)
    hemi = _hemi(regions)
    assert (hemi[ab] == hemi[:, None]).all()
    assert not all(len(np.unique(ab[:, k])) == 68 for k in range(10))
    # counts[k, i, j]: vertices of region i whose rotation lands in region j (per hemisphere)
    shares = np.zeros((10, 68, 68))
    for _h, idx, start, _rot, counts in _vertex_counts(regions, rotations):
        shares[start : start + len(counts)][:, idx[:, None], idx[None, :]] = counts
    total = shares.sum(-1, keepdims=True)
    landed = total[..., 0] > 0  # False: every vertex fell on the medial wall (centroid fallback)
    assert landed.mean() > 0.95
    shares = shares / np.where(total > 0, total, 1)
    # majority label = region with the largest share
    chosen = np.take_along_axis(shares, ab.T[:, :, None], axis=-1)[..., 0]
    np.testing.assert_allclose(chosen[landed], shares.max(-1)[landed])
    # vertex averaging = share-weighted mean of the values; fallback = the majority-rule region
    x = pd.Series(np.random.default_rng(0).normal(size=68), index=regions)
    avg = spin_vertex_average(x, rotations=rotations).T
    np.testing.assert_allclose(avg[landed], (shares @ x.to_numpy())[landed])
    np.testing.assert_allclose(avg[~landed], x.to_numpy()[ab.T][~landed])
    const = spin_vertex_average(pd.Series(2.5, index=regions), rotations=rotations)
    np.testing.assert_allclose(const, 2.5)


def test_spin_permutations_caches_in_memory_and_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSSCALE_DATA", str(tmp_path))
    a = spin_permutations(method="vasa", n_perm=20, random_state=11)
    assert spin_permutations(method="vasa", n_perm=20, random_state=11) is a
    assert not a.flags.writeable
    np.testing.assert_array_equal(a, spin_vasa(n_perm=20, random_state=11))
    b = spin_permutations(method="hungarian", n_perm=20, random_state=11, disk_cache=True)
    files = list((tmp_path / "nulls").glob("spins-*.npy"))
    assert len(files) == 1
    np.testing.assert_array_equal(np.load(files[0]), b)
    np.save(files[0], b[:, ::-1])  # the second call reads the file rather than recomputing
    np.testing.assert_array_equal(
        spin_permutations(method="hungarian", n_perm=20, random_state=11, disk_cache=True),
        b[:, ::-1],
    )
    other = spin_permutations(method="hungarian", n_perm=20, random_state=12, disk_cache=True)
    assert len(list((tmp_path / "nulls").glob("spins-*.npy"))) == 2
    assert (other != b).any()


def test_errors_name_the_parameter():
    with pytest.raises(ParameterError, match="method must be one of"):
        spin_permutations(method="spin", n_perm=5, random_state=0)
    with pytest.raises(ParameterError, match="n_perm must be a positive integer"):
        spin_hungarian(n_perm=0)
    with pytest.raises(ParameterError, match=r"rotations must have shape \(n_perm, 3, 3\)"):
        spin_vasa(rotations=np.eye(3))
    with pytest.raises(ParameterError, match="order must be"):
        spin_vasa(n_perm=2, order="sorted")
    with pytest.raises(RegionMismatchError, match="L_banksts"):
        spin_hungarian(pd.Index(["L_banksts", "L_cuneus", "R_cuneus"]), n_perm=2)
    with pytest.raises(ParameterError, match="random_state must be"):
        spin_hungarian(n_perm=2, random_state="seed")


def test_random_spins_are_never_the_identity():
    # Issue 23: 4 of 1,000 Hungarian spins of the 68 DK regions (seed 0) mapped every region to
    # itself, so they counted the observed map as a null. Random spins must redraw such rotations.
    for method in ("hungarian", "vasa"):
        perm = spin_permutations(method=method, n_perm=1000, random_state=0)
        assert not (perm == np.arange(68)[:, None]).all(axis=0).any(), method
