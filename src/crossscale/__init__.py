"""crossscale: cross-scale, spatially aware generative modelling of the brain.

Importing the package is light: torch and matplotlib load only when a model or a figure is used.
"""

from __future__ import annotations

from crossscale._errors import (
    CrossscaleError,
    DataIntegrityError,
    DatasetNotFoundError,
    InputDataError,
    ModelStateError,
    ParameterError,
    RegionMismatchError,
)
from crossscale._progress import set_progress

__version__ = "0.1.0"

__all__ = [
    "CrossscaleError",
    "DataIntegrityError",
    "DatasetNotFoundError",
    "InputDataError",
    "ModelStateError",
    "ParameterError",
    "RegionMismatchError",
    "__version__",
    "set_progress",
]
