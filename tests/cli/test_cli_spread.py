import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from crossscale.cli.main import app

runner = CliRunner()


@pytest.mark.slow
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
                              "--epochs", "3", "--n-subtypes", "2",
                              "--truth", str(sim / "truth.csv")])  # fmt: skip
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert {"model", "subjects.csv", "subtypes.csv", "run.json", "report.html"} <= names
    assert {p.name for p in (out / "model").iterdir()} == {"config.json", "model.safetensors"}
    assert len(pd.read_csv(out / "subjects.csv")) == 8
    html = (out / "report.html").read_text()
    # summary first, then figures; --truth adds the simulated-vs-true panels
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


def test_adni_with_a_maps_file_is_refused(tmp_path):
    """`--adni` used to fit the ADNI2 maps and silently ignore the file given with it."""
    f = tmp_path / "maps.csv"
    pd.DataFrame({"region": ["L_bankssts"], "value": [1.0]}).to_csv(f, index=False)
    for cmd in ("fit", "fit-group"):
        res = runner.invoke(app, ["spread", cmd, str(f), "--adni", "--out", str(tmp_path / cmd)])
        assert res.exit_code != 0
        assert "Both a maps file" in str(res.exception) and "--adni" in str(res.exception)
        assert not (tmp_path / cmd).exists()


@pytest.mark.slow
def test_fit_group_on_a_users_csv_and_connectome(tmp_path):
    import numpy as np

    from crossscale.atlas import DK_REGIONS, RegionGraph
    from crossscale.models.spread.groupfit import build_library

    con = RegionGraph.from_connectome()
    s = list(con.regions).index("R_inferiortemporal")
    y = build_library("diffusion", con).x[0][s, [30, 45]] * 5.0
    y += np.random.default_rng(0).normal(0, 0.01, y.shape)
    fs = [f"{'lh' if r[0] == 'L' else 'rh'}_{r[2:]}_thickavg" for r in DK_REGIONS]
    long = pd.DataFrame({"stage": np.repeat(["MCI", "AD"], 68), "region": fs * 2,
                         "value": y.ravel()})  # fmt: skip
    long.to_csv(tmp_path / "tau.csv", index=False)
    pd.DataFrame(con.adjacency.toarray(), index=DK_REGIONS, columns=DK_REGIONS).to_csv(
        tmp_path / "my_connectome.csv"
    )
    out = tmp_path / "fit"
    res = runner.invoke(app, ["spread", "fit-group", str(tmp_path / "tau.csv"), "--out", str(out),
                              "--graph", str(tmp_path / "my_connectome.csv"),
                              "--models", "diffusion", "--n-length", "2", "--n-degree", "1",
                              "--n-folds", "4"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "The my_connectome.csv " in res.output and "report.html written" in res.output
    run = json.loads((out / "run.json").read_text())
    fit = run["result"]["fits"]["diffusion/my_connectome.csv"]
    assert fit["epicentre"] == "R_inferiortemporal" and set(fit["maps"]) == {"MCI", "AD"}
    assert run["parameters"]["graph"] == str(tmp_path / "my_connectome.csv")
    models = pd.read_csv(out / "models.csv")
    assert {"offset_only", "distance_kernel", "diffusion"} <= set(models["model"])
    # an unknown --graph is refused before anything is written
    res = runner.invoke(app, ["spread", "fit-group", str(tmp_path / "tau.csv"), "--out",
                              str(tmp_path / "x"), "--graph", "hcp"])  # fmt: skip
    assert res.exit_code != 0 and "--graph must be one of" in str(res.exception)
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_spread_fit_adni_runs_the_group_workflow(tmp_path):
    out = tmp_path / "adni"
    res = runner.invoke(app, ["spread", "fit", "--adni", "--out", str(out), "--n-rewired", "1",
                              "--n-length", "1"])  # fmt: skip
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text())
    assert run["result"]["n_maps"] == 16 and run["parameters"]["adni"] is True
    assert run["result"]["verdict"]["sentence"].startswith("The connectome ")
    nulls = pd.read_csv(out / "nulls.csv")
    assert set(nulls["model"]) == {"diffusion", "fisher_kpp"} and (nulls["n_length"] == 1).all()
    assert "ADNI2" in (out / "report.html").read_text()


@pytest.mark.slow
def test_fit_group_one_enigma_map_with_flipped_sign(tmp_path):
    from crossscale.datasets import fetch

    path = fetch("enigma_scz_case_controls_thickness")
    out = tmp_path / "scz"
    args = ["spread", "fit-group", str(path), "--out", str(out), "--models", "diffusion",
            "--n-length", "0", "--n-degree", "0", "--n-folds", "4"]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code != 0 and "--columns" in str(res.exception) and not out.exists()
    res = runner.invoke(app, [*args, "--columns", "d_icv"])  # not flipped: warned
    assert res.exit_code == 0, res.output
    assert "negative in most regions" in res.output and "--flip-sign" in res.output
    res = runner.invoke(app, [*args, "--columns", "d_icv", "--flip-sign", "--overwrite"])
    assert res.exit_code == 0, res.output
    assert "negative in most regions" not in res.output
    run = json.loads((out / "run.json").read_text())
    assert run["parameters"]["flip_sign"] is True and run["result"]["n_maps"] == 1
    assert any("One map only" in w for w in run["result"]["input_warnings"])
    assert run["result"]["verdict"]["beats"] is None or run["result"]["verdict"]["beats"] is False
    assert "no null graphs fitted" in run["result"]["verdict"]["sentence"]
