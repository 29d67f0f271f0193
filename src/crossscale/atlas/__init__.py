"""Parcellations (:class:`Atlas`), region names, surface meshes and region graphs.

Built-in atlases: Desikan-Killiany (with or without subcortex), Schaefer 100-400, Glasser 360;
or your own ``.annot`` pair.
"""

from crossscale.atlas.atlases import Atlas
from crossscale.atlas.graph import RegionGraph
from crossscale.atlas.info import ATLASES, AtlasInfo, atlas_info
from crossscale.atlas.lookup import current_atlas, get_atlas, resolve_atlas, use_atlas
from crossscale.atlas.names import (
    DK_LABELS,
    DK_REGIONS,
    SUBCORTEX_REGIONS,
    RegionNames,
    canonical_region,
    dk_regions,
    to_canonical,
)
from crossscale.atlas.validate import validate_regional_map

__all__ = [
    "ATLASES",
    "DK_LABELS",
    "DK_REGIONS",
    "SUBCORTEX_REGIONS",
    "Atlas",
    "AtlasInfo",
    "RegionGraph",
    "RegionNames",
    "atlas_info",
    "canonical_region",
    "current_atlas",
    "dk_regions",
    "get_atlas",
    "resolve_atlas",
    "to_canonical",
    "use_atlas",
    "validate_regional_map",
]
