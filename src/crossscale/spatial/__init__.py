"""Spatial-omics inputs: transcript tables -> binned gene fields, stain images, lazy zarr arrays."""

from crossscale.spatial.fields import (
    GeneField,
    Grid,
    ImageSizeError,
    StainStack,
    TiledCounts,
    bin_transcripts,
    is_blank,
    load_stains,
    panel_overlap,
    read_panel,
    read_transcripts,
    tile_field,
)
from crossscale.spatial.vizgen import SpatialSample, load_vizgen_mini, teramind_overlap

__all__ = [
    "GeneField",
    "Grid",
    "ImageSizeError",
    "SpatialSample",
    "StainStack",
    "TiledCounts",
    "bin_transcripts",
    "is_blank",
    "load_stains",
    "load_vizgen_mini",
    "panel_overlap",
    "read_panel",
    "read_transcripts",
    "teramind_overlap",
    "tile_field",
]
