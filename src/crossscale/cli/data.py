"""``crossscale data list|info|fetch``: the dataset registry."""

from __future__ import annotations

import typer

app = typer.Typer(help="List, describe and fetch the registered datasets.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List every registered dataset with its kind and licence."""
    from rich.console import Console
    from rich.table import Table

    from crossscale.datasets import registry

    table = Table("name", "kind", "licence", "source")
    for key, info in registry().items():
        table.add_row(key, info.kind, info.licence, "pip" if info.source == "pip" else "github")
    Console().print(table)


@app.command("info")
def info(name: str = typer.Argument(..., help="Dataset name from 'crossscale data list'.")) -> None:
    """Describe one dataset: what it is, where it comes from, checksum, licence, citation."""
    from crossscale.datasets import data_home, dataset_info

    d = dataset_info(name)
    typer.echo(f"{d.key}\n")
    typer.echo(d.description + "\n")
    for label, value in [
        ("kind", d.kind), ("origin", d.origin), ("sha256", d.sha256),
        ("size (bytes)", d.size), ("licence", d.licence), ("citation", d.citation),
        ("cache", data_home() / d.key / d.filename),
    ]:  # fmt: skip
        if value is not None:
            typer.echo(f"{label:>13}: {value}")


@app.command("fetch")
def fetch_(names: list[str] = typer.Argument(None, help="Dataset names (default: all).")) -> None:
    """Download (or copy from CROSSSCALE_MIRROR) and verify datasets into the cache."""
    from crossscale.datasets import fetch, registry

    for key in names or list(registry()):
        typer.echo(f"{key}: {fetch(key)}")
