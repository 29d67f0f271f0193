"""The ``crossscale`` command: a thin typer layer over the public API.

:func:`run` is the one error path of the whole command line: usage errors print a usage line
and exit 2; crossscale errors print one line and exit 2; Ctrl-C prints "Interrupted; nothing was
written" and exits 130; anything else is a bug: one line, exit 1. Tracebacks only with
``--debug`` (or ``-vv``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import sys
from collections.abc import Iterator, Sequence

import typer

from crossscale import __version__
from crossscale._errors import CrossscaleError
from crossscale.cli import data as data_cmd
from crossscale.cli import spread as spread_cmd
from crossscale.cli.benchmark import benchmark
from crossscale.cli.fit import fit
from crossscale.cli.interpret import interpret
from crossscale.cli.vulnerability import vulnerability

app = typer.Typer(
    name="crossscale",
    help="Cross-scale, spatially aware generative modelling of the brain.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("fit")(fit)
app.command("interpret")(interpret)
app.command("benchmark")(benchmark)
app.command("vulnerability")(vulnerability)
app.add_typer(spread_cmd.app, name="spread")
app.add_typer(data_cmd.app, name="data")
app.add_typer(__import__("crossscale.cli.volume", fromlist=["app"]).app, name="volume")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crossscale {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: int = typer.Option(
        0, "--verbose", "-v", count=True, help="More log output (-vv for debug)."
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Only warnings and errors; no progress bars."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback of an error (for bug reports)."
    ),
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Show the version."
    ),
    ctx: typer.Context = None,  # type: ignore[assignment]
) -> None:
    """Cross-scale, spatially aware generative modelling of the brain."""
    from rich.logging import RichHandler

    from crossscale import _lock

    if ctx is not None:  # output locks end with the command (also under typer's CliRunner)
        ctx.call_on_close(_lock.release_all)

    from crossscale._progress import set_progress_enabled

    level = (
        logging.WARNING
        if quiet
        else (
            logging.DEBUG if verbose >= 2 or debug else logging.INFO if verbose else logging.WARNING
        )
    )
    logging.basicConfig(
        level=level, format="%(message)s", handlers=[RichHandler(show_path=False)], force=True
    )
    set_progress_enabled(not quiet)


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


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so that every ``atomic_dir`` cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Signals handled like Ctrl-C; exit code 128 + the signal number (SIGTERM 143, SIGHUP 129).
HANDLED_SIGNALS = ("SIGTERM", "SIGHUP")


@contextlib.contextmanager
def _signals_as_interrupts() -> Iterator[None]:
    """Turn SIGTERM / SIGHUP into :class:`Terminated` while the command runs (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, frame: object) -> None:  # noqa: ARG001
        if fired:  # a second signal during the clean-up: let the clean-up finish
            return
        fired.append(signum)
        raise Terminated(signum)

    previous = {}
    for name in HANDLED_SIGNALS:
        sig = getattr(signal, name, None)
        if sig is not None:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _plain_flags(command: object) -> object:
    """Show flags (``--overwrite``, ``--help``, ``-v``) without a ``<bool>`` type in help pages."""
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
    try:
        help_option = command.get_help_option(command.context_class(command))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - only cosmetic; never stop the command for it
        help_option = None
    if help_option is not None:
        help_option.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _plain_flags(sub)
    return command


def main(args: Sequence[str] | None = None) -> int:
    """Run the command line on `args` (default ``sys.argv[1:]``) and return the exit code.

    Exit codes: 0 success; 1 a bug (an unexpected exception); 2 a usage error, a crossscale
    error (bad option, input or output) or an error of the machine (``OSError``: permission
    denied, disk full); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM, e.g. a batch
    scheduler's time limit); 129 hang-up (SIGHUP, the terminal closed). ``--debug`` or ``-vv``
    re-raise instead.
    """
    from crossscale import _lock

    try:
        with _signals_as_interrupts():
            return _main_guarded(args)
    finally:
        _lock.release_all()


def _main_guarded(args: Sequence[str] | None) -> int:
    usage, other, exits, aborts = _click_exceptions()
    args = list(sys.argv[1:] if args is None else args)
    debug = _wants_debug(args)
    command = _plain_flags(typer.main.get_command(app))
    try:
        with command.make_context("crossscale", args) as ctx:
            command.invoke(ctx)
        return 0
    except exits as err:
        return int(err.exit_code or 0)
    except usage as err:
        if debug:
            raise
        err.show()
        return 2
    except other as err:  # e.g. a FileError
        if debug:
            raise
        err.show()
        return 2
    except Terminated as err:
        if debug:
            raise
        import signal

        name = signal.Signals(err.signum).name
        typer.secho(
            f"\nTerminated by {name}; nothing was written (a stopped `volume generate` keeps its "
            "finished steps: rerun the same command to resume).",
            fg=typer.colors.RED,
            err=True,
        )
        return 128 + err.signum
    except (KeyboardInterrupt, *aborts):
        if debug:
            raise
        typer.secho("\nInterrupted; nothing was written.", fg=typer.colors.RED, err=True)
        return 130
    except CrossscaleError as err:
        if debug:
            raise
        typer.secho(f"Error: {err}", fg=typer.colors.RED, err=True)
        return 2
    except OSError as err:  # the machine, not crossscale: disk full, permission denied ...
        if debug:
            raise
        if err.errno == errno.EPIPE:  # `crossscale data list | head`
            return 1
        where = f" ('{err.filename}')" if getattr(err, "filename", None) else ""
        typer.secho(
            f"Error: {err.strerror or err}{where}. Check the path, the permissions and the free "
            "disk space; nothing was written.",
            fg=typer.colors.RED,
            err=True,
        )
        return 2
    except Exception as err:  # noqa: BLE001 - the one place that turns a bug into a message
        if debug:
            raise
        text = str(err).splitlines()[0] if str(err) else ""
        typer.secho(
            f"Internal error ({type(err).__name__}: {text}). This is a bug in crossscale; "
            "rerun with --debug (e.g. `crossscale --debug fit ...`) and report the traceback.",
            fg=typer.colors.RED,
            err=True,
        )
        return 1


def run() -> None:
    """Console entry point: :func:`main` with ``sys.argv``, then exit with its code."""
    sys.exit(main())
