"""Spatial nulls on other atlases: Schaefer spins, identity refusal, Moran on cortex + subcortex."""

import numpy as np
import pandas as pd
import pytest

from crossscale import ParameterError, RegionMismatchError
from crossscale.atlas import RegionGraph, get_atlas, use_atlas
from crossscale.nulls import (
    compare_maps,
    describe_nulls,
    generate_nulls,
    moran_randomization,
    morans_i,
    random_rotations,
    spin_alexander_bloch,
    spin_hungarian,
    spin_permutations,
    spin_vasa,
)


@pytest.fixture(scope="module")
def schaefer100():
    return get_atlas("schaefer100")


@pytest.mark.parametrize("method", ["hungarian", "vasa", "alexander_bloch"])
def test_schaefer_spins_keep_hemispheres_and_are_never_the_identity(schaefer100, method):
    n_perm = 300 if method != "alexander_bloch" else 40
    perm = spin_permutations(method=method, n_perm=n_perm, random_state=1, atlas=schaefer100)
    assert perm.shape == (100, n_perm)
    hemi = schaefer100.hemisphere
    assert (hemi[perm] == hemi[:, None]).all()
    assert not (perm == np.arange(100)[:, None]).all(axis=0).any()
    if method != "alexander_bloch":  # true permutations
        np.testing.assert_array_equal(np.sort(perm, axis=0), np.tile(np.arange(100)[:, None], n_perm))
    assert (perm != np.arange(100)[:, None]).mean() > 0.8


def test_spins_use_the_atlas_geometry_not_the_names(schaefer100):
    # Schaefer-100 parcels are also Schaefer-200 names: the same names, other centroids
    regions = schaefer100.regions[:50]
    a = spin_hungarian(regions, n_perm=20, random_state=0, atlas="schaefer100")
    b = spin_hungarian(regions, n_perm=20, random_state=0, atlas="schaefer200")
    assert (a != b).any()
    with use_atlas("schaefer100"):  # the atlas in use is the default
        np.testing.assert_array_equal(spin_hungarian(regions, n_perm=20, random_state=0), a)


@pytest.fixture(scope="module")
def unmarked_atlas(tmp_path_factory):
    """A user atlas (the DK parcels, two .annot files) whose names do not say the hemisphere."""
    import nibabel as nib

    from crossscale.atlas import Atlas

    folder, dk, paths = tmp_path_factory.mktemp("annot"), get_atlas("dk"), []
    for h, tag, first in (("L", "a", 0), ("R", "b", 34)):
        names = ["unknown"] + [f"{r[2:]}_{tag}" for r in dk.regions[first:first + 34]]
        lab = dk.vertex_labels(h)
        out = np.where(lab >= 0, lab - first + 1, 0).astype(np.int32)
        ctab = np.array([[7 * i % 255, 11 * i % 255, 13 * i % 255, 0, i + 1] for i in range(35)])
        path = folder / f"{h.lower()}h.unmarked.annot"
        nib.freesurfer.write_annot(str(path), out, ctab, names, fill_ctab=True)
        paths.append(path)
    return Atlas.from_annot(*paths)


@pytest.mark.parametrize("spin", [spin_hungarian, spin_vasa])
def test_spins_take_hemispheres_from_the_atlas_not_the_names(unmarked_atlas, spin):
    # 'bankssts_a' / 'bankssts_b': nothing in a name says its hemisphere; the atlas does
    atlas = unmarked_atlas
    assert list(atlas.regions[:2]) == ["bankssts_a", "caudalanteriorcingulate_a"]
    perm = spin(atlas.regions, n_perm=30, random_state=0, atlas=atlas)
    hemi = atlas.hemisphere
    assert set(hemi) == {"L", "R"} and (hemi[perm] == hemi[:, None]).all()
    np.testing.assert_array_equal(np.sort(perm, axis=0), np.tile(np.arange(68)[:, None], 30))


@pytest.mark.parametrize("spin", [spin_hungarian, spin_vasa, spin_alexander_bloch])
def test_given_identity_rotation_refused_on_schaefer(schaefer100, spin):
    rot = np.stack([random_rotations(1, random_state=2)[0], np.eye(3), np.eye(3)])
    with pytest.raises(ParameterError, match=r"2 of the given rotations \(positions \[1, 2\]\)"):
        spin(schaefer100.regions, rotations=rot, atlas=schaefer100)


def test_vertex_average_refuses_a_given_identity_rotation(schaefer100):
    from crossscale.nulls import spin_vertex_average

    x = pd.Series(schaefer100.centroids("pial")[:, 1], index=schaefer100.regions)
    with pytest.raises(ParameterError, match="map every region to itself"):
        spin_vertex_average(x, rotations=np.eye(3)[None], atlas=schaefer100)
    nulls = spin_vertex_average(x, n_perm=8, random_state=0, atlas=schaefer100)
    assert nulls.shape == (100, 8) and not np.isclose(nulls, x.to_numpy()[:, None]).all(axis=0).any()


