"""The one error path of the command line: exit codes, messages, signals.

:func:`run_guarded` runs a click command: usage errors print a usage line and exit 2;
crossscale errors print one line and exit 2; Ctrl-C prints "Interrupted; nothing was written"
and exits 130; SIGTERM / SIGHUP are handled like Ctrl-C (exit 143 / 129); an ``OSError`` (disk
full, permission denied) exits 2; anything else is a bug: one line, exit 1. Tracebacks only
with ``--debug`` (or ``-vv``).
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Sequence

import typer

from crossscale._errors import CrossscaleError
from crossscale._signals import Terminated, interrupt_behind

__all__ = ["run_guarded"]


def _wants_debug(args: Sequence[str]) -> bool:
    """``--debug``, ``-vv`` or ``-v -v`` before the sub-command (read before parsing)."""
    n_verbose = 0
    for a in args:
        if a == "--debug":
            return True
        if a == "--verbose":
            n_verbose += 1
        elif a.startswith("-") and not a.startswith("--") and set(a[1:]) <= {"v", "q"}:
            n_verbose += a.count("v")
        elif not a.startswith("-"):
            break  # the sub-command: its own options follow
    return n_verbose >= 2


def _click_exceptions() -> tuple[tuple[type, ...], ...]:
    """Usage-error, other click error, exit and abort classes of click and of typer's copy.

    typer >= 0.16 parses with its own copy of click and no longer installs click: a plain
    ``pip install crossscale`` may have either one, or both (when another package needs click).
    """
    mods = []
    try:
        from typer._click import exceptions as typer_click

        mods.append(typer_click)
    except ImportError:  # pragma: no cover - typer < 0.16
        pass
    try:
        import click
    except ImportError:
        pass
    else:
        mods.append(click.exceptions)

    def get(name: str) -> tuple[type, ...]:
        return tuple(getattr(m, name) for m in mods if hasattr(m, name))

    return (
        get("UsageError"),
        get("ClickException"),
        (typer.Exit, *get("Exit")),
        (typer.Abort, *get("Abort")),
    )


def run_guarded(command: object, args: Sequence[str] | None) -> int:
    """Run the click `command` on `args` (default ``sys.argv[1:]``); return the exit code."""
    usage, other, exits, aborts = _click_exceptions()
    args = list(sys.argv[1:] if args is None else args)
    debug = _wants_debug(args)  # before parsing, which consumes `args`
    try:
        with command.make_context("crossscale", args) as ctx:  # type: ignore[attr-defined]
            command.invoke(ctx)  # type: ignore[attr-defined]
        return 0
    except exits as err:
        return int(err.exit_code or 0)
    except (Exception, KeyboardInterrupt) as err:  # noqa: BLE001 - the one place for errors
        if debug:
            raise
        return _report(interrupt_behind(err), usage + other, aborts)


def _say(text: str) -> None:
    typer.secho(text, fg=typer.colors.RED, err=True)


def _report(err: BaseException, click_errors: tuple[type, ...], aborts: tuple[type, ...]) -> int:
    """Print the one message of `err` and return its exit code."""
    if isinstance(err, click_errors):  # a usage error, or e.g. a FileError
        err.show()  # type: ignore[attr-defined]
        return 2
    if isinstance(err, Terminated):
        import signal

        _say(f"\nTerminated by {signal.Signals(err.signum).name}; nothing was written (a stopped "
             "`volume generate` keeps its finished steps: rerun the same command to resume).")  # fmt: skip
        return 128 + err.signum
    if isinstance(err, (KeyboardInterrupt, *aborts)):
        _say("\nInterrupted; nothing was written.")
        return 130
    if isinstance(err, CrossscaleError):
        _say(f"Error: {err}")
        return 2
    if isinstance(err, OSError):  # the machine, not crossscale: disk full, permission denied ...
        if err.errno == errno.EPIPE:  # `crossscale data list | head`
            return 1
        where = f" ('{err.filename}')" if getattr(err, "filename", None) else ""
        _say(f"Error: {err.strerror or err}{where}. Check the path, the permissions and the free "
             "disk space; nothing was written.")  # fmt: skip
        return 2
    text = str(err).splitlines()[0] if str(err) else ""
    _say(f"Internal error ({type(err).__name__}: {text}). This is a bug in crossscale; rerun with "
         "--debug (e.g. `crossscale --debug fit ...`) and report the traceback.")  # fmt: skip
    return 1
