"""User-level workflows returning result objects with ``save(folder)``.

- :func:`fit_map` -> :class:`FitResult`: fit a registered model from regional expression to a
  map, cross-validate it with the baselines, refit it on spatial null maps, interpret it
  (``crossscale fit``; its options as one frozen :class:`FitConfig`, checked by
  ``config.check()``, -> :func:`crossscale.pipeline.fit_config.run`).
- :func:`benchmark_maps` -> :class:`BenchmarkResult`: a model and the baselines on many maps,
  one table (``crossscale benchmark``; its options as one frozen :class:`BenchmarkConfig`).
- :mod:`crossscale.pipeline.spread`, :mod:`~crossscale.pipeline.volume` and
  :mod:`~crossscale.pipeline.vulnerability`: a frozen ``*Config`` -> ``run(config)`` -> a result
  whose ``save(folder)`` writes the folder (``crossscale spread``, ``volume``, ``vulnerability``).

The names load on first use, so that importing a workflow's options (the command line does)
does not import pandas, scikit-learn or torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_NAMES = {
    "parse_null_cv": "crossscale.pipeline._common",
    "BenchmarkResult": "crossscale.pipeline.benchmark",
    "benchmark_maps": "crossscale.pipeline.benchmark",
    "FitResult": "crossscale.pipeline.fit",
    "fit_map": "crossscale.pipeline.fit",
    "check_model": "crossscale.pipeline.fit",
    "model_params": "crossscale.pipeline.fit",
    "FitConfig": "crossscale.pipeline.fit_config",
    "BenchmarkConfig": "crossscale.pipeline.benchmark_config",
}

__all__ = [
    "BenchmarkConfig", "BenchmarkResult", "FitConfig", "FitResult", "benchmark_maps",
    "check_model", "fit_map", "model_params", "parse_null_cv",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
