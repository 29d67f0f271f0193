"""The one builder of every ``run.json``: command, parameters, versions, commit, data hashes.

Every command (fit, benchmark, interpret, vulnerability, spread, volume) records its run with
:func:`run_record`. The hashes are sha256 of the files actually read (the cached dataset files,
the user's input files) and, for files written outside :func:`crossscale._outdir.atomic_dir`, of
the files written; folders written through ``atomic_dir`` get the hashes of every file they hold
when the folder is committed (its ``files`` and ``sha256`` entries).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from crossscale._files import sha256_file

__all__ = ["PACKAGES", "file_sha256", "git_commit", "package_versions", "run_record"]

#: Packages whose versions every run.json records (when installed).
PACKAGES = (
    "numpy", "pandas", "scipy", "scikit-learn", "torch", "torch_geometric", "nilearn", "nibabel",
)  # fmt: skip

_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes, memoised by (path, size, modification time) for this process."""
    p = Path(path).resolve()
    st = p.stat()
    key = (str(p), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = sha256_file(p)
    return _HASHES[key]


def package_versions(extra: Iterable[str] = ()) -> dict[str, str]:
    """Versions of crossscale, Python and the installed packages of :data:`PACKAGES` and `extra`."""
    from importlib.metadata import PackageNotFoundError, version

    from crossscale import __version__

    out = {"crossscale": __version__, "python": platform.python_version()}
    for pkg in dict.fromkeys((*PACKAGES, *extra)):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """``git describe --always --dirty`` of the crossscale source tree, or None.

    None when crossscale is not run from a git checkout of its own source (an installed wheel)
    or git is not available.
    """
    pkg = Path(__file__).resolve().parent
    try:
        top = subprocess.run(
            ["git", "-C", str(pkg), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
        if top.returncode != 0 or (Path(top.stdout.strip()) / "src" / "crossscale").resolve() != pkg:
            return None
        desc = subprocess.run(
            ["git", "-C", str(pkg), "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return desc.stdout.strip() or None if desc.returncode == 0 else None


def _input_entry(path: str | os.PathLike[str]) -> dict[str, Any]:
    p = Path(path)
    if p.is_dir():  # e.g. a FreeSurfer SUBJECTS_DIR: too large to hash; its path is recorded
        return {"path": str(p), "sha256": None, "kind": "folder"}
    return {"path": str(p), "sha256": file_sha256(p)}


def _output_hash(value: str | bytes | os.PathLike[str]) -> str:
    import hashlib

    if isinstance(value, str):
        value = value.encode("utf-8")
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    return file_sha256(value)


def run_record(
    command: str,
    *,
    parameters: Mapping[str, Any],
    seed: int | None = None,
    datasets: Iterable[str] = (),
    inputs: Mapping[str, str | os.PathLike[str] | None] | None = None,
    outputs: Mapping[str, str | bytes | os.PathLike[str]] | None = None,
    packages: Iterable[str] = (),
    **extra: Any,
) -> dict[str, Any]:
    """The content of a ``run.json``.

    Parameters
    ----------
    command : str
        The command, e.g. ``"crossscale fit"`` (the full command line is recorded as ``argv``).
    parameters : mapping
        The command's parameters, as given or resolved.
    seed : int or None
        Seed of every stochastic step.
    datasets : iterable of str
        Registry keys of the datasets read: each is fetched (from the cache) and its file
        hashed.
    inputs : mapping of str to path-like or None
        The user's input files by role (``{"map_file": "my_map.csv"}``); None entries are
        skipped; folders are recorded by path only.
    outputs : mapping of str to path-like, str or bytes, optional
        Files written outside ``atomic_dir`` (a path to hash, or the text / bytes written).
    packages : iterable of str
        Packages whose versions are recorded besides :data:`PACKAGES`.
    **extra
        Further top-level entries (model parameters, summaries, times).

    Returns
    -------
    record : dict
        ``command``, ``argv``, ``parameters``, ``seed``, ``versions``, ``commit``,
        ``data_checksums`` (``{key or role: sha256}`` of the files read), ``data_sources``
        (``{key or role: {"path", "sha256", …}}``), ``outputs`` (when given) and `extra`.
    """
    sources: dict[str, dict[str, Any]] = {}
    if datasets:
        from crossscale.datasets import dataset_info, fetch

        for key in dict.fromkeys(datasets):
            info = dataset_info(key)
            sources[key] = _input_entry(fetch(key)) | {"origin": info.origin, "licence": info.licence}
    for role, path in (inputs or {}).items():
        if path is not None:
            sources[role] = _input_entry(path)
    record: dict[str, Any] = {
        "command": command,
        "argv": list(sys.argv),
        "parameters": dict(parameters),
        "seed": seed,
        "versions": package_versions(packages),
        "commit": git_commit(),
        "data_checksums": {k: v["sha256"] for k, v in sources.items() if v["sha256"]},
        "data_sources": sources,
    }
    if outputs:
        record["outputs"] = {str(k): _output_hash(v) for k, v in outputs.items()}
    return record | extra
