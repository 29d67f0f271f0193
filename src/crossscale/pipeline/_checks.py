"""Option checks that every workflow runs before loading data or fitting anything.

Each function raises :class:`crossscale.ParameterError` naming the option, what is allowed,
what was given and how to fix it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from pathlib import Path

from crossscale._errors import InputDataError, ParameterError

_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s:/]+(:\d+)?/?$")


def at_least(option: str, value: float, minimum: float, *, hint: str = "") -> None:
    """`value` must be a finite number >= `minimum`."""
    if value is None or not math.isfinite(float(value)) or value < minimum:
        raise ParameterError(
            f"{option} must be >= {minimum:g}; got {value!r}.{(' ' + hint) if hint else ''}"
        )


def in_range(option: str, value: float, low: float, high: float, *, closed: str = "neither"):
    """`value` must lie in (low, high) (`closed` = 'neither', 'left', 'right' or 'both')."""
    ok_low = value >= low if closed in ("left", "both") else value > low
    ok_high = value <= high if closed in ("right", "both") else value < high
    if value is None or not math.isfinite(float(value)) or not (ok_low and ok_high):
        lb = "[" if closed in ("left", "both") else "("
        rb = "]" if closed in ("right", "both") else ")"
        raise ParameterError(f"{option} must be in {lb}{low:g}, {high:g}{rb}; got {value!r}.")


def one_of(option: str, value: str, allowed: Iterable[str]) -> str:
    """`value` must be one of `allowed`."""
    allowed = list(allowed)
    if value not in allowed:
        raise ParameterError(
            f"{option} must be {', '.join(repr(a) for a in allowed[:-1])} or {allowed[-1]!r}; "
            f"got {value!r}."
        )
    return value


def cv_schemes(option: str, value: str) -> tuple[str, ...]:
    """``--cv``: a comma list of 'loro' and 'spatial' (at least one)."""
    schemes = tuple(dict.fromkeys(s.strip().lower() for s in str(value).split(",") if s.strip()))
    bad = [s for s in schemes if s not in ("loro", "spatial")]
    if bad or not schemes:
        raise ParameterError(
            f"{option} must be 'loro', 'spatial' or 'loro,spatial'; got {value!r}."
        )
    return schemes


def scheduler(option: str, value: str | None) -> str | None:
    """``--scheduler``: None, 'local', or a Dask scheduler address such as tcp://host:8786."""
    if value is None or value == "local" or _ADDRESS.match(str(value)):
        return value
    raise ParameterError(
        f"{option} must be 'local' or a Dask scheduler address such as tcp://host:8786; "
        f"got {value!r}."
    )


def float_list(option: str, value: str, *, minimum: float | None = None) -> list[float]:
    """A comma list of numbers, e.g. ``--timepoints 0,2,4``."""
    parts = [p.strip() for p in str(value).split(",")]
    out = []
    for p in parts:
        try:
            x = float(p)
        except ValueError:
            raise ParameterError(
                f"{option} must be comma-separated numbers (e.g. 0,2,4); {p!r} in {value!r} is "
                "not a number."
            ) from None
        if not math.isfinite(x) or (minimum is not None and x < minimum):
            raise ParameterError(
                f"{option}: every value must be a finite number"
                f"{f' >= {minimum:g}' if minimum is not None else ''}; got {p!r} in {value!r}."
            )
        out.append(x)
    if len(set(out)) != len(out):
        raise ParameterError(f"{option} lists a value twice: {value!r}.")
    return out


def input_file(option: str, path: Path | None, *, what: str = "file") -> Path | None:
    """An input file that must exist and be a file (not a folder)."""
    if path is None:
        return None
    p = Path(path)
    if not p.exists():
        raise InputDataError(f"{option}: the {what} '{p}' does not exist. Check the path.")
    if p.is_dir():
        raise InputDataError(f"{option}: '{p}' is a folder; give the {what} itself.")
    from crossscale._files import check_regular_file

    check_regular_file(p, f"{option}: the {what}")
    return p


def atlas_option(option: str, value: str | None):  # noqa: ANN201
    """``--atlas``: a built-in atlas name or two .annot files; returns the Atlas (checked early)."""
    from crossscale.atlas import get_atlas

    try:
        return get_atlas(value or "dk")
    except (ParameterError, InputDataError) as err:
        raise type(err)(f"{option}: {err}") from None


def seed(option: str, value: int | None) -> None:
    """A seed: an integer from 0 to 2**32 - 1 (the same check as the Python API's)."""
    from crossscale._validate import check_seed

    check_seed(option, value, allow_none=value is None)


def count(option: str, value: int | None, low: int, high: int | None = None, *,
          hint: str = "") -> None:  # fmt: skip
    """An integer option in [low, high] (None: left to the default)."""
    from crossscale._validate import check_int

    check_int(option, value, low, high, hint=hint, allow_none=True)


def threads(option: str, value: int | None) -> None:
    """``--threads``: None or an integer >= 1."""
    from crossscale._validate import check_threads

    check_threads(option, value)

