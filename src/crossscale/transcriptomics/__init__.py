"""Expression matrices, gene sets and gene filters with drop logs."""

from crossscale.transcriptomics.atlas_expression import (
    GENE_PANELS,
    ExpressionReport,
    check_expression,
    load_expression,
)
from crossscale.transcriptomics.expression import (
    GeneSelection,
    load_ahba_expression,
    load_default_expression,
    load_landmark_genes,
    select_genes,
)
from crossscale.transcriptomics.expression_file import read_expression

__all__ = [
    "GENE_PANELS",
    "ExpressionReport",
    "check_expression",
    "load_expression",
    "read_expression",
    "GeneSelection",
    "load_ahba_expression",
    "load_default_expression",
    "load_landmark_genes",
    "select_genes",
]
