"""Output folders are sacred: whether a command may write a folder, and writing it atomically.

:func:`check_output_dir` is the one place that decides whether a command may write (or replace) a
folder, and :func:`atomic_dir` the one place that writes it (a temporary folder beside it,
renamed into place on success). Single output files: :mod:`crossscale._outfiles`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypedDict, Unpack

from crossscale import _lock
from crossscale._errors import ParameterError
from crossscale._files import _jsonable, _umask, atomic_write_text, sha256_file
from crossscale._format import format_list

#: Key that marks a ``run.json`` as written by crossscale (with the list of files written).
RUN_MARKER = "written_by"


def read_run_json(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``run.json`` of `folder` if crossscale wrote it, else None.

    A crossscale ``run.json`` is a JSON object with ``written_by: "crossscale"``.
    """
    path = Path(folder) / "run.json"
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(run, dict):
        return None
    return run if run.get(RUN_MARKER) == "crossscale" else None


def _manifest(folder: Path) -> set[str] | None:
    """Relative paths that crossscale wrote into `folder` (None: unknown)."""
    run = read_run_json(folder)
    if run is not None:
        files = run.get("files")
        return set(files) if isinstance(files, list) else None
    parent = read_run_json(folder.parent)  # e.g. results/interpretation written by `fit`
    if parent is not None and isinstance(parent.get("files"), list):
        prefix = folder.name + "/"
        inside = {f[len(prefix) :] for f in parent["files"] if f.startswith(prefix)}
        if inside:
            return inside
    return None


def _is_crossscale_dir(folder: Path, marker: str | tuple[str, ...]) -> bool:
    markers = (marker,) if isinstance(marker, str) else marker
    if markers == ("run.json",):
        if read_run_json(folder) is not None:
            return True
        return _manifest(folder) is not None  # a sub-folder listed in its parent's run.json
    return all((folder / m).is_file() for m in markers)


def _foreign_files(folder: Path) -> list[str]:
    """Files in `folder` that crossscale's manifest of it does not list (empty when unknown)."""
    known = _manifest(folder)
    if known is None:
        return []
    foreign = []
    for root, dirs, files in os.walk(folder):
        rel_root = Path(root).relative_to(folder)
        for d in list(dirs):
            sub = Path(root) / d
            if read_run_json(sub) is not None and _manifest(sub) is not None:
                dirs.remove(d)  # a crossscale output of its own (e.g. `crossscale interpret`)
        for f in files:
            rel = (rel_root / f).as_posix()
            if rel not in known and rel != "run.json":
                foreign.append(rel)
    return sorted(foreign)


