"""``crossscale data list|info|fetch``: the dataset registry."""

from __future__ import annotations

import typer

app = typer.Typer(help="List, describe and fetch the registered datasets.", no_args_is_help=True)


@app.command("list")
def list_() -> None:
    """List every registered dataset with its kind and licence.

    Names are never cut: in a terminal too narrow for the whole table, the licence and source
    columns are left out (``crossscale data info NAME`` shows them).
    """
    from rich import box
    from rich.table import Table

    from crossscale.cli._render import console
    from crossscale.datasets import registry

    out = console()
    items = list(registry().items())
    rows = [(key, info.kind, info.licence, "pip" if info.source == "pip" else "github")
            for key, info in items]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    # the whole table when name, kind and source fit whole beside >= 20 characters of licence
    full = widths[0] + widths[1] + widths[3] + 20 + 3 * 4 + 1 <= out.width
    table = Table(box=box.SIMPLE_HEAD if full else None, pad_edge=False)
    headers = ("name", "kind", "licence", "source") if full else ("name", "kind")
    for i, head in enumerate(headers):
        wrap = head == "licence"  # only the licence may wrap (never cut)
        table.add_column(head, no_wrap=not wrap, min_width=20 if wrap else widths[i],
                         overflow="fold")  # fmt: skip
    for r in rows:
        table.add_row(*r[: len(headers)])
    out.print(table)
    if not full:
        out.print("Licence and source: crossscale data info NAME (or a wider terminal).")


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


@app.command("atlases")
def atlases() -> None:
    """List the built-in atlases: regions, gene panels of their expression, data and citation.

    Your own parcellation: two fsaverage5 .annot files, --atlas lh.x.annot,rh.x.annot, with your
    own expression matrix (--expression, e.g. from abagen).
    """
    from rich.console import Console
    from rich.table import Table

    from crossscale.atlas import ATLASES

    table = Table("atlas", "regions", "gene panels (first: default)", "connectome", "data",
                  "citation", title="Built-in atlases (--atlas)", show_lines=True)  # fmt: skip
    for name, info in ATLASES.items():
        regions = f"{info.n_regions}" + (f"\n({info.n_cortex} cortical +\n{info.n_subcortex} subcortical)" if info.n_subcortex else "\n(cortical)")  # fmt: skip
        panels = "\n".join(f"{k}: {v}" for k, v in info.expression.items())
        connectome = "HCP structural + functional" if info.connectome else "–"
        data = "\n".join([*info.annot, *([info.bigbrain] if info.bigbrain else [])])
        table.add_row(f"{name}\n{info.title}", regions, panels, connectome, data, info.citation)
    Console().print(table)
    typer.echo(
        "Your own atlas: --atlas lh.my.annot,rh.my.annot (FreeSurfer annotations on fsaverage5) "
        "with --expression my_abagen_matrix.csv. Details: crossscale data info <key>."
    )
