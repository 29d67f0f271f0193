import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from crossscale import InputDataError, ParameterError, RegionMismatchError
from crossscale._files import sha256_file
from crossscale.atlas import DK_REGIONS
from crossscale.cli.main import app
from crossscale.datasets import fetch
from crossscale.evaluate.metrics import REFERENCE_METRICS

runner = CliRunner()


@pytest.mark.slow
def test_fit_end_to_end_on_real_data(tmp_path):
    out = tmp_path / "res"
    result = runner.invoke(
        app,
        [
            "fit",
            "--out",
            str(out),
            "--max-epochs",
            "10",
            "--cv",
            "spatial",
            "--seed",
            "1",
            "--interpret-n-perm",
            "4",
        ],  # fmt: skip
    )
    assert result.exit_code == 0, result.output
    files = {p.name for p in out.iterdir()}
    assert {
        "predictions.csv",
        "latent_programs.csv",
        "metrics.json",
        "run.json",
        "report.html",
        "model",
        "interpretation",
    } <= files
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"GraphVAE", "PLS-1", "PLS-5", "Ridge", "Spatial (Laplacian)",
            "Best baseline (nested CV)"} <= set(metrics["models"])  # fmt: skip
    assert metrics["n_genes"] == 889 and metrics["gene_selection"]["n_missing"] == 89
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == 1 and run["model"] == "graphvae"
    assert run["data_checksums"]["adni2_ad_vol_baseline"] == sha256_file(fetch("adni2_ad_vol_baseline"))
    assert run["file_sha256"]["report.html"] == sha256_file(out / "report.html")
    preds = pd.read_csv(out / "predictions.csv", index_col="region")
    assert len(preds) == 68 and "GraphVAE|spatial" in preds.columns
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "Ridge" in html
    assert "against the baseline chosen per fold by nested CV on training regions only" in html
    assert f"R² = {REFERENCE_METRICS['in_sample_r2']} and r = {REFERENCE_METRICS['in_sample_r']}" in html
    assert "Interpretation: genes, programs, cell types" in html
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers


def _write_map(path, regions, values):
    pd.DataFrame({"region": regions, "d": values}).to_csv(path, index=False)


@pytest.mark.slow
def test_fit_reads_user_map_in_freesurfer_names(tmp_path):
    regions = [f"{'lh' if r.startswith('L_') else 'rh'}_{r[2:]}_thickness" for r in DK_REGIONS]
    _write_map(tmp_path / "m.csv", regions, range(68))
    out = tmp_path / "res"
    result = runner.invoke(
        app,
        [
            "fit",
            "--map",
            str(tmp_path / "m.csv"),
            "--out",
            str(out),
            "--max-epochs",
            "5",
            "--cv",
            "spatial",
            "--no-baselines",
            "--no-interpret",
        ],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out / "predictions.csv")["observed"].tolist() == list(range(68))


@pytest.mark.parametrize(
    ("regions", "values", "error", "match"),
    [
        (
            ["L_banksts", *DK_REGIONS[1:]],
            range(68),
            RegionMismatchError,
            r"'L_banksts' \(did you mean 'L_bankssts'\?\)",
        ),
        ([*DK_REGIONS, "L_bankssts"], range(69), RegionMismatchError, "more than once"),
        (list(DK_REGIONS), [1.0] * 68, InputDataError, "constant"),
        (list(DK_REGIONS[:5]), range(5), InputDataError, "only 5 region"),
        (list(DK_REGIONS), [float("nan")] + list(range(67)), InputDataError, "'L_bankssts'"),
    ],
)
def test_bad_maps_fail_clearly_and_write_nothing(tmp_path, regions, values, error, match):
    _write_map(tmp_path / "m.csv", regions, list(values))
    out = tmp_path / "res"
    result = runner.invoke(app, ["fit", "--map", str(tmp_path / "m.csv"), "--out", str(out)])
    assert result.exit_code != 0
    assert isinstance(result.exception, error)
    assert re.search(match, str(result.exception))
    assert not out.exists()


