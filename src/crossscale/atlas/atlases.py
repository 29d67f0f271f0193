"""Parcellations of the fsaverage5 surface (and the subcortex): the :class:`Atlas` object.

Every layer of crossscale that needs to know which regions exist, where they are and which are
neighbours takes an :class:`Atlas`: maps, expression, region graphs, spins, Moran nulls, CV folds,
figures and checkpoints. :func:`get_atlas` returns the built-in ones by name:

========== ============================================ ========= ===========================
name       parcellation                                 regions   expression (AHBA)
========== ============================================ ========= ===========================
dk         Desikan-Killiany, cortex (default)           68        L1000 landmark genes (889)
dk-sub...  Desikan-Killiany + 14 subcortical regions    82        L1000 (889) or stable (1,645)
schaefer*  Schaefer 2018, 7 networks, 100 ... 400       100-400   stable genes (810 ... 282)
glasser360 Glasser 2016 HCP-MMP1.0                      360       stable genes (268)
========== ============================================ ========= ===========================

and :meth:`Atlas.from_annot` builds one from a pair of FreeSurfer ``.annot`` files on fsaverage5.
Vertex labels of the built-in cortical parcellations come from FreeSurfer annotations (DK: the
imaging-transcriptomics package; Schaefer and Glasser: the ENIGMA Toolbox); the mesh is
nilearn's fsaverage5 (the same 10,242 vertices per hemisphere). Centroids of subcortical regions
come from the Desikan-Killiany volume in MNI152 space (imaging-transcriptomics); they have no
position on the sphere, so spin tests leave them to a distance-based null
(:func:`crossscale.nulls.generate_nulls`).

References
----------
.. [1] Desikan R.S. et al. (2006). NeuroImage 31, 968-980.
.. [2] Schaefer A. et al. (2018). Local-global parcellation of the human cerebral cortex from
   intrinsic functional connectivity MRI. Cereb Cortex 28, 3095-3114.
.. [3] Glasser M.F. et al. (2016). A multi-modal parcellation of human cerebral cortex. Nature
   536, 171-178.
.. [4] Lariviere S. et al. (2021). The ENIGMA Toolbox. Nat Methods 18, 698-700.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError, RegionMismatchError
from crossscale.atlas.names import (
    DK_REGIONS,
    SUBCORTEX_REGIONS,
    RegionNames,
    canonical_subcortical,
    dk_names,
    glasser_key,
    looks_like,
    schaefer_key,
)

logger = logging.getLogger(__name__)

__all__ = [
    "ATLASES",
    "Atlas",
    "AtlasInfo",
    "atlas_info",
    "current_atlas",
    "get_atlas",
    "resolve_atlas",
    "use_atlas",
]

N_VERTICES = 10242  # per hemisphere of fsaverage5
HEMISPHERES = ("L", "R")
_MEDIAL_WALL = ("unknown", "medialwall", "medial_wall", "???", "corpuscallosum", "background")


@dataclass(frozen=True)
class AtlasInfo:
    """What a built-in atlas is, without loading it (for ``crossscale data atlases``).

    Attributes
    ----------
    name, title : str
    n_cortex, n_subcortex : int
        Region counts.
    annot : tuple of str
        Registry keys of the lh and rh annotations.
    connectome : tuple of str or None
        Registry keys (structural matrix, functional matrix, labels), or None.
    expression : dict of str to str
        Gene panel -> description of the built-in expression for it (first: the default).
    bigbrain : str
        Registry key of the BigBrain gradient map in this atlas.
    citation : str
    """

    name: str
    title: str
    n_cortex: int
    n_subcortex: int
    annot: tuple[str, str]
    connectome: tuple[str, str, str] | None
    expression: dict[str, str]
    bigbrain: str | None
    citation: str
    examples: str = ""

    @property
    def n_regions(self) -> int:
        """Cortical plus subcortical regions."""
        return self.n_cortex + self.n_subcortex

    def to_dict(self) -> dict[str, object]:
        """Plain dict for tables and run.json."""
        return {
            "name": self.name, "title": self.title, "n_regions": self.n_regions,
            "n_cortex": self.n_cortex, "n_subcortex": self.n_subcortex,
            "annotations": list(self.annot), "connectome": list(self.connectome or []),
            "expression": dict(self.expression), "bigbrain": self.bigbrain,
            "citation": self.citation,
        }  # fmt: skip


_DK_CITE = "Desikan R.S. et al. (2006). NeuroImage 31, 968-980."
_SCH_CITE = "Schaefer A. et al. (2018). Cereb Cortex 28, 3095-3114."
_GLA_CITE = "Glasser M.F. et al. (2016). Nature 536, 171-178."
_STABLE = "ENIGMA Toolbox AHBA matrix, genes with differential stability >= 0.6"
_L1000 = "imaging-transcriptomics AHBA matrix x LINCS L1000 landmark genes (889 of 978)"
_DK_CONNECTOME = ("enigma_hcp_struc_matrix_ctx", "enigma_hcp_func_matrix_ctx",
                  "enigma_hcp_struc_labels_ctx")  # fmt: skip


def _enigma_info(name: str, title: str, n: int, genes: int, empty: int, cite: str,
                 examples: str) -> AtlasInfo:  # fmt: skip
    empty_text = f", {empty} empty parcels dropped" if empty else ""
    return AtlasInfo(
        name=name, title=title, n_cortex=n, n_subcortex=0,
        annot=(f"enigma_annot_{name}_lh", f"enigma_annot_{name}_rh"),
        connectome=(f"enigma_hcp_struc_matrix_{name}", f"enigma_hcp_func_matrix_{name}",
                    f"enigma_hcp_struc_labels_{name}"),
        expression={"stable": f"{_STABLE}: {genes} genes{empty_text} (ahba_stable_{name}); "
                              "L1000 landmark genes are not available for this atlas"},
        bigbrain=f"bigbrain_gradient_{name}", citation=cite, examples=examples,
    )  # fmt: skip


_SCHAEFER_EX = "'7Networks_LH_Vis_1' or 'LH_Vis_1'"
#: Built-in atlases by name (see :func:`get_atlas`).
ATLASES: dict[str, AtlasInfo] = {
    "dk": AtlasInfo(
        "dk", "Desikan-Killiany", 68, 0, ("dk_annot_fsaverage5_lh", "dk_annot_fsaverage5_rh"),
        _DK_CONNECTOME, {"l1000": f"{_L1000} (ahba_expression)",
                         "stable": f"{_STABLE}: 1,645 genes, 2 empty regions dropped (ahba_stable_dk_subcortex)"},
        "bigbrain_gradient_dk", _DK_CITE, "'L_bankssts', 'lh_bankssts_thickness' or 'ctx-lh-bankssts'",
    ),  # fmt: skip
    "dk-subcortex": AtlasInfo(
        "dk-subcortex", "Desikan-Killiany with subcortex", 68, 14,
        ("dk_annot_fsaverage5_lh", "dk_annot_fsaverage5_rh"),
        ("enigma_hcp_struc_matrix_with_sctx", "enigma_hcp_func_matrix_with_sctx",
         "enigma_hcp_struc_labels_with_sctx"),
        {"l1000": f"{_L1000} (ahba_expression)",
         "stable": f"{_STABLE}: 1,645 genes, 2 empty regions dropped (ahba_stable_dk_subcortex)"},
        "bigbrain_gradient_dk", _DK_CITE,
        "'L_bankssts', 'Lthal' or 'Left-Thalamus-Proper'",
    ),  # fmt: skip
    **{f"schaefer{n}": _enigma_info(f"schaefer{n}", f"Schaefer-{n} (7 networks)", n, g, e,
                                     _SCH_CITE, _SCHAEFER_EX)
       for n, g, e in ((100, 810, 0), (200, 430, 9), (300, 327, 28), (400, 282, 49))},
    "glasser360": _enigma_info("glasser360", "Glasser-360 (HCP-MMP1.0)", 360, 268, 63, _GLA_CITE,
                               "'L_V1', 'L_V1_ROI' or 'lh.L_V1_ROI'"),
}  # fmt: skip


def atlas_info(name: str) -> AtlasInfo:
    """The description of a built-in atlas.

    Raises
    ------
    ParameterError
        Unknown name (the message lists the built-in ones).
    """
    key = str(name).strip().lower().replace("_", "-")
    key = {"desikan-killiany": "dk", "aparc": "dk", "dk-sctx": "dk-subcortex",
           "glasser": "glasser360", "glasser-360": "glasser360", "hcp-mmp1": "glasser360"}.get(key, key)  # fmt: skip
    key = key.replace("schaefer-", "schaefer")
    if key not in ATLASES:
        import difflib

        close = difflib.get_close_matches(key, list(ATLASES), n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ParameterError(
            f"atlas must be one of {', '.join(map(repr, ATLASES))} or two FreeSurfer .annot files "
            f"('lh.x.annot,rh.x.annot'); got {name!r}.{hint}"
        )
    return ATLASES[key]


class Atlas:
    """A parcellation: ordered regions, their hemisphere and kind, vertex labels on fsaverage5.

    Build one with :func:`get_atlas` (built-ins) or :meth:`from_annot` (your own annotations);
    the constructor is for custom atlases.

    Parameters
    ----------
    name : str
        Short name (``"schaefer200"``); recorded in run.json and checkpoints.
    names : crossscale.atlas.names.RegionNames
        Canonical region names in atlas order and how other spellings map to them.
    hemisphere : array-like of {"L", "R"}, shape (n_regions,)
    cortex : array-like of bool, shape (n_regions,)
        True for cortical regions (they have vertices on the surface); False for subcortical
        regions (they need `subcortex_coords`).
    labels : callable
        ``labels(hemisphere) -> numpy.ndarray of int, shape (10242,)``: index into the regions of
        each fsaverage5 vertex, -1 on the medial wall.
    title : str
        Display name (``"Schaefer-200 (7 networks)"``).
    subcortex_coords : numpy.ndarray, shape (n_subcortex, 3), optional
        Centroids in mm (MNI) of the subcortical regions, in atlas order.
    info : AtlasInfo, optional
        Data sources of a built-in atlas.
    connectome_loader : callable, optional
        ``loader(modality) -> pandas.DataFrame`` (regions x regions, any name spelling).
    sources : sequence of str
        Registry keys or file paths the atlas was read from.

    Raises
    ------
    ParameterError
        Inconsistent lengths, an unknown hemisphere, or subcortical regions without coordinates.
    """

    def __init__(
        self,
        name: str,
        names: RegionNames,
        *,
        hemisphere: Iterable[str],
        cortex: Iterable[bool],
        labels: Callable[[str], np.ndarray],
        title: str | None = None,
        subcortex_coords: np.ndarray | None = None,
        info: AtlasInfo | None = None,
        connectome_loader: Callable[[str], pd.DataFrame] | None = None,
        sources: Iterable[str] = (),
    ) -> None:
        self.name = str(name)
        self.names = names
        self.title = title or names.title
        self.info = info
        n = len(names)
        self._hemi = np.asarray(list(hemisphere), dtype=object).astype(str)
        self._cortex = np.asarray(list(cortex), dtype=bool)
        if self._hemi.shape != (n,) or self._cortex.shape != (n,):
            raise ParameterError(f"hemisphere and cortex must have one entry per region ({n}).")
        bad = sorted(set(self._hemi) - {"L", "R"})
        if bad:
            raise ParameterError(f"hemisphere must be 'L' or 'R' for every region; got {bad}.")
        n_sub = int((~self._cortex).sum())
        if n_sub:
            coords = None if subcortex_coords is None else np.asarray(subcortex_coords, float)
            if coords is None or coords.shape != (n_sub, 3):
                raise ParameterError(
                    f"The atlas has {n_sub} subcortical regions; subcortex_coords must have shape "
                    f"({n_sub}, 3)."
                )
            self._sub_coords = coords
        else:
            self._sub_coords = np.zeros((0, 3))
        self._labels_loader = labels
        self._connectome_loader = connectome_loader
        self.sources = tuple(sources)
        self._cache: dict[object, object] = {}
        self._annot: tuple[str, str] | None = None

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_annot(
        cls, lh: str | os.PathLike[str], rh: str | os.PathLike[str], *, name: str | None = None
    ) -> Atlas:
        """A cortical atlas from two FreeSurfer annotation files on fsaverage5.

        Parameters
        ----------
        lh, rh : path-like
            ``.annot`` files of the left and right hemisphere, 10,242 vertices each (fsaverage5,
            e.g. resampled with ``mri_surf2surf --trgsubject fsaverage5``). Labels named
            ``unknown``, ``medialwall``, ``???``, ``corpuscallosum`` or ``Background…`` and labels
            without vertices are the medial wall.
        name : str, optional
            Short name recorded with results (default: the file name of `lh` without ``lh.``
            and ``.annot``).

        Returns
        -------
        atlas : Atlas
            Regions: left hemisphere first, in the order of the annotation's colour table.
            Parcel names that appear in both hemispheres (DK, Glasser style) become ``L_<name>``
            and ``R_<name>``; names that already differ (Schaefer style ``7Networks_LH_…``) are
            kept. Region names are matched as for Glasser (``lh.``, ``_ROI`` optional).

        Raises
        ------
        InputDataError
            A file that is not an annotation, not on fsaverage5, or two regions with one name.
        """
        labels: dict[str, np.ndarray] = {}
        parcel_names: dict[str, list[str]] = {}
        paths = {"L": Path(lh), "R": Path(rh)}
        for hemi, path in paths.items():
            ids, parcels = _read_annot(path)
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
        stem = paths["L"].name.removesuffix(".annot")
        for prefix in ("lh.", "lh_", "fsa5_lh_"):
            stem = stem.removeprefix(prefix)
        name = name or stem or "user"
        try:
            names = RegionNames(regions, glasser_key, title=f"'{name}'", examples=f"'{regions[0]}'")
        except ParameterError as err:
            raise InputDataError(f"The annotation files {paths['L']}, {paths['R']}: {err}") from err
        atlas = cls(
            name, names, hemisphere=hemis, cortex=[True] * len(regions),
            labels=vertex.__getitem__, title=f"{name} ({len(regions)} parcels, user annotation)",
            sources=(str(paths["L"]), str(paths["R"])),
        )  # fmt: skip
        atlas._annot = (str(paths["L"]), str(paths["R"]))
        _USER_ATLASES[atlas.name] = atlas
        return atlas

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickle by reference (a built-in name, or the two .annot paths): for Dask workers."""
        if self.info is not None:
            return (_builtin, (self.name,))
        if self._annot is not None:
            return (_annot_atlas, (*self._annot, self.name))
        raise TypeError(
            f"The atlas {self.name!r} was built from Python objects and cannot be pickled (Dask "
            "workers need it); build it with Atlas.from_annot, or use a built-in atlas."
        )

    # -- regions --------------------------------------------------------------------------------
    @property
    def regions(self) -> pd.Index:
        """Canonical region names in atlas order, shape (n_regions,), named ``region``."""
        return pd.Index(self.names.regions, name="region")

    @property
    def n_regions(self) -> int:
        """Number of regions."""
        return len(self.names)

    @property
    def hemisphere(self) -> np.ndarray:
        """``"L"`` or ``"R"`` of each region, shape (n_regions,)."""
        return self._hemi.copy()

    @property
    def is_cortex(self) -> np.ndarray:
        """True for cortical regions, shape (n_regions,)."""
        return self._cortex.copy()

    @property
    def cortex_regions(self) -> pd.Index:
        """The cortical regions."""
        return self.regions[self._cortex]

    @property
    def subcortex_regions(self) -> pd.Index:
        """The subcortical regions (empty for cortical atlases)."""
        return self.regions[~self._cortex]

    @property
    def has_subcortex(self) -> bool:
        """Whether the atlas has subcortical regions."""
        return bool((~self._cortex).any())

    def index(self, regions: Iterable[str]) -> np.ndarray:
        """Positions of canonical `regions` in the atlas, shape (n,).

        Raises
        ------
        RegionMismatchError
            A name that is not a canonical region of this atlas.
        """
        regions = list(regions)
        pos = self.regions.get_indexer(regions)
        if (pos < 0).any():
            bad = [r for r, p in zip(regions, pos, strict=True) if p < 0]
            raise RegionMismatchError(
                f"{len(bad)} region(s) are not regions of the {self.title} atlas: {bad[:8]}."
            )
        return pos.astype(np.int64)

    def canonical(self, name: object) -> str | None:
        """Canonical name of one region in any supported spelling, or None."""
        return self.names.canonical(name)

    def match(self, names: Iterable[object], *, what: str = "names") -> list[str]:
        """Map region names of any supported spelling to canonical names (one error lists all).

        Raises
        ------
        RegionMismatchError
            Unknown names (with suggestions, and the atlas they seem to come from) or duplicates.
        """
        names = list(names)
        try:
            return self.names.to_canonical(names, what=what)
        except RegionMismatchError as err:
            unknown = [n for n in names if self.canonical(n) is None]
            family = looks_like(unknown)
            hint = _family_hint(family, self.name)
            if not hint:
                raise
            raise RegionMismatchError(f"{err}{hint}") from None

    # -- geometry ---------------------------------------------------------------------------------
    def vertex_labels(self, hemisphere: str) -> np.ndarray:
        """Region index of each fsaverage5 vertex of one hemisphere.

        Returns
        -------
        labels : numpy.ndarray of int64, shape (10242,)
            Index into :attr:`regions`, -1 on the medial wall. Read-only.
        """
        if hemisphere not in HEMISPHERES:
            raise ParameterError(f"hemisphere must be 'L' or 'R', got {hemisphere!r}.")
        key = ("labels", hemisphere)
        if key not in self._cache:
            lab = np.asarray(self._labels_loader(hemisphere), dtype=np.int64)
            if lab.shape != (N_VERTICES,):
                raise InputDataError(
                    f"The {self.title} atlas has {lab.shape[0]} vertex labels in hemisphere "
                    f"{hemisphere}; fsaverage5 has {N_VERTICES}."
                )
            lab.setflags(write=False)
            self._cache[key] = lab
        return self._cache[key]  # type: ignore[return-value]

    def centroids(self, surface: str = "pial") -> np.ndarray:
        """Centroid of each region, shape (n_regions, 3), in atlas order.

        Parameters
        ----------
        surface : {"pial", "sphere", "infl", "white"}
            ``pial``: mean vertex position in mm (fsaverage, approximately MNI); subcortical
            regions get their MNI152 volume centroid. ``sphere``: position on the fsaverage5
            registration sphere (radius ~100 mm; for spin tests); NaN for subcortical regions.

        Returns
        -------
        centroids : numpy.ndarray, shape (n_regions, 3)
            Read-only.
        """
        key = ("centroids", surface)
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        from crossscale.atlas.surface import load_fsaverage5

        out = np.full((self.n_regions, 3), np.nan)
        for h in HEMISPHERES:
            verts = load_fsaverage5(h, surface).vertices
            lab = self.vertex_labels(h)
            ok = lab >= 0
            sums = np.zeros((self.n_regions, 3))
            np.add.at(sums, lab[ok], verts[ok])
            counts = np.bincount(lab[ok], minlength=self.n_regions)
            has = counts > 0
            out[has] = sums[has] / counts[has, None]
        if surface == "sphere":
            radius = np.linalg.norm(load_fsaverage5("L", "sphere").vertices, axis=1).mean()
            out = out / np.linalg.norm(out, axis=1, keepdims=True) * radius
        if surface == "pial" and self.has_subcortex:
            out[~self._cortex] = self._sub_coords
        empty = self._cortex & ~np.isfinite(out).all(axis=1)
        if empty.any():
            raise InputDataError(
                f"{int(empty.sum())} cortical region(s) of the {self.title} atlas have no "
                f"vertex on fsaverage5: {list(self.regions[empty][:8])}."
            )
        out.setflags(write=False)
        self._cache[key] = out
        return out

    def surface_adjacency(self) -> np.ndarray:
        """Count of fsaverage5 mesh edges shared by each pair of regions, shape (n, n).

        Symmetric with a zero diagonal; subcortical rows are zero (they have no surface).
        """
        if "adjacency" not in self._cache:
            from crossscale.atlas.surface import load_fsaverage5

            n = self.n_regions
            counts = np.zeros((n, n), dtype=np.int64)
            for h in HEMISPHERES:
                f = load_fsaverage5(h, "pial").faces
                lab = self.vertex_labels(h)
                edges = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
                edges = np.unique(np.sort(edges, axis=1), axis=0)
                a, b = lab[edges[:, 0]], lab[edges[:, 1]]
                keep = (a >= 0) & (b >= 0) & (a != b)
                np.add.at(counts, (a[keep], b[keep]), 1)
                np.add.at(counts, (b[keep], a[keep]), 1)
            counts.setflags(write=False)
            self._cache["adjacency"] = counts
        return self._cache["adjacency"]  # type: ignore[return-value]

    def distances(self) -> np.ndarray:
        """Euclidean distances between the pial (and subcortical MNI) centroids in mm, (n, n)."""
        c = self.centroids("pial")
        return np.sqrt(((c[:, None, :] - c[None, :, :]) ** 2).sum(-1))

    def lobes(self) -> pd.Series:
        """Lobe of each region: frontal, parietal, temporal, occipital, cingulate, insula, subcortex.

        Desikan-Killiany regions take their lobe from ``DK_LOBES`` (Klein & Tourville 2012); a
        parcel of any other atlas takes the lobe of the Desikan-Killiany region most of its
        fsaverage5 vertices lie in; subcortical regions are ``subcortex``.

        Returns
        -------
        lobes : pandas.Series of str, shape (n_regions,)
            Index ``region``, name ``lobe``.
        """
        if "lobes" not in self._cache:
            from crossscale.atlas.names import DK_LOBES
            from crossscale.atlas.surface import vertex_labels as dk_vertex_labels

            out = np.full(self.n_regions, "subcortex", dtype=object)
            if self.name in ("dk", "dk-subcortex"):
                for i, r in enumerate(self.regions):
                    if self._cortex[i]:
                        out[i] = DK_LOBES[r.split("_", 1)[1]]
            else:
                votes = np.zeros((self.n_regions, len(DK_REGIONS)), dtype=np.int64)
                for h in HEMISPHERES:
                    mine, dk = self.vertex_labels(h), dk_vertex_labels(h)
                    ok = (mine >= 0) & (dk >= 0)
                    np.add.at(votes, (mine[ok], dk[ok]), 1)
                for i in np.flatnonzero(self._cortex):
                    if votes[i].any():
                        out[i] = DK_LOBES[DK_REGIONS[int(votes[i].argmax())].split("_", 1)[1]]
                    else:  # a parcel entirely on the DK medial wall
                        out[i] = "medial wall"
            self._cache["lobes"] = pd.Series(out, index=self.regions, name="lobe")
        return self._cache["lobes"].copy()  # type: ignore[union-attr]

    # -- data -------------------------------------------------------------------------------------
    @property
    def has_connectome(self) -> bool:
        """Whether an HCP group connectome is available for this atlas."""
        return self._connectome_loader is not None

    def connectome(self, modality: str = "structural") -> pd.DataFrame:
        """The HCP group connectome of this atlas in atlas order.

        Parameters
        ----------
        modality : {"structural", "functional"}
            Structural (log streamline counts) or functional (resting-state) connectivity.

        Returns
        -------
        matrix : pandas.DataFrame, shape (n_regions, n_regions)
            Index and columns the canonical regions, as stored (not symmetrised or clipped).

        Raises
        ------
        ParameterError
            Unknown modality, or no connectome for this atlas.
        """
        if modality not in ("structural", "functional"):
            raise ParameterError(
                f"modality must be 'structural' or 'functional', got {modality!r}."
            )
        if self._connectome_loader is None:
            raise ParameterError(
                f"No connectome is available for the {self.title} atlas; use the surface graph "
                "(graph='surface', --graph surface)."
            )
        key = ("connectome", modality)
        if key not in self._cache:
            raw = self._connectome_loader(modality)
            rows = self.match(raw.index, what=f"The {modality} connectome")
            missing = [r for r in self.regions if r not in set(rows)]
            if missing:
                raise InputDataError(
                    f"The {modality} connectome of the {self.title} atlas lacks {len(missing)} "
                    f"region(s): {missing[:8]}."
                )
            mat = pd.DataFrame(raw.to_numpy(dtype=float), index=rows, columns=rows)
            self._cache[key] = mat.loc[list(self.regions), list(self.regions)].rename_axis(
                index="region", columns="region"
            )
        return self._cache[key].copy()  # type: ignore[union-attr]

    def hash(self) -> str:
        """sha256 of the name, regions and vertex labels (recorded in checkpoints)."""
        if "hash" not in self._cache:
            h = hashlib.sha256(self.name.encode())
            h.update("\n".join(self.regions).encode())
            for hemi in HEMISPHERES:
                h.update(self.vertex_labels(hemi).tobytes())
            self._cache["hash"] = h.hexdigest()
        return self._cache["hash"]  # type: ignore[return-value]

    def to_dict(self) -> dict[str, object]:
        """Summary for run.json, reports and checkpoints."""
        return {
            "name": self.name, "title": self.title, "n_regions": self.n_regions,
            "n_cortex": int(self._cortex.sum()), "n_subcortex": int((~self._cortex).sum()),
            "builtin": self.info is not None, "sources": list(self.sources), "hash": self.hash(),
        }  # fmt: skip

    def __repr__(self) -> str:
        sub = f", {int((~self._cortex).sum())} subcortical" if self.has_subcortex else ""
        return f"Atlas({self.name!r}: {self.n_regions} regions{sub})"


