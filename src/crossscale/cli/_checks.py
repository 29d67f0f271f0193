"""The option checks of the commands: they live in :mod:`crossscale.pipeline._checks`.

Kept as a name for the commands that still check their options here (fit, benchmark,
interpret); the workflows check their configs themselves.
"""

from crossscale.pipeline._checks import (
    at_least,
    atlas_option,
    count,
    cv_schemes,
    float_list,
    in_range,
    input_file,
    one_of,
    scheduler,
    seed,
    threads,
)

__all__ = [
    "at_least", "atlas_option", "count", "cv_schemes", "float_list", "in_range", "input_file",
    "one_of", "scheduler", "seed", "threads",
]  # fmt: skip
