"""Latent programs -> gene attributions -> cell-type enrichment with spatial nulls; region clusters.

Layer ``interpret``: may import models, train, nulls, maps, transcriptomics, atlas, datasets.
"""

from crossscale.interpret.attribution import (
    Attribution,
    integrated_gradients,
    program_importance,
    program_loadings,
)
from crossscale.interpret.clusters import RegionClusters, cluster_regions, region_lobes
from crossscale.interpret.enrichment import (
    Enrichment,
    fdr_bh,
    gene_set_enrichment,
    program_enrichment,
)
from crossscale.interpret.genesets import load_cell_type_sets, read_gmt
from crossscale.interpret.pipeline import (
    Interpretation,
    fit_replicates,
    interpret_model,
    mean_pairwise_spearman,
    rank_intervals,
)

__all__ = [
    "Attribution",
    "Enrichment",
    "Interpretation",
    "RegionClusters",
    "cluster_regions",
    "fdr_bh",
    "fit_replicates",
    "gene_set_enrichment",
    "integrated_gradients",
    "interpret_model",
    "load_cell_type_sets",
    "mean_pairwise_spearman",
    "program_enrichment",
    "program_importance",
    "program_loadings",
    "rank_intervals",
    "read_gmt",
    "region_lobes",
]
