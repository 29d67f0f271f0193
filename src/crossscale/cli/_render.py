"""What the commands print: tables that fit the terminal (split when narrow), verdict last.

Every table is a rich table whose columns never shrink below their content: when the terminal
is too narrow for all columns, the columns continue in a second table below with the row names
repeated (:func:`crossscale.evaluate.metrics.split_columns`), so no header or value is cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["console", "metrics_rows", "null_rows", "print_split_table", "print_verdict"]


def console() -> Any:
    """A rich Console for standard output (its width: ``COLUMNS`` or the terminal's, else 80)."""
    from rich.console import Console

    return Console(highlight=False)


def print_split_table(
    rows: Mapping[str, Sequence[str]], labels: Sequence[str], *, first: str = "model",
    title: str | None = None, out: Any = None,
) -> None:  # fmt: skip
    """Print `rows` (name -> cells) under `labels`, split into column groups that fit the width."""
    from rich import box
    from rich.table import Table

    from crossscale.evaluate.metrics import split_columns

    out = out or console()
    names = list(rows)
    first_w = max([len(first), *map(len, names)])
    widths = [max(len(lab), *(len(rows[n][i]) for n in names)) for i, lab in enumerate(labels)]
    # a rich table with a box: 1 border + 1 padding either side of every column
    groups = split_columns(list(labels), widths, first_w + 2, out.width - 2, gap=3)
    for g, cols in enumerate(groups):
        table = Table(box=box.SIMPLE_HEAD, title=title if g == 0 else None, pad_edge=False,
                      collapse_padding=True)  # fmt: skip
        table.add_column(first, no_wrap=True, min_width=first_w)
        for i in cols:
            table.add_column(labels[i], justify="right", no_wrap=True, min_width=widths[i])
        for n in names:
            table.add_row(n, *(rows[n][i] for i in cols))
        out.print(table)


def metrics_rows(metrics: Any, reference: Mapping[str, float] | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """Short labels and formatted cells of a metrics table (columns with a value only)."""
    from crossscale.evaluate.metrics import SHORT_LABELS, format_value

    cols = [c for c in metrics.columns if c in SHORT_LABELS and metrics[c].notna().any()]
    rows = {str(n): [format_value(float(r[c]), c) for c in cols] for n, r in metrics.iterrows()}
    if reference:
        rows["Reference (in-sample)"] = [
            f"{reference[c]:.3f}" if c in reference else "–" for c in cols
        ]
    return [SHORT_LABELS[c] for c in cols], rows


def null_rows(null_results: Mapping[str, Any]) -> tuple[list[str], dict[str, list[str]]]:
    """Labels and cells of the null-refit table: each statistic and its p-value in two columns."""
    from crossscale.evaluate.metrics import SHORT_LABELS

    keys = list(next(iter(null_results.values())).observed)
    names = {"in_sample_r2": SHORT_LABELS["in_sample_r2"], "in_sample_r": SHORT_LABELS["in_sample_r"],
             "cv_r2": "CV R²", "cv_r": "CV r"}  # fmt: skip
    labels: list[str] = []
    for k in keys:
        labels += [names.get(k, k), "p"]
    rows = {}
    for model, res in null_results.items():
        cells: list[str] = []
        for k in keys:
            cells += [f"{res.observed[k]:.3f}", f"{res.p_values[k]:.3g}"]
        rows[model] = cells
    return labels, rows


def print_verdict(sentence: str, out: Any = None) -> None:
    """The report's verdict sentence, wrapped to the terminal, in bold."""
    (out or console()).print(sentence, style="bold", soft_wrap=False)
