"""Self-contained HTML reports and the methods text with citations.

:class:`Report` assembles headings, paragraphs, tables, key-value lists, notes and matplotlib
figures (embedded as PNG) into one HTML file that opens offline. :mod:`crossscale.report.methods`
holds the citation of every dataset and method (:data:`REFERENCES`).
"""

from crossscale.report.html import Report, escape
from crossscale.report.methods import REFERENCES, Bibliography, render_references

__all__ = ["REFERENCES", "Bibliography", "Report", "escape", "render_references"]
