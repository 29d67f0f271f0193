"""A small, self-contained HTML report: headings, text, tables, key-value lists and figures.

The report is one HTML file with inline CSS and figures embedded as base64 PNG, so it opens
offline, can be e-mailed, and never fetches anything (no external assets, scripts or fonts).
"""

from __future__ import annotations

import base64
import io
import logging
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from crossscale._errors import ParameterError
from crossscale._files import atomic_write_text
from crossscale.report._style import (
    _CSS,
    _NOTE_KINDS,
    _NUM,
    _close,
    _col_name,
    _format_value,
    _is_number,
    _slug,
    _strip_tags,
    escape,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Report", "escape"]

logger = logging.getLogger(__name__)


class Report:
    """Build a self-contained HTML report piece by piece.

    Parameters
    ----------
    title : str
        Shown as the page title and the top heading (escaped).
    subtitle : str, optional
        A line under the title (escaped), for example the command that made the report.

    Examples
    --------
    >>> rep = Report("crossscale fit")
    >>> rep.add_heading("Data", level=2)
    >>> rep.add_key_values({"regions": 68, "genes": 889})
    >>> html_text = rep.to_html()
    """

    def __init__(self, title: str, *, subtitle: str | None = None) -> None:
        self.title = str(title)
        self.subtitle = subtitle
        self._blocks: list[str] = []
        self._n_figures = 0
        self._n_tables = 0

    def __len__(self) -> int:
        return len(self._blocks)

    # ----------------------------------------------------------------- content
    def add_heading(self, text: str, level: int = 2) -> Report:
        """Add a section heading (escaped).

        Parameters
        ----------
        text : str
            Heading text.
        level : int
            2 (section) to 6; level 1 is the report title.

        Returns
        -------
        self : Report
            For chaining.

        Raises
        ------
        ParameterError
            `level` outside 1-6.
        """
        if not isinstance(level, int) or not 1 <= level <= 6:
            raise ParameterError(f"Heading level must be an integer from 1 to 6, got {level!r}.")
        anchor = _slug(text)
        self._blocks.append(f'<h{level} id="{anchor}">{escape(text)}</h{level}>')
        return self

    def add_paragraph(self, text: str) -> Report:
        """Add a paragraph.

        Parameters
        ----------
        text : str
            Paragraph content. Simple inline HTML (``<b>``, ``<i>``, ``<code>``, ``<a>``, ``<sup>``)
            is kept as written, so the caller must pass data-derived strings through
            :func:`escape`.

        Returns
        -------
        self : Report
        """
        self._blocks.append(f"<p>{text}</p>")
        return self

    def add_html(self, fragment: str) -> Report:
        """Add a raw HTML fragment (trusted; not escaped)."""
        self._blocks.append(str(fragment))
        return self

    def add_note(self, text: str, kind: str = "info") -> Report:
        """Add a highlighted note box.

        Parameters
        ----------
        text : str
            Note content; simple inline HTML allowed as in :meth:`add_paragraph`.
        kind : {"info", "warning", "success", "error"}
            Colour of the box.

        Returns
        -------
        self : Report

        Raises
        ------
        ParameterError
            Unknown `kind`.
        """
        if kind not in _NOTE_KINDS:
            raise ParameterError(
                f"Note kind must be one of {', '.join(_NOTE_KINDS)}; got {kind!r}."
            )
        role = ' role="alert"' if kind in ("warning", "error") else ""
        self._blocks.append(f'<div class="note note-{kind}"{role}>{text}</div>')
        return self

    def add_key_values(self, items: Mapping[str, Any], *, float_format: str = "{:.4g}") -> Report:
        """Add a two-column list of labelled values (keys and values are escaped).

        Parameters
        ----------
        items : mapping
            Label -> value. Floats are formatted with `float_format`; NaN shows as an en dash.
        float_format : str
            Format for floats.

        Returns
        -------
        self : Report
        """
        rows = "".join(
            f"<dt>{escape(k)}</dt><dd>{escape(_format_value(v, float_format))}</dd>"
            for k, v in items.items()
        )
        self._blocks.append(f'<dl class="kv">{rows}</dl>')
        return self

    def add_table(
        self,
        df: pd.DataFrame | pd.Series,
        caption: str | None = None,
        float_format: str | Mapping[str, str] = "{:.3f}",
        *,
        index: bool = True,
        max_rows: int | None = None,
    ) -> Report:
        """Add a table (cells are escaped; numbers right-aligned).

        Parameters
        ----------
        df : pandas.DataFrame or pandas.Series
            The table; a Series becomes one column.
        caption : str, optional
            Table caption (escaped), numbered ``Table n.``.
        float_format : str or mapping
            Format of float cells, or a mapping column -> format (other columns get
            ``"{:.3f}"``). Integers are shown as integers, NaN as an en dash, and a non-zero value
            that the format would round to zero (a p-value of 2e-5 under ``{:.3f}``) in
            scientific notation (``2e-05``), so small p-values are never shown as 0.
        index : bool
            Show the index as the first column.
        max_rows : int, optional
            Show only the first `max_rows` rows and say how many were left out.

        Returns
        -------
        self : Report
        """
        if isinstance(df, pd.Series):
            df = df.to_frame(name=df.name if df.name is not None else "value")
        if not isinstance(df, pd.DataFrame):
            raise ParameterError(
                f"add_table expects a pandas DataFrame or Series, got {type(df).__name__}."
            )
        self._n_tables += 1
        shown = df if max_rows is None else df.head(max_rows)
        numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
        if isinstance(float_format, Mapping):
            formats = [float_format.get(c, "{:.3f}") for c in df.columns]
        else:
            formats = [float_format] * df.shape[1]
        parts = ['<div class="table-wrap"><table>']
        if caption:
            parts.append(f"<caption>Table {self._n_tables}. {escape(caption)}</caption>")
        head = []
        if index:
            idx_name = ", ".join(str(n) for n in df.index.names if n is not None)
            head.append(f"<th>{escape(idx_name)}</th>")
        head += [
            f"<th{_NUM if is_num else ''}>{escape(_col_name(c))}</th>"
            for c, is_num in zip(df.columns, numeric, strict=True)
        ]
        parts.append("<thead><tr>" + "".join(head) + "</tr></thead><tbody>")
        for key, row in zip(shown.index, shown.itertuples(index=False, name=None), strict=True):
            cells = []
            if index:
                label = " / ".join(map(str, key)) if isinstance(key, tuple) else str(key)
                cells.append(f"<th>{escape(label)}</th>")
            for value, is_num, fmt in zip(row, numeric, formats, strict=True):
                cls = _NUM if is_num or _is_number(value) else ""
                cells.append(f"<td{cls}>{escape(_format_value(value, fmt))}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</tbody></table></div>")
        if max_rows is not None and len(df) > max_rows:
            parts.append(
                f'<p class="meta">Showing {max_rows} of {len(df)} rows; the full table is in the '
                "output folder.</p>"
            )
        self._blocks.append("".join(parts))
        return self

    def add_figure(
        self,
        fig: Figure,
        caption: str | None = None,
        *,
        dpi: int = 110,
        alt: str | None = None,
        close: bool = True,
    ) -> Report:
        """Embed a matplotlib figure as a base64 PNG.

        Parameters
        ----------
        fig : matplotlib.figure.Figure
            The figure (for example from :mod:`crossscale.plotting`).
        caption : str, optional
            Caption (simple inline HTML allowed), numbered ``Figure n.``.
        dpi : int
            Resolution of the embedded PNG.
        alt : str, optional
            Alternative text; defaults to the caption without markup.
        close : bool
            Release the figure's memory after rendering (it is unusable afterwards).

        Returns
        -------
        self : Report
        """
        buf = io.BytesIO()
        try:
            fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
        finally:
            if close:
                _close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self._n_figures += 1
        alt_text = escape(
            alt if alt is not None else _strip_tags(caption or f"Figure {self._n_figures}")
        )
        cap = (
            f"<figcaption><b>Figure {self._n_figures}.</b> {caption}</figcaption>"
            if caption
            else ""
        )
        self._blocks.append(
            f'<figure><img src="data:image/png;base64,{data}" alt="{alt_text}">{cap}</figure>'
        )
        return self

    def add_references(self, keys: list[str] | None = None, *, anchors: bool = True) -> Report:
        """Add a numbered reference list from :data:`crossscale.report.methods.REFERENCES`.

        Parameters
        ----------
        keys : list of str, optional
            Which references, in order; default all.
        anchors : bool
            Give each item the id ``ref-<key>``; pass False for a second list on the same page
            (e.g. a section's own references under a report that has a list already).

        Returns
        -------
        self : Report
        """
        from crossscale.report.methods import render_references

        self._blocks.append(render_references(keys, fmt="html", anchors=anchors))
        return self

    # ------------------------------------------------------------------ output
    def to_html(self) -> str:
        """The whole report as one HTML document (UTF-8, no external resources)."""
        from crossscale import __version__

        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")  # noqa: UP017
        sub = f"<div class=meta>{escape(self.subtitle)}</div>" if self.subtitle else ""
        body = "\n".join(self._blocks)
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="crossscale {escape(__version__)}">\n'
            f"<title>{escape(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{escape(self.title)}</h1>\n{sub}\n{body}\n"
            f"<footer>Generated by crossscale {escape(__version__)} on {stamp}.</footer>\n"
            "</main>\n</body>\n</html>\n"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report to `path` atomically (a failure leaves no partial file).

        Returns
        -------
        path : pathlib.Path
        """
        out = atomic_write_text(path, self.to_html())
        logger.info("Report written to %s", out)
        return out
