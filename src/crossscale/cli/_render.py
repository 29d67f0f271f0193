"""What the commands print: tables that fit the terminal (split when narrow), verdict last.

Every table is a rich table whose columns never shrink below their content: when the terminal
is too narrow for all columns, the columns continue in a second table below with the row names
repeated (:func:`crossscale.evaluate.metrics.split_columns`), so no header or value is cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "console", "metrics_rows", "null_rows", "plain_flags", "print_split_table", "print_verdict",
]  # fmt: skip


def console() -> Any:
    """A rich Console for standard output (its width: ``COLUMNS`` or the terminal's, else 80)."""
    from rich.console import Console

    return Console(highlight=False)


def print_split_table(
    rows: Mapping[str, Sequence[str]], labels: Sequence[str], *, first: str = "model",
    title: str | None = None, out: Any = None, groups: Sequence[str] | None = None,
) -> None:  # fmt: skip
    """Print `rows` (name -> cells) under `labels`, split into column groups that fit the width."""
    from rich import box
    from rich.table import Table

    from crossscale.evaluate.metrics import split_columns

    out = out or console()
    names = list(rows)
    first_w = max([len(first), *map(len, names)])
    widths = [max(len(lab), *(len(rows[n][i]) for n in names)) for i, lab in enumerate(labels)]
    # rich's SIMPLE_HEAD table without edge padding: 1 space at each edge, 2 between columns
    parts = split_columns(list(labels), widths, first_w + 1, out.width - 1, gap=2,
                          groups=list(groups) if groups is not None else None)  # fmt: skip
    for g, cols in enumerate(parts):
        table = Table(box=box.SIMPLE_HEAD, title=title if g == 0 else None, pad_edge=False,
                      collapse_padding=True)  # fmt: skip
        table.add_column(first, no_wrap=True, min_width=first_w)
        for i in cols:
            table.add_column(labels[i], justify="right", no_wrap=True, min_width=widths[i])
        for n in names:
            table.add_row(n, *(rows[n][i] for i in cols))
        out.print(table)


def metrics_rows(
    metrics: Any, reference: Mapping[str, float] | None = None
) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """Short labels, formatted cells and column groups of a metrics table.

    Columns without any value are left out; the fold-wise spatial-CV r is one column,
    ``mean ± SD``.
    """
    from crossscale.evaluate.metrics import SHORT_LABELS, format_value

    cols = [c for c in metrics.columns if c in SHORT_LABELS and metrics[c].notna().any()
            and c != "spatial_fold_r_sd"]  # fmt: skip
    fold_sd = "spatial_fold_r_sd" in metrics and metrics["spatial_fold_r_sd"].notna().any()

    def cell(row: Any, c: str) -> str:
        text = format_value(float(row[c]), c)
        if c == "spatial_fold_r_mean" and fold_sd and row[c] == row[c]:
            text += f" ± {row['spatial_fold_r_sd']:.3f}"
        return text

    rows = {str(n): [cell(r, c) for c in cols] for n, r in metrics.iterrows()}
    if reference:
        rows["Reference (in-sample)"] = [
            f"{reference[c]:.3f}" if c in reference else "–" for c in cols
        ]
    labels = [SHORT_LABELS[c] + (" ± SD" if c == "spatial_fold_r_mean" and fold_sd else "")
              for c in cols]  # fmt: skip
    groups = [c.split("_r")[0].removesuffix("_fold") if not c.endswith("_time_s") else "time"
              for c in cols]  # fmt: skip
    return labels, rows, groups


def null_rows(null_results: Mapping[str, Any]) -> tuple[list[str], dict[str, list[str]]]:
    """Labels and cells of the null-refit table: each statistic with its p-value in brackets."""
    from crossscale.evaluate.metrics import NULL_STAT_LABELS

    keys = list(next(iter(null_results.values())).observed)
    labels = [f"{NULL_STAT_LABELS.get(k, k)} (p)" for k in keys]
    rows = {model: [f"{res.observed[k]:.3f} ({res.p_values[k]:.2g})" for k in keys]
            for model, res in null_results.items()}  # fmt: skip
    return labels, rows


def print_verdict(sentence: str, out: Any = None) -> None:
    """The report's verdict sentence, wrapped to the terminal, in bold."""
    (out or console()).print(sentence, style="bold", soft_wrap=False)


def plain_flags(command: object) -> object:
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
        plain_flags(sub)
    return command
