import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crossscale import ParameterError
from crossscale.cli.main import app
from crossscale.evaluate.metrics import BENCHMARK_COLUMNS
from crossscale.evaluate.selection import SELECTED_BASELINE
from crossscale.maps.catalog import enigma_thickness_keys, resolve_maps

runner = CliRunner()


def test_resolve_maps():
    assert len(enigma_thickness_keys()) == 33
    keys = resolve_maps("ad,LMCI,enigma-thickness,adni2_ad_vol_2")
    assert keys[:2] == ["adni2_ad_vol_baseline", "adni2_lmci_vol_baseline"]
    assert len(keys) == 2 + 33 + 1 and keys[-1] == "adni2_ad_vol_2"
    with pytest.raises(ParameterError, match="unknown map 'adx'"):
        resolve_maps("ad,adx")


@pytest.mark.slow
def test_benchmark_writes_one_table(tmp_path):
    out = tmp_path / "bench"
    result = runner.invoke(
        app,
        ["benchmark", "--maps", "enigma_scz_case_controls_thickness", "--out", str(out),
         "--n-perm", "2", "--null-cv", "3", "--max-epochs", "5", "--seed", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "benchmark.csv")
    assert list(table.columns) == BENCHMARK_COLUMNS
    assert set(table["model"]) == {"GraphVAE", "PLS-1", "PLS-2", "PLS-3", "PLS-4", "PLS-5",
                                   "Ridge", "Spatial (Laplacian)", SELECTED_BASELINE}  # fmt: skip
    refitted = table["model"] != SELECTED_BASELINE  # a selection procedure: no null refits by default
    # 2 spins: p = (1 + #{null >= observed}) / 3, one of 1/3, 2/3, 1
    p_spin = table.loc[refitted, "p_spin"].to_numpy()
    assert np.isclose(p_spin[:, None], [1 / 3, 2 / 3, 1.0]).any(axis=1).all(), p_spin
    nested = table.set_index("model").loc[SELECTED_BASELINE]
    assert np.isnan(nested["p_spin"]) and np.isnan(nested["in_sample_r2"])
    assert np.isfinite(nested["spatial_r2"]) and np.isfinite(nested["loro_r2"])
    assert "nested CV on training regions only" in (out / "report.html").read_text()
    assert table.loc[table["model"] == "Ridge", "in_sample_r2"].item() > 0.5
    assert "| enigma_scz_case_controls_thickness | GraphVAE |" in (out / "benchmark.md").read_text()
    run = json.loads((out / "run.json").read_text())
    assert run["parameters"]["n_perm"] == 2 and run["parameters"]["null_cv"] == "kfold3"
    assert run["data_checksums"]["enigma_scz_case_controls_thickness"]
    assert "p_spin" in (out / "report.html").read_text()


def test_load_map_drops_regions_without_values():
    from crossscale.maps.catalog import load_map

    y = load_map("enigma_asd_mega_analysis_case_controls_thickness")  # fusiform is empty
    assert len(y) == 66 and "L_fusiform" not in y.index and y.notna().all()
    assert load_map("adni2_ad_vol_baseline").shape == (68,)
    from crossscale.maps import load_adni_map

    np.testing.assert_array_equal(load_map("adni2_ad_vol_baseline").to_numpy(),
                                  load_adni_map("AD", "baseline").to_numpy())  # fmt: skip
