import base64
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from crossscale import ParameterError
from crossscale.report import Report, escape


def _figure():
    fig = Figure(figsize=(2, 1.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1])
    return fig


@pytest.fixture
def report():
    rep = Report("crossscale fit", subtitle="crossscale fit --map <ad.csv>")
    rep.add_heading("Performance", level=2)
    rep.add_paragraph(f"Fitted on <b>68</b> regions of {escape('A&B <x>')}.")
    rep.add_key_values({"regions": 68, "explained variance": 0.123456, "p_spin": np.nan})
    rep.add_note("Few regions: interpret with care.", kind="warning")
    table = pd.DataFrame(
        {"r": [0.51234, -0.2], "p_spin": [0.0012, np.nan], "n": [68, 68]},
        index=pd.Index(["GraphVAE", "PLS <baseline>"], name="model"),
    )
    rep.add_table(table, caption="Out-of-sample fit", float_format="{:.3f}")
    rep.add_figure(_figure(), caption="Observed vs predicted")
    return rep


def test_html_is_self_contained(report):
    text = report.to_html()
    assert text.startswith("<!DOCTYPE html>")
    # nothing is loaded from elsewhere: no external src, stylesheet, script, font or CSS url
    assert not re.search(r"""src\s*=\s*["']?(https?:)?//""", text)
    assert not re.search(r"<link\b", text)
    assert "<script" not in text
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
    assert "@import" not in text


def test_html_contains_values_and_embedded_png(report):
    text = report.to_html()
    assert "<title>crossscale fit</title>" in text
    assert "0.512" in text and "-0.200" in text and "0.001" in text
    assert ">68<" in text  # integers stay integers
    assert "Table 1. Out-of-sample fit" in text
    assert "PLS &lt;baseline&gt;" in text and "A&amp;B &lt;x&gt;" in text
    assert "<b>68</b>" in text  # caller-supplied inline HTML is kept
    assert "0.1235" in text  # key-value float format
    assert "note-warning" in text
    (data,) = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    png = base64.b64decode(data)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == 2 * 110  # 2-inch figure at the default 110 dpi
    assert "Figure 1.</b> Observed vs predicted" in text


def test_add_figure_closes_figure():
    fig = _figure()
    Report("x").add_figure(fig)
    assert fig.axes == []
    kept = _figure()
    Report("x").add_figure(kept, close=False)
    assert len(kept.axes) == 1


def test_table_options():
    rep = Report("x")
    rep.add_table(pd.Series([1.0, 2.0], index=["a", "b"], name="value"), max_rows=1)
    text = rep.to_html()
    assert "1.000" in text and "2.000" not in text
    assert "Showing 1 of 2 rows" in text


def test_bad_arguments():
    rep = Report("x")
    with pytest.raises(ParameterError, match="kind must be one of"):
        rep.add_note("hi", kind="danger")
    with pytest.raises(ParameterError, match="level must be an integer from 1 to 6"):
        rep.add_heading("hi", level=7)
    with pytest.raises(ParameterError, match="DataFrame or Series"):
        rep.add_table([[1, 2]])


def test_save_writes_file(report, tmp_path):
    path = report.save(tmp_path / "out" / "report.html")
    assert "Out-of-sample fit" in path.read_text(encoding="utf-8")


def test_save_is_atomic(report, tmp_path, monkeypatch):
    import os

    path = tmp_path / "report.html"

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        report.save(path)
    assert list(tmp_path.iterdir()) == []  # neither the report nor a temporary file

    monkeypatch.undo()
    path.write_text("previous report", encoding="utf-8")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        report.save(path)
    assert path.read_text(encoding="utf-8") == "previous report"
    assert list(tmp_path.iterdir()) == [path]


def test_small_values_are_not_rounded_to_zero():
    table = pd.DataFrame({"p": [2e-5, 0.0, 0.04], "r": [0.12345, 0.5, 1.0]})
    text = Report("x").add_table(table, float_format={"r": "{:.2f}"}).to_html()
    assert ">2e-05<" in text and ">0.000<" in text and ">0.040<" in text
    assert ">0.12<" in text and ">0.50<" in text
    text = Report("x").add_key_values({"converged": np.bool_(True), "n": np.int64(5)}).to_html()
    assert "<dd>yes</dd>" in text and "<dd>5</dd>" in text
