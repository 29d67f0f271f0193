"""Sphinx configuration of the crossscale documentation (``make docs``).

The build is offline: no intersphinx inventories, no remote images, and the gallery is rendered
from the example scripts without running them (``plot_gallery = False``; the scripts run as the
tests in ``tests/test_examples.py``). ``make docs-gallery`` runs them (``-D plot_gallery=1``).
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

project = "crossscale"
author = "the crossscale developers"
copyright = "the crossscale developers (BSD-3-Clause)"
try:
    release = version("crossscale")
except PackageNotFoundError:  # pragma: no cover - building from a tree without an install
    release = "unknown"
version = release.split("+")[0]  # 0.1.1.dev219, without the commit hash

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.codeobj.json"]
templates_path = ["_templates"]
# numpydoc renders References sections as citations; a docstring lists its sources without
# necessarily citing them inline, so an unreferenced citation is not a defect.
# "toc.not_included": the generated API pages, kept out of the sidebar (_api_pages_off_the_sidebar)
suppress_warnings = ["ref.citation", "toc.not_included"]

# -- offline: nothing is fetched at build time -------------------------------------------------
intersphinx_mapping: dict = {}
# MathJax is loaded by the browser when a page with a formula is viewed, never by the build.

# -- API reference ------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's Parameters sections give types, shapes and units
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# -- Markdown pages (myst-parser) -------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- gallery ------------------------------------------------------------------------------------
plot_gallery = "False"  # CI renders the scripts without running them; `make docs-gallery` runs them
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "show_memory": False,
    "show_signature": False,
    # crossscale.plotting builds figures without pyplot: gallery_scraper.py saves them (first,
    # while pyplot figures still have a canvas manager and are left to the matplotlib scraper)
    "image_scrapers": ("gallery_scraper.crossscale_figures", "matplotlib"),
}

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"crossscale {version}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {"navigation_with_keys": True}
html_show_sourcelink = False


def _write_dataset_table() -> None:
    """Write ``generated/datasets.md``: the dataset registry grouped by source and licence.

    The data page includes it, so the sources and licences shown are those the fetchers use.
    """
    import re

    registry = json.loads((ROOT / "src/crossscale/datasets/registry.json").read_text("utf-8"))
    groups: dict[tuple[str, str, str], list[str]] = {}
    for key, entry in registry.items():
        if entry.get("source") == "github":
            m = re.match(r"https://raw\.githubusercontent\.com/([^/]+/[^/]+)/([0-9a-f]+)/", entry["url"])
            origin = f"GitHub `{m.group(1)}` @ `{m.group(2)[:8]}`" if m else entry["url"]
        else:
            origin = f"PyPI wheel `{entry.get('package', '?')}` (downloaded, never installed)"
        cite = " ".join(str(entry.get("citation", "")).split())
        groups.setdefault((origin, str(entry.get("licence", "")), cite), []).append(key)
    esc = lambda text: text.replace("|", "\\|")  # noqa: E731
    rows = ["| source | licence | cite | registry keys |", "|---|---|---|---|"]
    for (origin, licence, cite), keys in groups.items():
        shown = ", ".join(f"`{k}`" for k in sorted(keys))
        rows.append(f"| {origin} | {esc(licence)} | {esc(cite)} | {shown} |")
    out = HERE / "generated"
    out.mkdir(exist_ok=True)
    text = f"{len(registry)} registered files.\n\n" + "\n".join(rows) + "\n"
    target = out / "datasets.md"
    if not target.exists() or target.read_text("utf-8") != text:
        target.write_text(text, "utf-8")


_write_dataset_table()


def _api_pages_off_the_sidebar(app, doctree) -> None:
    """Keep the generated page of every public name out of the global table of contents.

    They stay linked from the tables of ``api.rst`` (and every cross-reference), but furo renders
    the whole table of contents into each page: with ~215 API pages in it that was O(pages²),
    ~50 s of a ~60 s clean build (https://github.com/pradyunsg/furo/pull/939, Qiskit's
    ``sphinx-remove-toctree``, which is not on this project's package index). Runs before
    Sphinx's own toctree collector (priority 400 < 500).
    """
    from sphinx import addnodes

    if app.env.docname != "api":
        return
    for node in doctree.findall(addnodes.toctree):
        node["entries"] = [(t, ref) for t, ref in node["entries"] if not ref.startswith("generated/")]
        node["includefiles"] = [f for f in node["includefiles"] if not f.startswith("generated/")]


def setup(app):
    """Sphinx's hook for this configuration's own event handlers."""
    app.connect("doctree-read", _api_pages_off_the_sidebar, priority=400)
