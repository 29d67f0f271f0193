"""Regions on the fsaverage5 mesh from vertex labels: .annot files, centroids, adjacency, lobes.

The functions take an atlas's vertex labels (``labels(hemisphere) -> int array (10242,)``, -1 on
the medial wall) and work for any parcellation; :class:`crossscale.atlas.Atlas` caches their
results. The mesh is nilearn's fsaverage5 (:func:`crossscale.atlas.surface.load_fsaverage5`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from crossscale._errors import InputDataError, ParameterError
from crossscale.atlas.names import DK_LOBES, DK_REGIONS
from crossscale.atlas.surface import HEMISPHERES, load_fsaverage5
from crossscale.atlas.surface import vertex_labels as dk_vertex_labels

N_VERTICES = 10242  # per hemisphere of fsaverage5
_MEDIAL_WALL = ("unknown", "medialwall", "medial_wall", "???", "corpuscallosum", "background")

Labels = Callable[[str], np.ndarray]


def region_layout(
    n: int, hemisphere: Iterable[str], cortex: Iterable[bool], subcortex_coords: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked hemisphere (str), cortex (bool) and subcortical centroids of `n` regions.

    Raises
    ------
    ParameterError
        Inconsistent lengths, an unknown hemisphere, or subcortical regions without coordinates
        of shape (n_subcortex, 3).
    """
    hemi = np.asarray(list(hemisphere), dtype=object).astype(str)
    kind = np.asarray(list(cortex), dtype=bool)
    if hemi.shape != (n,) or kind.shape != (n,):
        raise ParameterError(f"hemisphere and cortex must have one entry per region ({n}).")
    bad = sorted(set(hemi) - {"L", "R"})
    if bad:
        raise ParameterError(f"hemisphere must be 'L' or 'R' for every region; got {bad}.")
    n_sub = int((~kind).sum())
    if n_sub:
        coords = None if subcortex_coords is None else np.asarray(subcortex_coords, float)
        if coords is None or coords.shape != (n_sub, 3):
            raise ParameterError(
                f"The atlas has {n_sub} subcortical regions; subcortex_coords must have shape "
                f"({n_sub}, 3)."
            )
        return hemi, kind, coords
    return hemi, kind, np.zeros((0, 3))


def read_annot(path: Path) -> tuple[np.ndarray, list[str]]:
    """Vertex labels (index into the returned names, -1 = medial wall) and parcel names."""
    import nibabel as nib

    if not path.is_file():
        raise InputDataError(f"Annotation file '{path}' does not exist.")
    try:
        annot, _ctab, raw = nib.freesurfer.read_annot(str(path))
    except Exception as err:  # nibabel raises several types for a bad file
        raise InputDataError(
            f"'{path}' is not a FreeSurfer annotation file ({err}). Pass .annot files on fsaverage5."
        ) from err
    if len(annot) != N_VERTICES:
        raise InputDataError(
            f"'{path}' labels {len(annot)} vertices; fsaverage5 has {N_VERTICES} per hemisphere. "
            "Resample it first, e.g. mri_surf2surf --srcsubject fsaverage --trgsubject fsaverage5."
        )
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in raw]
    keep: list[int] = []
    for i, n in enumerate(names):
        low = n.lower()
        if low in _MEDIAL_WALL or "medial_wall" in low or low.startswith("background"):
            continue
        if not (annot == i).any():
            continue
        keep.append(i)
    lut = np.full(len(names) + 1, -1, dtype=np.int64)
    lut[keep] = np.arange(len(keep))
    labels = np.where(annot >= 0, lut[np.clip(annot, 0, len(names))], -1)
    return labels, [names[i] for i in keep]



