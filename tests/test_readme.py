"""Every ```python block of README.md runs as written (so an example can never rot).

Each block runs as ``python -c`` would, in a process of its own (forked from a server that has
imported only numpy, pandas, SciPy, scikit-learn and torch: ``tests/fresh_process.py``), in an
empty folder, on the real data (the mirror when present), with ``COLUMNS=80``: what it prints must fit 80 columns. The one block marked
``<!-- readme-test: skip (reason) -->`` needs software a user installs elsewhere (abagen): it is
only compiled. The
user files the atlas block names (``lh.myatlas.annot``, ``my_abagen_matrix.csv``) are provided
as a user would have them: the Desikan-Killiany annotation pair under another name and the
built-in DK expression written as abagen writes it. GraphVAE trains 5 epochs instead of its
default 100, with one network and a shorter inner CV (``tests/quick_fits.py``): the calls, what
they print and save are tested here, the numbers of full fits in ``benchmarks/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from fresh_process import run_code
from quick_fits import PREAMBLE

README = Path(__file__).resolve().parents[1] / "README.md"
_SKIP = re.compile(r"<!--\s*readme-test:\s*skip\s*\((?P<why>[^)]*)\)\s*-->\s*$")


def python_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """(first line number, code, skip reason or None) of every ```python block of `text`."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start, body = i + 1, []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            prev = lines[start - 2] if start >= 2 else ""
            m = _SKIP.search(prev)
            out.append((start + 1, "\n".join(body) + "\n", m.group("why") if m else None))
        i += 1
    return out


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_block_extraction_finds_every_python_block_and_the_skip_marker():
    text = "a\n```python\nx = 1\n```\n<!-- readme-test: skip (needs y) -->\n```python\nimport y\n```\n```bash\nls\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n", None), (7, "import y\n", "needs y")]
    n_fences = README.read_text(encoding="utf-8").count("```python")
    assert len(BLOCKS) == n_fences >= 5
    assert [b for b in BLOCKS if b[2]] and all("abagen" in b[1] for b in BLOCKS if b[2])


def _user_files(folder: Path) -> None:
    """The files the README's atlas example names, made from the real DK data."""
    from crossscale.datasets import fetch
    from crossscale.transcriptomics import load_default_expression

    shutil.copyfile(fetch("dk_annot_fsaverage5_lh"), folder / "lh.myatlas.annot")
    shutil.copyfile(fetch("dk_annot_fsaverage5_rh"), folder / "rh.myatlas.annot")
    X = load_default_expression()[0]
    X.rename_axis("label").to_csv(folder / "my_abagen_matrix.csv")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("line", "code", "skip"), BLOCKS, ids=[f"README.md:{b[0]}" for b in BLOCKS]
)
def test_readme_python_block_runs(line, code, skip, tmp_path):
    if skip:  # not run here (see the marker's reason), but it must still be valid Python
        compile(code, f"README.md:{line}", "exec")
        return
    if "myatlas" in code:
        _user_files(tmp_path)
    env = os.environ | {"COLUMNS": "80", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)
    proc = run_code(PREAMBLE + code, cwd=tmp_path, env=env, timeout=1800)
    assert proc.returncode == 0, f"README.md:{line} failed:\n{proc.stderr[-4000:]}"
    # nothing cut short (pandas' "..." columns, rich's "…"), tables within 80 columns
    assert "…" not in proc.stdout and not re.search(r"(^|\s)\.\.\.(\s|$)", proc.stdout)
    table_lines = [ln for ln in proc.stdout.splitlines() if re.search(r"\d\.\d{3} {2,}", ln)]
    assert all(len(ln) <= 80 for ln in table_lines), f"README.md:{line}: a table over 80 columns"
    for folder in re.findall(r"\.save\(\"([^\"]+)\"\)", code):
        record = json.loads((tmp_path / folder / "run.json").read_text())
        assert record["command"].startswith("crossscale.pipeline.")  # the Python call, not a CLI
        if "adni_groups" in folder:
            assert record["command"].startswith(
                "crossscale.pipeline.spread_groups.run(GroupFitConfig(adni=True, models=('diffusion',)"
            )
        if folder == "results/ad_ridge":  # the plain-class example: the real call is recorded
            assert record["command"] == (
                "crossscale.pipeline.fit_map(model='my-ridge', nulls='spin', n_perm=100, n_jobs=2)"
            )
            assert record["parameters"]["interpret"] is False  # MyRidge is not interpretable
            assert "not tagged interpretable" in record["parameters"]["interpret_skipped"]
            assert record["parameters"]["n_perm"] == 100
