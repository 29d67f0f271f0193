"""What :class:`crossscale.report.html.Report` is made of: its style sheet and cell formatting."""

from __future__ import annotations

import html
import math
import numbers
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_NOTE_KINDS = ("info", "warning", "success", "error")
_NUM = ' class="num"'

_CSS = """
:root { --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg-alt: #f5f7fa; --accent: #2f5d8a; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); line-height: 1.5; margin: 0; background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.3rem; color: var(--accent); }
h2 { font-size: 1.3rem; margin: 2rem 0 0.6rem; padding-bottom: 0.25rem;
  border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.4rem 0 0.5rem; }
h4, h5, h6 { font-size: 1rem; margin: 1.1rem 0 0.4rem; }
p { margin: 0.5rem 0; }
.meta { color: var(--muted); font-size: 0.85rem; margin-bottom: 1rem; }
code { font-family: SFMono-Regular, Consolas, "Liberation Mono", Menlo, monospace;
  font-size: 0.88em; background: var(--bg-alt); padding: 0.05em 0.3em; border-radius: 3px; }
.table-wrap { overflow-x: auto; margin: 0.8rem 0 1.2rem; }
table { border-collapse: collapse; font-size: 0.88rem; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 0 0 0.35rem;
  color: var(--fg); }
th, td { padding: 0.3rem 0.7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--bg-alt); border-bottom: 2px solid #bcccdc; text-align: left; }
tbody tr:nth-child(even) { background: #fafbfc; }
tbody tr:hover { background: #eef4fb; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody th { font-weight: 600; text-align: left; }
figure { margin: 1rem 0 1.6rem; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 0.87rem; margin-top: 0.35rem; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1.2rem;
  font-size: 0.92rem; margin: 0.6rem 0 1rem; }
dl.kv dt { font-weight: 600; color: var(--muted); }
dl.kv dd { margin: 0; font-variant-numeric: tabular-nums; }
.note { border-left: 4px solid; padding: 0.55rem 0.9rem; margin: 0.9rem 0; border-radius: 3px;
  font-size: 0.93rem; }
.note-info { border-color: #2f80ed; background: #eef5fe; }
.note-warning { border-color: #e5a00d; background: #fff8e6; }
.note-success { border-color: #27ae60; background: #edf9f1; }
.note-error { border-color: #c0392b; background: #fdeeee; }
ol.references { font-size: 0.88rem; padding-left: 1.6rem; }
ol.references li { margin: 0.2rem 0; }
footer { color: var(--muted); font-size: 0.8rem; margin-top: 2.5rem; border-top: 1px solid var(--line);
  padding-top: 0.6rem; }
@media print { main { max-width: none; padding: 0; } tbody tr:hover { background: none; } }
"""


def escape(text: object) -> str:
    """Escape text for HTML (``&``, ``<``, ``>``, quotes).

    Use it on any user- or data-supplied string passed to :meth:`Report.add_paragraph` or
    :meth:`Report.add_note`, which accept simple inline HTML.
    """
    return html.escape(str(text), quote=True)


def _close(fig: Figure) -> None:
    """Free a figure's memory; also closes it in pyplot if pyplot made it."""
    import sys

    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close(fig)
    fig.clear()


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool | np.bool_)


def _format_value(value: object, float_format: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        v = float(value)
        if math.isnan(v):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        text = float_format.format(v)
        if v != 0 and _rounds_to_zero(text):
            return f"{v:.2g}"
        return text
    if value is pd.NA or value is pd.NaT:
        return "–"
    return str(value)


def _rounds_to_zero(text: str) -> bool:
    try:
        return float(text.rstrip("%")) == 0.0
    except ValueError:
        return False


def _col_name(col: object) -> str:
    return " / ".join(map(str, col)) if isinstance(col, tuple) else str(col)


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "section"
