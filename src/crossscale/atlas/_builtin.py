"""The data of the built-in atlases: vertex labels, connectomes, subcortical centroids.

:func:`builtin_parts` gathers what :class:`crossscale.atlas.Atlas` is built from for one entry of
:data:`crossscale.atlas.ATLASES` (the registry files are fetched lazily, by checksum).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from crossscale._errors import InputDataError
from crossscale.atlas._fsaverage import read_annot
from crossscale.atlas.info import ATLASES, AtlasInfo
from crossscale.atlas.names import (
    DK_REGIONS,
    SUBCORTEX_REGIONS,
    RegionNames,
    canonical_subcortical,
    dk_names,
    glasser_key,
    schaefer_key,
)
from crossscale.atlas.surface import HEMISPHERES


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


def builtin_parts(name: str) -> dict[str, Any]:
    """The arguments of :class:`crossscale.atlas.Atlas` for the built-in atlas `name`.

    `name` is a key of :data:`crossscale.atlas.ATLASES` (``KeyError`` otherwise).
    """
    if name in ("dk", "dk-subcortex"):
        return _dk_parts(name == "dk-subcortex")
    return _enigma_parts(ATLASES[name])


def _dk_parts(subcortex: bool) -> dict[str, Any]:
    names = dk_names(subcortex)
    info = ATLASES["dk-subcortex" if subcortex else "dk"]
    regions = names.regions
    cortex = [r in set(DK_REGIONS) for r in regions]
    return dict(
        name=info.name, names=names, hemisphere=[r[0] for r in regions], cortex=cortex,
        labels=_dk_labels, title=info.title,
        subcortex_coords=_subcortex_centroids() if subcortex else None, info=info,
        connectome_loader=_connectome_from(info.connectome),  # type: ignore[arg-type]
        sources=(*info.annot, *(("dk_volume_mni152", "dk_volume_regions") if subcortex else ())),
    )  # fmt: skip


def _enigma_parts(info: AtlasInfo) -> dict[str, Any]:
    from crossscale.datasets import fetch

    labels: dict[str, np.ndarray] = {}
    regions: list[str] = []
    hemis: list[str] = []
    glasser = info.name.startswith("glasser")
    for hemi, key in zip(HEMISPHERES, info.annot, strict=True):
        ids, parcels = read_annot(fetch(key))
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
    return dict(
        name=info.name, names=names, hemisphere=hemis, cortex=[True] * len(regions),
        labels=labels.__getitem__, title=info.title, info=info,
        connectome_loader=_connectome_from(info.connectome),  # type: ignore[arg-type]
        sources=info.annot,
    )  # fmt: skip


def connectome_in_order(
    raw: pd.DataFrame, rows: list[str], regions: pd.Index, what: str
) -> pd.DataFrame:
    """`raw` (regions x regions, canonical names `rows`) in the order of `regions`.

    Raises
    ------
    InputDataError
        A region of `regions` missing from `rows` (`what` names the matrix).
    """
    have = set(rows)
    missing = [r for r in regions if r not in have]
    if missing:
        raise InputDataError(f"{what} lacks {len(missing)} region(s): {missing[:8]}.")
    mat = pd.DataFrame(raw.to_numpy(dtype=float), index=rows, columns=rows)
    return mat.loc[list(regions), list(regions)].rename_axis(index="region", columns="region")