def test_redrawn_spins_only_replace_the_identity_columns():
    # hungarian DK seed 0: columns that were not the identity keep their permutation
    from crossscale.nulls.rotations import identity_columns
    from crossscale.nulls.spins import _centroid_spins

    rot = random_rotations(1000, random_state=0)
    raw = _centroid_spins(get_atlas("dk").regions, rot, "hungarian", redraw_rng=np.random.default_rng(9))
    plain = spin_hungarian(n_perm=1000, random_state=0)
    assert len(identity_columns(plain)) == 0
    same = (raw == plain).all(axis=0)
    assert same.sum() >= 990  # only the few identity draws of seed 0 were replaced


def test_spins_refuse_subcortical_regions():
    atlas = get_atlas("dk-subcortex")
    with pytest.raises(RegionMismatchError, match=r"cannot be spun \(a rotation.*\): \['L_thalamus'\]"):
        spin_hungarian(["L_bankssts", "L_insula", "L_thalamus"], n_perm=5, atlas=atlas)


@pytest.fixture(scope="module")
def mixed_map():
    """A smooth map on cortex + subcortex (dk-subcortex): the y coordinate plus noise."""
    atlas = get_atlas("dk-subcortex")
    rng = np.random.default_rng(0)
    c = atlas.centroids("pial")
    return pd.Series(c[:, 1] / 30 + 0.3 * rng.normal(size=82), index=atlas.regions, name="y")


def test_moran_on_mixed_cortex_and_subcortex(mixed_map):
    atlas = get_atlas("dk-subcortex")
    nulls = generate_nulls(mixed_map, "hungarian", n_perm=200, random_state=0, atlas=atlas)
    assert nulls.shape == (82, 200)
    ctx, sub = slice(0, 68), slice(68, 82)
    x = mixed_map.to_numpy()
    # cortex: spin permutations of the cortical values only
    np.testing.assert_allclose(np.sort(nulls[ctx], axis=0), np.sort(x[ctx])[:, None] * np.ones(200))
    # subcortex: Moran surrogates over inverse distances keep mean, variance and Moran's I
    graph = RegionGraph.from_distances(atlas.subcortex_regions, atlas=atlas)
    np.testing.assert_allclose(nulls[sub].mean(0), x[sub].mean(), atol=1e-12)
    np.testing.assert_allclose(nulls[sub].std(0), x[sub].std(), rtol=1e-10)
    np.testing.assert_allclose(morans_i(nulls[sub], graph), morans_i(x[sub], graph), rtol=1e-8)
    assert not np.isclose(nulls[sub], x[sub][:, None]).all(axis=0).any()  # they do move
    # the same seed gives the same maps; the description says which null each set got
    np.testing.assert_array_equal(
        nulls, generate_nulls(mixed_map, "hungarian", n_perm=200, random_state=0, atlas=atlas)
    )
    desc = describe_nulls(mixed_map.index, "hungarian", atlas)
    assert desc == {
        "cortex (68 regions)": "spin test (Hungarian assignment of rotated centroids)",
        "subcortex (14 regions)": "Moran spectral randomisation (singleton) over inverse centroid distances",
    }


def test_moran_from_distances_and_graph_on_mixed_set(mixed_map):
    atlas = get_atlas("dk-subcortex")
    g = RegionGraph.from_distances(atlas=atlas)
    w = g.adjacency.toarray()
    d = atlas.distances()
    np.testing.assert_allclose(w[0, 70], 1 / d[0, 70])
    sur = moran_randomization(mixed_map, g, n_perm=50, random_state=1)
    np.testing.assert_allclose(morans_i(sur, g), morans_i(mixed_map.to_numpy(), g), rtol=1e-8)
    # the surface graph joins each subcortical region to its 3 nearest same-hemisphere regions
    surf = RegionGraph.from_surface(atlas=atlas)
    assert surf.n_components() == 2
    thal = atlas.index(["L_thalamus"])[0]
    assert surf.adjacency[thal].nnz >= 3
    assert set(surf.hemisphere[surf.adjacency[thal].indices]) == {"L"}
    moran = generate_nulls(mixed_map, "moran", n_perm=20, random_state=0, atlas=atlas)
    assert moran.shape == (82, 20)


def test_compare_maps_on_schaefer(schaefer100):
    from crossscale.maps import load_bigbrain_map

    bb = load_bigbrain_map("schaefer100")
    y = pd.Series(schaefer100.centroids("pial")[:, 1], index=schaefer100.regions)
    res = compare_maps(bb, y, nulls="spin", n_perm=200, random_state=0, atlas=schaefer100)
    assert res.n_regions == 100 and res.n_perm == 200
    assert res.p_value == pytest.approx((1 + np.sum(np.abs(res.null) >= abs(res.statistic))) / 201)


def test_spin_permutations_keep_the_subcortex_in_place():
    atlas = get_atlas("dk-subcortex")
    perm = spin_permutations(atlas.regions, n_perm=50, random_state=0, atlas=atlas)
    np.testing.assert_array_equal(perm[68:], np.tile(np.arange(68, 82)[:, None], 50))
    np.testing.assert_array_equal(perm[:68], spin_permutations(n_perm=50, random_state=0))  # DK spins
    with pytest.raises(RegionMismatchError, match="cannot be spun"):
        spin_permutations(atlas.regions, n_perm=5, random_state=0, atlas=atlas, subcortex="refuse")
    with pytest.raises(RegionMismatchError, match="at least 2 cortical regions"):
        spin_permutations(["L_bankssts", "L_thalamus", "R_thalamus"], n_perm=5, atlas=atlas)
