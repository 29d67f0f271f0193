import numpy as np
import pandas as pd
import pytest

from crossscale.evaluate.spread_benchmark import SpreadBenchmark
from crossscale.evaluate.spread_metrics import (
    confusion_table,
    interval_coverage,
    markdown_table,
    match_subtypes,
    parameter_recovery,
)


def test_match_subtypes_undoes_a_relabelling():
    true = np.array([0, 0, 1, 1, 2, 2, 2])
    pred = np.array([2, 2, 0, 0, 1, 1, 0])  # relabelled, one subject wrong
    assert match_subtypes(true, pred, 3) == {2: 0, 0: 1, 1: 2}


def test_confusion_table_counts_correct_choices():
    runs = pd.DataFrame({"noise": [0.1] * 5, "true K": [1, 1, 2, 2, 2],
                         "chosen K": [1, 2, 2, 2, 3]})  # fmt: skip
    tab = confusion_table(runs).set_index("true K")
    assert tab.loc[1, "correct"] == "1/2" and tab.loc[2, "correct"] == "2/3"
    assert tab.loc[2, "chosen 3"] == 1 and tab.loc[1, "chosen 3"] == 0


def test_interval_coverage_counts_unidentified_as_missed():
    idx = pd.Index(["a", "b", "c", "d"])
    truth = pd.DataFrame({n: [1.0, 1.0, 1.0, 1.0] for n in ("rho", "alpha", "onset")}, index=idx)
    est = pd.DataFrame(index=idx)
    for n in ("rho", "alpha", "onset"):
        est[f"{n}_low"] = [0.5, 1.5, np.nan, 0.9]
        est[f"{n}_high"] = [2.0, 2.0, np.nan, 1.1]
    cov = interval_coverage(est, truth)
    assert cov["rho_cov95"] == 0.5 and cov["onset_unidentified"] == 0.25


def test_parameter_recovery_of_an_exact_estimate():
    truth = pd.DataFrame({"rho": [0.1, 0.2, 0.3], "alpha": [0.5, 0.4, 0.6],
                          "onset": [5.0, 9.0, 7.0]}, index=list("abc"))  # fmt: skip
    rec = parameter_recovery(truth.iloc[::-1] * 1.1, truth)
    assert rec["rho_spearman"] == pytest.approx(1.0)
    assert rec["onset_relerr"] == pytest.approx(0.1)


def test_markdown_table_formats_floats():
    text = markdown_table(pd.DataFrame({"a": [1.23456, np.nan], "b": ["x", "y"]}), digits=2)
    assert text.splitlines() == ["| a | b |", "|---|---|", "| 1.2 | x |", "|  | y |"]


def test_benchmark_report_uses_the_shared_report(tmp_path):
    from crossscale.report.spread import build_spread_benchmark_report

    sel = pd.DataFrame({"noise": [0.05, 0.05], "true K": [1, 2], "chosen K": [1, 1]})
    res = SpreadBenchmark(selection=sel, confusion=confusion_table(sel),
                          accuracy=pd.DataFrame({"method": ["k-means"], "ARI": [0.5]}),
                          calibration=pd.DataFrame(), scaling=pd.DataFrame())  # fmt: skip
    assert res.selection_accuracy() == 0.5
    path = build_spread_benchmark_report(res, command="crossscale spread benchmark").save(
        tmp_path / "report.html"
    )
    html = path.read_text()
    assert "Chosen K = true K in 50% of 2 simulated cohorts" in html
    assert "Choice of K" in html and "Recovery" in html and "Calibration" not in html
