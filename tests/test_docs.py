"""The documentation site lists every public name, every workflow and every example."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# The sub-packages whose ``__all__`` the API reference documents (constants aside).
DOCUMENTED = [
    "crossscale",
    "crossscale.atlas",
    "crossscale.datasets",
    "crossscale.evaluate",
    "crossscale.interpret",
    "crossscale.maps",
    "crossscale.models.graphvae",
    "crossscale.models.registry",
    "crossscale.models.spread",
    "crossscale.models.volume",
    "crossscale.nulls",
    "crossscale.pipeline",
    "crossscale.pipeline.spread",
    "crossscale.pipeline.spread_benchmark",
    "crossscale.pipeline.spread_cohort",
    "crossscale.pipeline.spread_groups",
    "crossscale.pipeline.volume",
    "crossscale.pipeline.volume_generate",
    "crossscale.pipeline.vulnerability",
    "crossscale.plotting",
    "crossscale.report",
    "crossscale.spatial",
    "crossscale.train",
    "crossscale.transcriptomics",
]


def _api_entries() -> dict[str, set[str]]:
    """Module -> names listed under its ``.. currentmodule::`` in docs/api.rst."""
    entries: dict[str, set[str]] = {}
    module = None
    for line in (DOCS / "api.rst").read_text("utf-8").splitlines():
        if m := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = m.group(1)
            entries.setdefault(module, set())
        elif module and (m := re.match(r"   ([A-Za-z_]\w*)$", line)):
            entries[module].add(m.group(1))
    return entries


@pytest.mark.parametrize("module", DOCUMENTED)
def test_api_reference_lists_every_public_name(module):
    mod = importlib.import_module(module)
    public = {n for n in mod.__all__ if not n.isupper() and not n.startswith("_")}
    listed = _api_entries().get(module, set())
    assert public - listed == set(), f"add to docs/api.rst under {module}: {sorted(public - listed)}"
    assert listed - public == set(), f"not public in {module}: {sorted(listed - public)}"


def test_every_workflow_page_is_in_the_index():
    index = (DOCS / "index.md").read_text("utf-8")
    pages = sorted(p.relative_to(DOCS).with_suffix("").as_posix()
                   for p in (DOCS / "workflows").glob("*.md"))  # fmt: skip
    assert {"workflows/fit", "workflows/interpret", "workflows/benchmark", "workflows/spread",
            "workflows/vulnerability", "workflows/volume", "workflows/atlases"} <= set(pages)  # fmt: skip
    assert [p for p in pages if p not in index] == []
    for page in ("getting_started", "statistics", "data", "errors", "api", "changelog"):
        assert re.search(rf"^{page}$", index, re.M), page


def test_examples_have_a_title_and_are_linked_from_a_page():
    examples = sorted((ROOT / "examples").glob("plot_*.py"))
    assert len(examples) >= 6
    pages = "".join(p.read_text("utf-8") for p in DOCS.rglob("*.md"))
    for path in examples:
        title = path.read_text("utf-8").split('"""')[1].strip().splitlines()
        assert len(title) >= 2 and set(title[1]) == {"="}, f"{path.name}: no gallery title"
        assert f"auto_examples/{path.stem}" in pages, f"{path.name} is linked from no page"
