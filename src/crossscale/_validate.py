"""Bounds of the numeric options, shared by the command line and the Python API.

Each check raises :class:`crossscale.ParameterError` naming the option (``--seed`` on the command
line, ``random_state`` in Python), what is allowed and what was given, before any work is done.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from crossscale._errors import ParameterError

#: Seeds are 32-bit unsigned integers (NumPy's and torch's manual_seed range).
MAX_SEED = 2**32 - 1
#: Largest number of training epochs / optimisation steps accepted (1e6: days of training).
MAX_EPOCHS = 1_000_000
#: Largest number of denoising steps (the diffusion models have 1000 training timesteps).
MAX_STEPS = 1000
#: Largest number of null maps / permutations / rewired graphs.
MAX_PERM = 1_000_000


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_seed(option: str, value: Any, *, allow_none: bool = False) -> None:
    """`value` must be an integer seed in 0 .. 2**32 - 1 (or None with `allow_none`)."""
    if value is None and allow_none:
        return
    if isinstance(value, np.random.Generator) and allow_none:
        return
    if not _is_int(value) or not 0 <= int(value) <= MAX_SEED:
        raise ParameterError(
            f"{option} must be an integer seed from 0 to {MAX_SEED} (2**32 - 1); got {value!r}."
        )


def resolve_seed(random_state: Any, *, option: str = "random_state") -> int:
    """An int seed from `random_state`: an integer as it is, else one drawn from it.

    Parameters
    ----------
    random_state : int, numpy.random.Generator or None
        An integer seed in 0 .. 2**32 - 1; a Generator (one integer is drawn from it); None
        (one integer drawn from fresh OS entropy).
    option : str
        How the message names the parameter.

    Returns
    -------
    seed : int
        The integer itself, or a draw in 0 .. 2**31 - 2.

    Raises
    ------
    ParameterError
        A bool (``True`` is not a seed), a float, a string, or an integer out of range.
    """
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    if not _is_int(random_state) or not 0 <= int(random_state) <= MAX_SEED:
        raise ParameterError(
            f"{option} must be an integer seed from 0 to {MAX_SEED}, a numpy Generator or None; "
            f"got {random_state!r}."
        )
    return int(random_state)


def check_int(
    option: str, value: Any, low: int, high: int | None = None, *, hint: str = "",
    allow_none: bool = False,
) -> None:  # fmt: skip
    """`value` must be an integer in [low, high] (high None: no upper bound)."""
    if value is None and allow_none:
        return
    ok = _is_int(value) and int(value) >= low and (high is None or int(value) <= high)
    if not ok:
        bound = f">= {low}" if high is None else f"from {low} to {high}"
        raise ParameterError(
            f"{option} must be an integer {bound}; got {value!r}.{(' ' + hint) if hint else ''}"
        )


def check_float(
    option: str, value: Any, low: float, high: float | None = None, *,
    low_open: bool = False, high_open: bool = False, allow_none: bool = False,
) -> None:  # fmt: skip
    """`value` must be a finite number in the interval low .. high (ends open as given)."""
    if value is None and allow_none:
        return
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    ok = math.isfinite(x) and (x > low if low_open else x >= low)
    if high is not None:
        ok = ok and (x < high if high_open else x <= high)
    if not ok:
        lb, rb = ("(" if low_open else "["), (")" if high_open else "]")
        where = f"in {lb}{low:g}, {high:g}{rb}" if high is not None else (
            f"{'>' if low_open else '>='} {low:g}")  # fmt: skip
        raise ParameterError(f"{option} must be a finite number {where}; got {value!r}.")


def check_threads(option: str, value: Any) -> None:
    """Threads: None (the library's default) or an integer >= 1."""
    check_int(option, value, 1, 4096, allow_none=True,
              hint="Give the number of CPU threads, e.g. 1 on a busy shared machine.")  # fmt: skip
