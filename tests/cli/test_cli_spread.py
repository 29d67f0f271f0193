import json

import pandas as pd
from typer.testing import CliRunner

from crossscale.cli.main import app

runner = CliRunner()


def test_spread_simulate_then_fit(tmp_path):
    sim = tmp_path / "sim"
    res = runner.invoke(app, ["spread", "simulate", "--out", str(sim), "--n-subjects", "8",
                              "--timepoints", "0,2", "--seed", "3"])  # fmt: skip
    assert res.exit_code == 0, res.output
    maps = pd.read_csv(sim / "maps.csv")
    assert maps.shape == (16, 70) and list(maps.columns[:2]) == ["subject", "time"]
    run = json.loads((sim / "run.json").read_text())
    assert run["seeds"]["random_state"] == 3 and run["graph"]["n_regions"] == 68

    out = tmp_path / "fit"
    res = runner.invoke(app, ["spread", "fit", str(sim / "maps.csv"), "--out", str(out),
                              "--epochs", "3", "--n-subtypes", "2"])  # fmt: skip
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"model", "subjects.csv", "subtypes.csv", "run.json", "report.html"} <= names
    assert {p.name for p in (out / "model").iterdir()} == {"config.json", "model.safetensors"}
    assert len(pd.read_csv(out / "subjects.csv")) == 8
    html = (out / "report.html").read_text()
    # summary first, then figures; truth.csv next to maps.csv adds the simulated-vs-true panels
    body = html[html.index("<h1"):]
    assert body.index("2 subtypes") < body.index("<h2")
    assert "Simulated against true" in html and "95% intervals contain the true value" in html
    assert html.count("data:image/png;base64,") >= 3
    assert "Methods" in html and "arXiv:2509.15124" in html
    # the output folder is not overwritten without --overwrite, and nothing half-written remains
    res = runner.invoke(app, ["spread", "fit", str(sim / "maps.csv"), "--out", str(out),
                              "--epochs", "3"])  # fmt: skip
    assert res.exit_code != 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fit.tmp")]


def test_spread_bad_subtypes_string(tmp_path):
    res = runner.invoke(app, ["spread", "simulate", "--out", str(tmp_path / "x"),
                              "--subtypes", "L_entorhinal:0.1"])  # fmt: skip
    assert res.exit_code != 0
    assert "EPICENTRE:RHO:ALPHA" in str(res.exception)
    assert not (tmp_path / "x").exists()


def test_spread_fit_rejects_a_bad_truth_file(tmp_path):
    sim = tmp_path / "sim"
    res = runner.invoke(app, ["spread", "simulate", "--out", str(sim), "--n-subjects", "6",
                              "--timepoints", "0,2"])  # fmt: skip
    assert res.exit_code == 0, res.output
    bad = tmp_path / "truth.csv"
    pd.DataFrame({"subject": ["x"], "rho": [0.1]}).to_csv(bad, index=False)
    res = runner.invoke(app, ["spread", "fit", str(sim / "maps.csv"), "--out", str(tmp_path / "f"),
                              "--epochs", "2", "--truth", str(bad)])  # fmt: skip
    assert res.exit_code != 0
    assert "must have a row per subject" in str(res.exception)
    assert not (tmp_path / "f").exists()