def _family_hint(family: str | None, current: str) -> str:
    if family is None:
        return ""
    if family == "schaefer" and not current.startswith("schaefer"):
        return (" They look like Schaefer parcel names: pass the atlas they come from, e.g. "
                "--atlas schaefer200 (atlas='schaefer200').")  # fmt: skip
    if family == "glasser" and current != "glasser360":
        return " They look like Glasser areas: pass --atlas glasser360 (atlas='glasser360')."
    if family == "dk-subcortex" and current == "dk":
        return (" They include subcortical regions: pass --atlas dk-subcortex "
                "(atlas='dk-subcortex'), or drop those rows.")  # fmt: skip
    if family in ("dk", "dk-subcortex") and not current.startswith("dk"):
        return " They look like Desikan-Killiany names: pass --atlas dk (atlas='dk')."
    if family == "destrieux":
        return (" They look like Destrieux (aparc.a2009s) names; crossscale has no Destrieux "
                "atlas: give its .annot files as --atlas lh.x.annot,rh.x.annot.")  # fmt: skip
    return ""


def _read_annot(path: Path) -> tuple[np.ndarray, list[str]]:
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


# -- built-ins ----------------------------------------------------------------------------------------
def _dk_labels(hemisphere: str) -> np.ndarray:
    from crossscale.atlas.surface import vertex_labels

    return vertex_labels(hemisphere)


