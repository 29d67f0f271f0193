"""A sphinx-gallery image scraper for the figures of :mod:`crossscale.plotting`.

crossscale's plotting functions build ``matplotlib.figure.Figure`` objects without pyplot (library
code never opens a window or keeps figures alive), so the default matplotlib scraper, which
collects pyplot's figures, does not see them. This one saves every such figure that an example
block left among the example's variables, once.
"""

from __future__ import annotations

from typing import Any


def crossscale_figures(block: Any, block_vars: dict[str, Any], gallery_conf: dict[str, Any]) -> str:
    """Save the pyplot-free figures a block created; return their reST (sphinx-gallery scraper)."""
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = block_vars.setdefault("crossscale_figures_seen", set())
    paths = []
    for value in list(block_vars.get("example_globals", {}).values()):
        if not isinstance(value, Figure) or id(value) in seen:
            continue
        if getattr(value.canvas, "manager", None) is not None:
            continue  # a pyplot figure: the matplotlib scraper saves it
        seen.add(id(value))
        path = next(block_vars["image_path_iterator"])
        value.savefig(path, dpi=110, bbox_inches="tight")
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
