"""Cross-validation schemes, metrics and the side-by-side evaluation runner."""

from crossscale.evaluate.cv import distance_blocked, leave_one_region_out, out_of_fold
from crossscale.evaluate.metrics import foldwise_r, pearson_r, r2_score
from crossscale.evaluate.nullrefit import (
    NullResult,
    gene_null_distribution,
    kmeans_blocks,
    null_distribution,
    p_value_upper,
)
from crossscale.evaluate.runner import CV_SCHEMES, Evaluation, evaluate_models

__all__ = [
    "CV_SCHEMES",
    "Evaluation",
    "NullResult",
    "distance_blocked",
    "evaluate_models",
    "foldwise_r",
    "gene_null_distribution",
    "kmeans_blocks",
    "leave_one_region_out",
    "null_distribution",
    "out_of_fold",
    "p_value_upper",
    "pearson_r",
    "r2_score",
]
