"""User-level workflows returning result objects with ``save(folder)``.

- :func:`fit_map` -> :class:`FitResult`: fit a registered model from regional expression to a
  map, cross-validate it with the baselines, refit it on spatial nulls, interpret it
  (``crossscale fit``).
- :func:`benchmark_maps` -> :class:`BenchmarkResult`: a model and the baselines on many maps,
  one table (``crossscale benchmark``).
"""

from crossscale.pipeline._common import parse_null_cv
from crossscale.pipeline.benchmark import BenchmarkResult, benchmark_maps
from crossscale.pipeline.fit import FitResult, check_model, fit_map, model_params

__all__ = [
    "BenchmarkResult", "FitResult", "benchmark_maps", "check_model", "fit_map", "model_params",
    "parse_null_cv",
]  # fmt: skip