def _connectome_from(keys: tuple[str, str, str]) -> Callable[[str], pd.DataFrame]:
    def load(modality: str) -> pd.DataFrame:
        from crossscale.datasets import fetch

        key = keys[0] if modality == "structural" else keys[1]
        mat = np.loadtxt(fetch(key), delimiter=",")
        labels = pd.read_csv(fetch(keys[2]), header=None).iloc[0].astype(str).tolist()
        return pd.DataFrame(mat, index=labels, columns=labels)

    return load


@lru_cache(maxsize=1)
def _subcortex_centroids() -> np.ndarray:
    """MNI152 centroids (mm) of the 14 subcortical regions, in ``SUBCORTEX_REGIONS`` order."""
    import nibabel as nib

    from crossscale.datasets import fetch

    info = pd.read_csv(fetch("dk_volume_regions"))
    img = nib.load(str(fetch("dk_volume_mni152")))
    data = np.asarray(img.dataobj).astype(np.int64)
    out = np.full((len(SUBCORTEX_REGIONS), 3), np.nan)
    for _, row in info.iterrows():
        region = canonical_subcortical(f"{row['hemisphere']}_{row['label']}")
        if region is None:
            continue
        ijk = np.argwhere(data == int(row["id"]))
        if len(ijk):
            out[SUBCORTEX_REGIONS.index(region)] = nib.affines.apply_affine(img.affine, ijk.mean(0))
    if not np.isfinite(out).all():  # pragma: no cover - the registered file has all 14
        raise InputDataError("The Desikan-Killiany MNI152 volume lacks a subcortical region.")
    return out


