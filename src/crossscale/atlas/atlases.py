"""Parcellations of the fsaverage5 surface (and the subcortex): the :class:`Atlas` object.

Every layer of crossscale that needs to know which regions exist, where they are and which are
neighbours takes an :class:`Atlas`: maps, expression, region graphs, spins, Moran nulls, CV folds,
figures and checkpoints. :func:`crossscale.atlas.get_atlas` returns the built-in ones by name
(:mod:`crossscale.atlas.info` lists them) and :meth:`Atlas.from_annot` builds one from a pair of
FreeSurfer ``.annot`` files on fsaverage5.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError, ParameterError, RegionMismatchError
from crossscale.atlas._builtin import builtin_parts, connectome_in_order
from crossscale.atlas._fsaverage import (
    N_VERTICES,
    annot_pair,
    mesh_edge_counts,
    region_centroids,
    region_layout,
    region_lobes,
)
from crossscale.atlas.info import AtlasInfo, family_hint
from crossscale.atlas.names import RegionNames, glasser_key, looks_like
from crossscale.atlas.surface import HEMISPHERES

__all__ = ["Atlas"]


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
        self._hemi, self._cortex, self._sub_coords = region_layout(
            len(names), hemisphere, cortex, subcortex_coords
        )
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
        paths = {"L": Path(lh), "R": Path(rh)}
        regions, hemis, vertex, stem = annot_pair(paths["L"], paths["R"])
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
            hint = family_hint(family, self.name)
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
        out = region_centroids(self.vertex_labels, self.n_regions, surface)
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
            counts = mesh_edge_counts(self.vertex_labels, self.n_regions)
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
            out = region_lobes(self.name, list(self.regions), self._cortex, self.vertex_labels)
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
            what = f"The {modality} connectome of the {self.title} atlas"
            self._cache[key] = connectome_in_order(raw, rows, self.regions, what)
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


@cache
def _builtin(name: str) -> Atlas:
    """The built-in atlas `name` (a key of ``ATLASES``), built once per process."""
    return Atlas(**builtin_parts(name))


def _annot_atlas(lh: str, rh: str, name: str) -> Atlas:
    """The user atlas of two .annot files (unpickling): the one already built, else read again."""
    known = _USER_ATLASES.get(name)
    if known is not None and known._annot == (lh, rh):
        return known
    return Atlas.from_annot(lh, rh, name=name)


_USER_ATLASES: dict[str, Atlas] = {}
