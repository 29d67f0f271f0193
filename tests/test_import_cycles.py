"""No import cycles inside crossscale (issue 22): every module can be imported on its own."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

grimp = pytest.importorskip("grimp")  # installed with import-linter (dev extra)


def import_cycles(package: str) -> list[list[str]]:
    """Strongly connected groups of > 1 module in `package`'s import graph.

    Every ``import`` statement counts, including those inside functions: a lazy import only
    hides a cycle from the interpreter, not from a reader.
    """
    graph = grimp.build_graph(package)
    modules = sorted(graph.modules)
    index = {m: i for i, m in enumerate(modules)}
    rows, cols = [], []
    for m in modules:
        for imported in graph.find_modules_directly_imported_by(m):
            if imported in index:
                rows.append(index[m])
                cols.append(index[imported])
    adj = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(modules), len(modules)))
    _, labels = connected_components(adj, directed=True, connection="strong")
    groups: dict[int, list[str]] = {}
    for m, lab in zip(modules, labels, strict=True):
        groups.setdefault(int(lab), []).append(m)
    return sorted(g for g in groups.values() if len(g) > 1)


def test_import_cycles_are_found(tmp_path, monkeypatch):
    pkg = tmp_path / "cyclepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyclepkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from cyclepkg import a\n    return a\n")
    (pkg / "c.py").write_text("from cyclepkg import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("cyclepkg") == [["cyclepkg.a", "cyclepkg.b"]]


def test_crossscale_has_no_import_cycle():
    assert import_cycles("crossscale") == []