def _build_dk(subcortex: bool) -> Atlas:
    names = dk_names(subcortex)
    info = ATLASES["dk-subcortex" if subcortex else "dk"]
    regions = names.regions
    cortex = [r in set(DK_REGIONS) for r in regions]
    return Atlas(
        info.name, names, hemisphere=[r[0] for r in regions], cortex=cortex,
        labels=_dk_labels, title=info.title,
        subcortex_coords=_subcortex_centroids() if subcortex else None, info=info,
        connectome_loader=_connectome_from(info.connectome),  # type: ignore[arg-type]
        sources=(*info.annot, *(("dk_volume_mni152", "dk_volume_regions") if subcortex else ())),
    )  # fmt: skip


def _build_enigma(info: AtlasInfo) -> Atlas:
    from crossscale.datasets import fetch

    labels: dict[str, np.ndarray] = {}
    regions: list[str] = []
    hemis: list[str] = []
    glasser = info.name.startswith("glasser")
    for hemi, key in zip(HEMISPHERES, info.annot, strict=True):
        ids, parcels = _read_annot(fetch(key))
        names = [f"{hemi}_{p}" for p in parcels] if glasser else parcels
        labels[hemi] = np.where(ids >= 0, ids + len(regions), -1)
        regions += names
        hemis += [hemi] * len(names)
    if len(regions) != info.n_cortex:  # pragma: no cover - fixed by the registry checksums
        raise InputDataError(
            f"{info.title}: read {len(regions)} parcels, expected {info.n_cortex}."
        )
    key = glasser_key if glasser else schaefer_key
    names = RegionNames(regions, key, title=info.title, examples=info.examples)
    return Atlas(
        info.name, names, hemisphere=hemis, cortex=[True] * len(regions),
        labels=labels.__getitem__, title=info.title, info=info,
        connectome_loader=_connectome_from(info.connectome),  # type: ignore[arg-type]
        sources=info.annot,
    )  # fmt: skip


