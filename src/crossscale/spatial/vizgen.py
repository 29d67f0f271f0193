"""The GiottoData crop of the Vizgen MERSCOPE Mouse Brain Receptor Map, ready for modelling.

References
----------
.. [1] Vizgen (2021). MERFISH Mouse Brain Receptor Map (data release).
.. [2] Dries R. et al. (2021). Giotto: a toolbox for integrative analysis and visualization of
   spatial expression data. Genome Biol 22, 78.
"""

from __future__ import annotations

import copy
import functools
import os
from dataclasses import dataclass, replace

import pandas as pd

from crossscale.datasets import fetch
from crossscale.spatial.fields import (
    GeneField,
    Grid,
    StainStack,
    bin_transcripts,
    load_stains,
    panel_overlap,
    read_panel,
)

#: Pixel size of the Vizgen mosaic images (µm / px).
VIZGEN_PIXEL_UM = 0.10863
#: µm position of pixel (0, 0) of the GiottoData crop's images, and their shape (rows, cols).
VIZGEN_MINI_ORIGIN = (6400.029, 4699.967)
VIZGEN_MINI_SHAPE = (4143, 4603)
STAINS = ("dapi", "polyT")
TRANSCRIPTS_KEY = "vizgen_mini_transcripts"
PANEL_KEYS = ("teramind_panel_63885", "teramind_panel_60988")


def image_keys() -> dict[str, list[str]]:
    """Registry keys of the four stain images, ``{stain: [z0, z1]}``."""
    return {s: [f"vizgen_mini_{s.lower()}_z{z}" for z in (0, 1)] for s in STAINS}


def data_keys() -> list[str]:
    """Every registry key the Vizgen crop uses (for ``run.json`` checksums)."""
    return [TRANSCRIPTS_KEY] + [k for v in image_keys().values() for k in v]


@dataclass(frozen=True)
class SpatialSample:
    """A gene field and the stain stack on the same µm extent.

    Attributes
    ----------
    genes : GeneField
        (n_genes, n_planes, H_g, W_g) counts on the gene grid.
    stains : StainStack
        (n_stains, n_planes, H_g * r, W_g * r) in [-1, 1], ``r = bin_px // downsample``.
    ratio : int
        Stain pixels per gene bin along each axis.
    """

    genes: GeneField
    stains: StainStack
    ratio: int


def load_vizgen_mini(
    *, bin_px: int = 16, downsample: int = 8, store: str | os.PathLike[str] | None = None
) -> SpatialSample:
    """Bin the Vizgen crop's transcripts and read its DAPI / PolyT images of planes z0, z1.

    Parameters
    ----------
    bin_px : int
        Image pixels per gene bin (Tera-MIND's default 16, i.e. 1.738 µm).
    downsample : int
        Image pixels per stain pixel; must divide `bin_px`.
    store : path-like, optional
        Folder for zarr arrays (``genes.zarr``, ``stains.zarr``); default in memory.

    Returns
    -------
    sample : SpatialSample
        In memory, the crop is binned once per process (per `bin_px`, `downsample`) and its count
        and stain arrays are shared between calls, read-only (copy one to change it).
    """
    from crossscale._errors import ParameterError
    from crossscale._validate import check_int

    check_int("bin_px", bin_px, 1, 4096)
    check_int("downsample", downsample, 1, 4096)
    if bin_px % downsample:
        raise ParameterError(
            f"downsample ({downsample}) must divide bin_px ({bin_px}) so that gene bins and stain "
            "pixels align; e.g. bin_px=16 with downsample 1, 2, 4, 8 or 16."
        )
    if store is None:  # in memory: binned once per process, arrays read-only (shared)
        sample = _load_in_memory(bin_px, downsample)
        return replace(sample, genes=replace(sample.genes, dropped=copy.deepcopy(sample.genes.dropped)))
    return _load(bin_px, downsample, store)


def _load(bin_px: int, downsample: int, store: str | os.PathLike[str] | None) -> SpatialSample:
    image_grid = Grid(VIZGEN_MINI_ORIGIN[0], VIZGEN_MINI_ORIGIN[1], VIZGEN_PIXEL_UM, VIZGEN_MINI_SHAPE)
    gene_grid = image_grid.coarsen(bin_px)
    gstore = sstore = None
    if store is not None:
        os.makedirs(store, exist_ok=True)
        gstore, sstore = os.path.join(store, "genes.zarr"), os.path.join(store, "stains.zarr")
    genes = bin_transcripts(fetch(TRANSCRIPTS_KEY), gene_grid, store=gstore)
    paths = {s: [fetch(k) for k in keys] for s, keys in image_keys().items()}
    stains = load_stains(paths, image_grid, downsample=downsample, extent=gene_grid,
                         planes=genes.planes, store=sstore)  # fmt: skip
    return SpatialSample(genes, stains, bin_px // downsample)


@functools.lru_cache(maxsize=2)
def _load_in_memory(bin_px: int, downsample: int) -> SpatialSample:
    sample = _load(bin_px, downsample, None)
    for a in (sample.genes.counts, sample.genes.scale, sample.stains.data):
        a.flags.writeable = False  # shared between calls: nobody may change them in place
    return sample


def teramind_overlap(genes: GeneField | list[str]) -> pd.DataFrame:
    """Genes of `genes` in Tera-MIND's two 500-gene panels (68 for the Vizgen crop)."""
    names = genes.genes if isinstance(genes, GeneField) else genes
    panels = {k.removeprefix("teramind_panel_"): read_panel(fetch(k)) for k in PANEL_KEYS}
    return panel_overlap(names, panels)
