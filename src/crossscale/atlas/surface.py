"""The Desikan-Killiany parcellation on the fsaverage5 surface.

The mesh (pial, inflated, sphere; 10,242 vertices per hemisphere) is read from nilearn's package
data; the Desikan-Killiany annotation files come from the registry (``dk_annot_fsaverage5_lh``,
``dk_annot_fsaverage5_rh``). Vertices labelled ``unknown`` or ``corpuscallosum`` form the medial
wall and get label -1.

References
----------
.. [1] Fischl B. (2012). FreeSurfer. NeuroImage 62, 774-781.
.. [2] Desikan R.S. et al. (2006). NeuroImage 31, 968-980.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from crossscale.atlas.names import DK_REGIONS
from crossscale.datasets import fetch

HEMISPHERES = ("L", "R")
_NILEARN_NAMES = {"L": "left", "R": "right"}
SURFACES = ("pial", "infl", "sphere", "white")


@dataclass(frozen=True)
class HemisphereMesh:
    """One hemisphere of fsaverage5 with Desikan-Killiany vertex labels.

    Attributes
    ----------
    hemisphere : {"L", "R"}
    vertices : numpy.ndarray, shape (10242, 3)
        Vertex coordinates in mm for the requested surface.
    faces : numpy.ndarray, shape (20480, 3)
        Triangles (vertex indices).
    labels : numpy.ndarray, shape (10242,)
        Index into ``crossscale.atlas.names.DK_REGIONS`` (0-67), -1 on the medial wall.
    """

    hemisphere: str
    surface: str
    vertices: np.ndarray
    faces: np.ndarray
    labels: np.ndarray


def _nilearn_file(name: str) -> str:
    root = resources.files("nilearn.datasets.data").joinpath("fsaverage5")
    return str(root.joinpath(name))


@lru_cache(maxsize=16)
def load_fsaverage5(hemisphere: str, surface: str = "pial") -> HemisphereMesh:
    """Return one hemisphere of fsaverage5 with Desikan-Killiany labels.

    Parameters
    ----------
    hemisphere : {"L", "R"}
        Left or right hemisphere.
    surface : {"pial", "infl", "sphere", "white"}
        Which fsaverage5 surface (nilearn's meshes; ``sphere`` for spin tests).

    Returns
    -------
    mesh : HemisphereMesh

    Raises
    ------
    ParameterError
        Unknown hemisphere or surface.
    """
    import nibabel as nib

    from crossscale._errors import ParameterError

    if hemisphere not in HEMISPHERES:
        raise ParameterError(f"hemisphere must be 'L' or 'R', got {hemisphere!r}.")
    if surface not in SURFACES:
        raise ParameterError(f"surface must be one of {SURFACES}, got {surface!r}.")
    gii = nib.load(_nilearn_file(f"{surface}_{_NILEARN_NAMES[hemisphere]}.gii.gz"))
    vertices = np.asarray(gii.darrays[0].data, dtype=float)
    faces = np.asarray(gii.darrays[1].data, dtype=np.int64)
    return HemisphereMesh(hemisphere, surface, vertices, faces, vertex_labels(hemisphere))


@lru_cache(maxsize=2)
def vertex_labels(hemisphere: str) -> np.ndarray:
    """Desikan-Killiany label of each fsaverage5 vertex of one hemisphere.

    Returns
    -------
    labels : numpy.ndarray of int, shape (10242,)
        Index into ``DK_REGIONS`` (0-67), -1 for the medial wall (unknown, corpus callosum).
    """
    import nibabel as nib

    hemi = {"L": "lh", "R": "rh"}[hemisphere]
    annot, _ctab, names = nib.freesurfer.read_annot(str(fetch(f"dk_annot_fsaverage5_{hemi}")))
    lut = np.full(len(names), -1, dtype=np.int64)
    for i, raw in enumerate(names):
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        region = f"{hemisphere}_{name}"
        if region in DK_REGIONS:
            lut[i] = DK_REGIONS.index(region)
    labels = np.where(annot >= 0, lut[np.clip(annot, 0, None)], -1)
    labels.setflags(write=False)
    return labels


def region_centroids(surface: str = "pial") -> np.ndarray:
    """Mean vertex position of each of the 68 regions on an fsaverage5 surface.

    Parameters
    ----------
    surface : {"pial", "sphere", "infl", "white"}
        ``pial`` gives anatomical positions (mm, fsaverage/MNI305 space); ``sphere`` gives
        positions on the registration sphere (used by spin tests), projected back to the sphere.

    Returns
    -------
    centroids : numpy.ndarray, shape (68, 3)
        In ``DK_REGIONS`` order.
    """
    out = np.zeros((len(DK_REGIONS), 3))
    for h in HEMISPHERES:
        mesh = load_fsaverage5(h, surface)
        for idx in np.unique(mesh.labels[mesh.labels >= 0]):
            out[idx] = mesh.vertices[mesh.labels == idx].mean(axis=0)
    if surface == "sphere":
        radius = np.linalg.norm(load_fsaverage5("L", "sphere").vertices, axis=1).mean()
        out = out / np.linalg.norm(out, axis=1, keepdims=True) * radius
    return out


def surface_adjacency() -> np.ndarray:
    """Count of fsaverage5 mesh edges shared by each pair of the 68 regions.

    Two regions are adjacent when at least one mesh edge joins a vertex of one to a vertex of the
    other. Hemispheres are separate meshes, so no edge crosses the midline.

    Returns
    -------
    counts : numpy.ndarray of int, shape (68, 68)
        Symmetric, zero diagonal; entry (i, j) is the number of mesh edges between i and j.
    """
    n = len(DK_REGIONS)
    counts = np.zeros((n, n), dtype=np.int64)
    for h in HEMISPHERES:
        mesh = load_fsaverage5(h, "pial")
        f = mesh.faces
        edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
        edges = np.unique(np.sort(edges, axis=1), axis=0)
        a, b = mesh.labels[edges[:, 0]], mesh.labels[edges[:, 1]]
        keep = (a >= 0) & (b >= 0) & (a != b)
        np.add.at(counts, (a[keep], b[keep]), 1)
        np.add.at(counts, (b[keep], a[keep]), 1)
    return counts
