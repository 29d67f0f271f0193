"""Exceptions raised by crossscale.

Every error says which parameter or file is wrong, what was allowed, what was received and how
to fix it. All inherit from :class:`CrossscaleError`, so ``except CrossscaleError`` catches them.
"""

from __future__ import annotations


class CrossscaleError(Exception):
    """Base class of every error crossscale raises on purpose."""


class RegionMismatchError(CrossscaleError, ValueError):
    """Regions are unknown, missing, duplicated or in the wrong set."""


class InputDataError(CrossscaleError, ValueError):
    """A table, map or matrix has bad values (NaN, constant, non-numeric, wrong shape)."""


class DataIntegrityError(CrossscaleError):
    """A fetched file does not have the checksum the registry records."""


class DatasetNotFoundError(CrossscaleError, LookupError):
    """A dataset key is not in the registry."""


class ModelStateError(CrossscaleError):
    """An estimator is used before ``fit``, or a checkpoint does not match the data."""


class ParameterError(CrossscaleError, ValueError):
    """A parameter has a value outside what is allowed."""
