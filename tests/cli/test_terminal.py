"""What the commands print at 80 columns: nothing cut, tables split, verdict last, clean help.

The rendering functions run on a constructed results table (every model name and metric of a
real fit, the reference row, null refits); help pages and ``data list`` run through the command
line with ``COLUMNS=80``.
"""

import io
import re

import numpy as np
import pandas as pd
import pytest

from crossscale.cli.fit import print_results
from crossscale.cli.main import main
from crossscale.evaluate.metrics import METRIC_COLUMNS, SELECTED_BASELINE, SHORT_LABELS
from crossscale.evaluate.nullresult import make_result

MODELS = ["GraphVAE", "PLS-1", "PLS-2", "PLS-3", "PLS-4", "PLS-5", "Ridge", "Spatial (Laplacian)",
          SELECTED_BASELINE]  # fmt: skip


def _metrics() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    m = pd.DataFrame(rng.uniform(-0.2, 0.95, (len(MODELS), len(METRIC_COLUMNS))),
                     index=pd.Index(MODELS, name="model"), columns=METRIC_COLUMNS)  # fmt: skip
    m[["fit_time_s", "cv_time_s"]] = [[12.34, 128.8]] * len(MODELS)  # "28.8…" was cut before
    cv = ["spatial_r2", "loro_r2"]
    m[cv] = m[cv].clip(upper=0.6)
    m.loc["GraphVAE", cv] = [0.676, 0.719]
    m.loc["PLS-4", ["spatial_r2", "loro_r2"]] = [0.627, 0.650]
    m.loc["Spatial (Laplacian)", ["in_sample_r2", "in_sample_r"]] = np.nan
    return m


def _nulls() -> dict:
    rng = np.random.default_rng(1)
    out = {}
    for name in ("GraphVAE", "PLS-1", "Ridge"):
        scores = rng.uniform(0, 0.5, (100, 4))
        out[name] = make_result(scores, np.array([0.9, 0.95, 0.6, 0.8]), ("r2", "r"), "kfold10",
                                n_perm=100, method="hungarian", model=name)  # fmt: skip
    return out


def _render(width: int) -> str:
    from rich.console import Console

    buf = io.StringIO()
    out = Console(file=buf, width=width, color_system=None, highlight=False)
    print_results(_metrics(), "GraphVAE", _nulls(), reference=True, out=out)
    return buf.getvalue()


@pytest.mark.parametrize("width", [80, 60])
def test_results_fit_the_terminal_with_every_label_and_value(width):
    text = _render(width)
    lines = text.splitlines()
    assert max(map(len, lines)) <= width and "…" not in text
    m = _metrics()
    for col in METRIC_COLUMNS:
        label = "Fold r ± SD" if col.startswith("spatial_fold") else SHORT_LABELS[col]
        assert label in text  # short labels, whole
        for v in m[col].dropna():
            assert (f"{v:.1f}" if col.endswith("_time_s") else f"{v:.3f}") in text
    for name in [*MODELS, "Reference (in-sample)"]:
        assert name in text  # row names whole (repeated in each part of a split table)
    assert text.count("GraphVAE") >= 3  # two metric parts and the null table at this width
    if width == 80:  # in two parts, each of whole column groups: LORO R² and r stay together
        heads = [ln.split() for ln in lines if ln.strip().startswith("model")]
        assert len(heads) == 3 and "LORO" in heads[0] and "Spatial" in heads[1]
    for res in _nulls().values():
        assert f"{res.observed['cv_r']:.3f} ({res.p_values['cv_r']:.2g})" in text


def test_results_in_one_table_when_wide_and_the_verdict_last():
    wide = _render(200)
    header = [ln for ln in wide.splitlines() if "LORO R²" in ln]
    assert len(header) == 1 and "CV s" in header[0]  # one table: every metric in one header
    text = _render(80)
    verdict = ("Out of sample, GraphVAE beats the best baseline (PLS-4) under spatial CV (R² 0.676 "
               "vs 0.627) and beats it leaving one region out (R² 0.719 vs 0.650); p_spin of its "
               "CV r = 0.0099.")  # fmt: skip
    flat = " ".join(text.split())
    assert flat.endswith(verdict) and flat.index("Null refits") < flat.index("Out of sample")


def _run(capsys, monkeypatch, *args):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TERMINAL_WIDTH", "80")
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.mark.parametrize("command", [["fit"], ["benchmark"], ["data", "list"], []])
def test_help_pages_at_80_columns(capsys, monkeypatch, command):
    code, text = _run(capsys, monkeypatch, *command, "--help")
    assert code == 0 and "<bool>" not in text  # flags are plain flags
    assert max(map(len, text.splitlines())) <= 80
    if command in (["fit"], ["benchmark"]):
        assert "crossscale[dask])" in text  # rich markup escaped, not eaten
    if command == ["fit"]:
        assert len(text.splitlines()) <= 110  # was 172 lines
        desc = re.search(r"│ --n-perm +<int> +(\S.*?)│", text)
        assert desc and len(desc.group(1)) >= 40  # a readable description column (was 22)


def test_data_list_never_cuts_a_key(capsys, monkeypatch):
    from crossscale.datasets import registry

    code, text = _run(capsys, monkeypatch, "data", "list")
    assert code == 0 and "…" not in text and max(map(len, text.splitlines())) <= 80
    names = {ln.split()[0] for ln in text.splitlines() if ln.strip()}
    assert set(registry()) <= names
