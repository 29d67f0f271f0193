"""Cross-validation schemes, metrics and the side-by-side evaluation runner."""

from crossscale.evaluate.cv import distance_blocked, leave_one_region_out, out_of_fold
from crossscale.evaluate.metrics import explained_variance, foldwise_r, pearson_r
from crossscale.evaluate.runner import CV_SCHEMES, Evaluation, evaluate_models

__all__ = [
    "CV_SCHEMES",
    "Evaluation",
    "distance_blocked",
    "evaluate_models",
    "explained_variance",
    "foldwise_r",
    "leave_one_region_out",
    "out_of_fold",
    "pearson_r",
]
