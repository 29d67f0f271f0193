"""Small helpers shared by every layer: atomic output folders and files, list formatting.

The code lives in :mod:`crossscale._outdir` (output folders), :mod:`crossscale._files` (atomic
files, JSON) and :mod:`crossscale._format` (lists in messages); this module re-exports it.
"""

from __future__ import annotations

from crossscale._files import (
    _jsonable,
    _umask,
    atomic_write_files,
    atomic_write_text,
    sha256_file,
    write_json,
)
from crossscale._format import format_list
from crossscale._outdir import (
    RUN_MARKER,
    atomic_dir,
    check_output_dir,
    check_output_files,
    read_run_json,
)

_list = format_list

__all__ = [
    "RUN_MARKER",
    "_jsonable",
    "_list",
    "_umask",
    "atomic_dir",
    "atomic_write_files",
    "atomic_write_text",
    "check_output_dir",
    "check_output_files",
    "format_list",
    "read_run_json",
    "sha256_file",
    "write_json",
]