@pytest.mark.slow
def test_fit_with_spin_nulls_writes_null_section(tmp_path):
    regions = list(DK_REGIONS)
    values = [float(i % 17) + 0.1 * i for i in range(68)]
    _write_map(tmp_path / "m.csv", regions, values)
    out = tmp_path / "res"
    result = runner.invoke(
        app,
        ["fit", "--map", str(tmp_path / "m.csv"), "--out", str(out), "--max-epochs", "5",
         "--cv", "spatial", "--nulls", "spin", "--n-perm", "3", "--null-cv", "3",
         "--batch-size", "2", "--seed", "2", "--no-interpret"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    nulls = metrics["nulls"]
    assert set(nulls) == {"GraphVAE", "PLS-1", "Ridge"}
    for res in nulls.values():
        assert res["n_perm"] == 3 and res["method"] == "hungarian" and res["cv"] == "kfold3"
        assert set(res["p_values"]) == {"in_sample_r2", "in_sample_r", "cv_r2", "cv_r"}
        for key, p in res["p_values"].items():  # (1 + #{null >= observed}) / (1 + n_perm)
            null = [v for v in res["null"][key] if v is not None]
            assert len(null) == 3
            assert p == pytest.approx((1 + sum(v >= res["observed"][key] for v in null)) / 4)
        assert len(res["null"]["cv_r"]) == 3
    run = json.loads((out / "run.json").read_text())
    assert run["parameters"]["nulls"] == "spin" and run["parameters"]["n_perm"] == 3
    html = (out / "report.html").read_text()
    assert "Spatial null refits" in html and "p CV r" in html


def test_fit_rejects_unknown_null_model(tmp_path):
    result = runner.invoke(app, ["fit", "--out", str(tmp_path / "r"), "--nulls", "shuffle"])
    assert result.exit_code != 0
    assert "--nulls must be 'spin', 'moran' or 'none'" in str(result.exception)


@pytest.mark.slow
def test_fit_folder_is_self_contained_and_missing_regions_are_listed(tmp_path):
    """67-region map: fit on the regions present (documented rule), list the missing one; the
    run folder carries the map (sha256 in run.json), so `interpret` needs nothing else."""
    from crossscale import ModelStateError
    from crossscale.pipeline.interpret import check_model_matches_run, load_run_map

    study = tmp_path / "study"
    study.mkdir()
    values = [float(i % 11) - 0.05 * i for i in range(67)]
    _write_map(study / "m67.csv", DK_REGIONS[:67], values)
    original = (study / "m67.csv").read_bytes()
    out = tmp_path / "res"
    result = runner.invoke(
        app,
        ["fit", "--map", str(study / "m67.csv"), "--out", str(out), "--max-epochs", "5",
         "--cv", "spatial", "--no-baselines", "--no-interpret"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "lacks 1 of the 68 Desikan-Killiany regions (R_insula); fitting on the 67" in (
        result.output
    )
    assert len(pd.read_csv(out / "predictions.csv")) == 67
    run = json.loads((out / "run.json").read_text())
    assert run["missing_regions"] == ["R_insula"] and run["written_by"] == "crossscale"
    assert "R_insula" in (out / "report.html").read_text()
    assert (out / "input_map.csv").read_bytes() == original
    assert run["input_map"]["sha256"] == run["data_checksums"]["map_file"]
    assert {"input_map.csv", "model/config.json", "report.html"} <= set(run["files"])
    assert (study / "m67.csv").read_bytes() == original  # the input is untouched
    # the original file moves away: the run folder alone gives the map back
    (study / "m67.csv").rename(tmp_path / "elsewhere.csv")
    y = load_run_map(out, run)
    assert y.tolist() == values and y.name == "m67"
    check_model_matches_run(out / "model", run)
    # a model of another graph / region set dropped into model/ is refused
    for key, value in [("graph_hash", "0" * 64), ("regions", list(DK_REGIONS))]:
        bad = json.loads(json.dumps(run))
        bad["model_check"][key] = value
        if key == "graph_hash":
            bad["graph"]["hash"] = value
        with pytest.raises(ModelStateError, match="is not the model of this run"):
            check_model_matches_run(out / "model", bad)
    # a changed copy of the input map is refused too
    (out / "input_map.csv").write_text((out / "input_map.csv").read_text().replace("0.0", "9.0"))
    with pytest.raises(InputDataError, match="the copy of the input map was changed"):
        load_run_map(out, run)
    # --overwrite may replace this real run folder (its manifest lists every file) ...
    from crossscale._outdir import check_output_dir

    assert check_output_dir(out, overwrite=True) == out
    # ... but not once someone else's file is in it, and never with the input inside it
    (out / "notes.txt").write_text("mine\n")
    with pytest.raises(ParameterError, match=r"did not write: 'notes.txt'"):
        check_output_dir(out, overwrite=True)
    with pytest.raises(ParameterError, match="contains the input"):
        check_output_dir(out, overwrite=True, inputs=[out / "input_map.csv"])
