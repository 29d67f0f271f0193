"""Desikan-Killiany parcellation, region names, surface meshes and region graphs."""

from crossscale.atlas.graph import RegionGraph
from crossscale.atlas.names import (
    DK_LABELS,
    DK_REGIONS,
    canonical_region,
    dk_regions,
    to_canonical,
    validate_regional_map,
)

__all__ = [
    "DK_LABELS",
    "DK_REGIONS",
    "RegionGraph",
    "canonical_region",
    "dk_regions",
    "to_canonical",
    "validate_regional_map",
]
