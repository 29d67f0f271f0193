"""The ``crossscale`` command: a thin typer layer over the public API."""

from __future__ import annotations

import logging
import sys

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
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """Cross-scale, spatially aware generative modelling of the brain."""
    from rich.logging import RichHandler

    from crossscale._progress import set_progress_enabled

    level = (
        logging.WARNING
        if quiet
        else (logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING)
    )
    logging.basicConfig(
        level=level, format="%(message)s", handlers=[RichHandler(show_path=False)], force=True
    )
    set_progress_enabled(not quiet)


def run() -> None:
    """Entry point that turns crossscale errors into a one-line message and exit code 2."""
    try:
        app(standalone_mode=False)
    except CrossscaleError as err:
        typer.secho(f"Error: {err}", fg=typer.colors.RED, err=True)
        sys.exit(2)
