"""One writer per output: an exclusive lock beside each target, and the leftovers of dead runs.

:func:`lock_output` takes an exclusive ``flock`` on ``.NAME.lock`` beside the output ``NAME``
(non-blocking: a second run with the same ``--out`` fails at once, naming the first one's pid
and command). The lock is held until :func:`release_output` (the end of
:func:`crossscale._outdir.atomic_dir`) or :func:`release_all` (the end of the command line, and
at exit); the lock file is removed on release, so nothing is left behind.

:func:`clean_stale` handles what a killed run (SIGKILL, power loss) leaves beside an output: a
temporary folder ``.NAME.tmp-PID-*`` (removed when that pid is gone) and the previous version
``.NAME.old-PID`` of a replaced folder (put back when the output itself is missing, else removed).
Leftovers whose pid is still running, or that carry no pid, are only reported.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import sys
from pathlib import Path

from crossscale._errors import ParameterError

logger = logging.getLogger(__name__)

#: resolved output path -> (lock file descriptor, lock file path, folders created for it)
_HELD: dict[Path, tuple[int, Path, list[Path]]] = {}


class OutputBusyError(ParameterError):
    """Another running process holds the lock of the same output."""


def lock_path(out: Path) -> Path:
    """The lock file of the output `out` (resolved): ``.NAME.lock`` beside it."""
    return out.parent / f".{out.name}.lock"


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return those created (deepest last)."""
    missing = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def lock_output(out: str | os.PathLike[str], *, option: str = "--out") -> Path:
    """Take the exclusive lock of the output `out` for this process (re-entrant).

    Raises
    ------
    OutputBusyError
        If another process holds it: which pid, which command, and what to do.
    """
    import fcntl

    res = Path(out).resolve()
    if res in _HELD:
        return res
    created = _make_parents(res.parent)
    path = lock_path(res)
    for _ in range(20):  # the lock file may be unlinked by its holder between open and flock
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(fd)
            os.close(fd)
            _remove_created(created)
            raise OutputBusyError(
                f"{option} '{out}' is being written by another crossscale run right now"
                f"{holder}. Wait until it has finished, or choose another {option}; two runs "
                "never write the same output."
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # we locked a file its holder had just removed: try the new one
    else:  # pragma: no cover - needs 20 lost races in a row
        _remove_created(created)
        raise OutputBusyError(f"{option} '{out}': could not take its lock ('{path}').")
    text = f"{os.getpid()}\n{' '.join(sys.argv)[:500]}\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, text.encode("utf-8", "replace"), 0)
    _HELD[res] = (fd, path, created)
    return res


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 1000, 0).decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    if not text or not text[0].strip().isdigit():
        return ""
    cmd = f", `{text[1].strip()}`" if len(text) > 1 and text[1].strip() else ""
    return f" (pid {text[0].strip()}{cmd})"


def _remove_created(created: list[Path]) -> None:
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if still empty


def release_output(out: str | os.PathLike[str]) -> None:
    """Release the lock of `out` taken by this process (no-op when not held)."""
    res = Path(out).resolve()
    held = _HELD.pop(res, None)
    if held is None:
        return
    fd, path, created = held
    with contextlib.suppress(OSError):
        os.unlink(path)  # while still locked: a waiting run then sees a new file
    os.close(fd)
    _remove_created(created)


def release_all() -> None:
    """Release every lock this process holds (end of a command, exit)."""
    for res in list(_HELD):
        release_output(res)


atexit.register(release_all)


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def clean_stale(out: str | os.PathLike[str]) -> list[str]:
    """Remove (or report) the leftovers of dead runs beside the output `out`.

    Call it with the lock of `out` held. Returns one message per leftover found (also logged as
    warnings).
    """
    res = Path(out).resolve()
    parent = res.parent
    if not parent.is_dir():
        return []
    pattern = re.compile(rf"^\.{re.escape(res.name)}\.(tmp|old)-(?:(\d+)(?:-.*)?|.*)$")
    notes = []
    for entry in sorted(parent.iterdir()):
        m = pattern.match(entry.name)
        if m is None or entry == res:
            continue
        kind, pid = m.group(1), int(m.group(2)) if m.group(2) else None
        if pid is None or pid == os.getpid() or pid_alive(pid):
            who = "a run without a recorded pid" if pid is None else f"the running pid {pid}"
            notes.append(
                f"'{entry}' was left by {who}; it is not removed. Delete it yourself once no "
                "crossscale run writes there."
            )
        elif kind == "old" and not res.exists():
            os.replace(entry, res)
            notes.append(
                f"'{res}' was restored from '{entry.name}': a run (pid {pid}) was stopped while "
                "it replaced this output."
            )
        else:
            shutil.rmtree(entry, ignore_errors=True)
            what = "temporary folder" if kind == "tmp" else "replaced previous version"
            notes.append(
                f"Removed '{entry}', the {what} of an interrupted crossscale run (pid {pid}, no "
                "longer running)."
            )
    for note in notes:
        logger.warning("%s", note)
    return notes
