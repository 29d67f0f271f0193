"""`--atlas` and `--expression` end to end: a Schaefer-100 map, and a user atlas with an abagen matrix."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crossscale.atlas import get_atlas
from crossscale.cli.main import app, main
from crossscale.datasets import fetch
from crossscale.maps import load_bigbrain_map

runner = CliRunner()
FAST = ["--max-epochs", "20", "--cv", "loro", "--no-interpret", "--no-baselines"]


def _error(args, capsys) -> str:
    """Run the command line as a user would; the exit code must be 2 (a usage error)."""
    assert main(args) == 2
    return capsys.readouterr().err


@pytest.mark.slow
def test_fit_schaefer100_map_end_to_end(tmp_path, capsys):
    bb = load_bigbrain_map("schaefer100")
    csv = tmp_path / "bigbrain_schaefer100.csv"  # names without the 7Networks_ prefix
    pd.DataFrame({"region": [r.replace("7Networks_", "") for r in bb.index], "value": bb.values}
                 ).to_csv(csv, index=False)  # fmt: skip
    out = tmp_path / "res"
    result = runner.invoke(app, ["fit", "--atlas", "schaefer100", "--map", str(csv), "--out",
                                 str(out), *FAST])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "L1000 landmark genes are not available for Schaefer-100" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_regions"] == 100 and metrics["n_genes"] == 810
    assert metrics["atlas"]["name"] == "schaefer100" and metrics["expression"]["panel"] == "stable"
    run = json.loads((out / "run.json").read_text())
    assert run["parameters"]["atlas"] == "schaefer100"
    assert "ahba_stable_schaefer100" in run["data_checksums"]
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["atlas"]["name"] == "schaefer100"
    preds = pd.read_csv(out / "predictions.csv", index_col="region")
    assert list(preds.index) == list(get_atlas("schaefer100").regions)
    html = (out / "report.html").read_text()
    assert "Schaefer-100 (7 networks) atlas" in html and "differential stability" in html
    # refit on another atlas is refused by interpret
    assert "fitted on the 'schaefer100' atlas" in _error(
        ["interpret", str(out), "--atlas", "schaefer200"], capsys
    )


@pytest.mark.slow
def test_user_atlas_with_abagen_matrix(tmp_path, capsys):
    # a user's parcellation: two .annot files (here the Schaefer-100 files under other names)
    lh, rh = tmp_path / "lh.myparc.annot", tmp_path / "rh.myparc.annot"
    shutil.copy(fetch("enigma_annot_schaefer100_lh"), lh)
    shutil.copy(fetch("enigma_annot_schaefer100_rh"), rh)
    # abagen's get_expression_data output: index 'label' = parcel ids 1..N, then genes
    raw = pd.read_csv(fetch("ahba_stable_schaefer100")).iloc[:100]
    expr = raw.drop(columns="label").iloc[:, :200].copy()
    expr.insert(0, "label", range(1, 101))
    expr.iloc[7, 1:] = np.nan  # an empty parcel
    expr.to_csv(tmp_path / "my_abagen_matrix.csv", index=False)
    bb = load_bigbrain_map("schaefer100")
    pd.DataFrame({"region": bb.index, "value": bb.values}).to_csv(tmp_path / "map.csv", index=False)
    out = tmp_path / "res"
    result = runner.invoke(app, [
        "fit", "--atlas", f"{lh},{rh}", "--map", str(tmp_path / "map.csv"), "--expression",
        str(tmp_path / "my_abagen_matrix.csv"), "--out", str(out), *FAST,
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "dropped 1 region(s), empty parcel" in result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_regions"] == 99 and metrics["n_genes"] == 200
    assert metrics["atlas"]["name"] == "myparc" and metrics["expression"]["panel"] == "user"
    assert "user parcellation" in (out / "report.html").read_text()
    # without --expression a user atlas has no built-in matrix: a clear error
    assert "--expression FILE" in _error(["fit", "--atlas", f"{lh},{rh}", "--map",
                                          str(tmp_path / "map.csv"), "--out", str(tmp_path / "x")],
                                         capsys)  # fmt: skip


def test_atlas_options_are_checked_before_any_work(tmp_path, capsys):
    out = str(tmp_path / "o")
    assert "Did you mean 'schaefer100'" in _error(["fit", "--atlas", "schaefer10", "--out", out], capsys)
    assert "--map bigbrain" in _error(["fit", "--atlas", "glasser360", "--out", out], capsys)
    assert "Desikan-Killiany maps" in _error(
        ["benchmark", "--atlas", "schaefer200", "--maps", "ad", "--out", out], capsys
    )
    assert "only for the Desikan-Killiany atlas" in _error(
        ["vulnerability", "t.csv", "--covariates", "c.csv", "--case", "AD", "--control", "CN",
         "--out", str(tmp_path / "d.csv"), "--atlas", "schaefer100"], capsys,
    )  # fmt: skip
    assert not any(tmp_path.iterdir())


def test_data_atlases_lists_them():
    res = runner.invoke(app, ["data", "atlases"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    for name in ("dk-subcortex", "schaefer400", "glasser360", "l1000:", "stable:", "14 subcortical"):
        assert name in res.output
