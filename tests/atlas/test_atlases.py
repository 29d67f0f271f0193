"""The Atlas object: built-in parcellations, name matching per atlas, user .annot atlases."""

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from crossscale import InputDataError, ParameterError, RegionMismatchError
from crossscale.atlas import (
    ATLASES,
    DK_REGIONS,
    Atlas,
    RegionGraph,
    get_atlas,
    resolve_atlas,
    use_atlas,
)
from crossscale.atlas.surface import region_centroids, surface_adjacency


@pytest.mark.parametrize(
    ("name", "n", "n_sub", "first", "last"),
    [
        ("dk", 68, 0, "L_bankssts", "R_insula"),
        ("dk-subcortex", 82, 14, "L_bankssts", "R_thalamus"),
        ("schaefer100", 100, 0, "7Networks_LH_Vis_1", "7Networks_RH_Default_pCunPCC_2"),
        ("schaefer200", 200, 0, "7Networks_LH_Vis_1", "7Networks_RH_Default_pCunPCC_3"),
        ("schaefer300", 300, 0, "7Networks_LH_Vis_1", "7Networks_RH_Default_pCunPCC_6"),
        ("schaefer400", 400, 0, "7Networks_LH_Vis_1", "7Networks_RH_Default_pCunPCC_9"),
        ("glasser360", 360, 0, "L_V1", "R_p24"),
    ],
)
def test_builtin_atlases(name, n, n_sub, first, last):
    atlas = get_atlas(name)
    assert atlas.n_regions == n == ATLASES[name].n_regions
    assert (~atlas.is_cortex).sum() == n_sub
    assert atlas.regions[0] == first and atlas.regions[-1] == last
    hemi = atlas.hemisphere
    assert (hemi == "L").sum() == (hemi == "R").sum() == n // 2  # left block first
    assert (hemi[: n // 2 - n_sub // 2] == "L").all()
    for h in ("L", "R"):
        lab = atlas.vertex_labels(h)
        assert lab.shape == (10242,) and lab.min() == -1
        # every cortical region of that hemisphere has vertices, and only its own hemisphere's
        present = np.unique(lab[lab >= 0])
        assert set(present) == set(np.flatnonzero((hemi == h) & atlas.is_cortex))
    sphere = atlas.centroids("sphere")
    radius = np.linalg.norm(sphere[atlas.is_cortex], axis=1)
    np.testing.assert_allclose(radius, 100.0, atol=1e-3)
    assert np.isnan(sphere[~atlas.is_cortex]).all()  # subcortex: no place on the sphere
    pial = atlas.centroids("pial")
    assert np.isfinite(pial).all()
    # left regions lie left of the midline (x < 0), right ones right of it
    assert (pial[hemi == "L", 0] < 0).all() and (pial[hemi == "R", 0] > 0).all()
    adj = atlas.surface_adjacency()
    assert (adj == adj.T).all() and (np.diag(adj) == 0).all()
    assert not adj[np.ix_(hemi == "L", hemi == "R")].any()  # no edge across the midline


def test_dk_atlas_is_the_legacy_geometry():
    dk = get_atlas("dk")
    assert list(dk.regions) == list(DK_REGIONS)
    np.testing.assert_array_equal(dk.centroids("pial"), region_centroids("pial"))
    np.testing.assert_array_equal(dk.centroids("sphere"), region_centroids("sphere"))
    np.testing.assert_array_equal(dk.surface_adjacency(), surface_adjacency())
    assert RegionGraph.from_surface().n_edges == 175


def test_subcortical_centroids_are_where_the_structures_are():
    atlas = get_atlas("dk-subcortex")
    c = pd.DataFrame(atlas.centroids("pial"), index=atlas.regions, columns=list("xyz"))
    # MNI: thalamus medial and posterior to the putamen, hippocampus below and behind the amygdala
    for h, sign in (("L", -1), ("R", 1)):
        assert sign * c.loc[f"{h}_thalamus", "x"] < sign * c.loc[f"{h}_putamen", "x"]
        assert c.loc[f"{h}_hippocampus", "y"] < c.loc[f"{h}_amygdala", "y"]
        assert c.loc[f"{h}_amygdala", "z"] < c.loc[f"{h}_caudate", "z"]


@pytest.mark.parametrize(
    ("atlas", "raw", "expected"),
    [
        ("dk-subcortex", "Lthal", "L_thalamus"),
        ("dk-subcortex", "Left-Thalamus-Proper", "L_thalamus"),
        ("dk-subcortex", "Accumbens_area_R", "R_accumbens"),
        ("dk-subcortex", "L_thalamusproper", "L_thalamus"),
        ("dk-subcortex", "lh_bankssts_thickness", "L_bankssts"),
        ("dk", "ctx-rh-insula", "R_insula"),
        ("dk", "Lthal", None),
        ("schaefer100", "7Networks_LH_Vis_1", "7Networks_LH_Vis_1"),
        ("schaefer100", "LH_Vis_1", "7Networks_LH_Vis_1"),
        ("schaefer100", "lh.7Networks_LH_Vis_1", "7Networks_LH_Vis_1"),
        ("schaefer100", "7networks_rh_default_pcunpcc_2", "7Networks_RH_Default_pCunPCC_2"),
        ("schaefer100", "17Networks_LH_VisCent_ExStr_1", None),
        ("schaefer100", "7Networks_LH_Vis_10", None),  # a Schaefer-200 parcel
        ("schaefer400", "7Networks_LH_Vis_10", "7Networks_LH_Vis_10"),
        ("schaefer200", "RH_Default_PFCv_1", "7Networks_RH_Default_PFCv_1"),
        ("schaefer200", "RH_Default_PFCv_2", None),  # a Schaefer-100 parcel name
        ("schaefer300", "7Networks_LH_Default_pCunPCC_8_thickness", "7Networks_LH_Default_pCunPCC_8"),
        ("schaefer300", "7Networks_LH_Default_pCunPCC_9", None),
        ("glasser360", "L_V1", "L_V1"),
        ("glasser360", "L_V1_ROI", "L_V1"),
        ("glasser360", "lh.L_V1_ROI", "L_V1"),
        ("glasser360", "R_OP2-3_ROI", "R_OP2-3"),
        ("glasser360", "V1", None),  # no hemisphere
    ],
)
def test_name_matching_per_atlas(atlas, raw, expected):
    assert get_atlas(atlas).canonical(raw) == expected


def test_unknown_name_refused_with_suggestion_and_the_atlas_it_fits():
    with pytest.raises(
        RegionMismatchError,
        match=r"not Schaefer-100 \(7 networks\) regions: '7Networks_LH_Vis_01' \(did you mean "
        r"'7Networks_LH_Vis_1'\?\)",
    ):
        get_atlas("schaefer100").match(["7Networks_LH_Vis_01", "7Networks_LH_Vis_2"], what="x")
    with pytest.raises(RegionMismatchError, match=r"look like Schaefer parcel names: .*--atlas"):
        get_atlas("dk").match(["7Networks_LH_Vis_1", "7Networks_LH_Vis_2"], what="The 'map'")
    with pytest.raises(RegionMismatchError, match="pass --atlas dk-subcortex"):
        get_atlas("dk").match(["L_bankssts", "Lthal"], what="The 'map'")
    with pytest.raises(RegionMismatchError, match=r"'L_V1' and 'L_V1_ROI' are both L_V1"):
        get_atlas("glasser360").match(["L_V1", "L_V1_ROI"])


def test_resolve_atlas_infers_dk_and_glasser_but_not_a_schaefer_resolution():
    assert resolve_atlas(None, ["L_bankssts", "R_insula"]).name == "dk"
    assert resolve_atlas(None, ["L_bankssts", "Lthal"]).name == "dk-subcortex"
    assert resolve_atlas(None, ["L_V1", "R_MST"]).name == "glasser360"
    with pytest.raises(RegionMismatchError, match="several resolutions share"):
        resolve_atlas(None, ["7Networks_LH_Vis_1", "7Networks_LH_Vis_2"])
    with use_atlas("schaefer200"):
        assert resolve_atlas(None, ["7Networks_LH_Vis_1"]).name == "schaefer200"
        assert get_atlas().name == "schaefer200"
    assert get_atlas().name == "dk"  # the context is left


def test_unknown_atlas_name_suggests():
    with pytest.raises(ParameterError, match="Did you mean 'schaefer100'"):
        get_atlas("schaefer10")


def test_connectome_per_atlas():
    for name in ("dk-subcortex", "schaefer100", "glasser360"):
        atlas = get_atlas(name)
        m = atlas.connectome("structural")
        assert m.shape == (atlas.n_regions,) * 2
        assert list(m.index) == list(atlas.regions)
        g = RegionGraph.from_connectome(atlas=atlas, mode="weight")
        assert g.atlas is atlas and g.n_regions == atlas.n_regions
        assert g.n_components() == 2  # one per hemisphere (surface edges kept)


def _write_annot(path, labels, names):
    ctab = np.array([[10 * i % 255, 20 * i % 255, 30 * i % 255, 0, i + 1] for i in range(len(names))])
    nib.freesurfer.write_annot(str(path), labels, ctab, names, fill_ctab=True)


@pytest.fixture(scope="module")
def lobe_annots(tmp_path_factory):
    """A user atlas: the DK lobes as parcels (6 per hemisphere), as two .annot files."""
    folder = tmp_path_factory.mktemp("annot")
    dk = get_atlas("dk")
    lobes = dk.lobes()
    names = ["unknown", *sorted(set(lobes))]
    paths = []
    for h in ("L", "R"):
        lab = dk.vertex_labels(h)
        out = np.zeros(10242, dtype=np.int32)
        ok = lab >= 0
        out[ok] = [names.index(lobes.iloc[i]) for i in lab[ok]]
        path = folder / f"{h.lower()}h.lobes.annot"
        _write_annot(path, out, names)
        paths.append(path)
    return paths


def test_user_atlas_from_two_annot_files(lobe_annots):
    atlas = Atlas.from_annot(*lobe_annots)
    assert atlas.name == "lobes" and atlas.info is None
    assert list(atlas.regions) == [f"{h}_{lobe}" for h in "LR" for lobe in
                                   ("cingulate", "frontal", "insula", "occipital", "parietal", "temporal")]  # fmt: skip
    assert atlas.canonical("lh.frontal") == "L_frontal"
    assert get_atlas(",".join(map(str, lobe_annots))).regions.equals(atlas.regions)
    # the frontal lobe parcel is the union of the DK frontal regions: same vertex count
    dk = get_atlas("dk")
    frontal = [DK_REGIONS.index(r) for r in dk.regions if dk.lobes()[r] == "frontal" and r[0] == "L"]
    n_dk = np.isin(dk.vertex_labels("L"), frontal).sum()
    assert (atlas.vertex_labels("L") == atlas.index(["L_frontal"])[0]).sum() == n_dk
    g = RegionGraph.from_surface(atlas=atlas)
    assert g.hemisphere.tolist() == ["L"] * 6 + ["R"] * 6
    assert g.hash() != RegionGraph.from_surface(atlas=atlas).subgraph(atlas.regions[::-1]).hash()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # nibabel reading a text file
def test_bad_annot_files_are_refused(tmp_path, lobe_annots):
    bad = tmp_path / "lh.small.annot"
    _write_annot(bad, np.zeros(100, dtype=np.int32), ["unknown"])
    with pytest.raises(InputDataError, match="fsaverage5 has 10242 per hemisphere"):
        Atlas.from_annot(bad, lobe_annots[1])
    txt = tmp_path / "lh.text.annot"
    txt.write_text("not an annotation")
    with pytest.raises(InputDataError, match="not a FreeSurfer annotation"):
        Atlas.from_annot(txt, lobe_annots[1])
    with pytest.raises(ParameterError, match="two FreeSurfer .annot files"):
        get_atlas(f"{lobe_annots[0]},{lobe_annots[1]},{lobe_annots[1]}")


def test_graphs_and_atlases_pickle_for_dask_workers(lobe_annots):
    import pickle

    for atlas in ("dk", "dk-subcortex", "schaefer100", ",".join(map(str, lobe_annots))):
        g = RegionGraph.from_surface(atlas=atlas)
        back = pickle.loads(pickle.dumps(g))
        assert back.atlas.name == g.atlas.name and back.hash() == g.hash()
        np.testing.assert_array_equal(back.hemisphere, g.hemisphere)
    custom = Atlas("custom", get_atlas("dk").names, hemisphere=get_atlas("dk").hemisphere,
                   cortex=[True] * 68, labels=lambda h: get_atlas("dk").vertex_labels(h))  # fmt: skip
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(custom)
