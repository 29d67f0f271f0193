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


def _package_version() -> str:
    """The installed distribution's version (from the git tag at build time, via hatch-vcs)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("crossscale")
    except PackageNotFoundError:  # a source tree on sys.path without an installation
        return "0+unknown"


__version__ = _package_version()

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