@cache
def _builtin(name: str) -> Atlas:
    if name == "dk":
        return _build_dk(False)
    if name == "dk-subcortex":
        return _build_dk(True)
    return _build_enigma(ATLASES[name])


def _annot_atlas(lh: str, rh: str, name: str) -> Atlas:
    """The user atlas of two .annot files (unpickling): the one already built, else read again."""
    known = _USER_ATLASES.get(name)
    if known is not None and known._annot == (lh, rh):
        return known
    return Atlas.from_annot(lh, rh, name=name)


_USER_ATLASES: dict[str, Atlas] = {}
_CURRENT: contextvars.ContextVar[Atlas | None] = contextvars.ContextVar(
    "crossscale_atlas", default=None
)


def get_atlas(atlas: str | Atlas | None = None) -> Atlas:
    """An :class:`Atlas` from a name, two annotation files, or the atlas in use.

    Parameters
    ----------
    atlas : str, Atlas or None
        A built-in name (``dk``, ``dk-subcortex``, ``schaefer100`` … ``schaefer400``,
        ``glasser360``), the name of a user atlas built earlier with :meth:`Atlas.from_annot`,
        ``"lh.x.annot,rh.x.annot"`` (two paths), an Atlas (returned as is), or None: the atlas
        set by :func:`use_atlas`, else ``dk``.

    Returns
    -------
    atlas : Atlas

    Raises
    ------
    ParameterError
        Unknown name.
    InputDataError
        Bad annotation files.
    """
    if isinstance(atlas, Atlas):
        return atlas
    if atlas is None:
        return _CURRENT.get() or _builtin("dk")
    text = str(atlas).strip()
    if "," in text or text.endswith(".annot"):
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) != 2:
            raise ParameterError(
                f"A user atlas is two FreeSurfer .annot files, left then right, separated by a "
                f"comma ('lh.myatlas.annot,rh.myatlas.annot'); got {atlas!r}."
            )
        return Atlas.from_annot(parts[0], parts[1])
    if text in _USER_ATLASES:
        return _USER_ATLASES[text]
    return _builtin(atlas_info(text).name)


