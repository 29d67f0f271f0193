"""Output files are sacred too: whether a command may write (or replace) single files.

:func:`check_output_files` is the rule for commands that write files rather than a folder
(``crossscale vulnerability --out d.csv``); folders: :mod:`crossscale._outdir`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from crossscale import _lock
from crossscale._errors import ParameterError
from crossscale._outdir import RUN_MARKER, writable_parent


def check_output_files(
    paths: Iterable[str | os.PathLike[str]],
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
    sidecar: str | os.PathLike[str] | None = None,
    option: str = "--out",
    options: Iterable[str] | None = None,
) -> None:
    """Check, before any work, that a command may write the files `paths`.

    An existing file is replaced only with `overwrite` and only when `sidecar` (the command's
    ``*.run.json``) exists and was written by crossscale; no output may be an input or a folder.
    The lock of the first path is taken (:func:`crossscale._lock.lock_output`) and held until
    the command ends, so two runs never write the same files.
    `options` names the option of each path in messages (default `option` for all), so that an
    error about the HTML page blames ``--html``, not ``--out``.

    Raises
    ------
    ParameterError
        Which file and why, and what to do.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        return
    names = list(options) if options is not None else [option] * len(paths)
    held_before = paths[0].resolve() in _lock._HELD
    try:
        _check_output_files(paths, names, overwrite=overwrite, inputs=inputs, sidecar=sidecar,
                            option=option)  # fmt: skip
    except BaseException:
        if not held_before:
            _lock.release_output(paths[0])
        raise


def _check_output_files(
    paths: list[Path], names: list[str], *, overwrite: bool,
    inputs: Iterable[str | os.PathLike[str] | None], sidecar: str | os.PathLike[str] | None,
    option: str,
) -> None:  # fmt: skip
    resolved = [p.resolve() for p in paths]
    for i, rp in enumerate(resolved):
        if rp in resolved[:i]:
            first = names[resolved.index(rp)]
            if first == names[i]:
                raise ParameterError(
                    f"{option}: two outputs would be the same file '{paths[i]}' (e.g. --out "
                    "d.html and its HTML page); give --out a .csv name such as d.csv."
                )
            raise ParameterError(
                f"{names[i]} '{paths[i]}' is the same file as {first}; give {names[i]} another "
                "name."
            )
    ins = {Path(i).resolve(): i for i in inputs if i is not None}
    for p, name in zip(paths, names, strict=True):
        rp = p.resolve()
        hit = next((i for r, i in ins.items() if r == rp or rp in r.parents), None)
        if hit is not None:
            raise ParameterError(
                f"{name}: the output '{p}' is the input '{hit}'; writing it would destroy "
                "the input. Choose another output name."
            )
        if p.is_dir():
            raise ParameterError(f"{name}: the output '{p}' is a folder; give a file name.")
        if p.exists() and not p.is_file():
            raise ParameterError(
                f"{name}: the output '{p}' exists and is not a regular file (a pipe or device); "
                "give a file name."
            )
        parent = writable_parent(rp)
        if parent is not None:
            raise ParameterError(
                f"{name}: '{p}' cannot be written: '{parent}' is not a writable folder."
            )
    _lock.lock_output(paths[0], option=names[0])  # held until the command ends
    exist = [p for p in paths if p.exists()]
    if exist and not overwrite:
        blame = sorted({n for p, n in zip(paths, names, strict=True) if p.exists()})
        raise ParameterError(
            f"Output file(s) already exist: {', '.join(map(str, exist))}. Choose another "
            f"{' / '.join(blame)}, or pass --overwrite to replace them."
        )
    if exist:
        sc = Path(sidecar) if sidecar is not None else None
        ok = False
        if sc is not None and sc.is_file():
            try:
                run = json.loads(sc.read_text(encoding="utf-8"))
                ok = isinstance(run, dict) and (
                    run.get(RUN_MARKER) == "crossscale"
                    or str(run.get("command", "")).startswith("crossscale")
                )
            except (OSError, UnicodeDecodeError, ValueError):
                ok = False
        if not ok:
            raise ParameterError(
                f"--overwrite refused: {', '.join(map(str, exist))} "
                f"{'was' if len(exist) == 1 else 'were'} not written by crossscale (no "
                f"crossscale '{sc.name if sc else 'run.json'}' beside it), so replacing could "
                f"destroy your data. Choose another {option}, or delete the file(s) yourself."
            )
