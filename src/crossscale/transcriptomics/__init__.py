"""Expression matrices, gene sets and gene filters with drop logs."""

from crossscale.transcriptomics.expression import (
    GeneSelection,
    load_ahba_expression,
    load_default_expression,
    load_landmark_genes,
    select_genes,
)

__all__ = [
    "GeneSelection",
    "load_ahba_expression",
    "load_default_expression",
    "load_landmark_genes",
    "select_genes",
]