def current_atlas() -> Atlas | None:
    """The atlas set by :func:`use_atlas` in this context, or None."""
    return _CURRENT.get()


@contextmanager
def use_atlas(atlas: str | Atlas | None) -> Iterator[Atlas]:
    """Make `atlas` the default of every function called inside the ``with`` block.

    Functions that take ``atlas=None`` (nulls, figures, name matching, graphs) use it, as
    scikit-learn's ``config_context`` does for its options; an explicit ``atlas=`` still wins.
    """
    resolved = get_atlas(atlas)
    token = _CURRENT.set(resolved)
    try:
        yield resolved
    finally:
        _CURRENT.reset(token)


def resolve_atlas(
    atlas: str | Atlas | None = None, regions: Iterable[object] | None = None
) -> Atlas:
    """The atlas to use: `atlas` if given, else the one in use, else inferred from region names.

    Inference: Desikan-Killiany names give ``dk`` (``dk-subcortex`` if some are subcortical),
    Glasser names ``glasser360``; Schaefer names fit several resolutions (``7Networks_LH_Vis_1``
    is a parcel of Schaefer-100 … -400), so they need an explicit atlas.

    Raises
    ------
    RegionMismatchError
        Names of no built-in atlas, or Schaefer names without an atlas.
    """
    if atlas is not None:
        return get_atlas(atlas)
    ctx = _CURRENT.get()
    if ctx is not None or regions is None:
        return ctx or _builtin("dk")
    names = [str(r) for r in regions]
    family = looks_like(names)
    if family in (None, "dk", "dk-subcortex"):
        return _builtin("dk-subcortex" if family == "dk-subcortex" else "dk")
    if family == "glasser":
        return _builtin("glasser360")
    fits = [k for k in ATLASES if k.startswith("schaefer")
            if all(_builtin(k).canonical(n) is not None for n in names)]  # fmt: skip
    if len(fits) == 1:
        return _builtin(fits[0])
    raise RegionMismatchError(
        f"Region names such as {names[:2]} are Schaefer parcels, which several resolutions share "
        f"({', '.join(fits) or 'none fits all of them'}); say which atlas the map is in with "
        "atlas='schaefer200' (--atlas schaefer200)."
    )
