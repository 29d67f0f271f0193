"""The ``crossscale`` command: a thin typer layer over :mod:`crossscale.pipeline`.

Each command module turns its options into a workflow config, runs it and prints; the one
error path (exit codes, messages, SIGTERM / SIGHUP) is :mod:`crossscale.cli._guard`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import typer

from crossscale import __version__
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


def main(args: Sequence[str] | None = None) -> int:
    """Run the command line on `args` (default ``sys.argv[1:]``) and return the exit code.

    Exit codes: 0 success; 1 a bug (an unexpected exception); 2 a usage error, a crossscale
    error (bad option, input or output) or an error of the machine (``OSError``: permission
    denied, disk full); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM, e.g. a batch
    scheduler's time limit); 129 hang-up (SIGHUP, the terminal closed). ``--debug`` or ``-vv``
    re-raise instead.
    """
    from crossscale import _lock
    from crossscale._signals import signals_as_interrupts
    from crossscale.cli._guard import run_guarded
    from crossscale.cli._render import plain_flags

    try:
        with signals_as_interrupts():
            return run_guarded(plain_flags(typer.main.get_command(app)), args)
    finally:
        _lock.release_all()


def run() -> None:
    """Console entry point: :func:`main` with ``sys.argv``, then exit with its code."""
    sys.exit(main())