def writable_parent(path: Path) -> Path | None:
    """The nearest existing folder above `path` if it is writable, else None (with it named)."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    ok = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    return None if ok else parent


class OutputChecks(TypedDict, total=False):
    """Keyword arguments of :func:`check_output_dir` that :func:`atomic_dir` passes on."""

    overwrite: bool
    inputs: Iterable[str | os.PathLike[str] | None]
    option: str
    marker: str | tuple[str, ...]


def check_output_dir(
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    option: str = "--out",
    marker: str | tuple[str, ...] = "run.json",
    lock: bool = True,
    resume: str | None = None,
) -> Path:
    """Check, before any work, that a command may write the folder `out`.

    The rules: `out` is not the current folder or one above it; it equals no input and
    contains none; its parent is a writable folder; if it exists, it is replaced only with
    `overwrite`, and only when it is empty or crossscale wrote it (it carries crossscale's ``run.json``, or the
    files named by `marker`) and it holds no file that crossscale did not write.

    Parameters
    ----------
    out : path-like
        Output folder.
    overwrite : bool
        Whether an existing crossscale output folder may be replaced.
    inputs : iterable of path-like or None
        Input files or folders of the command (None entries are ignored).
    option : str
        How messages name the option (``--out``).
    marker : str or tuple of str
        File(s) that identify a folder crossscale wrote; ``run.json`` is also checked for
        crossscale's keys.
    lock : bool
        Take the exclusive lock of `out` for this process (:func:`crossscale._lock.lock_output`;
        released at the end of :func:`atomic_dir` or of the command) and clean up what dead
        runs left beside it (:func:`crossscale._lock.clean_stale`).
    resume : str or None
        The name of a resumable state entry (``generated.ome.zarr.state``): an `out` that holds
        only that (an interrupted run) may be written without `overwrite`.

    Returns
    -------
    out : pathlib.Path

    Raises
    ------
    ParameterError
        With a message that says which rule was broken and what to do.
    OutputBusyError
        Another process is writing `out` now.
    """
    out = Path(out)
    res = out.resolve()
    cwd = Path.cwd().resolve()
    if res == cwd or res in cwd.parents:
        raise ParameterError(
            f"{option} '{out}' is the current folder (or one above it). crossscale writes a whole "
            f"folder beside the target and swaps it into place, so it never writes into '.'; give "
            f"a new sub-folder, e.g. {option} results/run1."
        )
    for inp in inputs:
        if inp is None:
            continue
        ip = Path(inp).resolve()
        if ip == res or res in ip.parents:
            raise ParameterError(
                f"{option} '{out}' {'is' if ip == res else 'contains'} the input '{inp}'; "
                f"writing there would {'replace' if ip == res else 'delete'} it. Choose an output "
                f"folder that holds none of the inputs, e.g. {option} {Path(out).stem}_results."
            )
    if out.exists() and not out.is_dir():
        raise ParameterError(
            f"{option} '{out}' is a file, not a folder; crossscale writes a folder of results "
            f"there. Choose another {option}."
        )
    parent = writable_parent(res)
    if parent is not None:
        raise ParameterError(
            f"{option} '{out}' cannot be written: '{parent}' is not a writable folder. Choose an "
            f"{option} in a folder you can write to."
        )
    resumable = (resume is not None and out.is_dir() and [p.name for p in out.iterdir()] == [resume]
                 and (out / resume / "params.json").is_file())  # fmt: skip
    check = _no_check if resumable else _check_existing  # resumable: an interrupted run
    if not lock:
        check(out, overwrite=overwrite, option=option, marker=marker)
        return out
    held_before = res in _lock._HELD
    _lock.lock_output(out, option=option)
    try:
        _lock.clean_stale(out)
        check(out, overwrite=overwrite, option=option, marker=marker)
    except BaseException:
        if not held_before:
            _lock.release_output(out)
        raise
    return out


def _no_check(out: Path, **kwargs: object) -> None:  # noqa: ARG001
    """No rule for an `out` that holds only a resumable state."""


def _check_existing(
    out: Path, *, overwrite: bool, option: str, marker: str | tuple[str, ...]
) -> None:
    """The rules for an `out` that exists (see :func:`check_output_dir`)."""
    if out.exists():
        if not overwrite:
            raise ParameterError(
                f"The output folder '{out}' already exists. Choose another {option}, or pass "
                "--overwrite to replace it."
            )
        empty = not any(out.iterdir())
        if not empty and not _is_crossscale_dir(out, marker):
            what = (
                "run.json written by crossscale"
                if marker == "run.json"
                else " and ".join((marker,) if isinstance(marker, str) else marker)
            )
            raise ParameterError(
                f"--overwrite refused: '{out}' was not written by crossscale (it has no {what}), "
                f"so replacing it could delete your files. Choose a new {option}, or move or "
                "delete that folder yourself."
            )
        foreign = [] if empty else _foreign_files(out)
        if foreign:
            raise ParameterError(
                f"--overwrite refused: '{out}' holds {len(foreign)} file(s) that crossscale did "
                f"not write: {format_list(foreign)}. Move them out of the folder, or choose a new "
                f"{option}."
            )


@contextlib.contextmanager
def atomic_dir(out: str | os.PathLike[str], **checks: Unpack[OutputChecks]) -> Iterator[Path]:
    """Yield a temporary folder next to `out` that is renamed to `out` only on success.

    A failed or interrupted run leaves nothing half-written: the temporary folder is removed
    and an existing `out` is left untouched. The checks of :func:`check_output_dir` run first
    (and again here, so a library caller gets them too). When the command wrote a ``run.json``,
    it is stamped with ``written_by: "crossscale"``, the list of files written (which later
    ``--overwrite`` checks use) and the sha256 of each (``file_sha256``).

    Parameters
    ----------
    out : path-like
        Output folder.
    **checks
        `overwrite`, `inputs`, `option`, `marker` of :func:`check_output_dir`.

    Raises
    ------
    ParameterError
        If `out` may not be written (see :func:`check_output_dir`).
    """
    out = check_output_dir(out, **checks)
    try:
        with _atomic_swap(out) as tmp:
            yield tmp
    finally:
        _lock.release_output(out)


@contextlib.contextmanager
def _atomic_swap(out: Path) -> Iterator[Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name lets a later run remove it once this process is gone
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        yield tmp
        _stamp_run_json(tmp)
        if out.exists():
            trash = out.parent / f".{out.name}.old-{os.getpid()}"
            os.replace(out, trash)
            try:
                os.replace(tmp, out)
            except BaseException:
                os.replace(trash, out)
                raise
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _stamp_run_json(folder: Path) -> None:
    path = folder / "run.json"
    if not path.is_file():
        return
    run = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(run, dict):
        return
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    hashes = {f: sha256_file(folder / f) for f in files if f != "run.json"}
    run = {RUN_MARKER: "crossscale", **run, "files": files, "file_sha256": hashes}
    atomic_write_text(path, json.dumps(_jsonable(run), indent=2, allow_nan=False) + "\n")
