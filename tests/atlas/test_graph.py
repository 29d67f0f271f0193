import numpy as np
import pytest

from crossscale import ParameterError, RegionMismatchError
from crossscale.atlas import DK_REGIONS, RegionGraph
from crossscale.atlas.surface import load_fsaverage5, region_centroids


def test_surface_graph_facts(surface_graph):
    g = surface_graph
    assert g.n_regions == 68
    assert 165 <= g.n_edges <= 185  # about 175 on fsaverage5
    assert g.n_components() == 2  # one per hemisphere
    hemi = g.hemisphere
    assert all(hemi[i] == hemi[j] for i, j in g.edges)


def test_known_neighbours(surface_graph):
    g = surface_graph
    idx = {r: i for i, r in enumerate(g.regions)}
    edges = {tuple(e) for e in g.edges.tolist()}

    def adjacent(a, b):
        i, j = sorted((idx[a], idx[b]))
        return (i, j) in edges

    assert adjacent("L_precentral", "L_postcentral")
    assert adjacent("L_entorhinal", "L_parahippocampal")
    assert not adjacent("L_frontalpole", "L_lateraloccipital")


def test_laplacian_rows_sum_to_zero(surface_graph):
    L = surface_graph.laplacian().toarray()
    np.testing.assert_allclose(L.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(L, L.T)


def test_medial_wall_and_labels():
    import nibabel as nib

    from crossscale.atlas.names import DK_LABELS
    from crossscale.datasets import fetch

    mesh = load_fsaverage5("L", "sphere")
    assert mesh.vertices.shape == (10242, 3)
    assert set(np.unique(mesh.labels)) == {-1, *range(34)}
    # label i is the i-th Desikan-Killiany region of the annotation file, read by nibabel;
    # every other vertex (unknown, corpus callosum: the medial wall) is -1
    annot, _, names = nib.freesurfer.read_annot(str(fetch("dk_annot_fsaverage5_lh")))
    names = [n.decode() for n in names]
    for i, region in enumerate(DK_LABELS):
        np.testing.assert_array_equal(mesh.labels == i, annot == names.index(region))
    assert (mesh.labels == -1).sum() == np.isin(annot, [names.index(n) for n in names
                                                        if n not in DK_LABELS] + [-1]).sum()  # fmt: skip
    # vertices on the sphere of radius 100 mm (FreeSurfer's sphere.reg convention)
    np.testing.assert_allclose(np.linalg.norm(mesh.vertices, axis=1), 100.0, rtol=1e-3)


def test_centroids_in_hemisphere_and_on_sphere():
    pial = region_centroids("pial")
    assert (pial[:34, 0] < 0).all() and (pial[34:, 0] > 0).all()
    sphere = region_centroids("sphere")
    radius = np.linalg.norm(sphere, axis=1)
    np.testing.assert_allclose(radius, radius.mean(), rtol=1e-6)


def test_connectome_graph():
    g = RegionGraph.from_connectome()
    assert g.n_regions == 68 and g.n_edges > 175
    assert g.edge_weights.max() == pytest.approx(1.0)
    w = RegionGraph.from_connectome(mode="weight")
    assert w.n_edges == RegionGraph.from_surface().n_edges


def test_subgraph_and_hash(surface_graph):
    sub = surface_graph.subgraph(list(DK_REGIONS[:34]))
    assert sub.n_components() == 1 and sub.n_regions == 34
    assert sub.hash() != surface_graph.hash()
    assert RegionGraph.from_surface().hash() == surface_graph.hash()
    with pytest.raises(RegionMismatchError, match="not in this graph"):
        surface_graph.subgraph(["L_nowhere"])


def test_bad_adjacency_rejected():
    with pytest.raises(ParameterError, match="not symmetric"):
        RegionGraph(DK_REGIONS[:2], np.array([[0, 1], [0, 0]]), np.zeros((2, 3)), np.zeros((2, 3)))
