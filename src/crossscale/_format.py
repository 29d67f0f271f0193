"""Text formatters shared by every layer: lists in messages (quoted, shortened), markdown tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from numbers import Number


def format_list(items: Iterable[object], limit: int = 6, *, quote: bool = True) -> str:
    """``'a', 'b', … (3 more)``: the first `limit` items, quoted unless `quote` is False.

    Parameters
    ----------
    items : iterable
        Anything; each item is shown as ``str(item)``.
    limit : int
        How many items to show before the ``… (n more)`` tail.
    quote : bool
        Whether each item is wrapped in single quotes.
    """
    items = [str(x) for x in items]
    shown = ", ".join(f"'{x}'" if quote else x for x in items[:limit])
    return shown + (f", … ({len(items) - limit} more)" if len(items) > limit else "")


def markdown_table(
    table: object, *, float_format: str = "{:.3g}", formats: Mapping[str, str] | None = None,
    na: str = "",
) -> str:  # fmt: skip
    """A GitHub-markdown table of a pandas DataFrame (its columns; no index), without a final newline.

    Parameters
    ----------
    table : pandas.DataFrame
        The rows to write.
    float_format : str
        Format of float cells (``str.format`` spec; default 3 significant digits).
    formats : mapping of str to str, optional
        Format of every number (int or float, not bool) in the named columns, e.g.
        ``{"p_spin": "{:.3g}", "fit_s": "{:.1f}"}``.
    na : str
        Text of a missing cell (NaN or None).

    Returns
    -------
    str
        A header row, a ``|---|`` row and one row per table row; strings and other cells as
        ``str(value)``.
    """
    formats = dict(formats or {})
    columns = [str(c) for c in table.columns]

    def cell(column: str, value: object) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return na
        if column in formats and isinstance(value, Number) and not isinstance(value, bool):
            return formats[column].format(value)
        if isinstance(value, float):  # numpy.float64 included (a float subclass)
            return float_format.format(value)
        if type(value).__name__.startswith("float"):  # numpy.float32 and friends
            return na if value != value else float_format.format(float(value))
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(cell(c, v) for c, v in zip(columns, row, strict=True)) + " |")
    return "\n".join(lines)
