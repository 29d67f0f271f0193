"""Spatial-omics inputs on a µm grid: transcripts -> gene fields, stain images -> stain stacks.

A *gene field* is a (n_genes, n_planes, H, W) tensor of transcript counts binned on a regular grid
in µm (default Tera-MIND's: 16 image pixels per gene bin), with the count transform (``log1p``) and
the per-gene scaling recorded so that generation applies exactly the training transform. A *stain
stack* is (n_stains, n_planes, H, W) in [-1, 1]. Both may be held in memory (numpy) or in a chunked
zarr array on disk, so that inputs larger than memory work: binning streams the transcript table
in row chunks and accumulates one spatial block at a time.

References
----------
.. [1] Wu Y. et al. (2025). Tera-MIND: Tera-scale mouse brain simulation via spatial
   mRNA-guided diffusion. arXiv:2503.01220.
.. [2] Moffitt J. R. et al. (2018). Molecular, spatial, and functional single-cell profiling of
   the hypothalamic preoptic region. Science 362, eaau5324 (MERFISH).
"""

from __future__ import annotations

from crossscale.spatial.grid import GeneField, Grid, StainStack, TiledCounts, tile_field
from crossscale.spatial.stains import ImageSizeError, load_stains
from crossscale.spatial.transcripts import (
    BLANK_PREFIXES,
    TRANSCRIPT_COLUMNS,
    bin_transcripts,
    is_blank,
    panel_overlap,
    read_panel,
    read_transcripts,
)

__all__ = [
    "BLANK_PREFIXES",
    "GeneField",
    "Grid",
    "ImageSizeError",
    "StainStack",
    "TRANSCRIPT_COLUMNS",
    "TiledCounts",
    "bin_transcripts",
    "is_blank",
    "load_stains",
    "panel_overlap",
    "read_panel",
    "read_transcripts",
    "tile_field",
]