def annot_pair(lh: Path, rh: Path) -> tuple[list[str], list[str], dict[str, np.ndarray], str]:
    """Regions of two .annot files, left hemisphere first (see :meth:`Atlas.from_annot`).

    Returns
    -------
    regions : list of str
        Parcel names; a name found in both hemispheres becomes ``L_<name>`` and ``R_<name>``.
    hemispheres : list of {"L", "R"}
        Hemisphere of each region.
    labels : dict of {"L", "R"} to numpy.ndarray of int64, shape (10242,)
        Index into `regions` of each vertex, -1 on the medial wall; read-only.
    stem : str
        The file name of `lh` without ``lh.`` and ``.annot`` (the default atlas name).
    """
    labels: dict[str, np.ndarray] = {}
    parcel_names: dict[str, list[str]] = {}
    for hemi, path in (("L", lh), ("R", rh)):
        ids, parcels = read_annot(path)
        labels[hemi], parcel_names[hemi] = ids, parcels
    shared = set(parcel_names["L"]) & set(parcel_names["R"])
    regions, hemis = [], []
    for hemi in HEMISPHERES:
        for p in parcel_names[hemi]:
            regions.append(f"{hemi}_{p}" if p in shared else p)
            hemis.append(hemi)
    offset = len(parcel_names["L"])
    vertex = {"L": labels["L"], "R": np.where(labels["R"] >= 0, labels["R"] + offset, -1)}
    for v in vertex.values():
        v.setflags(write=False)
    stem = lh.name.removesuffix(".annot")
    for prefix in ("lh.", "lh_", "fsa5_lh_"):
        stem = stem.removeprefix(prefix)
    return regions, hemis, vertex, stem


def region_centroids(labels: Labels, n_regions: int, surface: str) -> np.ndarray:
    """Mean vertex position of each region on an fsaverage5 surface, shape (n_regions, 3).

    ``sphere`` positions are projected back onto the registration sphere (radius ~100 mm);
    regions without vertices (subcortical ones) are NaN.
    """
    out = np.full((n_regions, 3), np.nan)
    for h in HEMISPHERES:
        verts = load_fsaverage5(h, surface).vertices
        lab = labels(h)
        ok = lab >= 0
        sums = np.zeros((n_regions, 3))
        np.add.at(sums, lab[ok], verts[ok])
        counts = np.bincount(lab[ok], minlength=n_regions)
        has = counts > 0
        out[has] = sums[has] / counts[has, None]
    if surface == "sphere":
        radius = np.linalg.norm(load_fsaverage5("L", "sphere").vertices, axis=1).mean()
        out = out / np.linalg.norm(out, axis=1, keepdims=True) * radius
    return out


def mesh_edge_counts(labels: Labels, n_regions: int) -> np.ndarray:
    """Count of fsaverage5 mesh edges shared by each pair of regions, int64 (n_regions, n_regions).

    Symmetric with a zero diagonal; regions without vertices have zero rows.
    """
    counts = np.zeros((n_regions, n_regions), dtype=np.int64)
    for h in HEMISPHERES:
        f = load_fsaverage5(h, "pial").faces
        lab = labels(h)
        edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
        edges = np.unique(np.sort(edges, axis=1), axis=0)
        a, b = lab[edges[:, 0]], lab[edges[:, 1]]
        keep = (a >= 0) & (b >= 0) & (a != b)
        np.add.at(counts, (a[keep], b[keep]), 1)
        np.add.at(counts, (b[keep], a[keep]), 1)
    return counts


def region_lobes(
    name: str, regions: Sequence[str], cortex: np.ndarray, labels: Labels
) -> np.ndarray:
    """Lobe of each region (object array, shape (n_regions,)); see :meth:`Atlas.lobes`."""
    n_regions = len(regions)
    out = np.full(n_regions, "subcortex", dtype=object)
    if name in ("dk", "dk-subcortex"):
        for i, r in enumerate(regions):
            if cortex[i]:
                out[i] = DK_LOBES[r.split("_", 1)[1]]
        return out
    votes = np.zeros((n_regions, len(DK_REGIONS)), dtype=np.int64)
    for h in HEMISPHERES:
        mine, dk = labels(h), dk_vertex_labels(h)
        ok = (mine >= 0) & (dk >= 0)
        np.add.at(votes, (mine[ok], dk[ok]), 1)
    for i in np.flatnonzero(cortex):
        if votes[i].any():
            out[i] = DK_LOBES[DK_REGIONS[int(votes[i].argmax())].split("_", 1)[1]]
        else:  # a parcel entirely on the DK medial wall
            out[i] = "medial wall"
    return out
